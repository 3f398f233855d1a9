"""Width x seed sweeps of notebook 02 (Gamba et al.): configs, result tables, sharpness, claims.

The sweep is a list of :mod:`ddlib.training.classifier` configs, one per (width, seed); everything measured on
it afterwards (final and epoch-wise errors, geodesic sharpness at the final weights, Jacobian
norms at the kept checkpoints) is read back from, or cached in, the run store, so re-running a
finished notebook recomputes nothing. The claims' intervals read two per-unit tables: the per-point
sharpness (the units of a bootstrap over training points) and the per-image test outcomes (a
bootstrap over test images); both are computed post hoc from the final weights and cached, so no
run changes. :func:`run` is the notebook's one entry.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd
import torch

from ddlib import execution
from ddlib.analysis import interpolation_threshold, log_spaced_integers
from ddlib.core.data import DATASET_SHAPES, ClassificationData, load_data
from ddlib.core.device import pick_device
from ddlib.core.params import Params
from ddlib.core.progress import progress
from ddlib.core.store import Run, config_hash
from ddlib.metrics.sharpness import (
    METRICS,
    SharpnessSettings,
    geodesic_sharpness,
    pointwise_jacobian_norm,
    unnormalise,
)
from ddlib.models import build_model, parameter_count
from ddlib.training import load_model
from ddlib.training.evaluation import per_image_test_outcomes

# Variants of the main experiment (Gamba et al. Fig. 4, 6, 7), as changes to the main configs.
EXPERIMENTS = ("main", "cifar100", "resnet18", "asymmetric", "random_labels")
SUBSETS = ("all", "clean", "noisy")


def data_spec(params: Mapping[str, Any], experiment: str = "main") -> dict[str, Any]:
    """The ``data`` entry of the configs of ``experiment`` (see :data:`EXPERIMENTS`)."""
    spec = {
        "name": params["dataset"],
        "train_size": params["train_size"],
        "test_size": params["test_size"],
        "label_noise": params["label_noise"],
        "noise_kind": "symmetric",
        "noise_seed": 0,
        "split_seed": 0,
        "pad_to": params["pad_to"],
        "allow_download": params["allow_download"],
    }
    cifar100 = {"name": "cifar100", "train_size": params["cifar100_train_size"],
                "test_size": params["cifar100_test_size"], "pad_to": None}
    if experiment == "cifar100":
        spec.update(cifar100, label_noise=0.0)
    elif experiment == "asymmetric":  # 80% of the labels of 20 random classes (20% overall)
        spec.update(cifar100, label_noise=0.8, noise_kind="asymmetric")
    elif experiment == "random_labels":
        spec.update(label_noise=1.0)
    elif experiment not in ("main", "resnet18"):
        raise ValueError(f"experiment={experiment!r} is unknown; allowed: {list(EXPERIMENTS)}")
    return spec


def input_channels_and_classes(spec: Mapping[str, Any]) -> tuple[int, int]:
    """Image channels and classes of a data spec (known datasets without loading them)."""
    shape = DATASET_SHAPES.get(spec["name"])
    if shape is not None:
        return shape.channels, shape.classes
    data = load_data(spec)
    return data.in_channels, data.num_classes


def sweep_configs(params: Mapping[str, Any], experiment: str = "main") -> list[dict[str, Any]]:
    """One training config per (width, seed) of ``experiment`` from notebook 02's parameters.

    Main setting (Gamba et al. Sec. 4): ConvNet without batch norm, constant learning rate after a
    linear warm-up, no weight decay, no augmentation; checkpoints and evaluations on a
    log-spaced epoch grid. ``resnet18``: PreActResNet18 with batch norm, Adam, crop + flip.
    """
    spec = data_spec(params, experiment)
    in_channels, num_classes = input_channels_and_classes(spec)
    model = {
        "name": "convnet",
        "in_channels": in_channels,
        "num_classes": num_classes,
        "batch_norm": False,
    }
    optimizer = {
        "name": params["optimizer"],
        "lr": params["lr"],
        "momentum": params["momentum"],
        "weight_decay": 0.0,
        "warmup_epochs": params["warmup_epochs"],
        "warmup_start_lr": params["warmup_start_lr"],
        "schedule": "constant",
    }
    widths, epochs, augment = params["widths"], params["epochs"], "none"
    if experiment == "resnet18":
        model.update(name="preact_resnet18", batch_norm=True)
        optimizer = {"name": "adam", "lr": params["resnet_lr"], "weight_decay": 0.0}
        widths, epochs, augment = params["resnet_widths"], params["resnet_epochs"], "crop_flip"
    grid = log_spaced_integers(epochs, params["checkpoints"])
    configs = []
    for width in widths:
        for seed in params["seeds"]:
            configs.append(
                {
                    "kind": "classifier",
                    "model": {**model, "width": int(width)},
                    "data": spec,
                    "optimizer": optimizer,
                    "loss": "ce",
                    "epochs": epochs,
                    "batch_size": params["batch_size"],
                    "seed": int(seed),
                    "data_seed": int(seed),
                    "augment": augment,
                    "checkpoint_epochs": grid,
                    "eval_epochs": grid,
                }
            )
    return copy.deepcopy(configs)


def training_configs(params: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Every training config the notebook trains: the main sweep, then each extra experiment's
    (for cost projections, ``benchmarks/gpu_projection.py``)."""
    return [config for experiment in ("main", *params["extra_experiments"])
            for config in sweep_configs(params, experiment)]


def sharpness_settings(params: Mapping[str, Any]) -> SharpnessSettings:
    """The geodesic-sharpness settings of notebook 02's parameters."""
    delta = params["hessian_delta"] if params["hessian_divisor"] == "fixed" else "step"
    return SharpnessSettings(
        strengths=tuple(params["strengths"]),
        num_paths=params["num_paths"],
        num_jitters=params["num_jitters"],
        jitter_strength=params["jitter_strength"],
        delta=delta,
        clamp_anchors=params["clamp_anchors"],
        batch_size=params["sharpness_batch"],
    )


def error_table(runs: Sequence[Run]) -> pd.DataFrame:
    """Every logged evaluation of every run, with ``width``, ``seed`` and ``parameters`` columns."""
    frames = []
    for run in runs:
        metrics = run.metrics().copy()
        metrics["width"] = run.config["model"]["width"]
        metrics["seed"] = run.config["seed"]
        metrics["parameters"] = parameter_count(build_model(run.config["model"]))
        frames.append(metrics)
    return pd.concat(frames, ignore_index=True)


def final_errors(errors: pd.DataFrame) -> pd.DataFrame:
    """Rows of the last epoch of each run."""
    last = errors.groupby(["width", "seed"]).epoch.transform("max")
    return errors[errors.epoch == last].reset_index(drop=True)


def sweep_threshold(final: pd.DataFrame, tolerance: float) -> int | None:
    """:func:`ddlib.analysis.interpolation_threshold` of the seed-mean final training error."""
    curve = final.groupby("width").train_error.mean()
    return interpolation_threshold(curve.index.tolist(), curve.tolist(), tolerance)


def _points(
    data: ClassificationData, num_points: int
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """The first ``num_points`` training points: normalised, in [0, 1], labels, noisy mask."""
    count = min(num_points, len(data.y_train))
    x = data.x_train[:count]
    return x, unnormalise(x, data.mean, data.std), data.y_train[:count], data.noisy_mask[:count]


def run_sharpness(
    run: Run, settings: SharpnessSettings, num_points: int, device: str = "auto"
) -> pd.DataFrame:
    """Per-point geodesic sharpness of a finished run's final model, cached in the run folder."""
    key = config_hash({"settings": dataclasses.asdict(settings), "points": num_points})
    data = load_data(run.config["data"])

    def compute() -> pd.DataFrame:
        _, images, labels, noisy = _points(data, num_points)
        model = load_model(run, device=device)
        return geodesic_sharpness(
            model, images, labels, data.mean, data.std, settings, noisy_mask=noisy
        )

    return run.cached(f"sharpness-{key}", compute)


def checkpoint_jacobians(run: Run, num_points: int, device: str = "auto") -> pd.DataFrame:
    """Mean Jacobian norm (Eq. 2) on all / clean / noisy training points at every kept epoch."""
    data = load_data(run.config["data"])

    def compute() -> pd.DataFrame:
        x, _, labels, noisy = _points(data, num_points)
        rows = []
        for epoch in run.config["checkpoint_epochs"]:  # a missing one raises, never skipped
            norms = pointwise_jacobian_norm(load_model(run, epoch, device), x, labels)
            rows.append({"epoch": epoch, **_subset_means(norms, noisy)})
        return pd.DataFrame(rows)

    return run.cached(f"checkpoint-jacobian-{num_points}", compute)


def corrupted_classes(spec: Mapping[str, Any]) -> tuple[int, ...]:
    """The classes whose training labels were corrupted (those of the noisy training points).

    For asymmetric noise (Gamba et al. Fig. 7) they split the test set into corrupted and
    unperturbed classes.
    """
    data = load_data(spec)
    return tuple(int(c) for c in torch.unique(data.y_train_clean[data.noisy_mask]))


def sweep_test_outcomes(runs: Sequence[Run], device: str = "auto") -> pd.DataFrame:
    """Per-image test outcomes of every run (:func:`ddlib.training.evaluation.per_image_test_outcomes`,
    cached per run): ``width``, ``seed``, ``image`` (position in the test split), ``label`` and
    ``wrong``. The runs of a sweep share one test split, so an image is the same unit at every
    width: a bootstrap over images is paired across widths. Refuses runs whose test labels differ.
    """
    frames = []
    for run in runs:
        outcomes = per_image_test_outcomes(run, device)
        frames.append(outcomes.assign(image=range(len(outcomes)),
                                      width=run.config["model"]["width"],
                                      seed=run.config["seed"]))
    table = pd.concat(frames, ignore_index=True)
    if table.groupby("image").label.nunique().max() > 1:
        raise ValueError("the runs do not share one test split: a test image's label differs "
                         "between runs")
    return table


def class_group_errors(outcomes: pd.DataFrame, corrupted: Sequence[int]) -> pd.DataFrame:
    """Test error per (width, seed) on the ``corrupted`` classes and on the others
    (``unperturbed``): columns ``classes``, ``test_error``, ``width``, ``seed``."""
    groups = outcomes.assign(classes=outcomes.label.isin(corrupted).map(
        {True: "corrupted", False: "unperturbed"}))
    return (groups.groupby(["classes", "width", "seed"]).wrong.mean().rename("test_error")
            .reset_index())


def _subset_means(values: torch.Tensor, noisy: torch.Tensor) -> dict[str, float]:
    means = {"all": values.mean().item(), "clean": values[~noisy].mean().item()}
    means["noisy"] = values[noisy].mean().item() if noisy.any() else float("nan")
    return means


def sweep_point_sharpness(
    runs: Sequence[Run], settings: SharpnessSettings, num_points: int, device: str = "auto"
) -> pd.DataFrame:
    """Per-point volume metrics of every run (:func:`run_sharpness`, cached per run), with
    ``width`` and ``seed`` columns. The evaluated training points are the same at every width:
    the units of a bootstrap over training points, paired across widths."""
    frames = [run_sharpness(run, settings, num_points, device).assign(
        width=run.config["model"]["width"], seed=run.config["seed"])
        for run in progress(runs, "sharpness", leave=True)]
    return pd.concat(frames, ignore_index=True)


def sweep_volume_means(points: pd.DataFrame) -> pd.DataFrame:
    """Mean volume metrics per (width, seed, volume, subset) over the evaluated training points."""
    return pd.concat([volume_means(rows).assign(width=width, seed=seed)
                      for (width, seed), rows in points.groupby(["width", "seed"])],
                     ignore_index=True)


def volume_means(table: pd.DataFrame) -> pd.DataFrame:
    """Means of the :data:`~ddlib.metrics.sharpness.METRICS` per volume on all, clean and noisy points."""
    subsets = {
        "all": table,
        "clean": table[~table.noisy.astype(bool)],
        "noisy": table[table.noisy.astype(bool)],
    }
    frames = [
        rows.groupby("volume")[list(METRICS)].mean().reset_index().assign(subset=name)
        for name, rows in subsets.items()
        if len(rows)
    ]
    return pd.concat(frames, ignore_index=True)


def sweep_checkpoint_jacobians(
    runs: Sequence[Run], num_points: int, device: str = "auto"
) -> pd.DataFrame:
    """Epoch-wise Jacobian norms of every run (long table: width, seed, epoch, subset, value)."""
    frames = []
    for run in progress(runs, "checkpoint Jacobians", leave=True):
        table = checkpoint_jacobians(run, num_points, device)
        long = table.melt(
            id_vars="epoch", value_vars=list(SUBSETS), var_name="subset", value_name="jacobian_norm"
        )
        frames.append(long.assign(width=run.config["model"]["width"], seed=run.config["seed"]))
    return pd.concat(frames, ignore_index=True)


@dataclasses.dataclass
class SweepResult:
    """Everything notebook 02 plots and judges for one experiment (see :data:`EXPERIMENTS`)."""

    experiment: str
    dataset: str  # the dataset the sweep trained on (after the CIFAR-10 fallback)
    runs: list[Run]
    errors: pd.DataFrame  # every evaluation of every run
    final: pd.DataFrame  # last epoch of every run
    volumes: pd.DataFrame  # volume metrics per width, seed, volume, subset
    jacobians: pd.DataFrame  # Jacobian norm at every kept epoch
    points: pd.DataFrame  # per-point volume metrics (width, seed, point, noisy, volume, ...)
    outcomes: pd.DataFrame  # per-image test outcomes (width, seed, image, label, wrong)
    num_classes: int
    threshold: int | None
    corrupted_classes: tuple[int, ...] | None = None  # asymmetric noise only
    class_groups: pd.DataFrame | None = None  # asymmetric noise only: corrupted vs other classes


@dataclasses.dataclass
class ConvnetSharpnessResult:
    """Everything notebook 02 plots and judges: the main sweep and the extra experiments."""

    main: SweepResult
    extras: dict[str, SweepResult]  # by experiment name, in the order of ``extra_experiments``
    device: str  # the device the sweeps were measured on


def sweep_result(params: Params, experiment: str = "main", device: str = "auto") -> SweepResult:
    """Train (or load) the sweep of ``experiment`` where ``params.executor`` says, and measure it
    (sharpness cached per run)."""
    runs = execution.run_sweep(sweep_configs(params, experiment), device=device,
                               executor=params.executor, executor_options=params.executor_options)
    errors = error_table(runs)
    final = final_errors(errors)
    points = sweep_point_sharpness(runs, sharpness_settings(params), params["sharpness_points"],
                                   device)
    jacobians = sweep_checkpoint_jacobians(runs, params["heatmap_points"], device)
    outcomes = sweep_test_outcomes(runs, device)
    threshold = sweep_threshold(final, params["interpolation_tolerance"])
    spec = data_spec(params, experiment)
    corrupted = corrupted_classes(spec) if experiment == "asymmetric" else None
    return SweepResult(
        experiment, spec["name"], runs, errors, final, sweep_volume_means(points), jacobians,
        points, outcomes, input_channels_and_classes(spec)[1], threshold, corrupted,
        class_group_errors(outcomes, corrupted) if corrupted is not None else None)


def run(params: Params, device: str = "auto") -> ConvnetSharpnessResult:
    """Notebook 02's study: the main sweep, then each of ``params.extra_experiments``, trained
    (or loaded) and measured on ``device`` (``"auto"`` picks CUDA when present)."""
    device = str(pick_device(device))
    main = sweep_result(params, "main", device)
    extras = {name: sweep_result(params, name, device) for name in params["extra_experiments"]}
    return ConvnetSharpnessResult(main, extras, device)
