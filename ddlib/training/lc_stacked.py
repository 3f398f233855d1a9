"""Stacked LC-logged training: the runs of one LC shape group take their optimiser steps together.

The members of a training-size sweep (Humayun et al. 2024, ``docs/papers.md`` §3: training sets
of several sizes, with true or random labels) or the seeds of one MLP have parameters of the same
shapes and minibatches of the same size, so one vmapped forward/backward
(:class:`ddlib.training.stacked.StackedModels`) and one fused AdamW over the stacked parameters
replace one step per member: AdamW acts element by element, and d(sum of the members'
losses)/d(member m's weights) is member m's own gradient, so every member takes the step it would
take alone (:func:`ddlib.training.lc_logged.train_steps`).

Each member keeps its own training set, its own minibatch order (a
:class:`ddlib.training.lc_logged.BatchOrder` seeded by its ``data_seed``), its own log rows
(:func:`ddlib.training.lc_logged.measure` on its own weights and points) and its own resume points
and final weights in its own run folder, in the format of a run trained alone: a member may resume
stacked or alone. A member's ``seconds`` are its share (1 / members) of the stacked steps' time.

Stacked and alone agree to rounding, not bit for bit: the batched matmuls sum in another order,
and over many float32 steps a ReLU pre-activation within rounding of zero may take the other sign
in one of them, which later steps amplify (``benchmarks/bench_stacked.py`` measures 1e-6 after one
step, about 2e-4 after 60). The run store keeps one run per config either way; on one device with one
stacking policy and thread count, runs are bit-repeatable.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Sequence
from typing import Any

import torch
from torch import nn

from ddlib.core.data import ClassificationData
from ddlib.core.progress import progress as progress_bar
from ddlib.core.store import Run, config_hash
from ddlib.models.layers import DTYPES
from ddlib.training.evaluation import loss_value
from ddlib.training.lc_logged import BatchOrder, lc_optimizer, lc_points, lc_summary, measure
from ddlib.training.precision import training_precision
from ddlib.training.run_inputs import seeded_model, training_data
from ddlib.training.stacked import (
    StackedModels,
    by_resume_point,
    member_optimizer_state,
    member_state,
    stacked_optimizer_state,
)


@dataclasses.dataclass
class _Member:
    """One run of the stack: its data, LC points, batch order, model (for logging) and log."""

    run: Run
    data: ClassificationData
    points: dict[str, torch.Tensor]
    x_train: torch.Tensor
    y_train: torch.Tensor
    order: BatchOrder
    model: nn.Module
    metrics: list[dict]
    seconds: float = 0.0

    @classmethod
    def of(cls, run: Run, device: torch.device, allow_download: bool,
           on_device: dict[str, tuple[torch.Tensor, torch.Tensor]]) -> _Member:
        """The member of ``run``; members with the same training set share its device copy
        (``on_device``, by data spec and dtype)."""
        config = run.config
        data = training_data(config, allow_download)
        dtype = DTYPES[config["model"].get("dtype", "float32")]
        key = config_hash({"data": config["data"], "dtype": str(dtype)})
        if key not in on_device:
            on_device[key] = data.x_train.to(device=device, dtype=dtype), data.y_train.to(device)
        return cls(run, data, lc_points(data, config["lc"]), *on_device[key],
                   BatchOrder(len(data.x_train), config["batch_size"], config["data_seed"]),
                   seeded_model(config).to(device), [])


def train_steps_stacked(runs: Sequence[Run], device: torch.device, progress: bool,
                        allow_download: bool, resume_every_seconds: float) -> None:
    """Train the LC runs of one shape group together (those at the same resume step stack) and
    finish each, as :func:`ddlib.training.lc_logged.train_steps` would one at a time."""
    for chosen, resumes in by_resume_point(runs):
        _train_group([runs[i] for i in chosen], resumes, device, progress, allow_download,
                     resume_every_seconds)


def _train_group(runs: Sequence[Run], resumes: Sequence[tuple | None], device: torch.device,
                 progress: bool, allow_download: bool, resume_every_seconds: float) -> None:
    config = runs[0].config
    on_device: dict[str, tuple[torch.Tensor, torch.Tensor]] = {}
    members = [_Member.of(run, device, allow_download, on_device) for run in runs]
    stacked = StackedModels([m.model for m in members])
    optimizer = lc_optimizer(config, list(stacked.params.values()))
    first_step = 0
    if resumes[0] is not None:
        first_step = resumes[0][0]
        saved = [r[1] for r in resumes]
        stacked.load_members([s["model"] for s in saved])
        optimizer.load_state_dict(stacked_optimizer_state([s["optimizer"] for s in saved]))
        for member, state, resume in zip(members, saved, resumes):
            member.order.load(state["order"])
            member.seconds, member.metrics = float(state["seconds"]), list(resume[2])
    log_steps, keep_steps = set(config["log_steps"]), set(config["checkpoint_steps"])
    last_save = time.monotonic()

    def log_and_save(step: int) -> None:
        nonlocal last_save
        logging, keeping = step in log_steps, step in keep_steps
        due = time.monotonic() - last_save > resume_every_seconds and step < config["steps"]
        if not (logging or keeping or due):
            return
        states = [member_state(stacked.state(), m, stacked.names) for m in range(len(members))]
        optimizer_state = optimizer.state_dict()
        for index, member in enumerate(members):
            if logging:
                member.model.load_state_dict(states[index])
                row = measure(member.model, member.data, member.points, member.run.config)
                member.metrics.append({"step": step, **row, "seconds": member.seconds})
            state: dict[str, Any] = {
                "model": states[index],
                "optimizer": member_optimizer_state(optimizer_state, index),
                "order": member.order.state(),
                "seconds": member.seconds,
            }
            member.run.save_checkpoint(step, state, member.metrics, keep=keeping)
        last_save = time.monotonic()

    if resumes[0] is None:
        log_and_save(0)
    label = f"{config['model']['name']} x{len(members)} stacked"
    for step in progress_bar(range(first_step, config["steps"]), label,
                             total=config["steps"] - first_step, enabled=progress):
        started = time.perf_counter()
        batches = [member.order.next().to(device) for member in members]
        images = torch.stack([m.x_train[b] for m, b in zip(members, batches)])
        labels = torch.stack([m.y_train[b] for m, b in zip(members, batches)])
        with training_precision(device):
            logits = stacked(images)
            loss = sum(loss_value(config["loss"], logits[m], labels[m])
                       for m in range(len(members)))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        share = (time.perf_counter() - started) / len(members)
        for member in members:
            member.seconds += share
        log_and_save(step + 1)
    final = [member_state(stacked.state(), m, stacked.names) for m in range(len(members))]
    for member, state in zip(members, final):
        member.run.finish(member.metrics, lc_summary(member.run.config, member.metrics,
                                                     member.seconds), {"model": state})
