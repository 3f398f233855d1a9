"""Notebook 02 (ConvNet width sweep with input-space sharpness, Gamba et al. TMLR 2023).

``paper`` follows the paper's text (CIFAR-10, 20% symmetric noise, widths 1..64, 4k epochs, SGD
lr 0.005 after 5 warm-up epochs from 0.001, 3 seeds, 1,024 points as in the reference code);
``laptop`` is the offline MNIST setting of docs/papers.md §5, cut down to fit the CPU budget (see
the notebook's search section); ``smoke`` only checks that the pipeline runs.
"""

from __future__ import annotations

from typing import Any

from ddlib.metrics.svd_paths import validate_paths
from ddlib.studies.convnet_sharpness.experiment import EXPERIMENTS, sharpness_settings

_COMMON: dict[str, Any] = {
    "test_size": None,
    "label_noise": 0.2,
    "momentum": 0.9,
    "batch_size": 128,
    "strengths": [5, 10, 15, 20, 22, 25],
    "jitter_strength": 0.01,
    "hessian_delta": 0.1,
    "hessian_divisor": "fixed",
    "clamp_anchors": True,
    "interpolation_tolerance": 0.01,
    "peak_factor": 2.0,
    "peak_margin": 0.05,
    "sharpness_batch": 256,
}

PROFILES: dict[str, dict[str, Any]] = {
    "smoke": {
        **_COMMON,
        "dataset": "mnist5k",
        "train_size": 200,
        "test_size": 500,
        "pad_to": 32,
        "allow_download": False,
        "widths": [1, 2, 4],
        "seeds": [0],
        "epochs": 4,
        "optimizer": "adam",
        "lr": 1e-3,
        "warmup_epochs": 0,
        "warmup_start_lr": 1e-3,
        "checkpoints": 3,
        "sharpness_points": 16,
        "num_paths": 2,
        "strengths": [20, 24],
        "num_jitters": 2,
        "heatmap_points": 64,
        "extra_experiments": [],
        "resnet_widths": [2],
        "resnet_lr": 1e-4,
        "resnet_epochs": 2,
    },
    "laptop": {
        **_COMMON,
        "dataset": "mnist5k",
        "train_size": 1000,
        "pad_to": 32,
        "allow_download": False,
        "widths": [1, 2, 3, 4, 6, 8, 12, 16],
        "seeds": [0, 1, 2],
        "epochs": 100,
        "optimizer": "adam",
        "lr": 1e-3,
        "warmup_epochs": 0,
        "warmup_start_lr": 1e-3,
        "checkpoints": 8,
        "sharpness_points": 200,
        "num_paths": 2,
        "num_jitters": 2,
        "strengths": [16, 18, 20, 22, 24, 26],
        "heatmap_points": 500,
        "extra_experiments": [],
        "resnet_widths": [2, 4],
        "resnet_lr": 1e-4,
        "resnet_epochs": 20,
    },
    "paper": {
        **_COMMON,
        "dataset": "cifar10",
        "train_size": None,
        "pad_to": None,
        "allow_download": True,
        "widths": list(range(1, 65)),
        "seeds": [0, 1, 2],
        "epochs": 4000,
        "optimizer": "sgd",
        "lr": 0.005,
        "warmup_epochs": 5,
        "warmup_start_lr": 0.001,
        "checkpoints": 16,
        "sharpness_points": 1024,
        "num_paths": 4,
        "num_jitters": 4,
        "heatmap_points": 1024,
        "extra_experiments": list(EXPERIMENTS[1:]),
        "resnet_widths": [1, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 24, 28, 32, 40, 48, 56, 64],
        "resnet_lr": 1e-4,
        "resnet_epochs": 4000,
    },
}

DESCRIPTIONS: dict[str, str] = {
    "dataset": "training set: mnist5k (offline MNIST subset), cifar10, ... [name]",
    "train_size": "training images (None: the whole training split) [images]",
    "test_size": "test images (None: all the rest / the whole test split) [images]",
    "pad_to": "zero-pad images to this side, MNIST 28 -> 32 (None: as they are) [pixels]",
    "allow_download": "let torchvision download the dataset into data/ [bool]",
    "label_noise": "fraction of training labels replaced by a wrong class (symmetric) [fraction]",
    "widths": "ConvNet widths w (channels of the first stage) [channels]",
    "seeds": "seeds of initialisation and minibatch order (label noise is fixed) [ints]",
    "epochs": "training epochs of every model [epochs]",
    "optimizer": "sgd (paper, momentum) or adam (laptop) [name]",
    "lr": "learning rate after warm-up, constant [1]",
    "momentum": "SGD momentum [1]",
    "warmup_epochs": "linear learning-rate warm-up [epochs]",
    "warmup_start_lr": "learning rate at the start of the warm-up [1]",
    "batch_size": "minibatch size [images]",
    "checkpoints": "kept checkpoints, log-spaced from epoch 1 to the last (epoch-wise heatmaps) "
    "[count]",
    "sharpness_points": "first training points on which sharpness is measured [points]",
    "num_paths": "SVD-erasure paths P per point (shifted windows) [paths]",
    "strengths": "singular values erased at the anchors of a path; volume K uses the first K "
    "[counts]",
    "num_jitters": "colour jitters M per anchor for the tangent Hessian [count]",
    "jitter_strength": "brightness/contrast/saturation factors drawn in 1 +- this [fraction]",
    "hessian_delta": "finite-difference divisor of the tangent Hessian (reference code: 0.1) "
    "[normalised input units]",
    "hessian_divisor": "fixed (divide by hessian_delta, as the reference code) or step "
    "(divide by the true jitter step ||x_m - x||) [name]",
    "clamp_anchors": "clip the SVD-erasure anchors to [0, 1] pixel values (the reference code "
    "does not) [bool]",
    "sharpness_batch": "images per forward/backward pass of the sharpness kernels [images]",
    "heatmap_points": "training points for the epoch-wise Jacobian heatmap [points]",
    "interpolation_tolerance": "mean training error at or below which a width interpolates "
    "[fraction]",
    "peak_factor": "a peak counts as near the threshold within this width ratio [ratio]",
    "peak_margin": "a peak must exceed the smaller-width minimum and the widest model by this "
    "[fraction of the peak]",
    "extra_experiments": "further settings: cifar100 (Fig. 4), resnet18 (Fig. 6), asymmetric "
    "and random_labels (Fig. 7) [names]",
    "resnet_widths": "PreActResNet18 base widths of the resnet18 setting [channels]",
    "resnet_lr": "Adam learning rate of the resnet18 setting [1]",
    "resnet_epochs": "training epochs of the resnet18 setting [epochs]",
}

DIVISORS = ("fixed", "step")


def validate(params: dict[str, Any]) -> None:
    """Reject parameters the sweep cannot use, naming them and the allowed values."""
    for name in ("widths", "seeds", "resnet_widths"):
        values = params[name]
        if not values or any(
            not isinstance(v, int) or v < (0 if name == "seeds" else 1) for v in values
        ):
            raise ValueError(
                f"{name}={values!r} is not allowed; use a non-empty list of "
                f"{'non-negative' if name == 'seeds' else 'positive'} integers"
            )
    for name in (
        "epochs",
        "resnet_epochs",
        "checkpoints",
        "sharpness_points",
        "num_paths",
        "num_jitters",
        "heatmap_points",
        "batch_size",
        "sharpness_batch",
    ):
        if not isinstance(params[name], int) or params[name] < 1:
            raise ValueError(f"{name}={params[name]!r} is not allowed; use a positive integer")
    if not 0.0 <= params["label_noise"] <= 1.0:
        raise ValueError(f"label_noise={params['label_noise']!r} is not allowed; use [0, 1]")
    if params["optimizer"] not in ("sgd", "adam"):
        raise ValueError(f"optimizer={params['optimizer']!r} is not allowed; use 'sgd' or 'adam'")
    if params["hessian_divisor"] not in DIVISORS:
        raise ValueError(
            f"hessian_divisor={params['hessian_divisor']!r} is not allowed; use one of {DIVISORS}"
        )
    unknown = [e for e in params["extra_experiments"] if e not in EXPERIMENTS[1:]]
    if unknown:
        raise ValueError(
            f"extra_experiments {unknown} are not allowed; use some of {list(EXPERIMENTS[1:])}"
        )
    sharpness_settings(params)  # strengths, paths, jitters, delta
    validate_paths(params["strengths"], params["num_paths"], num_singular=32)  # 32x32 inputs
    if params["pad_to"] is None and params["dataset"].startswith("mnist"):
        raise ValueError("pad_to=None is not allowed for MNIST: the ConvNet needs 32x32, use 32")
