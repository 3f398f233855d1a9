"""Runs on a Ray cluster: one detached, named actor per run, with the run's resource request.

A plain Ray task shares the fate of the driver that submitted it (it is cancelled when the
notebook dies), so that a second invocation could not attach to it. Each run is therefore one
*detached* actor named ``ddlib-run-<config_id>`` in the ``namespace`` option, holding
``num_cpus`` / ``num_gpus`` while it trains the run once (:func:`ddlib.execution.worker.run_config`)
and then exits. A run is in flight while its actor's name is listed by
``ray.util.list_named_actors``; a second dispatcher that finds the name attaches to it, and the
name also keeps two dispatchers from starting the same run twice. A killed worker process
ends its actor (no restarts): the dispatcher sees the name gone without a finished run and
resubmits it, and the new actor resumes from the run's resume point.

The actor writes its output to ``<log_folder>/<config_id>.<token>.log``. Imported only when the
``ray`` executor is used (needs ray).
"""

from __future__ import annotations

import os
import sys
import threading
import traceback
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import ray

from ddlib.execution.records import JobRecord, executor_folder, load_worker_status
from ddlib.execution.worker import run_config

ACTOR_PREFIX = "ddlib-run-"


def _log_to(path: Path) -> None:
    """Send this process's stdout and stderr (file descriptors 1 and 2) to ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    sys.stdout.flush()
    sys.stderr.flush()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)


@ray.remote(max_restarts=0, max_task_retries=0)
class RunActor:
    """Trains one run, then ends its process (used for nothing else).

    The work is given to the constructor, not to a method call: a detached actor's creation is
    held by Ray's control store, whereas a method call belongs to the client that made it and is
    lost when that client dies before the call reaches the actor (the next invocation would then
    attach to an idle actor for ever). The constructor starts the training in a thread and
    returns; the thread ends the process when the run is trained or has failed, which frees the
    actor's name (no restarts)."""

    def __init__(self, config: Mapping[str, Any], store_root: str, log_path: str, job_id: str,
                 token: str, device: str, threads: int, resume_every_seconds: float) -> None:
        arguments = (dict(config), store_root, log_path, job_id, token, device, threads,
                     resume_every_seconds)
        threading.Thread(target=_train_then_exit, args=arguments, daemon=True,
                         name=f"train-{job_id}").start()


def _train_then_exit(config: Mapping[str, Any], store_root: str, log_path: str, job_id: str,
                     token: str, device: str, threads: int, resume_every_seconds: float) -> None:
    _log_to(Path(log_path))
    code = 0
    try:
        run_config(config, store_root, executor="ray", job_id=job_id, token=token, device=device,
                   threads=threads, resume_every_seconds=resume_every_seconds)
    except BaseException:  # recorded in the worker status by run_config; shown in the log
        traceback.print_exc()
        code = 1
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


class RayBackend:
    """Submit runs as detached Ray actors and follow them by name."""

    name = "ray"

    def __init__(self, store_root: Path, options: Mapping[str, Any], device: str = "auto"):
        self.store_root, self.options, self.device = Path(store_root), dict(options), device
        self.namespace = str(options["namespace"])
        folder = options.get("log_folder") or executor_folder(self.store_root, "ray") / "logs"
        self.log_folder = Path(folder).expanduser().absolute()
        self.connected_here = not ray.is_initialized()
        if self.connected_here:
            ray.init(address=options.get("address"), namespace=self.namespace,
                     log_to_driver=False)

    def submit(self, items: Sequence[tuple[str, Mapping[str, Any], str]]) -> dict[str, tuple[str, list[str]]]:
        jobs = {}
        threads = max(1, int(self.options["num_cpus"]))
        for cid, config, token in items:
            name = ACTOR_PREFIX + cid
            log = self.log_folder / f"{cid}.{token[:8]}.log"
            try:
                RunActor.options(
                    name=name, namespace=self.namespace, lifetime="detached",
                    num_cpus=self.options["num_cpus"], num_gpus=self.options["num_gpus"],
                ).remote(dict(config), str(self.store_root.absolute()), str(log), name, token,
                         self.device, threads, float(self.options["resume_every_seconds"]))
            except ValueError:  # the name is taken: another dispatcher's actor trains this run
                pass
            jobs[cid] = (name, [str(log)])
        return jobs

    def poll(self, records: Sequence[JobRecord]) -> dict[str, str] | None:
        try:
            listed = ray.util.list_named_actors(all_namespaces=True)
        except Exception:
            return None
        alive = {a["name"] for a in listed if a.get("namespace") == self.namespace}
        states = {}
        for record in records:
            if record.job_id not in alive:
                states[record.config_id] = "ended"
                continue
            status = load_worker_status(self.store_root, "ray", record.config_id)
            started = status.get("token") == record.token and status.get("state") == "running"
            states[record.config_id] = "running" if started else "pending"
        return states

    def close(self) -> None:
        if self.connected_here and ray.is_initialized():
            ray.shutdown()
