"""The unit of work on a cluster node: train one config into the shared run store.

:func:`run_config` is what a Slurm array task or a Ray actor calls. It trains with
``ddlib.training.train`` (which finds a finished run and returns, or resumes from the run's resume
point, under the run's lock), so a requeued or resubmitted job is the same call again. It records
in the worker status (:mod:`ddlib.execution.records`) when it started, on which host and process,
from which epoch it resumed, and how it ended, and prints the same in the job's log.
"""

from __future__ import annotations

import os
import socket
import time
import traceback
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch

from ddlib.core.store import RunStore
from ddlib.execution.records import load_worker_status, save_worker_status
from ddlib.training import train


def resume_epoch(run_dir: Path) -> int | None:
    """The epoch (or step) of the run's resume point, read without changing the run (None when
    there is none or it cannot be read now)."""
    path = run_dir / "resume.pt"
    if not path.exists():
        return None
    try:
        return int(torch.load(path, map_location="cpu", weights_only=True)["epoch"])
    except Exception:
        return None


def run_config(config: Mapping[str, Any], store_root: str | Path, *, executor: str, job_id: str,
               token: str, device: str = "auto", threads: int = 1,
               resume_every_seconds: float = 60.0) -> dict[str, Any]:
    """Train ``config``'s run in the store at ``store_root`` (resuming it when it has a resume
    point); returns ``{"run", "job_id", "resumed_from"}``. Exceptions are recorded, then raised."""
    torch.set_num_threads(max(1, int(threads)))
    store = RunStore(store_root)
    run = store.run(config)
    start = {"job_id": job_id, "token": token, "host": socket.gethostname(), "pid": os.getpid(),
             "started": time.time(), "finished_before": run.is_complete(),
             "resumed_from": None if run.is_complete() else resume_epoch(run.dir)}
    status = load_worker_status(store.root, executor, run.id)
    status.update(state="running", token=token, job_id=job_id, pid=os.getpid(),
                  starts=[*status.get("starts", []), start])
    status.pop("error", None)
    save_worker_status(store.root, executor, run.id, status)
    if start["finished_before"]:
        how = "already finished"
    elif start["resumed_from"] is None:
        how = "training from scratch"
    else:
        how = f"resuming from its resume point at epoch {start['resumed_from']}"
    print(f"ddlib {executor} job {job_id}: run {run.id} {how} (host {start['host']}, pid "
          f"{start['pid']}, {torch.get_num_threads()} thread(s))", flush=True)
    try:
        train(dict(config), store, device=device, progress=False,
              resume_every_seconds=resume_every_seconds)
    except Exception:
        status.update(state="error", error=traceback.format_exc(), ended=time.time())
        save_worker_status(store.root, executor, run.id, status)
        print(f"ddlib {executor} job {job_id}: run {run.id} failed", flush=True)
        raise
    except BaseException:  # SystemExit of a preempted Slurm job, KeyboardInterrupt
        status.update(state="interrupted", ended=time.time())
        save_worker_status(store.root, executor, run.id, status)
        raise
    status.update(state="done", ended=time.time())
    save_worker_status(store.root, executor, run.id, status)
    print(f"ddlib {executor} job {job_id}: run {run.id} finished", flush=True)
    return {"run": run.id, "job_id": job_id, "resumed_from": start["resumed_from"]}
