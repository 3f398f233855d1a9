"""The experiments of notebook 03 (Humayun et al. 2024, ``docs/papers.md`` §3) as run configs and
tables: the MLP runs with local complexity logged along training (main run, depth / width /
training-size sweeps, grokking), the CNN / ResNet runs on CIFAR-10, and exact region counts on 2-D
slices at the kept checkpoints.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import pandas as pd
from scipy.stats import spearmanr

from ddlib import execution
from ddlib.analysis import log_spaced_steps
from ddlib.core.params import Params
from ddlib.core.store import Run, RunStore
from ddlib.metrics import partition2d
from ddlib.training import EXAMPLE_CONFIGS, load_model, training_data, validate_config


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
        **EXAMPLE_CONFIGS["lc_training"],
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
            **EXAMPLE_CONFIGS["lc_training"]["lc"],
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
        **EXAMPLE_CONFIGS["lc_training"],
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
            **EXAMPLE_CONFIGS["lc_training"]["lc"],
            "radii": {"fine": radius},
            "num_directions": num_directions,
            "layers": layers,
            "points": {"train": lc_points, "test": lc_points, "random": lc_points},
        },
    }
    validate_config(config)
    return config


def partition_statistics(run: Run, num_slices: int, radii: Mapping[str, float]) -> Any:
    """Exact region counts on 2D slices at every kept checkpoint of an MLP run (cached in the run).

    Each slice passes through three training points of different classes
    (``partition2d.anchor_triples``); the plane coordinates are input-space distances. Per
    (step, slice): the number of regions of the slice, and for every named radius the regions
    whose interior point lies within that radius of the three training points
    (``near_data_<name>``) and of the decision boundary (``near_boundary_<name>``).
    """
    def compute() -> pd.DataFrame:
        data = training_data(run.config)
        triples = partition2d.anchor_triples(data.y_train, num_slices)
        rows = []
        for step in run.config["checkpoint_steps"]:  # a missing one raises, never skipped
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
