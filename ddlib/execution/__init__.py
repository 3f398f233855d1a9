"""Where a sweep's runs train: here (``local``), as Slurm jobs (``slurm``) or on Ray (``ray``).

:func:`run_sweep` is how a study trains a sweep: it takes the executor and its options as
arguments (a notebook's resolved ``P.executor`` and ``P.executor_options``), trains here with
``ddlib.training.train_sweep`` (showing the sweep on the board of idle cores,
:mod:`ddlib.execution.sharing`, when ``run_all.sh`` set one) or hands it to a cluster.
``validate_executor(executor, options)`` checks an executor choice when parameters are resolved
(names, option keys and values, and that the optional engine is installed), before any compute.
``dispatch(configs, store_root, executor, options)`` hands the runs of a sweep that are not
finished in the run store to Slurm (:mod:`ddlib.execution.slurm`, submitit job arrays) or Ray
(:mod:`ddlib.execution.ray_backend`, detached actors), attaches to jobs that an earlier invocation
left in flight, shows progress, resubmits a failed run once and returns when every run is
finished, or raises :class:`ExecutorError` listing the runs that failed with their log paths.

The run store is the only shared state: every job trains one run with
``ddlib.training.train(config, RunStore(store_root), device=device, progress=False)`` and writes
only that run's folder (atomically); the dispatcher's job records live beside the runs in
``<store>/_executors/<executor>/``. May import ``ddlib.core`` and ``ddlib.training`` (which never
imports this package), and the engines only when chosen.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ddlib.core.device import pick_device
from ddlib.core.store import Run, RunStore, config_hash
from ddlib.execution.monitor import ExecutorError, Failure, watch
from ddlib.execution.options import (
    EXECUTORS,
    OPTIONS,
    MissingExtraError,
    check_executor_name,
    check_options,
    require_engine,
    resolved,
)
from ddlib.execution.sharing import announce, published
from ddlib.training import train_sweep
from ddlib.training.config import validate_config

__all__ = ["EXECUTORS", "OPTIONS", "ExecutorError", "Failure", "MissingExtraError", "dispatch",
           "run_sweep", "validate_executor"]


def validate_executor(executor: str, options: Mapping[str, Any]) -> None:
    """Raise ``ValueError`` naming the parameter and what is allowed for an unknown executor, an
    unknown option key or a bad value, and :class:`MissingExtraError` (an ``ImportError``) naming
    the extra to install (``pip install -e '.[slurm]'`` / ``'.[ray]'``) when submitit / ray is not
    importable. No compute, no submission."""
    check_executor_name(executor)
    check_options(executor, options)
    require_engine(executor)


def run_sweep(configs: Sequence[Mapping[str, Any]], store: RunStore | None = None,
              device: str = "auto", progress: bool = True, *, executor: str = "local",
              executor_options: Mapping[str, Any] | None = None, allow_download: bool = False,
              stack: str = "auto", later: Sequence[Mapping[str, Any]] = ()) -> list[Run]:
    """Train every config of a sweep where ``executor`` says; returns the runs in order (finished
    runs are loaded, partial ones resumed). The executor and every config are checked first.

    ``executor="local"`` trains here with :func:`ddlib.training.train_sweep` (``allow_download``
    and ``stack`` are its arguments). When ``DDLIB_SWEEP_BOARD`` names a folder (``run_all.sh``
    sets it), the sweep is published there while it trains, and ``later`` (configs this process
    trains afterwards) is announced, so that a helper on an idle core can train some of their runs,
    bit-identically (:mod:`ddlib.execution.sharing`). ``"slurm"`` / ``"ray"`` hand the runs that are
    not finished to a cluster with ``executor_options`` (:func:`dispatch`) and wait.
    """
    store = store or RunStore()
    options = dict(executor_options or {})
    validate_executor(executor, options)
    for config in configs:
        validate_config(config)
    if executor != "local":
        dispatch(configs, store.root, executor, options, str(device), progress)
        return [store.run(c) for c in configs]
    board_device = str(pick_device(device))
    announce(later, store, board_device)
    with published(configs, store, board_device):
        return train_sweep(configs, store, device, progress, allow_download=allow_download,
                           stack=stack)


def _waves(configs: Sequence[Mapping[str, Any]]) -> list[dict[str, dict[str, Any]]]:
    """The distinct configs, grouped so that a distillation teacher trains (in an earlier wave)
    before its students: ``[{config_id: config}, ...]``."""
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
        for wave in _waves(configs):
            failures += watch(store, wave, backend, values, progress)
    finally:
        backend.close()
    if failures:
        raise ExecutorError(executor, failures)
