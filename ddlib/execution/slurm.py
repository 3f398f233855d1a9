"""Runs as Slurm jobs through submitit: one job array per submission, one array task per run.

Each task calls :func:`ddlib.execution.worker.run_config` through :class:`SlurmRunTask`, a
``submitit.helpers.Checkpointable``: when Slurm preempts the job or its time limit comes near, it
sends the job ``SIGUSR2`` (``--signal``), submitit calls :meth:`SlurmRunTask.checkpoint`, which
resubmits the same call, and requeues the job (``scontrol requeue``: same job id). The requeued
job trains the same config again and ``ddlib.training.train`` resumes it from the run's resume
point; at most ``resume_every_seconds`` of work is lost.

Job states come from ``squeue --states=all`` (jobs that are pending, running, or ended a few
minutes ago), which works with or without Slurm's accounting database; a job that ``squeue`` no
longer lists has ended. Imported only when the ``slurm`` executor is used (needs submitit).
"""

from __future__ import annotations

import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import submitit

from ddlib.execution.records import JobRecord, executor_folder
from ddlib.execution.worker import run_config

RUNNING_STATES = {"RUNNING", "COMPLETING", "CONFIGURING", "STAGE_OUT", "SIGNALING", "RESIZING"}
ENDED_STATES = {"COMPLETED", "CANCELLED", "FAILED", "TIMEOUT", "NODE_FAIL", "PREEMPTED",
                "BOOT_FAIL", "DEADLINE", "OUT_OF_MEMORY", "REVOKED"}


class SlurmRunTask(submitit.helpers.Checkpointable):
    """Train one config in the run store on a Slurm node; requeued with the same arguments on
    preemption or time-out."""

    def __init__(self, store_root: str, device: str, threads: int, resume_every_seconds: float):
        self.store_root, self.device = store_root, device
        self.threads, self.resume_every_seconds = threads, resume_every_seconds

    def __call__(self, config: Mapping[str, Any], config_id: str, token: str) -> dict[str, Any]:
        job_id = submitit.JobEnvironment().job_id
        return run_config(config, self.store_root, executor="slurm", job_id=job_id, token=token,
                          device=self.device, threads=self.threads,
                          resume_every_seconds=self.resume_every_seconds)

    def checkpoint(self, *args: Any, **kwargs: Any) -> submitit.helpers.DelayedSubmission:
        """Resubmit the same run: the run store's resume point holds the progress."""
        print(f"ddlib slurm job: run {args[1] if len(args) > 1 else '?'} preempted or timed out; "
              "requeued, it resumes from its last resume point", flush=True)
        return submitit.helpers.DelayedSubmission(self, *args, **kwargs)


def _memory(mem_gb: float) -> str:
    return f"{int(mem_gb)}GB" if float(mem_gb).is_integer() else f"{int(mem_gb * 1024)}MB"


def sbatch_parameters(options: Mapping[str, Any]) -> dict[str, Any]:
    """submitit ``SlurmExecutor`` parameters from resolved executor options."""
    timeout_min = int(options["timeout_min"])
    params: dict[str, Any] = {
        "job_name": "ddlib-runs",
        "time": timeout_min,
        "cpus_per_task": int(options["cpus_per_task"]),
        "array_parallelism": int(options["array_parallelism"]),
        # the requeue signal comes this long before the time limit (Slurm sends it within ~60 s)
        "signal_delay_s": int(min(120, max(30, timeout_min * 60 // 4))),
    }
    for key in ("partition", "account", "qos", "constraint", "setup"):
        if options.get(key):
            params[key] = list(options[key]) if key == "setup" else options[key]
    if options.get("mem_gb") is not None:
        params["mem"] = _memory(options["mem_gb"])
    if options.get("gpus_per_task"):
        params["gpus_per_node"] = int(options["gpus_per_task"])
    return params


class SlurmBackend:
    """Submit runs as Slurm job arrays and read their states with squeue."""

    name = "slurm"

    def __init__(self, store_root: Path, options: Mapping[str, Any], device: str = "auto"):
        self.store_root, self.options, self.device = Path(store_root), dict(options), device
        folder = options.get("log_folder") or executor_folder(self.store_root, "slurm") / "logs"
        self.log_folder = Path(folder).expanduser().absolute()

    def submit(self, items: Sequence[tuple[str, Mapping[str, Any], str]]) -> dict[str, tuple[str, list[str]]]:
        executor = submitit.SlurmExecutor(folder=self.log_folder,
                                          max_num_timeout=int(self.options["max_requeues"]))
        executor.update_parameters(**sbatch_parameters(self.options))
        task = SlurmRunTask(str(self.store_root.absolute()), self.device,
                            int(self.options["cpus_per_task"]),
                            float(self.options["resume_every_seconds"]))
        cids = [cid for cid, _, _ in items]
        jobs = executor.map_array(task, [dict(c) for _, c, _ in items], cids,
                                  [token for _, _, token in items])
        return {cid: (job.job_id, [str(job.paths.stdout), str(job.paths.stderr)])
                for cid, job in zip(cids, jobs)}

    def poll(self, records: Sequence[JobRecord]) -> dict[str, str] | None:
        if not records:
            return {}
        bases = sorted({r.job_id.split("_")[0] for r in records})
        try:
            out = subprocess.run(["squeue", "--noheader", "--array", "--states=all",
                                  "--format=%i|%T", "--jobs", ",".join(bases)],
                                 capture_output=True, text=True, timeout=60)
        except (OSError, subprocess.TimeoutExpired):
            return None
        if out.returncode != 0:
            if "Invalid job id" in out.stderr:
                return {r.config_id: "ended" for r in records}
            return None
        states: dict[str, str] = {}
        for line in out.stdout.splitlines():
            job_id, _, state = line.strip().partition("|")
            states[job_id] = state.split()[0] if state else ""
        return {r.config_id: self.state_of(states.get(r.job_id)) for r in records}

    @staticmethod
    def state_of(slurm_state: str | None) -> str:
        """"pending", "running" or "ended" for a squeue state (None: not listed)."""
        if slurm_state is None or slurm_state in ENDED_STATES:
            return "ended"
        return "running" if slurm_state in RUNNING_STATES else "pending"

    def close(self) -> None:
        pass
