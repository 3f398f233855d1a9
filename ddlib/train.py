"""Compact classifier training through the run store: one config in, one finished run out.

A config (see :data:`EXAMPLE_CONFIG`) fixes model, data, optimiser, loss, epochs and seeds; its hash
names the run. Training resumes from the last resume point, and because every epoch's data order
and augmentation come from a generator seeded by ``(data_seed, epoch)`` and every epoch re-seeds
the model's own randomness, a resumed run equals the uninterrupted one (on CPU).
"""

from __future__ import annotations

import copy
import time
from collections.abc import Mapping, Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from ddlib.data import CLASSIFICATION_DATASETS, ClassificationData, load_data
from ddlib.device import pick_device
from ddlib.models import REGISTRY as MODEL_REGISTRY
from ddlib.models import build_model
from ddlib.progress import progress as progress_bar
from ddlib.store import Run, RunStore

OPTIMIZERS = ("sgd", "adam", "adamw", "sam")
LOSSES = ("ce", "mse_onehot", "distill_mse")
AUGMENTATIONS = ("none", "crop_flip")
SCHEDULES = ("constant", "multistep")

EXAMPLE_CONFIG: dict[str, Any] = {
    "kind": "classifier",
    "model": {"name": "convnet", "width": 4, "in_channels": 1, "num_classes": 10},
    "data": {"name": "mnist5k", "train_size": 1000, "label_noise": 0.2, "pad_to": 32},
    "optimizer": {"name": "sgd", "lr": 0.005, "momentum": 0.9, "weight_decay": 0.0,
                  "warmup_epochs": 5, "warmup_start_lr": 0.001, "schedule": "constant"},
    "loss": "ce",            # "ce" | "mse_onehot" | "distill_mse" (needs "teacher": <config>)
    "epochs": 200,           # passes over the training set
    "batch_size": 128,       # images per step
    "seed": 0,               # model initialisation (and dropout)
    "data_seed": 0,          # minibatch order and augmentation
    "augment": "none",       # "none" | "crop_flip" (random crop with 4-pixel padding + flip)
    "checkpoint_epochs": [],  # epochs whose weights are kept (epoch-wise figures)
    "eval_epochs": [200],     # epochs at which train/test loss and error are logged
}


def validate_config(config: Mapping[str, Any]) -> None:
    """Fail before any compute when a training config is malformed."""
    missing = [k for k in ("model", "data", "optimizer", "epochs", "batch_size", "seed")
               if k not in config]
    if missing:
        raise ValueError(f"training config lacks {missing}; see ddlib.train.EXAMPLE_CONFIG")
    epochs = config["epochs"]
    if not isinstance(epochs, int) or epochs < 1:
        raise ValueError(f"epochs={epochs!r} must be a positive integer")
    if not isinstance(config["batch_size"], int) or config["batch_size"] < 1:
        raise ValueError(f"batch_size={config['batch_size']!r} must be a positive integer")
    optimizer = config["optimizer"]
    if optimizer.get("name") not in OPTIMIZERS:
        raise ValueError(f"optimizer name={optimizer.get('name')!r} is unknown; allowed: {OPTIMIZERS}")
    if not optimizer.get("lr", 0) > 0:
        raise ValueError(f"optimizer lr={optimizer.get('lr')!r} must be positive")
    if optimizer.get("schedule", "constant") not in SCHEDULES:
        raise ValueError(f"optimizer schedule={optimizer.get('schedule')!r}; allowed: {SCHEDULES}")
    if config.get("loss", "ce") not in LOSSES:
        raise ValueError(f"loss={config.get('loss')!r} is unknown; allowed: {LOSSES}")
    if config.get("loss") == "distill_mse" and "teacher" not in config:
        raise ValueError("loss='distill_mse' needs a 'teacher' config")
    if config.get("augment", "none") not in AUGMENTATIONS:
        raise ValueError(f"augment={config.get('augment')!r} is unknown; allowed: {AUGMENTATIONS}")
    if config["model"].get("name") not in MODEL_REGISTRY:
        raise ValueError(f"model name={config['model'].get('name')!r} is unknown; "
                         f"allowed: {sorted(MODEL_REGISTRY)}")
    dataset = config["data"].get("name", "")
    if dataset not in CLASSIFICATION_DATASETS and not dataset.startswith("imagefolder:"):
        raise ValueError(f"data name={dataset!r} is unknown; allowed: {list(CLASSIFICATION_DATASETS)}")
    if "teacher" in config:
        validate_config(config["teacher"])
    for key in ("checkpoint_epochs", "eval_epochs"):
        bad = [e for e in config.get(key, []) if not 1 <= e <= epochs]
        if bad:
            raise ValueError(f"{key} {bad} must lie in 1..epochs={epochs}")


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


def make_optimizer(spec: Mapping[str, Any], parameters) -> torch.optim.Optimizer:
    kwargs = {"lr": spec["lr"], "weight_decay": spec.get("weight_decay", 0.0)}
    name = spec["name"]
    if name == "sgd":
        return torch.optim.SGD(parameters, momentum=spec.get("momentum", 0.0), **kwargs)
    if name == "adam":
        return torch.optim.Adam(parameters, **kwargs)
    if name == "adamw":
        return torch.optim.AdamW(parameters, **kwargs)
    from ddlib.sam import SAM

    base = spec.get("base", "sgd")
    extra = {"momentum": spec.get("momentum", 0.0)} if base == "sgd" else {}
    return SAM(parameters, base=base, rho=spec.get("rho", 0.05), **kwargs, **extra)


def _teacher_logits(teacher: nn.Module | None, images: torch.Tensor) -> torch.Tensor | None:
    """Soft targets of knowledge distillation: the teacher's logits on the very batch the student
    sees (after augmentation), teacher in eval mode and detached."""
    if teacher is None:
        return None
    with torch.no_grad():
        return teacher.eval()(images)


def _loss(kind: str, logits: torch.Tensor, labels: torch.Tensor,
          teacher_logits: torch.Tensor | None) -> torch.Tensor:
    if kind == "ce":
        return F.cross_entropy(logits, labels)
    if kind == "mse_onehot":
        return F.mse_loss(logits, F.one_hot(labels, logits.shape[1]).to(logits.dtype))
    return F.mse_loss(logits, teacher_logits)


def _augment(images: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
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


@torch.no_grad()
def predict_logits(model: nn.Module, x: torch.Tensor, batch_size: int = 1024) -> torch.Tensor:
    """Logits of ``model`` (in eval mode) for ``x``, computed in batches on the model's device."""
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    out = torch.cat([model(x[i:i + batch_size].to(device)).float().cpu()
                     for i in range(0, len(x), batch_size)])
    model.train(was_training)
    return out


def evaluate(model: nn.Module, x: torch.Tensor, y: torch.Tensor,
             batch_size: int = 1024) -> dict[str, float]:
    """Mean cross-entropy and error rate of ``model`` on ``(x, y)``."""
    logits = predict_logits(model, x, batch_size)
    return {"loss": F.cross_entropy(logits, y).item(),
            "error": (logits.argmax(1) != y).float().mean().item()}


def _seeded_model(config: Mapping[str, Any], device: torch.device) -> nn.Module:
    torch.manual_seed(config["seed"])
    return build_model(config["model"]).to(device)


def load_model(run: Run, epoch: int | None = None, device: str | torch.device = "cpu") -> nn.Module:
    """The model of a finished run with its final weights (or those of a kept ``epoch``), in eval mode."""
    model = build_model(run.config["model"])
    model.load_state_dict(run.load_checkpoint(epoch))
    return model.to(pick_device(device)).eval()


def train_classifier(config: Mapping[str, Any], store: RunStore | None = None,
                     device: str | torch.device = "auto", progress: bool = True,
                     resume_every_seconds: float = 60.0) -> Run:
    """Train (or load, or resume) the run of ``config``; returns the finished :class:`Run`."""
    validate_config(config)
    store = store or RunStore()
    run = store.run(config)
    with run.lock():
        if run.is_trained():
            return run
        teacher = None
        if config.get("loss") == "distill_mse":
            teacher_run = train_classifier(config["teacher"], store, device, progress)
            teacher = load_model(teacher_run, device=pick_device(device))
        devices = [torch.cuda.current_device()] if torch.cuda.is_available() else []
        with torch.random.fork_rng(devices=devices):
            _train(run, pick_device(device), teacher, progress, resume_every_seconds)
    return run


def _train(run: Run, device: torch.device, teacher: nn.Module | None, progress: bool,
           resume_every_seconds: float) -> None:
    config = run.config
    data = load_data(config["data"])
    model = _seeded_model(config, device)
    optimizer = make_optimizer(config["optimizer"], model.parameters())
    start_epoch, metrics = 0, []
    resume = run.resume_point()
    if resume is not None:
        start_epoch, state, metrics = resume
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])

    x_train, y_train = data.x_train.to(device), data.y_train.to(device)
    epochs, batch_size = config["epochs"], config["batch_size"]
    steps_per_epoch = -(-len(x_train) // batch_size)
    keep, evaluate_at = set(config.get("checkpoint_epochs", [])), set(config.get("eval_epochs", []))
    evaluate_at.add(epochs)
    loss_kind, is_sam = config.get("loss", "ce"), config["optimizer"]["name"] == "sam"
    last_save, started = time.monotonic(), time.monotonic()
    label = f"{config['model']['name']} {run.id[:6]}"
    for epoch in progress_bar(range(start_epoch + 1, epochs + 1), label, enabled=progress):
        torch.manual_seed(config["seed"] * 1_000_003 + epoch)
        generator = torch.Generator().manual_seed(config.get("data_seed", 0) * 1_000_003 + epoch)
        order = torch.randperm(len(x_train), generator=generator).to(device)
        model.train()
        for step in range(steps_per_epoch):
            index = order[step * batch_size:(step + 1) * batch_size]
            images = x_train[index]
            if config.get("augment", "none") == "crop_flip":
                images = _augment(images, generator)
            targets = _teacher_logits(teacher, images)
            rate = learning_rate(config["optimizer"], epoch - 1 + step / steps_per_epoch, epochs)
            for group in optimizer.param_groups:
                group["lr"] = rate
            loss = _loss(loss_kind, model(images), y_train[index], targets)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if is_sam:
                optimizer.first_step(zero_grad=True)
                _loss(loss_kind, model(images), y_train[index], targets).backward()
                optimizer.second_step(zero_grad=True)
            else:
                optimizer.step()
        if epoch in evaluate_at:
            metrics.append(_evaluation_row(model, data, epoch, time.monotonic() - started))
        due = time.monotonic() - last_save > resume_every_seconds
        if epoch in keep or (due and epoch < epochs):
            state = {"model": _cpu_state(model), "optimizer": optimizer.state_dict()}
            run.save_checkpoint(epoch, state, metrics, keep=epoch in keep)
            last_save = time.monotonic()
    run.finish(metrics, summary=metrics[-1], state={"model": _cpu_state(model)})


def _cpu_state(model: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}


def _evaluation_row(model: nn.Module, data: ClassificationData, epoch: int,
                    seconds: float) -> dict[str, float]:
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


def train_sweep(configs: Sequence[Mapping[str, Any]], store: RunStore | None = None,
                device: str | torch.device = "auto", progress: bool = True) -> list[Run]:
    """Train every config of a sweep in turn (finished runs are loaded, partial ones resumed)."""
    store = store or RunStore()
    for config in configs:
        validate_config(config)
    return [train_classifier(copy.deepcopy(dict(c)), store, device, progress)
            for c in progress_bar(configs, "sweep", enabled=progress, leave=True)]
