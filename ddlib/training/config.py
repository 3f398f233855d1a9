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

from collections.abc import Mapping
from typing import Any

from ddlib.core.checks import Choice, Integer, ListOf, MapOf, Real, Text
from ddlib.core.data import CLASSIFICATION_DATASETS, DATASET_SHAPES, is_image_folder
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

# One complete config of each kind, every key commented: documentation and the tests' starting
# point. No study reads it (notebook 03's shared values are its own RUN_RECIPE and LC_RECIPE), so
# editing an example changes no run of any notebook.
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


LC_TRAINING_KEYS = ("kind", "model", "data", "optimizer", "loss", "steps", "batch_size", "seed",
                    "data_seed", "log_steps", "checkpoint_steps", "lc")  # every one required
_POSITIVE = Integer(1)
_LR = Real(0.0, None, low_open=True, as_float=False)


def _check_common(config: Mapping[str, Any], required: tuple[str, ...]) -> None:
    missing = [key for key in required if key not in config]
    if missing:
        raise ValueError(f"training config lacks {missing}; see "
                         f"ddlib.training.config.EXAMPLE_CONFIGS[{config.get('kind')!r}]")
    _POSITIVE.check("batch_size", config["batch_size"])
    Choice(tuple(sorted(MODEL_REGISTRY))).check("model.name", config["model"].get("name"))
    dataset = config["data"].get("name")
    if not (dataset in DATASET_SHAPES or isinstance(dataset, str) and is_image_folder(dataset)):
        Choice(CLASSIFICATION_DATASETS).fail("data.name", dataset)
    _LR.check("optimizer.lr", config["optimizer"].get("lr"))


def _check_classifier(config: Mapping[str, Any]) -> None:
    _check_common(config, ("model", "data", "optimizer", "epochs", "batch_size", "seed"))
    epochs = _POSITIVE.check("epochs", config["epochs"])
    optimizer = config["optimizer"]
    Choice(OPTIMIZERS).check("optimizer.name", optimizer.get("name"))
    Choice(SCHEDULES).check("optimizer.schedule", optimizer.get("schedule", "constant"))
    loss = Choice(CLASSIFIER_LOSSES).check("loss", config.get("loss", "ce"))
    if loss == "distill_mse" and "teacher" not in config:
        raise ValueError("loss='distill_mse' needs a 'teacher' config")
    Choice(AUGMENTATIONS).check("augment", config.get("augment", "none"))
    if "teacher" in config:
        validate_config(config["teacher"])
    for key in ("checkpoint_epochs", "eval_epochs"):
        ListOf(Integer(1, epochs), min_length=0).check(key, config.get(key, []))


def _check_lc_training(config: Mapping[str, Any]) -> None:
    _check_common(config, LC_TRAINING_KEYS)
    Choice(LC_LOSSES).check("loss", config["loss"])
    steps = _POSITIVE.check("steps", config["steps"])
    for key in ("log_steps", "checkpoint_steps"):
        ListOf(Integer(0, steps), min_length=0).check(key, config[key])
    lc = config["lc"]
    MapOf(Choice(POINT_ROLES), Integer(0), min_length=0).check("lc.points", lc["points"])
    Choice(LAYER_RULES).check("lc.layers", lc["layers"])
    MapOf(Text(), Real(0.0, None, low_open=True)).check("lc.radii", lc["radii"])
    Choice(MODEL_DTYPES).check("model.dtype", config["model"].get("dtype", "float32"))


def validate_config(config: Mapping[str, Any]) -> None:
    """Fail before any compute when a training config is malformed, naming the entry and what is
    allowed (see :data:`EXAMPLE_CONFIGS`), with the rules of :mod:`ddlib.core.checks`."""
    kind = Choice(KINDS).check("kind", config.get("kind", "classifier"))
    if kind == "classifier":
        _check_classifier(config)
    else:
        _check_lc_training(config)
