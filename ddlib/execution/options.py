"""Executor names, their options (with defaults and checks) and the optional extras they need.

Every option is checked before anything is submitted or trained: an unknown executor or option
key, or a bad value, raises ``ValueError`` naming the parameter and what is allowed; a missing
extra (submitit for ``slurm``, ray for ``ray``) raises :class:`MissingExtraError` naming the
``pip install`` command.
"""

from __future__ import annotations

import importlib
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ddlib.core.checks import Integer, ListOf, Real, Rule, Text, closest_name

EXECUTORS = ("local", "slurm", "ray")
EXTRAS = {"slurm": "submitit", "ray": "ray"}


class MissingExtraError(ImportError):
    """The executor's engine (submitit or ray) is not importable; the message names the extra."""


@dataclass(frozen=True)
class Option:
    """One executor option: its default (``None``: not passed on), its rule and a description."""

    default: Any
    rule: Rule
    help: str


_text = Text()
_positive_int = Integer(1, say="a positive integer")
_count = Integer(0, say="an integer >= 0")
_positive_number = Real(0.0, low_open=True, as_float=False, say="a finite number > 0")
_nonnegative_number = Real(0.0, as_float=False, say="a finite number >= 0")
_lines = ListOf(Text(), min_length=0, say='a list of shell lines, e.g. ["module load cuda"]')

_COMMON = {
    "log_folder": Option(None, _text, "folder for job logs (default <store>/_executors/<executor>/logs)"),
    "resume_every_seconds": Option(60.0, _positive_number,
                                   "a resume point is written at least this often [s]: the most work "
                                   "a killed or preempted job loses"),
    "retries": Option(1, _count, "resubmissions of a failed run before it counts as failed"),
    "poll_seconds": Option(None, _positive_number, "seconds between two looks at the jobs"),
    "grace_seconds": Option(None, _nonnegative_number,
                            "how long a job that ended without a finished run is waited for before "
                            "it counts as failed (shared-filesystem caches) [s]"),
}

OPTIONS: dict[str, dict[str, Option]] = {
    "local": {},
    "slurm": {
        "partition": Option(None, _text, "Slurm partition (--partition); default: the cluster's"),
        "account": Option(None, _text, "Slurm account (--account)"),
        "qos": Option(None, _text, "quality of service (--qos)"),
        "constraint": Option(None, _text, "node features (--constraint)"),
        "gpus_per_task": Option(0, _count, "GPUs per run (--gpus-per-node; one task per job)"),
        "gpus": Option(None, _count, "the same as gpus_per_task"),
        "cpus_per_task": Option(1, _positive_int, "CPU cores per run (--cpus-per-task); also the "
                                "number of torch threads"),
        "mem_gb": Option(None, _positive_number, "memory per run [GB] (--mem)"),
        "timeout_min": Option(120, _positive_int, "time limit per job [min] (--time); a job that "
                              "reaches it is requeued and resumes"),
        "max_requeues": Option(10, _count, "time-outs after which a job is not requeued again "
                               "(preemptions are always requeued)"),
        "array_parallelism": Option(256, _positive_int, "runs of one job array running at once"),
        "setup": Option(None, _lines, "shell lines run in the job before Python (module load ...)"),
        **_COMMON,
    },
    "ray": {
        "address": Option(None, _text, "Ray cluster address (host:port, 'auto' or 'local'); default: "
                          "RAY_ADDRESS, else the cluster started on this machine, else a new local one"),
        "namespace": Option("ddlib", _text, "Ray namespace of the detached run actors"),
        "num_cpus": Option(1, _positive_number, "CPU cores per run (Ray resource request); also the "
                           "number of torch threads"),
        "num_gpus": Option(0, _nonnegative_number, "GPUs per run (Ray resource request)"),
        **_COMMON,
    },
}

DEFAULT_POLL_SECONDS = {"slurm": 10.0, "ray": 2.0}
DEFAULT_GRACE_SECONDS = {"slurm": 60.0, "ray": 30.0}


def check_executor_name(executor: Any) -> None:
    """Raise ``ValueError`` unless ``executor`` is one of :data:`EXECUTORS`."""
    if executor not in EXECUTORS:
        raise ValueError(f"executor={executor!r} is unknown; allowed: {list(EXECUTORS)}")


def check_options(executor: str, options: Any) -> None:
    """Raise ``ValueError`` for an option key the executor does not know or a bad value."""
    if not isinstance(options, Mapping):
        raise ValueError(f"executor_options={options!r} is not allowed; use a mapping of option "
                         "names to values, e.g. {partition: gpu}")
    known = OPTIONS[executor]
    for key, value in options.items():
        if key not in known:
            if not known:
                raise ValueError(f"executor_options key {key!r} is not allowed: executor "
                                 f"{executor!r} takes no options")
            raise ValueError(f"executor_options key {key!r} is unknown for executor "
                             f"{executor!r}{closest_name(key, known)}; allowed: {sorted(known)}")
        known[key].rule.check(f"executor_options {key}", value)
    if executor == "slurm" and "gpus" in options and "gpus_per_task" in options:
        raise ValueError("executor_options gpus and gpus_per_task are the same option; give one")


def require_engine(executor: str) -> None:
    """Raise :class:`MissingExtraError` when the executor's engine cannot be imported (and, for
    Slurm, when its client commands are not on PATH)."""
    if executor not in EXTRAS:
        return
    module = EXTRAS[executor]
    try:
        importlib.import_module(module)
    except ImportError as error:
        raise MissingExtraError(
            f"executor={executor!r} needs the Python package {module!r}, which is not installed "
            f"({error}); install the extra: pip install -e '.[{executor}]' (or pip install -r "
            "requirements-cluster.txt)") from error
    if executor == "slurm":
        missing = [tool for tool in ("sbatch", "squeue", "scontrol") if shutil.which(tool) is None]
        if missing:
            raise MissingExtraError(f"executor='slurm' needs the Slurm client commands {missing} on "
                                    "PATH; run on a Slurm login node (or install slurm-client)")


def resolved(executor: str, options: Mapping[str, Any]) -> dict[str, Any]:
    """``options`` with every default filled in (checked options only)."""
    values = {key: option.default for key, option in OPTIONS[executor].items()}
    values.update(options)
    if executor == "slurm" and values.get("gpus") is not None:
        values["gpus_per_task"] = values["gpus"]
    values.pop("gpus", None)
    if values.get("poll_seconds") is None:
        values["poll_seconds"] = DEFAULT_POLL_SECONDS.get(executor, 1.0)
    if values.get("grace_seconds") is None:
        values["grace_seconds"] = DEFAULT_GRACE_SECONDS.get(executor, 0.0)
    return values


def describe(executor: str) -> str:
    """One line per option of ``executor``: name, default and meaning."""
    return "\n".join(f"{key} (default {option.default!r}): {option.help}"
                     for key, option in OPTIONS[executor].items())
