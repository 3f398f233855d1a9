"""Where a sweep's runs train: here (``local``), as Slurm jobs (``slurm``) or on Ray (``ray``).

``validate_executor(executor, options)`` checks an executor choice when parameters are resolved
(names, option keys and values, and that the optional engine is installed), before any compute;
``use_executor(executor, options)`` (called by ``ddlib.studies.resolve`` with the notebook's
``executor`` and ``executor_options`` parameters) checks it and makes it the executor of every
later ``ddlib.training.train_sweep`` call in this process that names none.
``dispatch(configs, store_root, executor, options)`` hands the runs of a sweep that are not
finished in the run store to Slurm (:mod:`ddlib.execution.slurm`, submitit job arrays) or Ray
(:mod:`ddlib.execution.ray_backend`, detached actors), attaches to jobs that an earlier invocation
left in flight, shows progress, resubmits a failed run once and returns when every run is
finished, or raises :class:`ExecutorError` listing the runs that failed with their log paths.

The run store is the only shared state: every job trains one run with
``ddlib.training.train(config, RunStore(store_root), device=device, progress=False)`` and writes
only that run's folder (atomically); the dispatcher's job records live beside the runs in
``<store>/_executors/<executor>/``. May import ``ddlib.core``; imports ``ddlib.training`` only
lazily (it imports this package lazily too) and the engines only when chosen.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ddlib.execution.monitor import ExecutorError, Failure
from ddlib.execution.options import (
    EXECUTORS,
    OPTIONS,
    MissingExtraError,
    check_executor_name,
    check_options,
    require_engine,
    resolved,
)

__all__ = ["EXECUTORS", "OPTIONS", "ExecutorError", "Failure", "MissingExtraError",
           "current_executor", "dispatch", "use_executor", "validate_executor"]

_chosen: tuple[str, dict[str, Any]] = ("local", {})


def validate_executor(executor: str, options: Mapping[str, Any]) -> None:
    """Raise ``ValueError`` naming the parameter and what is allowed for an unknown executor, an
    unknown option key or a bad value, and :class:`MissingExtraError` (an ``ImportError``) naming
    the extra to install (``pip install -e '.[slurm]'`` / ``'.[ray]'``) when submitit / ray is not
    importable. No compute, no submission."""
    check_executor_name(executor)
    check_options(executor, options)
    require_engine(executor)


def use_executor(executor: str = "local", options: Mapping[str, Any] | None = None) -> None:
    """Check ``executor`` and its ``options`` (as :func:`validate_executor`) and make them the
    default of every later sweep in this process (``train_sweep(executor=None)``)."""
    global _chosen
    options = dict(options or {})
    validate_executor(executor, options)
    _chosen = (executor, copy.deepcopy(options))


def current_executor() -> tuple[str, dict[str, Any]]:
    """``(executor, options)`` chosen by the last :func:`use_executor` (``("local", {})`` before)."""
    return _chosen[0], copy.deepcopy(_chosen[1])


def _waves(configs: Sequence[Mapping[str, Any]]) -> list[dict[str, dict[str, Any]]]:
    """The distinct configs, grouped so that a distillation teacher trains (in an earlier wave)
    before its students: ``[{config_id: config}, ...]``."""
    from ddlib.core.store import config_hash

    def canonical(config: Mapping[str, Any]) -> dict[str, Any]:
        import json

        return json.loads(json.dumps(dict(config), default=str))

    depth: dict[str, int] = {}
    by_id: dict[str, dict[str, Any]] = {}

    def visit(config: Mapping[str, Any]) -> int:
        config = canonical(config)
        cid = config_hash(config)
        if cid not in depth:
            teacher = config.get("teacher") if config.get("loss") == "distill_mse" else None
            depth[cid] = 0 if not isinstance(teacher, Mapping) else visit(teacher) + 1
            by_id[cid] = config
        return depth[cid]

    for config in configs:
        visit(config)
    waves: list[dict[str, dict[str, Any]]] = [{} for _ in range(max(depth.values(), default=-1) + 1)]
    for cid, level in depth.items():
        waves[level][cid] = by_id[cid]
    return waves


def _backend(executor: str, store_root: Path, options: Mapping[str, Any], device: str):
    if executor == "slurm":
        from ddlib.execution.slurm import SlurmBackend

        return SlurmBackend(store_root, options, device)
    from ddlib.execution.ray_backend import RayBackend

    return RayBackend(store_root, options, device)


def dispatch(configs: Sequence[Mapping[str, Any]], store_root: Path, executor: str,
             options: Mapping[str, Any], device: str = "auto", progress: bool = True) -> None:
    """Make sure every config's run is trained in the run store at ``store_root``, using the
    remote executor (``"slurm"`` or ``"ray"``); returns when all are finished; raises
    :class:`ExecutorError` listing the runs that failed permanently (with their log paths).

    Runs already finished in the store are not submitted; runs whose jobs from an earlier
    invocation are still pending or running are attached to; a failed run is reported with its
    log path and resubmitted ``retries`` times (default once), resuming from its resume point.
    Teachers of distilled students train in a wave before their students.
    """
    from ddlib.core.store import RunStore
    from ddlib.training.config import validate_config

    validate_executor(executor, options)
    if executor == "local":
        raise ValueError("dispatch() hands runs to executor 'slurm' or 'ray'; executor='local' "
                         "trains in this process (ddlib.training.train_sweep)")
    configs = [copy.deepcopy(dict(c)) for c in configs]
    for config in configs:
        validate_config(config)
    values = resolved(executor, options)
    store = RunStore(Path(store_root))
    backend = _backend(executor, store.root, values, device)
    failures: list[Failure] = []
    try:
        from ddlib.execution.monitor import watch

        for wave in _waves(configs):
            failures += watch(store, wave, backend, values, progress)
    finally:
        backend.close()
    if failures:
        raise ExecutorError(executor, failures)
