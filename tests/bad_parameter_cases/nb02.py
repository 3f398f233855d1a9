"""Bad parameters of notebook 02 (ConvNet width sweep, sharpness), each on top of ``smoke``.

``(overrides, parameter named in the message, fragment saying what is allowed)``.
"""

from __future__ import annotations

import math

CASES = [
    # types: a bool is not an int, a float is not one, strings and None are not numbers
    ({"epochs": True}, "epochs", "an integer in [1, 100000]"),
    ({"epochs": 4.0}, "epochs", "an integer in [1"),
    ({"batch_size": "128"}, "batch_size", "an integer in [1"),
    ({"lr": None}, "lr", "a finite number in (0, 10]"),
    ({"widths": [1e9]}, "widths[0]", "an integer in [1"),
    ({"widths": [1, True]}, "widths[1]", "an integer in [1"),
    ({"widths": 4}, "widths", "a list of 1 to 1024 items"),
    ({"clamp_anchors": 1}, "clamp_anchors", "True or False"),
    ({"allow_download": "no"}, "allow_download", "True or False"),
    # nan / inf
    ({"lr": math.inf}, "lr", "a finite number in (0, 10]"),
    ({"jitter_strength": math.nan}, "jitter_strength", "a finite number in (0, 1)"),
    ({"interpolation_tolerance": math.nan}, "interpolation_tolerance",
     "a finite number in [0, 1)"),
    ({"peak_margin": math.nan}, "peak_margin", "a finite number in [0, 1)"),
    ({"hessian_delta": math.inf}, "hessian_delta", "a finite number in (0, inf)"),
    # negative, zero, out of range
    ({"warmup_epochs": -3}, "warmup_epochs", "an integer in [0, 100000]"),
    ({"jitter_strength": -1}, "jitter_strength", "a finite number in (0, 1)"),
    ({"jitter_strength": 0}, "jitter_strength", "a finite number in (0, 1)"),
    ({"interpolation_tolerance": -0.5}, "interpolation_tolerance", "a finite number in [0, 1)"),
    ({"momentum": -5}, "momentum", "a finite number in [0, 1)"),
    ({"momentum": 1.0}, "momentum", "a finite number in [0, 1)"),
    ({"resnet_lr": -1}, "resnet_lr", "a finite number in (0, 10]"),
    ({"seeds": [-1]}, "seeds[0]", "an integer in [0"),
    ({"label_noise": 1.5}, "label_noise", "a finite number in [0, 1]"),
    ({"checkpoints": 0}, "checkpoints", "an integer in [1, 1000]"),
    ({"hessian_delta": 0}, "hessian_delta", "a finite number in (0, inf)"),
    ({"num_jitters": 0}, "num_jitters", "an integer in [1, 1000]"),
    ({"sharpness_batch": -256}, "sharpness_batch", "an integer in [1"),
    ({"train_size": 0}, "train_size", "an integer in [1, inf)"),
    ({"pad_to": 64}, "pad_to", "one of 32"),
    ({"epochs": 10**9}, "epochs", "an integer in [1, 100000]"),
    # empty lists, repeats, unknown members
    ({"strengths": []}, "strengths", "a list of 1 to 32 items"),
    ({"widths": []}, "widths", "a list of 1 to 1024 items"),
    ({"seeds": [0, 0]}, "seeds", "all different"),
    ({"extra_experiments": ["imagenet"]}, "extra_experiments[0]",
     "one of 'cifar100', 'resnet18', 'asymmetric', 'random_labels'"),
    ({"dataset": "imagenet"}, "dataset", "one of 'cifar10-or-mnist5k', 'mnist5k'"),
    ({"dataset": "cifar-10"}, "dataset", "did you mean 'cifar10'?"),
    ({"optimizer": "rmsprop"}, "optimizer", "one of 'sgd', 'adam'"),
    ({"hessian_divisor": "exact"}, "hessian_divisor", "one of 'fixed', 'step'"),
    # cross-field rules
    ({"train_size": 10**7}, "train_size", "use None or an integer in [1, 4999]"),
    ({"dataset": "cifar10", "train_size": 60_000, "pad_to": None}, "train_size",
     "use None or an integer in [1, 50000]"),
    ({"test_size": 4_900}, "test_size", "use None or an integer in [1, 4800]"),
    ({"pad_to": None}, "pad_to", "the ConvNet needs 32x32 inputs; use 32"),
    ({"warmup_epochs": 5}, "warmup_epochs", "use an integer in [0, 4]"),
    ({"sharpness_points": 201}, "sharpness_points", "use an integer in [1, 200]"),
    ({"heatmap_points": 1000}, "heatmap_points", "use an integer in [1, 200]"),
    ({"strengths": [24, 20]}, "strengths", "use increasing positive integers"),
    ({"strengths": [20, 32]}, "strengths", "lower max(strengths) or num_paths"),
    # absurd sizes: refused by the cost check with the estimate and the limit
    ({"widths": [10**6]}, "widths", "GiB of memory; this machine has"),
    ({"widths": [64], "batch_size": 100_000}, "batch_size", "GiB of memory; this machine has"),
    ({"dataset": "mnist", "train_size": None, "test_size": None, "widths": list(range(1, 65)),
      "seeds": list(range(100)), "epochs": 100_000}, "epochs", "FLOP"),
    # misspelled parameter names ("widht" is refused as a keyword but, with a difflib ratio of
    # 0.73 < 0.8 to "widths", not from a notebook's namespace: see ddlib.studies.injected_names)
    ({"widts": [1, 2]}, "widts", "did you mean 'widths'?"),
    ({"epoch": 3}, "epoch", "did you mean 'epochs'?"),
]
