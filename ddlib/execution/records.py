"""What a dispatcher and its workers remember in the run store, per run and executor.

``<store>/_executors/<executor>/<config_id>.json`` (written by the dispatcher): the job that now
trains the run (its id, a submission token, the attempt, its log files) and the jobs before it.
``<store>/_executors/<executor>/<config_id>.worker.json`` (written by the worker): one entry per
time a job started on the run (host, pid, the epoch it resumed from) and how the latest ended.
Two files, so that each has one writer; both are written atomically (a temporary file renamed in
the same folder), so a reader on a shared filesystem sees the old or the new content, never a mix.
A second dispatcher reads the first file to attach to the job instead of submitting another.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ddlib.core.store import atomic_write_json

EXECUTORS_FOLDER = "_executors"


def executor_folder(store_root: Path, executor: str) -> Path:
    """``<store>/_executors/<executor>/``: records and (by default) logs of that executor."""
    return Path(store_root) / EXECUTORS_FOLDER / executor


def _read(path: Path) -> Any | None:
    try:
        return json.loads(path.read_text())
    except (FileNotFoundError, json.JSONDecodeError, UnicodeDecodeError):
        return None


@dataclass
class JobRecord:
    """The job that trains one run, as the dispatcher submitted it."""

    config_id: str
    executor: str
    job_id: str
    token: str
    attempt: int = 1
    logs: list[str] = field(default_factory=list)
    submitted: float = field(default_factory=time.time)
    history: list[dict[str, Any]] = field(default_factory=list)

    def earlier(self, outcome: str) -> dict[str, Any]:
        """This job as an entry of the next record's ``history``."""
        return {"job_id": self.job_id, "attempt": self.attempt, "logs": self.logs,
                "submitted": self.submitted, "outcome": outcome}


def record_path(store_root: Path, executor: str, config_id: str) -> Path:
    return executor_folder(store_root, executor) / f"{config_id}.json"


def load_record(store_root: Path, executor: str, config_id: str) -> JobRecord | None:
    """The saved record of ``config_id``'s job, or None (missing or unreadable)."""
    data = _read(record_path(store_root, executor, config_id))
    if not isinstance(data, dict):
        return None
    try:
        return JobRecord(**data)
    except TypeError:
        return None


def save_record(store_root: Path, record: JobRecord) -> None:
    atomic_write_json(record_path(store_root, record.executor, record.config_id), asdict(record))


def worker_path(store_root: Path, executor: str, config_id: str) -> Path:
    return executor_folder(store_root, executor) / f"{config_id}.worker.json"


def load_worker_status(store_root: Path, executor: str, config_id: str) -> dict[str, Any]:
    """What the workers of ``config_id`` wrote: ``{"starts": [...], "state", "token", ...}``."""
    data = _read(worker_path(store_root, executor, config_id))
    return data if isinstance(data, dict) else {"starts": []}


def save_worker_status(store_root: Path, executor: str, config_id: str,
                       status: dict[str, Any]) -> None:
    atomic_write_json(worker_path(store_root, executor, config_id), status)
