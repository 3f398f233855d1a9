"""Submit what is missing, attach to what is in flight, wait, resubmit a failed run once.

Engine-independent: a :class:`Backend` (Slurm through submitit, or Ray) submits runs and says
whether each job is pending, running or has ended. The run store decides everything else:

- a run is finished when its ``result.json`` parses and every file it lists has its recorded
  checksum (read only: a dispatcher never clears a run that a job may be writing);
- a run whose saved job (:mod:`ddlib.execution.records`) is still pending or running is attached
  to, not submitted again; a run with no job, or whose job ended without finishing it, is
  submitted;
- a job that ended without finishing its run has failed: at once when its worker recorded an
  exception, otherwise after ``grace_seconds`` (a shared filesystem may show the run's files
  late). It is reported with its log paths and resubmitted up to ``retries`` times (the new job
  resumes from the run's resume point); after that it is a permanent failure, listed in the
  :class:`ExecutorError` raised when the sweep is over.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from ddlib.core.store import Run, RunStore
from ddlib.execution.progress import SweepProgress
from ddlib.execution.records import (
    JobRecord,
    load_record,
    load_worker_status,
    save_record,
)

ACTIVE = ("pending", "running")


class Backend(Protocol):
    """What the monitor needs from an engine."""

    name: str

    def submit(self, items: Sequence[tuple[str, Mapping[str, Any], str]]) -> dict[str, tuple[str, list[str]]]:
        """Submit ``(config_id, config, token)`` items; returns ``{config_id: (job_id, logs)}``."""

    def poll(self, records: Sequence[JobRecord]) -> dict[str, str] | None:
        """``{config_id: "pending" | "running" | "ended"}`` for these jobs, or None when the engine
        could not be asked this time."""

    def close(self) -> None:
        """Release the connection to the engine."""


@dataclass
class Failure:
    """A run whose jobs all failed."""

    config_id: str
    job_id: str
    logs: list[str]
    reason: str
    attempts: int

    def line(self) -> str:
        logs = ", ".join(self.logs) or "(no log)"
        return (f"run {self.config_id}: job {self.job_id} failed after {self.attempts} attempt(s): "
                f"{self.reason}; log: {logs}")


class ExecutorError(RuntimeError):
    """Runs of a dispatched sweep failed permanently; ``failures`` lists them."""

    def __init__(self, executor: str, failures: Sequence[Failure]):
        self.executor, self.failures = executor, list(failures)
        lines = "\n".join(f"  {failure.line()}" for failure in self.failures)
        super().__init__(f"{len(self.failures)} run(s) failed on executor {executor!r} and were "
                         f"not trained:\n{lines}")


def finished(run: Run) -> bool:
    """Whether ``run`` is finished and sound, read only (unlike :meth:`Run.is_trained`, which
    clears a damaged run: a job may be writing it right now)."""
    return run.is_complete() and run.damage() is None


def _reason(status: dict[str, Any], record: JobRecord) -> str:
    if status.get("token") != record.token:
        return "the job ended before it started the run"
    state = status.get("state")
    if state == "error":
        lines = [line for line in str(status.get("error", "")).strip().splitlines() if line.strip()]
        return f"it raised {lines[-1].strip() if lines else 'an exception'}"
    if state == "done":
        return "the job ended but the run is not complete in the store"
    return "the job ended while training (cancelled, killed, out of memory or out of time)"


def watch(store: RunStore, configs: Mapping[str, Mapping[str, Any]], backend: Backend,
          options: Mapping[str, Any], progress: bool = True) -> list[Failure]:
    """Make every run of ``configs`` (``{config_id: config}``) finished in ``store`` through
    ``backend``; returns the permanent failures (an empty list when all finished)."""
    executor, root = backend.name, store.root
    runs = {cid: store.run(config) for cid, config in configs.items()}
    done = {cid for cid, run in runs.items() if finished(run)}
    todo = [cid for cid in runs if cid not in done]
    saved = {cid: r for cid in todo if (r := load_record(root, executor, cid)) is not None}
    states = backend.poll(list(saved.values())) if saved else {}
    if states is None:
        raise RuntimeError(f"executor {executor!r}: the engine could not be asked about the jobs "
                           f"of an earlier invocation ({len(saved)} saved); not submitting again "
                           "while they may be running. Try again when the scheduler answers.")
    active = {cid: r for cid, r in saved.items() if states.get(cid) in ACTIVE}
    tries = dict.fromkeys(todo, 1)
    view = SweepProgress(executor, len(runs), enabled=progress)
    failures: list[Failure] = []

    def submit(cids: list[str], outcome: str) -> None:
        items = [(cid, configs[cid], uuid.uuid4().hex) for cid in cids]
        jobs = backend.submit(items)
        for cid, _, token in items:
            job_id, logs = jobs[cid]
            previous = saved.get(cid)
            history = [*previous.history, previous.earlier(outcome)] if previous else []
            record = JobRecord(cid, executor, job_id, token,
                               attempt=(previous.attempt + 1) if previous else 1,
                               logs=logs, history=history)
            save_record(root, record)
            saved[cid] = active[cid] = record

    fresh = [cid for cid in todo if cid not in active]
    view.note(f"{executor}: {len(runs)} run(s): {len(done)} finished, {len(active)} in flight "
              f"(attached), {len(fresh)} to submit")
    if fresh:
        submit(fresh, "ended without finishing the run (seen by a later invocation)")
        ids = sorted({saved[cid].job_id.split("_")[0] for cid in fresh})
        view.note(f"{executor}: submitted {len(fresh)} run(s) as job(s) {', '.join(ids)}; "
                  f"logs in {saved[fresh[0]].logs[0] if saved[fresh[0]].logs else '?'} and beside it")
    ended_since: dict[str, float] = {}
    running: set[str] = set()
    unreachable_noted = False
    try:
        while active:
            view.update(len(done), len(running), len(active) - len(running), len(failures))
            time.sleep(options["poll_seconds"])
            states = backend.poll(list(active.values()))
            if states is None:
                if not unreachable_noted:
                    view.note(f"{executor}: the engine did not answer; still waiting")
                    unreachable_noted = True
                continue
            unreachable_noted = False
            retry: list[str] = []
            now = time.monotonic()
            for cid, record in list(active.items()):
                if finished(runs[cid]):
                    del active[cid]
                    running.discard(cid)
                    done.add(cid)
                    continue
                state = states.get(cid, "ended")
                if state in ACTIVE:
                    ended_since.pop(cid, None)
                    (running.add if state == "running" else running.discard)(cid)
                    continue
                status = load_worker_status(root, executor, cid)
                failed_now = status.get("token") == record.token and status.get("state") == "error"
                if not failed_now and now - ended_since.setdefault(cid, now) < options["grace_seconds"]:
                    continue
                del active[cid]
                running.discard(cid)
                ended_since.pop(cid, None)
                failure = Failure(cid, record.job_id, record.logs, _reason(status, record), tries[cid])
                if tries[cid] <= options["retries"]:
                    tries[cid] += 1
                    view.note(f"{executor}: {failure.line()}; resubmitting (attempt {tries[cid]} "
                              f"of {options['retries'] + 1}); it resumes from its resume point")
                    retry.append(cid)
                else:
                    failures.append(failure)
                    view.note(f"{executor}: {failure.line()}; not resubmitted again")
            if retry:
                submit(retry, "failed")
        view.update(len(done), 0, 0, len(failures), force=True)
    finally:
        view.close()
    return failures
