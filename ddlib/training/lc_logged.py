"""The step-based loop of ``kind="lc_training"`` runs: local complexity logged along training
(Humayun et al. 2024, Sec. 3; see ``docs/papers.md`` §3).

One config trains one model for a number of optimiser steps (AdamW, MSE on one-hot targets by
default) and, at every step of a log-spaced grid, records train/test loss and accuracy and the
local complexity (:func:`ddlib.metrics.local_complexity.local_complexity`) at training, test and
random points for several radii. Minibatch order comes from a dedicated ``torch.Generator`` whose
state is saved with the model and optimiser, so a resumed run equals the uninterrupted one (on CPU).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import torch
from torch import nn

from ddlib.core.data import ClassificationData
from ddlib.core.progress import progress as progress_bar
from ddlib.core.store import Run
from ddlib.metrics.local_complexity import local_complexity, modules_named, orthonormal_frame
from ddlib.models.layers import DTYPES
from ddlib.training.evaluation import evaluate, loss_value
from ddlib.training.precision import training_precision
from ddlib.training.run_inputs import seeded_model, training_data

EVALUATION_BATCH = 2000  # images per evaluation batch of LC runs


def lc_points(data: ClassificationData, lc: Mapping[str, Any]) -> dict[str, torch.Tensor]:
    """Training, test and random points of the LC curves (random: uniform in the data domain)."""
    points = {}
    for role, count in lc["points"].items():
        if role == "train":
            points[role] = data.x_train[:count]
        elif role == "test":
            points[role] = data.x_test[:count]
        else:
            low, high = data.domain
            generator = torch.Generator().manual_seed(lc["random_seed"])
            uniform = torch.rand(count, *low.shape, generator=generator)
            points[role] = low + uniform * (high - low)
    return points


def lc_layers(model: nn.Module, rule: str) -> tuple[list[nn.Module] | None, bool]:
    """(layers, layer_outputs) arguments of ``local_complexity`` for a layer rule."""
    if rule == "resnet_norms":
        return modules_named(model, ("norm1", "norm2", "final_norm")), True
    return None, False


def measure(
    model: nn.Module,
    data: ClassificationData,
    points: Mapping[str, torch.Tensor],
    config: Mapping[str, Any],
) -> dict[str, float]:
    """One log row: loss/accuracy on train and test, mean LC per role and radius, and per layer."""
    row: dict[str, float] = {}
    for split, x, y in (("train", data.x_train, data.y_train), ("test", data.x_test, data.y_test)):
        scores = evaluate(model, x, y, config["loss"], batch_size=EVALUATION_BATCH)
        row[f"{split}_loss"], row[f"{split}_accuracy"] = scores["loss"], scores["accuracy"]
    lc = config["lc"]
    layers, layer_outputs = lc_layers(model, lc["layers"])
    frame = orthonormal_frame(
        points["train" if "train" in points else next(iter(points))][0].numel(),
        lc["num_directions"],
        lc["frame_seed"],
        dtype=next(model.parameters()).dtype,
    )
    for role, x in points.items():
        for radius_name, radius in lc["radii"].items():
            result = local_complexity(
                model,
                x,
                radius,
                directions=frame,
                layers=layers,
                layer_outputs=layer_outputs,
                include_output=lc["include_output"],
            )
            key = f"lc_{role}_{radius_name}"
            row[key] = result.mean()
            for index, value in enumerate(result.layer_means().values()):
                row[f"{key}_layer{index}"] = value
    return row


def lc_optimizer(config: Mapping[str, Any], parameters: Iterable[torch.Tensor]) -> torch.optim.AdamW:
    """The AdamW of an LC run (Humayun et al.: lr 1e-3, weight decay 0.01 by default)."""
    return torch.optim.AdamW(
        parameters,
        lr=config["optimizer"]["lr"],
        weight_decay=config["optimizer"]["weight_decay"],
        fused=True,  # one kernel for all parameters: 0.5 ms instead of 1.2 ms a step (03's MLP, CPU)
    )


class BatchOrder:
    """Minibatches of a training set from a dedicated generator: one permutation per epoch.

    Its whole state (generator, permutation, position) is saved in checkpoints, so the order
    continues identically after a resume.
    """

    def __init__(self, size: int, batch_size: int, seed: int):
        self.size, self.batch_size = size, min(batch_size, size)
        self.generator = torch.Generator().manual_seed(seed)
        self.permutation = torch.randperm(size, generator=self.generator)
        self.position = 0

    def next(self) -> torch.Tensor:
        if self.position + self.batch_size > self.size:
            self.permutation = torch.randperm(self.size, generator=self.generator)
            self.position = 0
        batch = self.permutation[self.position : self.position + self.batch_size]
        self.position += self.batch_size
        return batch

    def state(self) -> dict[str, Any]:
        return {
            "generator": self.generator.get_state(),
            "permutation": self.permutation,
            "position": self.position,
        }

    def load(self, state: Mapping[str, Any]) -> None:
        self.generator.set_state(state["generator"])
        self.permutation = state["permutation"]
        self.position = int(state["position"])


def train_steps(
    run: Run,
    device: torch.device,
    progress: bool,
    allow_download: bool,
    on_log: Callable[[int, dict], None] | None,
    resume_every_seconds: float,
) -> None:
    """Train ``run`` (resuming from its resume point) to ``config["steps"]`` and finish it.

    Metrics rows (one per log step): ``step``, ``train_loss``, ``train_accuracy``, ``test_loss``,
    ``test_accuracy``, ``lc_<role>_<radius name>`` and ``..._layer<i>``, ``seconds`` (training
    time so far). ``on_log(step, row)`` is called after each row is stored. A resume point is
    saved at every log step, at every kept step and at least every ``resume_every_seconds``.
    """
    config = run.config
    data = training_data(config, allow_download)
    dtype = DTYPES[config["model"].get("dtype", "float32")]
    points = lc_points(data, config["lc"])
    x_train = data.x_train.to(device=device, dtype=dtype)
    y_train = data.y_train.to(device)
    model = seeded_model(config).to(device)
    optimizer = lc_optimizer(config, model.parameters())
    order = BatchOrder(len(x_train), config["batch_size"], config["data_seed"])
    log_steps, keep_steps = set(config["log_steps"]), set(config["checkpoint_steps"])

    def state() -> dict[str, Any]:
        return {
            "model": model.state_dict(),
            "optimizer": optimizer.state_dict(),
            "order": order.state(),
            "seconds": seconds,
        }

    resumed = run.resume_point()
    if resumed is None:
        step, metrics, seconds = 0, [], 0.0
    else:
        step, saved, metrics = resumed
        model.load_state_dict(saved["model"])
        optimizer.load_state_dict(saved["optimizer"])
        order.load(saved["order"])
        seconds = float(saved["seconds"])

    last_save = time.monotonic()

    def log_and_save(step: int) -> None:
        nonlocal last_save
        if step in log_steps:
            row = {"step": step, **measure(model, data, points, config), "seconds": seconds}
            metrics.append(row)
        due = time.monotonic() - last_save > resume_every_seconds and step < config["steps"]
        if step in log_steps or step in keep_steps or due:
            run.save_checkpoint(step, state(), metrics, keep=step in keep_steps)
            last_save = time.monotonic()
        if step in log_steps and on_log is not None:
            on_log(step, metrics[-1])

    if resumed is None:
        log_and_save(0)
    model.train()
    bar = progress_bar(
        range(step, config["steps"]),
        f"train {run.id[:8]}",
        total=config["steps"] - step,
        enabled=progress,
    )
    for step in bar:
        start = time.perf_counter()
        batch = order.next().to(device)
        with training_precision(device):
            loss = loss_value(config["loss"], model(x_train[batch]), y_train[batch])
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        seconds += time.perf_counter() - start
        log_and_save(step + 1)
    run.finish(metrics, lc_summary(config, metrics, seconds), {"model": model.state_dict()})


def lc_summary(config: Mapping[str, Any], metrics: list[dict], seconds: float) -> dict[str, Any]:
    """The summary of a finished LC run: steps, training seconds, final accuracies."""
    final = metrics[-1] if metrics else {}
    accuracies = {k: final[k] for k in ("train_accuracy", "test_accuracy") if k in final}
    return {"steps": config["steps"], "seconds": seconds, **accuracies}


