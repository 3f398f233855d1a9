"""The epoch-based loop of ``kind="classifier"`` runs (Gamba et al., Somepalli et al.).

Every epoch's data order and augmentation come from a generator seeded by ``(data_seed, epoch)``
and every epoch re-seeds the model's own randomness (dropout), so a run resumed from its last
resume point equals the uninterrupted one (on CPU). Soft distillation (``loss="distill_mse"``)
regresses the teacher's logits on the very batch the student sees, after augmentation.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import astuple, dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from ddlib.core.data import ClassificationData
from ddlib.core.progress import progress as progress_bar
from ddlib.core.store import Run
from ddlib.training.evaluation import evaluate, loss_value, predict_logits
from ddlib.training.precision import training_precision
from ddlib.training.run_inputs import seeded_model, training_data


def learning_rate(optimizer: Mapping[str, Any], epoch_progress: float, epochs: int) -> float:
    """Learning rate at fractional epoch ``epoch_progress`` (0-based).

    Linear warm-up from ``warmup_start_lr`` to ``lr`` over ``warmup_epochs`` (Gamba et al.), then
    constant, or divided by 10 at 3/8, 5/8 and 7/8 of training (``multistep``, Somepalli et al.).
    """
    lr = optimizer["lr"]
    warmup = optimizer.get("warmup_epochs", 0)
    if epoch_progress < warmup:
        start = optimizer.get("warmup_start_lr", lr)
        return start + (lr - start) * epoch_progress / warmup
    if optimizer.get("schedule", "constant") == "multistep":
        return lr * 0.1 ** sum(epoch_progress >= epochs * f for f in (3 / 8, 5 / 8, 7 / 8))
    return lr


def make_optimizer(spec: Mapping[str, Any], parameters, stacked: bool = False
                   ) -> torch.optim.Optimizer:
    """SGD (with momentum), Adam, AdamW or SAM over an SGD / Adam base, from a config's spec.

    ``stacked``: the parameters are a stacked ensemble's (only SAM's norm depends on it; the other
    updates act element by element, so one optimiser serves every member exactly)."""
    kwargs = {"lr": spec["lr"], "weight_decay": spec.get("weight_decay", 0.0)}
    name = spec["name"]
    if name == "sgd":
        return torch.optim.SGD(parameters, momentum=spec.get("momentum", 0.0), **kwargs)
    if name == "adam":
        return torch.optim.Adam(parameters, **kwargs)
    if name == "adamw":
        return torch.optim.AdamW(parameters, **kwargs)
    from ddlib.training.sam import SAM

    base = spec.get("base", "sgd")
    extra = {"momentum": spec.get("momentum", 0.0)} if base == "sgd" else {}
    return SAM(parameters, base=base, rho=spec.get("rho", 0.05), stacked=stacked, **kwargs, **extra)


def augment_crop_flip(images: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Random crop (4-pixel zero padding) and horizontal flip, per image, from ``generator``."""
    n, _, height, width = images.shape
    padded = F.pad(images, (4, 4, 4, 4))
    dy = torch.randint(0, 9, (n,), generator=generator)
    dx = torch.randint(0, 9, (n,), generator=generator)
    rows = (dy[:, None] + torch.arange(height)[None]).to(images.device)
    cols = (dx[:, None] + torch.arange(width)[None]).to(images.device)
    batch = torch.arange(n, device=images.device)[:, None, None, None]
    channel = torch.arange(images.shape[1], device=images.device)[None, :, None, None]
    cropped = padded[batch, channel, rows[:, None, :, None], cols[:, None, None, :]]
    flip = (torch.rand(n, generator=generator) < 0.5).to(images.device)
    return torch.where(flip[:, None, None, None], cropped.flip(-1), cropped)


def teacher_logits(teacher: nn.Module | None, images: torch.Tensor) -> torch.Tensor | None:
    """Soft targets: the teacher's logits (eval mode, detached) on the batch the student sees."""
    if teacher is None:
        return None
    with torch.no_grad():
        return teacher.eval()(images)


def cpu_state(model: nn.Module) -> dict[str, torch.Tensor]:
    """A detached CPU copy of the model's state (what checkpoints store)."""
    return {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}


def evaluation_row(model: nn.Module, data: ClassificationData, epoch: int,
                   seconds: float) -> dict[str, float]:
    """One metrics row: cross-entropy and error on the training labels (noisy where label noise
    was added), error on the clean labels, and test cross-entropy and error."""
    logits = predict_logits(model, data.x_train)
    test = evaluate(model, data.x_test, data.y_test)
    return {
        "epoch": epoch,
        "train_loss": F.cross_entropy(logits, data.y_train).item(),
        "train_error": (logits.argmax(1) != data.y_train).float().mean().item(),
        "train_error_clean": (logits.argmax(1) != data.y_train_clean).float().mean().item(),
        "test_loss": test["loss"],
        "test_error": test["error"],
        "seconds": seconds,
    }


@dataclass(frozen=True)
class LoopSettings:
    """What the epoch loop reads from a classifier config (shared by one-at-a-time and stacked
    training, so that both step through the same schedule)."""

    epochs: int
    batch_size: int
    steps_per_epoch: int
    keep: frozenset[int]         # epochs whose checkpoint is kept
    evaluate_at: frozenset[int]  # epochs with an evaluation row (the last one always)
    loss_kind: str
    is_sam: bool
    augment: bool                # random crop + flip

    @classmethod
    def of(cls, config: Mapping[str, Any], train_size: int) -> LoopSettings:
        epochs, batch_size = config["epochs"], config["batch_size"]
        return cls(epochs, batch_size, -(-train_size // batch_size),
                   frozenset(config.get("checkpoint_epochs", [])),
                   frozenset([*config.get("eval_epochs", []), epochs]),
                   config.get("loss", "ce"), config["optimizer"]["name"] == "sam",
                   config.get("augment", "none") == "crop_flip")

    def __iter__(self):
        return iter(astuple(self))


def train_epochs(run: Run, device: torch.device, teacher: nn.Module | None, progress: bool,
                 resume_every_seconds: float) -> None:
    """Train ``run`` (resuming from its resume point) to ``config["epochs"]`` and finish it."""
    config = run.config
    data = training_data(config)
    model = seeded_model(config).to(device)
    optimizer = make_optimizer(config["optimizer"], model.parameters())
    start_epoch, metrics = 0, []
    resume = run.resume_point()
    if resume is not None:
        start_epoch, state, metrics = resume
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])

    x_train, y_train = data.x_train.to(device), data.y_train.to(device)
    epochs, batch_size, steps_per_epoch, keep, evaluate_at, loss_kind, is_sam, augment = \
        LoopSettings.of(config, len(x_train))
    last_save, started = time.monotonic(), time.monotonic()
    label = f"{config['model']['name']} {run.id[:6]}"
    for epoch in progress_bar(range(start_epoch + 1, epochs + 1), label, enabled=progress):
        torch.manual_seed(config["seed"] * 1_000_003 + epoch)
        generator = torch.Generator().manual_seed(config.get("data_seed", 0) * 1_000_003 + epoch)
        order = torch.randperm(len(x_train), generator=generator).to(device)
        model.train()
        for step in range(steps_per_epoch):
            index = order[step * batch_size:(step + 1) * batch_size]
            images = augment_crop_flip(x_train[index], generator) if augment else x_train[index]
            targets = teacher_logits(teacher, images)
            rate = learning_rate(config["optimizer"], epoch - 1 + step / steps_per_epoch, epochs)
            for group in optimizer.param_groups:
                group["lr"] = rate
            with training_precision(device):
                loss = loss_value(loss_kind, model(images), y_train[index], targets)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if is_sam:
                optimizer.first_step(zero_grad=True)
                with training_precision(device):
                    loss = loss_value(loss_kind, model(images), y_train[index], targets)
                loss.backward()
                optimizer.second_step(zero_grad=True)
            else:
                optimizer.step()
        if epoch in evaluate_at:
            metrics.append(evaluation_row(model, data, epoch, time.monotonic() - started))
        due = time.monotonic() - last_save > resume_every_seconds
        if epoch in keep or (due and epoch < epochs):
            state = {"model": cpu_state(model), "optimizer": optimizer.state_dict()}
            run.save_checkpoint(epoch, state, metrics, keep=epoch in keep)
            last_save = time.monotonic()
    run.finish(metrics, summary=metrics[-1], state={"model": cpu_state(model)})
