"""Bad parameters of notebook 03 (local complexity): ``(overrides, parameter, allowed)``.

Each case is applied on top of the ``smoke`` profile (mnist5k, 200 training and 400 test images,
width 32, depth 2, 60 steps, log_per_decade 3, checkpoints_per_decade 1, run_cifar False) and must
be refused while the profile is resolved, with a message containing ``parameter`` and ``allowed``.
"""

NAN, INF = float("nan"), float("inf")

CASES = [
    # cases listed in the issue
    ({"phase_min_change": -1}, "phase_min_change", "a finite number in [0, 1)"),
    ({"phase_min_change": NAN}, "phase_min_change", "a finite number in [0, 1)"),
    ({"grokking_init_scale": 0}, "grokking_init_scale", "a finite number in (0, 1000]"),
    ({"grokking_init_scale": NAN}, "grokking_init_scale", "a finite number in (0, 1000]"),
    ({"train_sizes": [10_000_000]}, "train_sizes[0]", "an integer in [1, 60000]"),
    ({"cifar_steps": 0}, "cifar_steps", "an integer in [1, 1e+07]"),  # checked without run_cifar
    ({"cifar_radius": -1}, "cifar_radius", "a finite number in (0, inf)"),
    ({"cnn_weight_decays": [-0.1]}, "cnn_weight_decays[0]", "a finite number in [0, 10]"),
    ({"cifar_dataset": "imagenet"}, "cifar_dataset", "one of 'cifar10', 'cifar10-jpeg'"),
    ({"steps": 1e12}, "steps", "an integer in [1, 1e+07]"),
    ({"steps": 10**12}, "steps", "an integer in [1, 1e+07]"),
    ({"radii": {"fine": 0}}, "radii", "required keys: ['fine', 'coarse']"),
    ({"radii": {"fine": 0, "coarse": 0.5}}, "radii.fine", "a finite number in (0, 28]"),
    ({"radii": {"fine": 0.1}}, "radii", "required keys: ['fine', 'coarse']"),
    ({"depths": []}, "depths", "a list of 1 to 20 items"),
    ({"dtype": "float16"}, "dtype", "one of 'float32', 'float64'"),
    ({"activation": "tanh"}, "activation", "one of 'relu', 'leaky_relu'"),
    ({"lc_points": 0}, "lc_points", "an integer in [1, 60000]"),
    # gelu builds an MLP, but the notebook's exact partitions refuse it after training
    ({"activation": "gelu"}, "activation", "one of 'relu', 'leaky_relu'"),
    # types: a bool is not an int, a float is not an int, strings and None are not numbers
    ({"width": True}, "width", "an integer in [1, 100000]"),
    ({"depth": 2.0}, "depth", "an integer in [1, 100]"),
    ({"num_directions": "25"}, "num_directions", "an integer in [1, 784]"),
    ({"test_size": None}, "test_size", "an integer in [1, 10000]"),
    ({"checkpoints_per_decade": False}, "checkpoints_per_decade", "an integer in [1, 100]"),
    ({"run_cifar": "yes"}, "run_cifar", "True or False"),
    ({"allow_download": 1}, "allow_download", "True or False"),
    ({"zoom": "0.5"}, "zoom", "a finite number in (0, 28]"),
    ({"widths": 32}, "widths", "a list of 1 to 20 items"),
    ({"radii": [0.05, 0.5]}, "radii", "a dict with keys fine, coarse"),
    # finiteness and ranges
    ({"zoom": INF}, "zoom", "a finite number in (0, 28]"),
    ({"random_label_rate": 0.0}, "random_label_rate", "a finite number in (0, 1]"),
    ({"random_label_rate": 1.5}, "random_label_rate", "a finite number in (0, 1]"),
    ({"radii": {"fine": 0.05, "coarse": INF}}, "radii.coarse", "a finite number in (0, 28]"),
    ({"num_directions": 785}, "num_directions", "an integer in [1, 784]"),  # more than R^784 has
    ({"train_size": 2}, "train_size", "an integer in [3, 60000]"),  # a slice needs 3 classes
    ({"num_slices": 11}, "num_slices", "an integer in [1, 10]"),
    ({"num_slices": 0}, "num_slices", "an integer in [1, 10]"),
    ({"log_per_decade": 0}, "log_per_decade", "an integer in [1, 100]"),
    ({"grokking_steps": -5}, "grokking_steps", "an integer in [1, 1e+07]"),
    ({"grokking_depths": [0]}, "grokking_depths[0]", "an integer in [1, 100]"),
    ({"cifar_train_size": 50_001}, "cifar_train_size", "an integer in [1, 50000]"),
    ({"cnn_width": 0}, "cnn_width", "an integer in [1, 4096]"),
    ({"resnet_width": 10**6}, "resnet_width", "an integer in [1, 4096]"),
    # lists: empty, too long, repeated values (sweeps are dicts keyed by the value)
    ({"widths": []}, "widths", "a list of 1 to 20 items"),
    ({"train_sizes": []}, "train_sizes", "a list of 1 to 20 items"),
    ({"grokking_depths": []}, "grokking_depths", "a list of 1 to 20 items"),
    ({"cnn_weight_decays": []}, "cnn_weight_decays", "a list of 1 to 20 items"),
    ({"depths": list(range(1, 30))}, "depths", "a list of 1 to 20 items"),
    ({"widths": [16, 16]}, "widths", "all different"),
    ({"cnn_weight_decays": [0.0, 0]}, "cnn_weight_decays", "all different"),
    # unknown members and nested-config errors
    ({"dataset": "cifar10"}, "dataset", "one of 'mnist5k', 'mnist'"),  # the MLP has 784 inputs
    ({"cifar_dataset": "cifar100"}, "cifar_dataset", "one of 'cifar10', 'cifar10-jpeg'"),
    ({"radii": {"fine": 0.05, "coarse": 0.5, "medium": 0.1}}, "radii",
     "allowed keys: ['fine', 'coarse']"),
    ({"radii": {"fin": 0.05, "coarse": 0.5}}, "radii", "did you mean 'fine'"),
    # cross-field rules
    ({"radii": {"fine": 0.5, "coarse": 0.05}}, "radii", "a fine radius smaller than the coarse"),
    ({"train_sizes": [4700]}, "train_sizes", "train_size + test_size <= 5000"),  # 4700 + 400
    ({"train_size": 4800}, "train_size", "train_size + test_size <= 5000"),
    ({"test_size": 4900}, "train_size", "train_size + test_size <= 5000"),  # 200 + 4900
    ({"test_size": 6000}, "test_size", "an integer in [1, 4997]"),  # mnist5k has 5,000 images
    ({"dataset": "mnist", "test_size": 10_001}, "test_size", "an integer in [1, 10000]"),
    ({"steps": 2}, "steps", "use at least 3 steps with log_per_decade=3"),  # lc_phases needs 4
    ({"grokking_steps": 2, "log_per_decade": 1}, "grokking_steps", "use at least 11 steps"),
    ({"cifar_steps": 2}, "cifar_steps", "use at least 3 steps with log_per_decade=3"),
    # absurd sizes refused by the cost check
    ({"width": 100_000, "depth": 100}, "width", "GiB of memory; this machine has"),  # ~16 TB
    ({"run_cifar": True, "resnet_width": 4096, "cifar_steps": 10**7}, "resnet_width",
     "FLOP"),  # ~1e23 FLOP
    # misspelled parameter names
    ({"stpes": 100}, "stpes", "did you mean 'steps'"),
    ({"lc_point": 10}, "lc_point", "did you mean 'lc_points'"),
]
