"""Bad parameters of notebook 04 (decision regions), each applied on top of the ``smoke`` profile.

The smoke profile: mnist5k (200 training, 300 test images, padded to 32 x 32), the small zoo's
MLP, VGG and MLPMixer, teacher VGG, student MLP, an MLP (depth 1) width study, 4 planes of 12 x 12.
"""

from __future__ import annotations

import math

_SMOKE_DATA = {"name": "mnist5k", "train_size": 200, "test_size": 300, "split_seed": 0, "pad_to": 32}
_CIFAR = {"name": "cifar10", "train_size": None, "test_size": None, "split_seed": 0, "pad_to": None}

CASES = [
    # --- the cases of the issue ---------------------------------------------------------------
    ({"optimizer_study": {"SGD": {"name": "lbfgs", "lr": 0.1}}}, "optimizer_study['SGD'].name",
     "one of 'sgd', 'adam', 'adamw', 'sam'"),
    ({"width_optimizer": {"name": "adam", "lr": math.nan}}, "width_optimizer.lr",
     "a finite number in (0, inf)"),
    ({"width_model": {"name": "transformer"}}, "width_model.name",
     "one of 'mlp', 'convnet', 'preact_resnet18', 'vgg'"),
    ({"width_train_size": 0}, "width_train_size", "None or an integer in [1, "),
    ({"triplet_seed": -1}, "triplet_seed", "an integer in [0, "),
    ({"n_triplets": 1e7}, "n_triplets", "an integer in [1, "),
    ({"n_triplets": 10**7}, "n_triplets=10000000", "GiB of memory; this machine has"),
    ({"resolution": 1}, "resolution", "an integer in [2, "),
    ({"seeds": [0]}, "seeds", "a list of 2 to 100 items, all different"),
    ({"teacher": "ResNet18"}, "teacher", "use one of the architectures ['MLP', 'VGG', 'MLPMixer']"),
    ({"students": ["VGG"]}, "students", "use architectures other than the teacher 'VGG'"),
    ({"label_noises": [1.5]}, "label_noises[0]", "a finite number in [0, 1]"),
    ({"widths": []}, "widths", "a list of 1 to 1000 items"),
    ({"zoo_size": "huge"}, "zoo_size", "one of 'small', 'paper'"),
    ({"augment": "mixup"}, "augment", "one of 'none', 'crop_flip'"),
    ({"margin": -0.1}, "margin", "a finite number in [0, inf)"),
    ({"peak_margin": math.nan}, "peak_margin", "a finite number in [0, 1]"),
    ({"width_train_size": 10**7}, "width_train_size",
     "use an integer in [1, 4700] ('mnist5k' has 5,000 images"),
    # --- types: a bool is not an int, a float is not an int, strings and None -----------------
    ({"epochs": True}, "epochs", "an integer in [1, "),
    ({"batch_size": 64.0}, "batch_size", "an integer in [1, "),
    ({"chunk_size": "128"}, "chunk_size", "an integer in [1, "),
    ({"figure_planes": None}, "figure_planes", "an integer in [1, 100]"),
    ({"same_data_order": 1}, "same_data_order", "True or False"),
    ({"width_augment": None}, "width_augment", "one of 'none', 'crop_flip'"),
    ({"widths": [2, 8.0]}, "widths[1]", "an integer in [1, "),
    ({"seeds": [0, True]}, "seeds[1]", "an integer in [0, "),
    # --- nan / inf, ranges --------------------------------------------------------------------
    ({"figure_resolution": math.inf}, "figure_resolution", "an integer in [2, "),
    ({"figure_margin": math.inf}, "figure_margin", "a finite number in [0, inf)"),
    ({"interpolation_tolerance": 1.0}, "interpolation_tolerance", "a finite number in [0, 1)"),
    ({"width_epochs": 0}, "width_epochs", "an integer in [1, "),
    ({"width_batch_size": -64}, "width_batch_size", "an integer in [1, "),
    # --- lists: empty, repeats, unknown members -----------------------------------------------
    ({"students": []}, "students", "a list of at least 1 items"),
    ({"label_noises": [0.0, 0.0]}, "label_noises", "all different"),
    ({"width_seeds": [0, 0]}, "width_seeds", "all different"),
    ({"architectures": ["MLP", "MLP", "VGG"]}, "architectures", "all different"),
    ({"architectures": ["Transformer"]}, "architectures[0]", "one of 'MLP', 'ConvNet'"),
    # --- nested configs -----------------------------------------------------------------------
    ({"optimizer": {"name": "sgd"}}, "optimizer", "required keys: ['name', 'lr']"),
    ({"optimizer": {"name": "sgd", "lr": 0.1, "schedule": "cosine"}}, "optimizer.schedule",
     "one of 'constant', 'multistep'"),
    ({"optimizer": {"name": "adam", "lr": 1e-3, "momentum": 0.9}}, "optimizer.momentum",
     "use momentum only for sgd, or sam with base 'sgd'"),
    ({"optimizer": {"name": "sam", "lr": 0.1, "base": "adam", "momentum": 0.9}},
     "optimizer.momentum", "use momentum only for sgd, or sam with base 'sgd'"),
    ({"optimizer": {"name": "sgd", "lr": 0.1, "rho": 0.05}}, "optimizer.rho",
     "use rho only for sam"),
    ({"optimizer": {"name": "sgd", "lr": 0.1, "momentun": 0.9}}, "optimizer",
     "did you mean 'momentum'?"),
    ({"optimizer_study": {}}, "optimizer_study", "a dict of at least 1 entries"),
    ({"width_optimizer": {"name": "sgd", "lr": 0.1, "momentum": 1.0}}, "width_optimizer.momentum",
     "a finite number in [0, 1)"),
    ({"width_model": {"name": "mlp"}}, "width_model", "required keys: ['name', 'depth']"),
    ({"width_model": {"name": "mlp", "depth": 1, "width": 4}}, "width_model.width",
     "the width study sets it"),
    ({"width_model": {"name": "vgg", "stages": [1, 1, 1]}}, "width_model.stages",
     "a list of 5 to 5 items"),
    ({"data": {"name": "imagenet"}}, "data.name", "one of 'cifar10-or-mnist5k', 'mnist5k', 'digits'"),
    ({"data": {**_SMOKE_DATA, "flatten": True}}, "data", "allowed keys: ['name', 'train_size'"),
    ({"data": {**_SMOKE_DATA, "split_seed": -1}}, "data.split_seed", "an integer in [0, "),
    # --- cross-field rules --------------------------------------------------------------------
    ({"architectures": ["MLP", "WideRN10", "VGG"]}, "architectures",
     "use a list from ['MLP', 'ConvNet', 'ResNet18', 'WideRN'"),
    ({"optimizer_architectures": ["ResNet18"]}, "optimizer_architectures",
     "use a list from ['MLP', 'VGG', 'MLPMixer']"),
    ({"figure_planes": 5}, "figure_planes", "at most n_triplets=4"),
    ({"data": {**_SMOKE_DATA, "pad_to": 20}}, "data.pad_to", "None or an integer in [28, "),
    ({"data": {**_SMOKE_DATA, "pad_to": 30}}, "architectures",
     "use data whose side (pad_to) is a multiple of 4"),
    ({"data": {**_SMOKE_DATA, "pad_to": None}, "width_model": {"name": "convnet"}}, "width_model",
     "use data with pad_to=32"),
    ({"data": {"name": "mnist5k", "test_size": 300}}, "data.train_size=None",
     "use an integer in [1, 4700]"),
    ({"data": {**_SMOKE_DATA, "test_size": 2}}, "data.test_size", "None or an integer in [3, 4999]"),
    ({"data": {**_CIFAR, "train_size": 60_000}}, "data.train_size",
     "None or an integer in [1, 50000]"),
    # --- absurd sizes, refused by the cost checks ---------------------------------------------
    ({"n_triplets": 10**9}, "n_triplets", "GiB of memory"),
    ({"resolution": 100_000}, "resolution=100000", "GiB of memory"),
    ({"figure_resolution": 100_000}, "figure_resolution=100000", "GiB of memory"),
    ({"widths": [100_000], "width_model": {"name": "preact_resnet18"}}, "widths up to 100000",
     "GiB of memory"),
    ({"data": _CIFAR, "width_train_size": None, "width_model": {"name": "preact_resnet18"},
      "widths": [256], "width_epochs": 1_000_000}, "width_epochs=1000000", "FLOP"),
    # --- a misspelled parameter name ----------------------------------------------------------
    ({"architectres": ["MLP"]}, "architectres", "did you mean 'architectures'?"),
]
