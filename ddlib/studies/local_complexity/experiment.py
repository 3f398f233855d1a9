"""The experiments of notebook 03 (Humayun et al. 2024, ``docs/papers.md`` §3) as run configs and
tables: the MLP runs with local complexity logged along training (main run, depth / width /
training-size sweeps, grokking), the CNN / ResNet runs on CIFAR-10, and exact region counts on 2-D
slices at the kept checkpoints. :func:`run` is the notebook's one entry.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from scipy.stats import spearmanr

from ddlib import execution
from ddlib.analysis import grokking_timing, lc_phases, log_spaced_steps, nearest_in_log
from ddlib.core.params import Params
from ddlib.core.store import Run, RunStore
from ddlib.metrics import partition2d
from ddlib.studies.local_complexity.params import LC_RECIPE, RUN_RECIPE
from ddlib.training import load_model, training_data, validate_config


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
    """The MLP run of Humayun et al. (docs/papers.md §3): MNIST pixels in [0, 1], MSE on one-hot, AdamW 1e-3, batch 200.

    Checkpoints are kept on a log-spaced grid (``checkpoints_per_decade``), and every kept step
    is also a log step, so that exact partitions can be compared with the logged LC.
    """
    checkpoints = log_spaced_steps(steps, checkpoints_per_decade)
    config = {
        **RUN_RECIPE,
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
            **LC_RECIPE,
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
        **RUN_RECIPE,
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
            **LC_RECIPE,
            "radii": {"fine": radius},
            "num_directions": num_directions,
            "layers": layers,
            "points": {"train": lc_points, "test": lc_points, "random": lc_points},
        },
    }
    validate_config(config)
    return config


ANCHORS = ("train", "test")  # the points the slices of :func:`partition_statistics` pass through


def partition_statistics(run: Run, num_slices: int, radii: Mapping[str, float],
                         anchors: str = "train") -> Any:
    """Exact region counts on 2D slices at every kept checkpoint of an MLP run (cached in the run).

    Each slice passes through three training points (``anchors="train"``) or three test points
    (``anchors="test"``) of different classes (``partition2d.anchor_triples``); the plane
    coordinates are input-space distances. Per (step, slice): the number of regions of the slice,
    and for every named radius the regions whose interior point lies within that radius of the
    three anchor points (``near_data_<name>``) and of the decision boundary
    (``near_boundary_<name>``). The slices through test points are a post-hoc measurement of the
    kept checkpoints (Humayun et al.: regions "migrate away from training and test samples").
    """
    if anchors not in ANCHORS:
        raise ValueError(f"anchors={anchors!r} is not allowed; use one of {list(ANCHORS)}")

    def compute() -> pd.DataFrame:
        data = training_data(run.config)
        x, y = (data.x_train, data.y_train) if anchors == "train" else (data.x_test, data.y_test)
        triples = partition2d.anchor_triples(y, num_slices)
        rows = []
        for step in run.config["checkpoint_steps"]:  # a missing one raises, never skipped
            model = load_model(run, step)
            for index, triple in enumerate(triples):
                plane = partition2d.plane_through(x[triple])
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
    prefix = "partitions" if anchors == "train" else f"partitions_{anchors}"  # train: the old name
    return run.cached(f"{prefix}_{num_slices}slices_{label}", compute)


def partition_trends(stats: pd.DataFrame, metrics: pd.DataFrame,
                     radii: Mapping[str, float]) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, float]]:
    """Mean region counts over slices per kept step, the logged LC at those steps, and the
    Spearman correlation along training between regions near training points and train LC per
    radius (Humayun et al.'s validation (c): LC and exact counts follow the same trend)."""
    per_step = stats.groupby("step").mean(numeric_only=True)
    lc_at = metrics.set_index("step").loc[per_step.index]
    correlation = {
        name: float(spearmanr(per_step[f"near_data_{name}"], lc_at[f"lc_train_{name}"]).statistic)
        for name in radii
    }
    return per_step, lc_at, correlation


def image_config_of(params: Mapping[str, Any], model: Mapping[str, Any], *,
                    weight_decay: float = 0.01, layers: str = "activations",
                    num_directions: int = 25) -> dict[str, Any]:
    """An :func:`image_config` of the CIFAR-10 experiments with notebook 03's parameters."""
    return image_config(
        model=model, dataset=params["cifar_dataset"], train_size=params["cifar_train_size"],
        steps=params["cifar_steps"], log_per_decade=params["log_per_decade"],
        radius=params["cifar_radius"], num_directions=num_directions,
        lc_points=params["lc_points"], weight_decay=weight_decay, layers=layers)


def cifar_configs(params: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """{label: config} of the CNN / ResNet18 runs with and without batch norm and weight decay."""
    cnn = {"name": "convnet", "width": params["cnn_width"], "in_channels": 3, "num_classes": 10}
    resnet = {"name": "preact_resnet18", "width": params["resnet_width"], "in_channels": 3,
              "num_classes": 10}
    return {
        "CNN": image_config_of(params, cnn | {"batch_norm": False}),
        "CNN + BN": image_config_of(params, cnn | {"batch_norm": True}),
        **{f"CNN, wd {wd:g}": image_config_of(params, cnn | {"batch_norm": False}, weight_decay=wd)
           for wd in params["cnn_weight_decays"]},
        "ResNet18": image_config_of(params, resnet | {"batch_norm": False}, layers="resnet_norms",
                                    num_directions=20),
        "ResNet18 + BN": image_config_of(params, resnet | {"batch_norm": True},
                                         layers="resnet_norms", num_directions=20),
    }


def main_config(params: Mapping[str, Any], **changes: Any) -> dict[str, Any]:
    """An :func:`mlp_config` with notebook 03's parameters, ``changes`` applied (depth, width,
    train_size, label_noise, init_scale, steps)."""
    settings = dict(
        dataset=params["dataset"], train_size=params["train_size"], test_size=params["test_size"],
        depth=params["depth"], width=params["width"], activation=params["activation"],
        dtype=params["dtype"], steps=params["steps"], log_per_decade=params["log_per_decade"],
        checkpoints_per_decade=params["checkpoints_per_decade"], radii=params["radii"],
        num_directions=params["num_directions"], lc_points=params["lc_points"],
    )
    return mlp_config(**(settings | changes))


def sweep_config(params: Mapping[str, Any], **changes: Any) -> dict[str, Any]:
    """:func:`main_config` of a depth, width or training-size sweep member: ``sweep_steps`` steps."""
    return main_config(params, **({"steps": params["sweep_steps"]} | changes))


def training_configs(params: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Every training config the notebook trains, in its order: the main run, the depth, width and
    training-size sweeps, the grokking runs and (with ``run_cifar``) the CIFAR-10 runs (for cost
    projections, ``benchmarks/gpu_projection.py``)."""
    sizes = [(size, rate) for rate in (0.0, params["random_label_rate"])
             for size in params["train_sizes"]]
    configs = [
        main_config(params),
        *(sweep_config(params, depth=depth) for depth in params["depths"]),
        *(sweep_config(params, width=width) for width in params["widths"]),
        *(sweep_config(params, train_size=size, label_noise=rate) for size, rate in sizes),
        *(main_config(params, depth=depth, init_scale=params["grokking_init_scale"],
                      steps=params["grokking_steps"]) for depth in params["grokking_depths"]),
    ]
    if params["run_cifar"]:
        configs += list(cifar_configs(params).values())
    return configs


def train_runs(params: Params, configs: list[dict[str, Any]], store: RunStore | None = None,
               device: str = "auto") -> list[Run]:
    """Train (or load) the runs of ``configs`` where ``params.executor`` says (datasets download
    only with ``params.allow_download``); returns them in order."""
    return execution.run_sweep(configs, store, device, allow_download=params["allow_download"],
                               executor=params.executor, executor_options=params.executor_options)


@dataclass
class LocalComplexityResult:
    """Everything notebook 03 plots and judges."""

    main_run: Run  # the main MLP run
    main: pd.DataFrame  # its logged metrics (LC per role, radius and layer; accuracies)
    phases: dict[str, dict[str, Any]]  # ddlib.analysis.lc_phases of its train LC, per radius
    test_phases: dict[str, dict[str, Any]]  # the same of its test LC, per radius
    depth_runs: dict[int, Run]  # {depth: run} of the depth sweep
    width_runs: dict[int, Run]  # {width: run} of the width sweep
    sweep_phases: pd.DataFrame  # phases of the fine train LC of every depth and width run
    size_runs: dict[tuple[int, float], Run]  # {(training images, random-label rate): run}
    grok_runs: dict[int, Run]  # {depth: run} of the grokking runs
    grok: pd.DataFrame  # logged metrics of the first grokking run
    timing: dict[str, Any]  # ddlib.analysis.grokking_timing of that run
    grok_phases: dict[str, Any]  # lc_phases of its fine train LC
    slice_plane: partition2d.Plane  # the first 2-D slice of the main run's partitions figure
    slice_labels: list[str]  # the classes of its three training points
    shown: dict[str, int]  # {title: kept checkpoint} of the partitions figure
    peak_checkpoint: int  # the kept checkpoint nearest to the fine train-LC peak
    partition_stats: pd.DataFrame  # :func:`partition_statistics` of the main run
    test_partition_stats: pd.DataFrame  # the same on slices through test points
    per_step: pd.DataFrame  # region counts per kept step (mean over slices)
    lc_at: pd.DataFrame  # the main run's metrics at those steps
    correlation: dict[str, float]  # Spearman correlation of near-data regions and train LC, per radius
    cifar: dict[str, Run] = field(default_factory=dict)  # {label: run} with ``run_cifar``
    cifar_phases: dict[str, dict[str, Any]] = field(default_factory=dict)  # of every CIFAR run

    def sweep_metrics(self, runs: Mapping[Any, Run]) -> dict[Any, pd.DataFrame]:
        """{key: logged metrics} of a sweep's runs (e.g. :attr:`depth_runs`), as the claims read them."""
        return {key: run.metrics() for key, run in runs.items()}

    def sweep_phase_table(self) -> pd.DataFrame:
        """The columns of :attr:`sweep_phases` the notebook shows."""
        return self.sweep_phases[["first_min_step", "peak_step", "final_min_step", "three_phases"]]

    def grokking_summary(self) -> pd.Series:
        """Saturation and rise steps of the first grokking run, with its LC peak and phases."""
        phases = {k: self.grok_phases[k] for k in ("peak_step", "final_min_step", "three_phases")}
        return pd.Series(self.timing | phases)


def _fine_phases(run: Run, min_change: float) -> dict[str, Any]:
    metrics = run.metrics()
    return lc_phases(metrics["step"], metrics["lc_train_fine"], min_change)


def run(params: Params, device: str = "auto") -> LocalComplexityResult:
    """Notebook 03's study: train (or load) the main run, the depth, width and training-size
    sweeps, the grokking runs and (with ``run_cifar``) the CIFAR-10 runs, in that order, and
    measure them: LC phases, grokking timing and exact region counts on 2-D slices."""
    store = RunStore()
    min_change = params["phase_min_change"]
    (main_run,) = train_runs(params, [main_config(params)], store, device)
    main = main_run.metrics()
    phases, test_phases = ({radius: lc_phases(main["step"], main[f"lc_{role}_{radius}"], min_change)
                            for radius in params["radii"]} for role in ("train", "test"))

    depths, widths = params["depths"], params["widths"]
    depth_runs = dict(zip(depths, train_runs(
        params, [sweep_config(params, depth=d) for d in depths], store, device)))
    width_runs = dict(zip(widths, train_runs(
        params, [sweep_config(params, width=w) for w in widths], store, device)))
    sweep_phases = pd.DataFrame(
        {f"{name} {value}": _fine_phases(run, min_change)
         for name, runs in (("depth", depth_runs), ("width", width_runs))
         for value, run in runs.items()}).T

    size_keys = [(size, rate) for rate in (0.0, params["random_label_rate"])
                 for size in params["train_sizes"]]
    size_runs = dict(zip(size_keys, train_runs(
        params, [sweep_config(params, train_size=size, label_noise=rate) for size, rate in size_keys],
        store, device)))

    grok_depths = params["grokking_depths"]
    grok_runs = dict(zip(grok_depths, train_runs(
        params, [main_config(params, depth=d, init_scale=params["grokking_init_scale"],
                             steps=params["grokking_steps"]) for d in grok_depths], store, device)))
    grok = grok_runs[grok_depths[0]].metrics()
    timing = grokking_timing(grok, "lc_train_fine")
    grok_phases = lc_phases(grok["step"], grok["lc_train_fine"], min_change)

    data = training_data(main_run.config)
    triples = partition2d.anchor_triples(data.y_train, params["num_slices"])
    checkpoints = main_run.checkpoints()
    fine = phases["fine"]
    steps = {"initialisation": 0, "end of first descent": fine["first_min_step"],
             "LC peak": fine["peak_step"], "end of training": params["steps"]}
    shown = {name: nearest_in_log(checkpoints, step) for name, step in steps.items()}
    plane = partition2d.plane_through(data.x_train[triples[0]])
    labels = [f"digit {int(data.y_train[i])}" for i in triples[0]]
    stats = partition_statistics(main_run, params["num_slices"], params["radii"])
    per_step, lc_at, correlation = partition_trends(stats, main, params["radii"])
    test_stats = partition_statistics(main_run, params["num_slices"], params["radii"], "test")

    cifar: dict[str, Run] = {}
    cifar_phases: dict[str, dict[str, Any]] = {}
    if params["run_cifar"]:
        configs = cifar_configs(params)
        cifar = dict(zip(configs, train_runs(params, list(configs.values()), store, device)))
        cifar_phases = {name: _fine_phases(run, min_change) for name, run in cifar.items()}

    return LocalComplexityResult(
        main_run, main, phases, test_phases, depth_runs, width_runs, sweep_phases, size_runs,
        grok_runs, grok, timing, grok_phases, plane, labels, shown,
        nearest_in_log(checkpoints, fine["peak_step"]), stats, test_stats, per_step, lc_at,
        correlation, cifar, cifar_phases)
