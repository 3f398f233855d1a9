"""Training layer: ONE entry point, :func:`train`, that turns a config into a finished run.

``train(config)`` validates the config (:func:`ddlib.training.config.validate_config`), finds its
run in the store by the config's hash, returns it when finished, resumes it when interrupted, and
otherwise trains it with the loop of ``config["kind"]``:

- ``"classifier"`` -> :func:`ddlib.training.classifier.train_epochs` (cross-entropy, one-hot MSE,
  soft distillation from ``config["teacher"]``, SAM);
- ``"lc_training"`` -> :func:`ddlib.training.lc_logged.train_steps` (local complexity logged on a
  log-spaced step grid).

:func:`train_sweep` trains a list of configs (a sweep) here, with a progress bar over runs, runs
of one shape stacked together where that is faster (:mod:`ddlib.training.stacked`);
:func:`load_model` rebuilds the model of a finished run at its final or a kept checkpoint;
:func:`per_image_test_outcomes` is its per-image record on the test split (cached in the run folder).
May import ``ddlib.core``, ``ddlib.models`` and ``ddlib.metrics``; never a plotting or study module,
nor ``ddlib.execution``: that layer (Slurm, Ray, the sweep board of idle cores) calls this one.
"""

from __future__ import annotations

import contextlib
import copy
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import torch

from ddlib.core.device import pick_device
from ddlib.core.progress import progress as progress_bar
from ddlib.core.store import Run, RunStore
from ddlib.training.config import EXAMPLE_CONFIGS, validate_config
from ddlib.training.evaluation import evaluate, load_model, per_image_test_outcomes, predict_logits
from ddlib.training.run_inputs import training_data
from ddlib.training.stacked import check_stack_policy, shape_groups, stacks_on

__all__ = ["EXAMPLE_CONFIGS", "evaluate", "load_model", "per_image_test_outcomes", "predict_logits", "train",
           "train_sweep", "training_data", "validate_config"]


def train(config: Mapping[str, Any], store: RunStore | None = None,
          device: str | torch.device = "auto", progress: bool = True, *,
          allow_download: bool = False, on_log: Callable[[int, dict], None] | None = None,
          resume_every_seconds: float = 60.0) -> Run:
    """Train (or load, or resume) the run of ``config``; returns the finished :class:`Run`.

    ``allow_download`` lets an LC run's dataset download (classifier configs say so in their data
    spec); ``on_log(step, row)`` is called after every logged row of an LC run; a resume point is
    written at least every ``resume_every_seconds``. The global RNG is left untouched.
    """
    validate_config(config)
    store = store or RunStore()
    run = store.run(config)
    chosen = pick_device(device)
    with run.lock():
        if run.is_trained():
            return run
        run.clear_temporaries()
        devices = [torch.cuda.current_device()] if torch.cuda.is_available() else []
        with torch.random.fork_rng(devices=devices):
            if config.get("kind", "classifier") == "lc_training":
                from ddlib.training.lc_logged import train_steps

                train_steps(run, chosen, progress, allow_download, on_log, resume_every_seconds)
            else:
                from ddlib.training.classifier import train_epochs

                teacher = None
                if config.get("loss") == "distill_mse":
                    teacher_run = train(config["teacher"], store, chosen, progress)
                    teacher = load_model(teacher_run, device=chosen)
                train_epochs(run, chosen, teacher, progress, resume_every_seconds)
    return run


def train_sweep(configs: Sequence[Mapping[str, Any]], store: RunStore | None = None,
                device: str | torch.device = "auto", progress: bool = True, *,
                allow_download: bool = False, stack: str = "auto") -> list[Run]:
    """Train every config of a sweep here (finished runs are loaded, partial ones resumed).

    Every config is validated before the first one trains. ``stack`` chooses whether runs of one
    shape group (equal configs but for the seeds; LC runs also but for their training set's size
    and label noise) train together as a stacked ensemble (:mod:`ddlib.training.stacked`,
    :mod:`ddlib.training.lc_stacked`): ``"auto"`` (on CUDA only; measured slower on the CPU),
    ``"always"`` or ``"never"``. To train on a Slurm or Ray cluster, or to let a helper on an idle
    core train some of the runs, call :func:`ddlib.execution.run_sweep`, which calls this.
    """
    store = store or RunStore()
    check_stack_policy(stack)
    for config in configs:
        validate_config(config)
    configs = [copy.deepcopy(dict(c)) for c in configs]
    chosen = pick_device(device)
    groups = shape_groups(configs) if stacks_on(stack, chosen) else [[i] for i in range(len(configs))]
    for group in progress_bar(groups, "sweep", enabled=progress, leave=True):
        if len(group) == 1:
            train(configs[group[0]], store, chosen, progress, allow_download=allow_download)
        else:
            _train_together([configs[i] for i in group], store, chosen, progress, allow_download)
    return [store.run(c) for c in configs]


def _train_together(configs: Sequence[Mapping[str, Any]], store: RunStore, device: torch.device,
                    progress: bool, allow_download: bool = False,
                    resume_every_seconds: float = 60.0) -> None:
    """Train the unfinished runs of one shape group as a stacked ensemble, holding every
    member's lock (taken in run-id order, so concurrent workers cannot deadlock)."""
    from ddlib.training.classifier import train_epochs
    from ddlib.training.lc_logged import train_steps
    from ddlib.training.lc_stacked import train_steps_stacked
    from ddlib.training.stacked import train_stacked

    runs = sorted({run.id: run for run in map(store.run, configs)}.values(), key=lambda r: r.id)
    with contextlib.ExitStack() as locks:
        for run in runs:
            locks.enter_context(run.lock())
        pending = [run for run in runs if not run.is_trained()]
        for run in pending:
            run.clear_temporaries()
        logged_lc = configs[0].get("kind", "classifier") == "lc_training"
        teachers = [] if logged_lc else [_teacher(run, store, device, progress) for run in pending]
        devices = [torch.cuda.current_device()] if torch.cuda.is_available() else []
        with torch.random.fork_rng(devices=devices):
            if not pending:
                return
            if logged_lc and len(pending) == 1:
                train_steps(pending[0], device, progress, allow_download, None,
                            resume_every_seconds)
            elif logged_lc:
                train_steps_stacked(pending, device, progress, allow_download,
                                    resume_every_seconds)
            elif len(pending) == 1:
                train_epochs(pending[0], device, teachers[0], progress, resume_every_seconds)
            else:
                train_stacked(pending, device, teachers, progress, resume_every_seconds)


def _teacher(run: Run, store: RunStore, device: torch.device,
             progress: bool) -> torch.nn.Module | None:
    """The trained teacher of a distillation run (trained first when missing), else None."""
    if run.config.get("loss") != "distill_mse":
        return None
    return load_model(train(run.config["teacher"], store, device, progress), device=device)
