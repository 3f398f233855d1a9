"""Training configs: one example per kind and one validation rule set, checked before any compute.

A config is plain JSON-able data; its hash names the run in the store (``ddlib.core.store``), so
it holds no module paths and no defaults are filled in here. ``config["kind"]`` picks the loop:

- ``"classifier"``: epoch-based training of any registered model (cross-entropy, one-hot MSE, or
  soft distillation from a ``"teacher"`` config; SGD, Adam, AdamW or SAM), Gamba et al. and
  Somepalli et al.;
- ``"lc_training"``: step-based AdamW training with local complexity logged on a log-spaced step
  grid, Humayun et al.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from ddlib.core.checks import check_positive_int
from ddlib.core.data import CLASSIFICATION_DATASETS, DATASET_SHAPES, IMAGE_FOLDER_PREFIX
from ddlib.models import REGISTRY as MODEL_REGISTRY

KINDS = ("classifier", "lc_training")
OPTIMIZERS = ("sgd", "adam", "adamw", "sam")
CLASSIFIER_LOSSES = ("ce", "mse_onehot", "distill_mse")
LC_LOSSES = ("mse_onehot", "ce")
AUGMENTATIONS = ("none", "crop_flip")
SCHEDULES = ("constant", "multistep")
POINT_ROLES = ("train", "test", "random")
LAYER_RULES = ("activations", "resnet_norms")
MODEL_DTYPES = ("float32", "float64")

EXAMPLE_CONFIGS: dict[str, dict[str, Any]] = {
    "classifier": {
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
    },
    "lc_training": {
        "kind": "lc_training",
        "model": {"name": "mlp", "in_features": 784, "num_classes": 10, "depth": 3, "width": 200,
                  "activation": "relu", "init_scale": 1.0, "dtype": "float32"},
        "data": {"name": "mnist5k", "train_size": 1000, "split_seed": 0, "label_noise": 0.0,
                 "noise_seed": 0, "normalize": False, "flatten": True},
        "optimizer": {"lr": 1e-3, "weight_decay": 0.01},  # AdamW
        "loss": "mse_onehot",    # "mse_onehot" (sum over classes, mean over the batch) | "ce"
        "steps": 10_000,         # optimiser steps
        "batch_size": 200,       # images per step
        "seed": 0,               # model initialisation
        "data_seed": 0,          # minibatch order
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
    },
}


def _allowed(name: str, value: Any, allowed: tuple[str, ...] | list[str]) -> None:
    if value not in allowed:
        raise ValueError(f"{name}={value!r} is unknown; allowed: {list(allowed)}")


def _check_common(config: Mapping[str, Any], required: tuple[str, ...]) -> None:
    missing = [key for key in required if key not in config]
    if missing:
        raise ValueError(f"training config lacks {missing}; see "
                         f"ddlib.training.config.EXAMPLE_CONFIGS[{config.get('kind')!r}]")
    check_positive_int("batch_size", config["batch_size"])
    _allowed("model name", config["model"].get("name"), sorted(MODEL_REGISTRY))
    dataset = str(config["data"].get("name", ""))
    if dataset not in DATASET_SHAPES and not dataset.startswith(IMAGE_FOLDER_PREFIX):
        raise ValueError(f"data name={dataset!r} is unknown; allowed: {list(CLASSIFICATION_DATASETS)}")
    lr = config["optimizer"].get("lr", 0)
    if isinstance(lr, bool) or not isinstance(lr, (int, float)) or not lr > 0 or math.isinf(lr):
        raise ValueError(f"optimizer lr={lr!r} must be a positive finite number")


def _check_classifier(config: Mapping[str, Any]) -> None:
    _check_common(config, ("model", "data", "optimizer", "epochs", "batch_size", "seed"))
    epochs = config["epochs"]
    check_positive_int("epochs", epochs)
    optimizer = config["optimizer"]
    _allowed("optimizer name", optimizer.get("name"), OPTIMIZERS)
    _allowed("optimizer schedule", optimizer.get("schedule", "constant"), SCHEDULES)
    _allowed("loss", config.get("loss", "ce"), CLASSIFIER_LOSSES)
    if config.get("loss") == "distill_mse" and "teacher" not in config:
        raise ValueError("loss='distill_mse' needs a 'teacher' config")
    _allowed("augment", config.get("augment", "none"), AUGMENTATIONS)
    if "teacher" in config:
        validate_config(config["teacher"])
    for key in ("checkpoint_epochs", "eval_epochs"):
        bad = [e for e in config.get(key, []) if not 1 <= e <= epochs]
        if bad:
            raise ValueError(f"{key} {bad} must lie in 1..epochs={epochs}")


def _check_lc_training(config: Mapping[str, Any]) -> None:
    example = EXAMPLE_CONFIGS["lc_training"]
    _check_common(config, tuple(example))
    _allowed("loss", config["loss"], LC_LOSSES)
    check_positive_int("steps", config["steps"])
    for key in ("log_steps", "checkpoint_steps"):
        bad = [s for s in config[key] if not 0 <= s <= config["steps"]]
        if bad:
            raise ValueError(f"{key} has steps {bad} outside 0..steps={config['steps']}")
    lc = config["lc"]
    unknown = [role for role in lc["points"] if role not in POINT_ROLES]
    if unknown:
        raise ValueError(f"lc.points has roles {unknown}; allowed: {list(POINT_ROLES)}")
    _allowed("lc.layers", lc["layers"], LAYER_RULES)
    if not lc["radii"] or any(not r > 0 for r in lc["radii"].values()):
        raise ValueError(f"lc.radii={lc['radii']!r} must map names to positive radii")
    _allowed("model.dtype", config["model"].get("dtype", "float32"), MODEL_DTYPES)


def validate_config(config: Mapping[str, Any]) -> None:
    """Fail before any compute when a training config is malformed, naming the entry and what is
    allowed (see :data:`EXAMPLE_CONFIGS`)."""
    kind = config.get("kind", "classifier")
    _allowed("kind", kind, KINDS)
    if kind == "classifier":
        _check_classifier(config)
    else:
        _check_lc_training(config)
