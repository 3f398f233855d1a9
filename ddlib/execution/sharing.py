"""Idle cores of this machine train the runs of another process's sweep: a board of sweeps.

``run_all.sh`` runs two notebooks at a time, one core each. When one lane has no notebook left,
its core would idle while the other notebook still has runs to train; a *helper* on that core
trains them instead. The same thread count is used on both sides, so every run is bit-identical
to the one its notebook would have trained (a run's numbers never depend on who trained it or
when; changing a process's thread count mid-run would change the last bits).

- :func:`published` (used by :func:`ddlib.execution.run_sweep` when ``DDLIB_SWEEP_BOARD`` names a
  folder) writes the sweep's configs to ``<board>/<pid>-<n>.json`` (atomically) while the sweep
  trains, and removes the file when it returns;
- :func:`announce` (``run_sweep``'s ``later``) writes configs the process will train *later*
  (``<board>/<pid>-later-<n>.json``, removed when the process exits), so that a helper can train them while the process is busy
  with something else (plane predictions, metrics); the sweeps being trained now come first;
- :func:`help_sweeps` (``python -m ddlib.execution share BOARD``) trains published runs that are
  neither finished nor held by anyone, starting at the end of each sweep (its owner starts at the
  front), until ``<board>/stop`` exists. Each run is trained with ``ddlib.training.train`` under
  the run's lock, so the owner that reaches a run the helper is training waits for it and then
  loads it; a run trained by a helper is listed in ``<board>/helped/``.
"""

from __future__ import annotations

import atexit
import contextlib
import itertools
import json
import os
import time
import traceback
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import torch

from ddlib.core.store import RunStore, atomic_write_json, process_alive
from ddlib.training import train

BOARD_VARIABLE = "DDLIB_SWEEP_BOARD"
_published = itertools.count()


@contextlib.contextmanager
def published(configs: Sequence[Mapping[str, Any]], store: RunStore, device: str) -> Iterator[None]:
    """Show ``configs`` on the board named by ``DDLIB_SWEEP_BOARD`` while the block runs (does
    nothing when the variable is unset or the sweep has a single run)."""
    board = os.environ.get(BOARD_VARIABLE)
    if not board or len(configs) < 2:
        yield
        return
    path = Path(board) / f"{os.getpid()}-{next(_published)}.json"
    atomic_write_json(path, {"store": str(store.root.absolute()), "device": device,
                             "configs": [dict(c) for c in configs]})
    try:
        yield
    finally:
        path.unlink(missing_ok=True)


def announce(configs: Sequence[Mapping[str, Any]], store: RunStore, device: str) -> None:
    """Show ``configs``, which this process trains later, on the board named by
    ``DDLIB_SWEEP_BOARD`` until the process exits (does nothing without a board)."""
    board = os.environ.get(BOARD_VARIABLE)
    if not board or not configs:
        return
    path = Path(board) / f"{os.getpid()}-later-{next(_published)}.json"
    atomic_write_json(path, {"store": str(store.root.absolute()), "device": device,
                             "configs": [dict(c) for c in configs]})
    atexit.register(path.unlink, missing_ok=True)


def _sweeps(board: Path) -> list[dict[str, Any]]:
    """The published sweeps, those being trained now before those announced for later."""
    sweeps = []
    for path in sorted(board.glob("*-*.json"), key=lambda p: ("-later-" in p.name, p.name)):
        if not process_alive(int(path.name.split("-")[0])):  # its process died without removing it
            path.unlink(missing_ok=True)
            continue
        try:
            sweeps.append(json.loads(path.read_text()))
        except (OSError, ValueError):  # removed or being replaced right now
            continue
    return sweeps


def _next_run(board: Path, skip: set[str]) -> tuple[dict[str, Any], RunStore, str] | None:
    """A published run that is not finished, not locked and not in ``skip``, from the end of
    its sweep."""
    for sweep in _sweeps(board):
        store = RunStore(Path(sweep["store"]))
        for config in reversed(sweep["configs"]):
            run = store.run(config)
            if run.id not in skip and not run.is_complete() and not (run.dir / ".lock.d").exists():
                return config, store, sweep["device"]
    return None


def help_sweeps(board: Path, threads: int = 1, poll_seconds: float = 1.0) -> int:
    """Train published runs until ``<board>/stop`` exists; returns how many it trained."""
    board = Path(board)
    (board / "helped").mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(max(1, int(threads)))
    trained, failed = 0, set()
    while not (board / "stop").exists():
        found = _next_run(board, failed)
        if found is None:
            time.sleep(poll_seconds)
            continue
        config, store, device = found
        run = store.run(config)
        started = time.monotonic()
        try:
            train(config, store, device=device, progress=False)
        except Exception:  # the sweep's owner trains it and reports the error itself
            print(f"helper: run {run.id} failed here; left to its sweep\n{traceback.format_exc()}",
                  flush=True)
            failed.add(run.id)
            continue
        trained += 1
        (board / "helped" / run.id).write_text(f"{time.monotonic() - started:.1f}\n")
        print(f"helper: trained run {run.id} in {time.monotonic() - started:.1f} s", flush=True)
    return trained
