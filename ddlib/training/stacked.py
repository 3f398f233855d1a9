"""Stacked training: the runs of one shape group train together, as one ensemble step.

Runs whose configs are equal but for ``seed`` and ``data_seed`` (the seeds of a width, the seed
pairs of the architecture zoo) have parameters of the same shapes. Their parameters are stacked
along a new leading dimension (``torch.func.stack_module_state``), one forward runs every member
on its own minibatch (``torch.func.vmap`` over ``functional_call``), the sum of the members' mean
losses is differentiated once, and ONE optimiser updates the stacked parameters. Because the
members do not interact, d(sum of losses)/d(member m's weights) is member m's own gradient, and
SGD, Adam and AdamW act element by element, so every member takes the step it would take alone;
SAM's gradient norm is taken per member (``SAM(stacked=True)``). Batch norm keeps per-member
running statistics (the stacked buffers are updated in place, member by member).

Each member keeps its own data order and augmentation (a generator seeded by its
``(data_seed, epoch)``, exactly as :func:`ddlib.training.classifier.train_epochs`), and its own
resume points, checkpoints, metrics and final weights in its own run folder, in the format of a
run trained alone: stacking is an execution detail, and a run may resume stacked or alone.

Models with random layers (dropout) are not stacked: their per-epoch reseeding of the global RNG
cannot be reproduced member by member under ``vmap``. LC-logged runs (``kind="lc_training"``)
have their own stacked loop, :mod:`ddlib.training.lc_stacked`, built on :class:`StackedModels`.

Measured on the 2-core CPU (``benchmarks/bench_stacked.py``): stacked steps are *slower* than one
model after another there (vmap turns convolutions into grouped convolutions, which the CPU
kernels run less efficiently than the channels-last convolution of one model), so the ``"auto"``
policy stacks on CUDA only, where small models are bound by kernel launches.
"""

from __future__ import annotations

import copy
import itertools
import time
from collections.abc import Mapping, Sequence
from typing import Any

import torch
from torch import nn
from torch.func import functional_call, stack_module_state, vmap

from ddlib.core.progress import progress as progress_bar
from ddlib.core.store import Run, config_hash
from ddlib.training.classifier import (
    LoopSettings,
    augment_crop_flip,
    evaluation_row,
    learning_rate,
    make_optimizer,
    teacher_logits,
)
from ddlib.training.evaluation import loss_value
from ddlib.training.precision import training_precision
from ddlib.training.run_inputs import seeded_model, training_data

STACK_POLICIES = ("auto", "always", "never")
MEMBER_KEYS = ("seed", "data_seed")  # what may differ between the members of a stack
LC_DATA_MEMBER_KEYS = ("train_size", "label_noise", "noise_seed")  # ... of an LC stack, in "data"
SHARED_OPTIMIZER_STATE = ("step",)  # optimiser state entries equal for every member (Adam's count)


def check_stack_policy(stack: str) -> None:
    """Fail clearly on an unknown stacking policy."""
    if stack not in STACK_POLICIES:
        raise ValueError(f"stack={stack!r} is unknown; allowed: {list(STACK_POLICIES)}")


def stacks_on(stack: str, device: torch.device) -> bool:
    """Whether ``stack`` trains shape groups together on ``device`` ("auto": on CUDA only)."""
    check_stack_policy(stack)
    return stack == "always" or (stack == "auto" and device.type == "cuda")


def stack_key(config: Mapping[str, Any]) -> str | None:
    """The shape group of a config, or None when it cannot be stacked (a model with random
    layers). Classifier runs stack when equal but for seed and data seed; LC runs
    (``kind="lc_training"``) may also differ in their training set (size, label noise), as long as
    their minibatches are equally large (``min(batch_size, train_size)``)."""
    if has_random_layers(config["model"]):
        return None
    shared = {k: v for k, v in config.items() if k not in MEMBER_KEYS}
    if config.get("kind", "classifier") == "lc_training":
        data = config["data"]
        shared["data"] = {k: v for k, v in data.items() if k not in LC_DATA_MEMBER_KEYS}
        size = data.get("train_size")
        shared["batch_size"] = config["batch_size"] if size is None else min(config["batch_size"], size)
        if size is None:
            shared["data"]["train_size"] = None  # the whole split: every member's is the same
    return config_hash(shared)


def has_random_layers(model_spec: Mapping[str, Any]) -> bool:
    """True when the model's forward in training mode draws random numbers (dropout)."""
    model = seeded_model({"model": model_spec, "seed": 0})
    for module in model.modules():
        if isinstance(module, nn.modules.dropout._DropoutNd) and module.p > 0:
            return True
        rate = getattr(module, "dropout", None)
        if isinstance(rate, float) and rate > 0:
            return True
    return False


def shape_groups(configs: Sequence[Mapping[str, Any]]) -> list[list[int]]:
    """Indices of ``configs`` grouped by :func:`stack_key` (first-seen order; unstackable
    configs form groups of one)."""
    groups: dict[Any, list[int]] = {}
    for index, config in enumerate(configs):
        key = stack_key(config)
        groups.setdefault(key if key is not None else ("alone", index), []).append(index)
    return list(groups.values())


# --- per-member state <-> stacked state ---------------------------------------------------------
def member_state(stacked: Mapping[str, torch.Tensor], member: int,
                 names: Sequence[str]) -> dict[str, torch.Tensor]:
    """Member ``member``'s model state (CPU copies, keys in ``names`` order)."""
    return {name: stacked[name][member].detach().cpu().clone() for name in names}


def member_optimizer_state(state: Mapping[str, Any], member: int) -> dict[str, Any]:
    """Member ``member``'s slice of a stacked optimiser's ``state_dict()``: the per-parameter
    tensors lose their leading member dimension; Adam's step count is shared."""
    def part(key: str, value: Any) -> Any:
        if torch.is_tensor(value):
            return (value if key in SHARED_OPTIMIZER_STATE else value[member]).detach().cpu().clone()
        return copy.deepcopy(value)

    return {"state": {index: {key: part(key, value) for key, value in entry.items()}
                      for index, entry in state["state"].items()},
            "param_groups": copy.deepcopy(state["param_groups"])}


def stacked_optimizer_state(states: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The inverse of :func:`member_optimizer_state` over every member, in member order."""
    def joined(index: int, key: str) -> Any:
        values = [s["state"][index][key] for s in states]
        if torch.is_tensor(values[0]) and key not in SHARED_OPTIMIZER_STATE:
            return torch.stack(values)
        return values[0]

    first = states[0]
    return {"state": {index: {key: joined(index, key) for key in entry}
                      for index, entry in first["state"].items()},
            "param_groups": copy.deepcopy(first["param_groups"])}


def _functional_base(model: nn.Module) -> nn.Module:
    """A parameter-free copy of ``model`` for ``functional_call`` under ``vmap`` (memory-format
    changes are not allowed inside vmap, so channels-last inputs are switched off)."""
    base = copy.deepcopy(model).to("meta")
    for module in base.modules():
        if hasattr(module, "channels_last"):
            module.channels_last = False
    return base


class StackedModels:
    """Stacked parameters and buffers of same-shape models, and their ensemble forward."""

    def __init__(self, models: Sequence[nn.Module]):
        for model in models:
            model.train()
        self.names = list(models[0].state_dict())
        self.base = _functional_base(models[0])
        params, self.buffers = stack_module_state(list(models))
        self.params = {k: v.detach().clone().requires_grad_(True) for k, v in params.items()}

    def __call__(self, images: torch.Tensor) -> torch.Tensor:
        """Logits of every member on its own batch: images (M, B, ...) -> (M, B, classes)."""
        def one(params: dict, buffers: dict, x: torch.Tensor) -> torch.Tensor:
            return functional_call(self.base, (params, buffers), (x,))

        return vmap(one)(self.params, self.buffers, images)

    def state(self) -> dict[str, torch.Tensor]:
        """Every stacked tensor by state-dict name."""
        return {**self.params, **self.buffers}

    def load_members(self, states: Sequence[Mapping[str, torch.Tensor]]) -> None:
        """Overwrite the stacked tensors with the members' model states (a resume point)."""
        with torch.no_grad():
            for name, tensor in self.state().items():
                tensor.copy_(torch.stack([s[name] for s in states]).to(tensor.device))


# --- the loop ------------------------------------------------------------------------------------
def train_stacked(runs: Sequence[Run], device: torch.device,
                  teachers: Sequence[nn.Module | None], progress: bool,
                  resume_every_seconds: float) -> None:
    """Train the runs of one shape group together (those at the same resume epoch stack) and
    finish each, as :func:`ddlib.training.classifier.train_epochs` would one at a time."""
    for chosen, resumes in by_resume_point(runs):
        _train_group([runs[i] for i in chosen], resumes, [teachers[i] for i in chosen], device,
                     progress, resume_every_seconds)


def by_resume_point(runs: Sequence[Run]) -> list[tuple[list[int], list[tuple | None]]]:
    """The runs grouped by the epoch or step they resume from, as (indices into ``runs``, their
    resume points): only runs at the same point can step together, and fresh runs (no resume
    point) form a group of their own, apart from runs resuming from step 0."""
    resumes = [run.resume_point() for run in runs]
    start = [-1 if r is None else r[0] for r in resumes]
    groups = itertools.groupby(sorted(range(len(runs)), key=start.__getitem__),
                               key=start.__getitem__)
    return [(chosen, [resumes[i] for i in chosen]) for chosen in (list(g) for _, g in groups)]


def _train_group(runs: Sequence[Run], resumes: Sequence[tuple | None],
                 teachers: Sequence[nn.Module | None], device: torch.device, progress: bool,
                 resume_every_seconds: float) -> None:
    configs = [run.config for run in runs]
    config = configs[0]
    data = training_data(config)
    models = [seeded_model(c).to(device) for c in configs]
    stacked = StackedModels(models)
    optimizer = make_optimizer(config["optimizer"], list(stacked.params.values()), stacked=True)
    start_epoch, metrics = 0, [[] for _ in runs]
    if resumes[0] is not None:
        start_epoch = resumes[0][0]
        stacked.load_members([r[1]["model"] for r in resumes])
        optimizer.load_state_dict(stacked_optimizer_state([r[1]["optimizer"] for r in resumes]))
        metrics = [list(r[2]) for r in resumes]

    x_train, y_train = data.x_train.to(device), data.y_train.to(device)
    epochs, batch_size, steps_per_epoch, keep, evaluate_at, loss_kind, is_sam, augment = \
        LoopSettings.of(config, len(x_train))
    last_save, started = time.monotonic(), time.monotonic()
    label = f"{config['model']['name']} x{len(runs)} stacked"

    def total_loss(images: torch.Tensor, labels: torch.Tensor,
                   targets: list[torch.Tensor | None]) -> torch.Tensor:
        with training_precision(device):
            logits = stacked(images)
            return sum(loss_value(loss_kind, logits[m], labels[m], targets[m])
                       for m in range(len(runs)))

    for epoch in progress_bar(range(start_epoch + 1, epochs + 1), label, enabled=progress):
        generators = [torch.Generator().manual_seed(c.get("data_seed", 0) * 1_000_003 + epoch)
                      for c in configs]
        orders = [torch.randperm(len(x_train), generator=g).to(device) for g in generators]
        for step in range(steps_per_epoch):
            indices = [order[step * batch_size:(step + 1) * batch_size] for order in orders]
            batches = [augment_crop_flip(x_train[i], g) if augment else x_train[i]
                       for i, g in zip(indices, generators)]
            targets = [teacher_logits(t, b) for t, b in zip(teachers, batches)]
            images, labels = torch.stack(batches), torch.stack([y_train[i] for i in indices])
            rate = learning_rate(config["optimizer"], epoch - 1 + step / steps_per_epoch, epochs)
            for group in optimizer.param_groups:
                group["lr"] = rate
            loss = total_loss(images, labels, targets)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if is_sam:
                optimizer.first_step(zero_grad=True)
                total_loss(images, labels, targets).backward()
                optimizer.second_step(zero_grad=True)
            else:
                optimizer.step()
        due = time.monotonic() - last_save > resume_every_seconds
        saving = epoch in keep or (due and epoch < epochs)
        if epoch in evaluate_at or saving or epoch == epochs:
            states = [member_state(stacked.state(), m, stacked.names) for m in range(len(runs))]
        if epoch in evaluate_at:
            for m, model in enumerate(models):
                model.load_state_dict(states[m])
                metrics[m].append(evaluation_row(model, data, epoch, time.monotonic() - started))
        if saving:
            optimizer_state = optimizer.state_dict()
            for m, run in enumerate(runs):
                state = {"model": states[m],
                         "optimizer": member_optimizer_state(optimizer_state, m)}
                run.save_checkpoint(epoch, state, metrics[m], keep=epoch in keep)
            last_save = time.monotonic()
    for m, run in enumerate(runs):
        run.finish(metrics[m], summary=metrics[m][-1], state={"model": states[m]})
