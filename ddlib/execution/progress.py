"""Progress of a dispatched sweep: runs done / running / pending / failed, as a bar and as lines.

The bar (tqdm) follows ``TQDM_DISABLE`` like every other bar of the package; with the bar off (a
headless notebook, CI) the counts are printed as one line whenever they change, at most every
``line_every_seconds``, and once at the end. Notes (attached, submitted, failed, resubmitted,
with log paths) are always printed.
"""

from __future__ import annotations

import os
import time

from tqdm.auto import tqdm


class SweepProgress:
    """Counts of one sweep's runs, shown while a dispatcher waits."""

    def __init__(self, executor: str, total: int, enabled: bool = True,
                 line_every_seconds: float = 30.0):
        self.executor, self.total, self.enabled = executor, total, enabled
        self.bar_on = enabled and not os.environ.get("TQDM_DISABLE")
        self.bar = tqdm(total=total, desc=f"{executor} sweep", unit="run", leave=True,
                        disable=not self.bar_on)
        self.line_every_seconds = line_every_seconds
        self._last_line, self._last_counts = float("-inf"), None

    def note(self, message: str) -> None:
        """Print one line (above the bar when there is one)."""
        tqdm.write(message) if self.bar_on else print(message, flush=True)

    def update(self, done: int, running: int, pending: int, failed: int,
               force: bool = False) -> None:
        counts = (done, running, pending, failed)
        text = f"running {running}, pending {pending}, failed {failed}"
        if self.bar_on:
            self.bar.n = done
            self.bar.set_postfix_str(text, refresh=False)
            self.bar.refresh()
        elif self.enabled and counts != self._last_counts and (
                force or time.monotonic() - self._last_line >= self.line_every_seconds):
            print(f"{self.executor} sweep: {done}/{self.total} runs done, {text}", flush=True)
            self._last_line, self._last_counts = time.monotonic(), counts

    def close(self) -> None:
        self.bar.close()
