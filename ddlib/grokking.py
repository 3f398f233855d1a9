"""Step-based training with local-complexity logging (Humayun et al. 2024, RECIPES section 3).

One config trains one model for a number of optimiser steps (AdamW, MSE on one-hot targets by
default) and, at every step of a log-spaced grid, records train/test loss and accuracy and the
local complexity (``ddlib.complexity``) at training, test and random points for several radii.
Runs live in the run store (``ddlib.store``): a finished run is loaded, an interrupted one resumes
from its last log step. Minibatch order comes from a dedicated ``torch.Generator`` whose state is
saved with the model and optimiser, so a resumed run equals the uninterrupted one (on CPU).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ddlib import data as data_module
from ddlib.complexity import local_complexity, modules_named, orthonormal_frame
from ddlib.data import ClassificationData
from ddlib.device import pick_device
from ddlib.models import build_model
from ddlib.progress import progress as progress_bar
from ddlib.store import Run, RunStore

LOSSES = ("mse_onehot", "ce")
POINT_ROLES = ("train", "test", "random")
LAYER_RULES = ("activations", "resnet_norms")
DTYPES = {"float32": torch.float32, "float64": torch.float64}

EXAMPLE_CONFIG: dict[str, Any] = {
    "kind": "lc_training",
    "model": {
        "name": "mlp",
        "in_features": 784,
        "num_classes": 10,
        "depth": 3,
        "width": 200,
        "activation": "relu",
        "init_scale": 1.0,
        "dtype": "float32",
    },
    "data": {
        "name": "mnist5k",
        "train_size": 1000,
        "split_seed": 0,
        "label_noise": 0.0,
        "noise_seed": 0,
        "normalize": False,
        "flatten": True,
    },
    "optimizer": {"lr": 1e-3, "weight_decay": 0.01},  # AdamW
    "loss": "mse_onehot",
    "steps": 10_000,  # optimiser steps
    "batch_size": 200,  # images per step
    "seed": 0,  # model initialisation
    "data_seed": 0,  # minibatch order
    "log_steps": [0, 10, 100, 1000, 10_000],  # steps at which metrics and LC are logged
    "checkpoint_steps": [],  # steps whose weights are kept (partitions, region counts)
    "lc": {
        "radii": {"fine": 0.005, "coarse": 0.5},  # cross-polytope radii [input units]
        "num_directions": 25,
        "frame_seed": 0,
        "points": {"train": 1000, "test": 1000, "random": 1000},  # points per role
        "random_seed": 0,
        "layers": "activations",
        "include_output": False,
    },
}


def log_spaced_steps(last: int, per_decade: int) -> list[int]:
    """0 and about ``per_decade`` integer steps per decade from 1 to ``last`` (inclusive)."""
    if last < 1 or per_decade < 1:
        raise ValueError(f"last={last} and per_decade={per_decade} must be >= 1")
    count = int(np.ceil(np.log10(last) * per_decade)) + 1
    steps = np.unique(np.round(np.logspace(0, np.log10(last), max(count, 2))).astype(int))
    return [0, *steps.tolist()]


def validate_config(config: Mapping[str, Any]) -> None:
    """Fail before any compute when an LC-training config is malformed."""
    missing = [k for k in EXAMPLE_CONFIG if k not in config]
    if missing:
        raise ValueError(f"config lacks {missing}; see ddlib.grokking.EXAMPLE_CONFIG")
    if config["loss"] not in LOSSES:
        raise ValueError(f"loss={config['loss']!r} is unknown; allowed: {list(LOSSES)}")
    for key in ("steps", "batch_size"):
        if not isinstance(config[key], int) or config[key] < 1:
            raise ValueError(f"{key}={config[key]!r} must be a positive integer")
    for key in ("log_steps", "checkpoint_steps"):
        bad = [s for s in config[key] if not 0 <= s <= config["steps"]]
        if bad:
            raise ValueError(f"{key} has steps {bad} outside 0..steps={config['steps']}")
    lc = config["lc"]
    unknown = [role for role in lc["points"] if role not in POINT_ROLES]
    if unknown:
        raise ValueError(f"lc.points has roles {unknown}; allowed: {list(POINT_ROLES)}")
    if lc["layers"] not in LAYER_RULES:
        raise ValueError(f"lc.layers={lc['layers']!r} is unknown; allowed: {list(LAYER_RULES)}")
    if not lc["radii"] or any(not r > 0 for r in lc["radii"].values()):
        raise ValueError(f"lc.radii={lc['radii']!r} must map names to positive radii")
    if config["model"].get("dtype", "float32") not in DTYPES:
        raise ValueError(f"model.dtype must be one of {list(DTYPES)}")


def load_data(config: Mapping[str, Any], allow_download: bool = False) -> ClassificationData:
    """The config's dataset split (``config["data"]`` are ``load_classification`` arguments),
    kept in memory by :func:`ddlib.data.load_data`; treat the tensors as read-only."""
    return data_module.load_data({**config["data"], "allow_download": allow_download})


def build(config: Mapping[str, Any]) -> nn.Module:
    """The config's model, initialised from ``config["seed"]`` without touching global RNG."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(config["seed"])
        return build_model(config["model"])


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


def _loss(logits: torch.Tensor, labels: torch.Tensor, kind: str) -> torch.Tensor:
    if kind == "ce":
        return F.cross_entropy(logits, labels)
    targets = F.one_hot(labels, logits.shape[1]).to(logits.dtype)
    return F.mse_loss(logits, targets, reduction="sum") / len(labels)


def evaluate(
    model: nn.Module, x: torch.Tensor, y: torch.Tensor, loss: str, batch_size: int = 2000
) -> dict[str, float]:
    """Mean loss and accuracy of ``model`` on (x, y), in eval mode, without gradients."""
    was_training = model.training
    model.eval()
    total_loss, correct = 0.0, 0
    parameter = next(model.parameters())
    with torch.no_grad():
        for xb, yb in zip(x.split(batch_size), y.split(batch_size)):
            xb = xb.to(device=parameter.device, dtype=parameter.dtype)
            yb = yb.to(parameter.device)
            logits = model(xb)
            total_loss += float(_loss(logits, yb, loss)) * len(yb)
            correct += int((logits.argmax(1) == yb).sum())
    model.train(was_training)
    return {"loss": total_loss / len(y), "accuracy": correct / len(y)}


def measure(
    model: nn.Module,
    data: ClassificationData,
    points: Mapping[str, torch.Tensor],
    config: Mapping[str, Any],
) -> dict[str, float]:
    """One log row: loss/accuracy on train and test, mean LC per role and radius, and per layer."""
    row: dict[str, float] = {}
    for split, x, y in (("train", data.x_train, data.y_train), ("test", data.x_test, data.y_test)):
        for name, value in evaluate(model, x, y, config["loss"]).items():
            row[f"{split}_{name}"] = value
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


class _BatchOrder:
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


def train_with_lc(
    config: Mapping[str, Any],
    store: RunStore | None = None,
    device: str | torch.device = "auto",
    progress: bool = True,
    allow_download: bool = False,
    on_log: Callable[[int, dict], None] | None = None,
    resume_every_seconds: float = 60.0,
) -> Run:
    """Train ``config`` (see :data:`EXAMPLE_CONFIG`) with LC logging; load it if finished.

    Metrics rows (one per log step): ``step``, ``train_loss``, ``train_accuracy``, ``test_loss``,
    ``test_accuracy``, ``lc_<role>_<radius name>`` and ``..._layer<i>``, ``seconds`` (training
    time so far). ``on_log(step, row)`` is called after each row is stored. A resume point is
    saved at every log step and at least every ``resume_every_seconds``.
    """
    validate_config(config)
    store = store or RunStore()
    run = store.run(config)
    with run.lock():
        if run.is_trained():
            return run
        _train(run, config, pick_device(device), progress, allow_download, on_log,
               resume_every_seconds)
    return run


def _train(
    run: Run,
    config: Mapping[str, Any],
    device: torch.device,
    progress: bool,
    allow_download: bool,
    on_log: Callable[[int, dict], None] | None,
    resume_every_seconds: float,
) -> None:
    data = load_data(config, allow_download)
    dtype = DTYPES[config["model"].get("dtype", "float32")]
    points = lc_points(data, config["lc"])
    x_train = data.x_train.to(device=device, dtype=dtype)
    y_train = data.y_train.to(device)
    model = build(config).to(device)
    optimizer = torch.optim.AdamW(
        model.parameters(),
        lr=config["optimizer"]["lr"],
        weight_decay=config["optimizer"]["weight_decay"],
    )
    order = _BatchOrder(len(x_train), config["batch_size"], config["data_seed"])
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
        loss = _loss(model(x_train[batch]), y_train[batch], config["loss"])
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        seconds += time.perf_counter() - start
        log_and_save(step + 1)
    final = metrics[-1] if metrics else {}
    summary = {k: final[k] for k in ("train_accuracy", "test_accuracy") if k in final}
    run.finish(
        metrics,
        {"steps": config["steps"], "seconds": seconds, **summary},
        {"model": model.state_dict()},
    )


def load_model(run: Run, step: int | None = None, device: str | torch.device = "cpu") -> nn.Module:
    """The run's model with the weights of checkpoint ``step`` (final weights when None)."""
    model = build(run.config)
    model.load_state_dict(run.load_checkpoint(step))
    return model.to(pick_device(device))


def train_all(
    configs: Sequence[Mapping[str, Any]],
    store: RunStore | None = None,
    device: str | torch.device = "auto",
    progress: bool = True,
    allow_download: bool = False,
) -> list[Run]:
    """Train (or load) every config in turn, with a progress bar over the runs."""
    return [
        train_with_lc(config, store, device, progress, allow_download)
        for config in progress_bar(configs, "runs", enabled=progress)
    ]


def mlp_config(
    *,
    dataset: str,
    train_size: int,
    test_size: int,
    depth: int,
    width: int,
    steps: int,
    log_per_decade: int,
    checkpoints_per_decade: int,
    radii: Mapping[str, float],
    num_directions: int,
    lc_points: int,
    activation: str = "relu",
    init_scale: float = 1.0,
    dtype: str = "float32",
    label_noise: float = 0.0,
    weight_decay: float = 0.01,
    seed: int = 0,
) -> dict[str, Any]:
    """The RECIPES-3 MLP run: MNIST pixels in [0, 1], MSE on one-hot, AdamW 1e-3, batch 200.

    Checkpoints are kept on a log-spaced grid (``checkpoints_per_decade``), and every kept step
    is also a log step, so that exact partitions can be compared with the logged LC.
    """
    checkpoints = log_spaced_steps(steps, checkpoints_per_decade)
    config = {
        **EXAMPLE_CONFIG,
        "model": {
            "name": "mlp",
            "in_features": 784,
            "num_classes": 10,
            "depth": depth,
            "width": width,
            "activation": activation,
            "init_scale": init_scale,
            "dtype": dtype,
        },
        "data": {
            "name": dataset,
            "train_size": train_size,
            "test_size": test_size,
            "split_seed": 0,
            "label_noise": label_noise,
            "noise_seed": 0,
            "normalize": False,
            "flatten": True,
        },
        "optimizer": {"lr": 1e-3, "weight_decay": weight_decay},
        "steps": steps,
        "seed": seed,
        "log_steps": sorted(set(log_spaced_steps(steps, log_per_decade)) | set(checkpoints)),
        "checkpoint_steps": checkpoints,
        "lc": {
            **EXAMPLE_CONFIG["lc"],
            "radii": dict(radii),
            "num_directions": num_directions,
            "points": {"train": lc_points, "test": lc_points, "random": lc_points},
        },
    }
    validate_config(config)
    return config


def image_config(
    *,
    model: Mapping[str, Any],
    dataset: str,
    train_size: int,
    steps: int,
    log_per_decade: int,
    radius: float,
    num_directions: int,
    lc_points: int,
    weight_decay: float = 0.01,
    layers: str = "activations",
    loss: str = "ce",
    seed: int = 0,
) -> dict[str, Any]:
    """A CNN / ResNet run on normalised images (LC at one radius, on the conv pre-activations)."""
    config = {
        **EXAMPLE_CONFIG,
        "model": dict(model),
        "data": {
            "name": dataset,
            "train_size": train_size,
            "split_seed": 0,
            "label_noise": 0.0,
            "noise_seed": 0,
            "normalize": True,
            "flatten": False,
        },
        "optimizer": {"lr": 1e-3, "weight_decay": weight_decay},
        "loss": loss,
        "steps": steps,
        "seed": seed,
        "log_steps": log_spaced_steps(steps, log_per_decade),
        "checkpoint_steps": [],
        "lc": {
            **EXAMPLE_CONFIG["lc"],
            "radii": {"fine": radius},
            "num_directions": num_directions,
            "layers": layers,
            "points": {"train": lc_points, "test": lc_points, "random": lc_points},
        },
    }
    validate_config(config)
    return config


def lc_phases(steps: Sequence[int], values: Sequence[float], min_change: float) -> dict[str, Any]:
    """Descent, ascent and second descent of an LC curve (Humayun et al., Fig. 1), by rule.

    The curve is smoothed by a running median of three log points. The ascent is the largest
    rise from an earlier minimum: its top is the peak, the earlier minimum the end of the first
    descent; the second descent ends at the minimum after the peak. Each phase is present when
    it changes LC by more than ``min_change`` times LC at the first step.
    """
    steps = np.asarray(steps)
    values = np.asarray(values, dtype=float)
    if len(values) < 4:
        raise ValueError(f"values: need at least 4 log points to find phases, got {len(values)}")
    padded = np.concatenate([values[:1], values, values[-1:]])
    smooth = np.median(np.stack([padded[:-2], padded[1:-1], padded[2:]]), axis=0)
    running_min = np.minimum.accumulate(smooth)
    threshold = min_change * smooth[0]
    peak = int(np.argmax(smooth - running_min))
    if smooth[peak] - running_min[peak] <= threshold:  # no ascent: the whole curve is descent 1
        peak = int(np.argmin(smooth))
    first_min = int(np.argmin(smooth[: peak + 1]))
    final_min = peak + int(np.argmin(smooth[peak:]))
    result = {
        "first_min_step": int(steps[first_min]),
        "peak_step": int(steps[peak]),
        "final_min_step": int(steps[final_min]),
        "lc_start": float(smooth[0]),
        "lc_first_min": float(smooth[first_min]),
        "lc_peak": float(smooth[peak]),
        "lc_final_min": float(smooth[final_min]),
        "lc_end": float(smooth[-1]),
        "descent": bool(smooth[0] - smooth[first_min] > threshold),
        "ascent": bool(smooth[peak] - smooth[first_min] > threshold),
        "second_descent": bool(smooth[peak] - smooth[final_min] > threshold),
    }
    result["three_phases"] = result["descent"] and result["ascent"] and result["second_descent"]
    return result


def grokking_timing(metrics: Any, lc_column: str, saturation: float = 0.99) -> dict[str, Any]:
    """When training accuracy saturates, when test accuracy rises, and where LC is then.

    ``rise_step`` is the first log step at which test accuracy has covered half of its gain
    from the saturation step to the end of training.
    """
    steps = metrics["step"].to_numpy()
    train, test = metrics["train_accuracy"].to_numpy(), metrics["test_accuracy"].to_numpy()
    saturated = np.nonzero(train >= saturation)[0]
    if len(saturated) == 0:
        return {"saturation_step": None, "rise_step": None, "test_gain": 0.0}
    start = int(saturated[0])
    gain = float(test[-1] - test[start])
    half = np.nonzero(test[start:] >= test[start] + gain / 2)[0]
    rise = start + int(half[0]) if gain > 0 else len(steps) - 1
    lc = metrics[lc_column].to_numpy()
    return {
        "saturation_step": int(steps[start]),
        "rise_step": int(steps[rise]),
        "test_at_saturation": float(test[start]),
        "test_final": float(test[-1]),
        "test_gain": gain,
        "lc_at_rise": float(lc[rise]),
        "lc_final": float(lc[-1]),
    }


def partition_statistics(run: Run, num_slices: int, radii: Mapping[str, float]) -> Any:
    """Exact region counts on 2D slices at every kept checkpoint of an MLP run (cached in the run).

    Each slice passes through three training points of different classes
    (``partition2d.anchor_triples``); the plane coordinates are input-space distances. Per
    (step, slice): the number of regions of the slice, and for every named radius the regions
    whose interior point lies within that radius of the three training points
    (``near_data_<name>``) and of the decision boundary (``near_boundary_<name>``).
    """
    import pandas as pd

    from ddlib import partition2d

    def compute() -> pd.DataFrame:
        data = load_data(run.config)
        triples = partition2d.anchor_triples(data.y_train, num_slices)
        rows = []
        for step in run.checkpoint_epochs():
            model = load_model(run, step)
            for index, triple in enumerate(triples):
                plane = partition2d.plane_through(data.x_train[triple])
                start = time.perf_counter()
                partition = partition2d.exact_partition(model, plane)
                row = {"step": step, "slice": index, "regions": partition.num_regions}
                for name, radius in radii.items():
                    row[f"near_data_{name}"] = partition2d.regions_near_points(
                        partition, plane.anchors, radius
                    )
                    row[f"near_boundary_{name}"] = partition2d.regions_near_boundary(
                        partition, radius
                    )
                row["seconds"] = time.perf_counter() - start
                rows.append(row)
        return pd.DataFrame(rows)

    label = "_".join(f"{name}{radius:g}" for name, radius in sorted(radii.items()))
    return run.cached(f"partitions_{num_slices}slices_{label}", compute)
