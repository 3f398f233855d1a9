"""Run-store ids must survive the reorganisation: a store filled before it is reused as it is.

A run's id is ``ddlib.core.store.config_hash(config)``, so every config the notebooks build must
hash exactly as before. The literals below were computed once with the pre-refactor code
(``ddlib.width_sweep.sweep_configs``, ``ddlib.region_study.*_configs``,
``ddlib.grokking.mlp_config`` / ``image_config`` as called by the old notebooks, profiles from
``ddlib.profiles``); this test rebuilds the same configs with the new study modules and compares.

Besides single configs (``.../first``, ``.../last``, ``.../main``, ``.../cifar/CNN``), each sweep
is pinned by a digest over all of its configs in order: the first 16 hex digits of the SHA-256 of
the lines ``repr(key)=config_hash(config)`` (the key is the list index for lists). Everything is
built from profiles alone: no training, no dataset download. Notebook 04's zoo is built for the
shapes its data loads as (mnist5k padded to 32: 1 x 32 x 32, 10 classes; cifar10: 3 x 32 x 32).

Deliberate changes of a profile's settings since then (the fidelity issue's laptop settings)
change the ids of the runs they touch; those entries carry the new value and a comment saying why.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any

import pytest

from ddlib.core.store import config_hash
from ddlib.models.zoo import zoo_specs
from ddlib.studies import resolve
from ddlib.studies.convnet_sharpness import experiment as convnet_sharpness
from ddlib.studies.decision_regions import experiment as decision_regions
from ddlib.studies.local_complexity import experiment as local_complexity

PROFILES = ("smoke", "laptop", "paper")

# Computed with the pre-refactor tree (PYTHONPATH=<old checkout>); do not regenerate them from
# the new code: that would defeat the test.
PINNED: dict[str, str] = {
    # notebook 02: ddlib.width_sweep.sweep_configs(resolve("02", profile), experiment)
    "02/smoke/main": "beca4745d4a8756b",
    "02/smoke/main/first": "c294a411366f8efc",
    "02/smoke/main/last": "86f3bddb7e5a2763",
    "02/smoke/cifar100": "186f2cd9c6f42c26",
    "02/smoke/resnet18": "fe3803d0411e5262",
    "02/smoke/asymmetric": "e60d591259b0445b",
    "02/smoke/random_labels": "e4c48931130274c9",
    "02/laptop/main": "23414dfecec6e855",  # issue 10 laptop (2,000 images, test 2,000, widths 1..12, 120 epochs, 2 seeds; offline fallback mnist5k)
    "02/laptop/main/first": "e689725c821e48d4",  # issue 10 laptop (2,000 images, test 2,000, widths 1..12, 120 epochs, 2 seeds; offline fallback mnist5k)
    "02/laptop/main/last": "13412a798527bbb8",  # issue 10 laptop (2,000 images, test 2,000, widths 1..12, 120 epochs, 2 seeds; offline fallback mnist5k)
    "02/laptop/cifar100": "8b21544ed421f074",  # issue 10 laptop (2,000 images, test 2,000, widths 1..12, 120 epochs, 2 seeds; offline fallback mnist5k)
    "02/laptop/resnet18": "ecc722fab83e7440",  # issue 10 laptop (2,000 images, test 2,000, widths 1..12, 120 epochs, 2 seeds; offline fallback mnist5k)
    "02/laptop/asymmetric": "86d15842b3f57e21",  # issue 10 laptop (2,000 images, test 2,000, widths 1..12, 120 epochs, 2 seeds; offline fallback mnist5k)
    "02/laptop/random_labels": "e050c5075fd11545",  # issue 10 laptop (2,000 images, test 2,000, widths 1..12, 120 epochs, 2 seeds; offline fallback mnist5k)
    "02/paper/main": "14b0062b417069ae",
    "02/paper/main/first": "bf0e1ebd4db0f519",
    "02/paper/main/last": "f8e655adb0a67946",
    "02/paper/cifar100": "3d83d39ebf6fa86d",
    "02/paper/resnet18": "30bfd6888bcc8373",
    "02/paper/asymmetric": "2097c52d37066ba2",
    "02/paper/random_labels": "687e640d8f81ef10",
    # notebook 04: ddlib.region_study.{architecture,optimizer,distillation,width}_configs
    "04/smoke/architecture": "d9cda358fc94c487",
    "04/smoke/architecture/first": "6ef67880bb8b5f33",
    "04/smoke/optimizer": "40df255e10688f42",
    "04/smoke/optimizer/first": "6ef67880bb8b5f33",
    "04/smoke/distillation": "14cbaf3b985e2e22",
    "04/smoke/distillation/first": "230cff3e661bef8a",
    "04/smoke/width": "165d05943401f287",
    "04/smoke/width/first": "d9ba93b8c33678e7",
    "04/laptop/architecture": "dcbfb896a882a03b",  # issue 10 laptop (test_size 2,000; width study: 3 seeds; offline fallback mnist5k)
    "04/laptop/architecture/first": "b7b5b1a0f9bcb7d5",  # issue 10 laptop (test_size 2,000; width study: 3 seeds; offline fallback mnist5k)
    "04/laptop/optimizer": "01686d057dabd504",  # issue 10 laptop (test_size 2,000; width study: 3 seeds; offline fallback mnist5k)
    "04/laptop/optimizer/first": "78f4cbaa2092430b",  # issue 10 laptop (test_size 2,000; width study: 3 seeds; offline fallback mnist5k)
    "04/laptop/distillation": "319d29bab5f9c366",  # issue 10 laptop (test_size 2,000; width study: 3 seeds; offline fallback mnist5k)
    "04/laptop/distillation/first": "16fbbce5bdb85596",  # issue 10 laptop (test_size 2,000; width study: 3 seeds; offline fallback mnist5k)
    "04/laptop/width": "09b32077d2f9221b",  # issue 10 laptop (width study: 20% label noise only, 3 seeds; each noisy run keeps its id)
    "04/laptop/width/first": "3baa59fda7236084",  # issue 10 laptop (width study: 20% label noise only, 3 seeds; each noisy run keeps its id)
    "04/paper/architecture": "9d441d8edd9ae4c3",
    "04/paper/architecture/first": "2e725cc2ca9dc310",
    "04/paper/optimizer": "041bd959b51a4f2f",
    "04/paper/optimizer/first": "de64b8132b136bd9",
    "04/paper/distillation": "cc88760df15de7e3",
    "04/paper/distillation/first": "4aef81c4563523a6",
    "04/paper/width": "948c4168513a5ebc",
    "04/paper/width/first": "8ddb016fc8a1e64a",
    # notebook 03: the old notebook's config(**changes) -> ddlib.grokking.mlp_config, and its
    # image_run(...) -> ddlib.grokking.image_config for the CIFAR-10 runs
    "03/smoke/main": "a58d105c2819b5a0",
    "03/smoke/depths": "ca69c81125ad4665",
    "03/smoke/widths": "20a8d50ab61d1fe8",
    "03/smoke/train_sizes": "85dac0d05b80fbdb",
    "03/smoke/grokking": "b0f411c27660cda6",
    "03/smoke/cifar": "bbbbdce139fa76be",
    "03/smoke/cifar/CNN": "894351de326bdfe0",
    "03/laptop/main": "7849ebdbff825fda",  # since issue 10: 100,000 steps (was 4,000)
    "03/laptop/depths": "9d75b3bf780ad8f1",
    "03/laptop/widths": "cdb4e15f5e19e4f7",
    "03/laptop/train_sizes": "db48f0b88a75873a",
    "03/laptop/grokking": "fec769f3d0372874",
    "03/laptop/cifar": "c2f5c0cd45b9e903",
    "03/laptop/cifar/CNN": "282df6084ee3dd6b",
    "03/paper/main": "a74d38f52e8a12ed",
    "03/paper/depths": "d5544faad7609bd9",
    "03/paper/widths": "25b35496056a6134",
    "03/paper/train_sizes": "ee5e5777df4a31ed",
    "03/paper/grokking": "883ad41b15f4caf0",
    "03/paper/cifar": "9873aad8a67b3677",
    "03/paper/cifar/CNN": "c7fda13aaad1aae6",
}

# Canonical JSON of a fixed mapping (sorted keys, compact separators, tuples as lists, unicode
# escaped) under the pre-refactor ddlib.store.config_hash.
CANONICAL_EXAMPLE = {"b": [1, 2.5, None], "a": {"z": "x", "y": True}, "c": (3, "é")}
CANONICAL_EXAMPLE_HASH = "4054b00d097beb05"

# (in_channels, image_size, num_classes) of the datasets notebook 04 loads, as they load.
IMAGE_SHAPES = {"mnist5k": (1, 32, 10), "cifar10": (3, 32, 10), "cifar10-jpeg": (3, 32, 10)}


def digest(configs: Sequence[Mapping[str, Any]] | Mapping[Any, Mapping[str, Any]]) -> str:
    """One fingerprint of a whole sweep: keys, order and every config's hash."""
    items = configs.items() if isinstance(configs, Mapping) else enumerate(configs)
    text = "\n".join(f"{key!r}={config_hash(config)}" for key, config in items)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _first(configs: Mapping[Any, Mapping[str, Any]]) -> Mapping[str, Any]:
    return next(iter(configs.values()))


def notebook02(profile: str) -> tuple[dict[str, str], list[Mapping[str, Any]]]:
    params = resolve("02", profile)
    hashes, built = {}, []
    for experiment in convnet_sharpness.EXPERIMENTS:
        configs = convnet_sharpness.sweep_configs(params, experiment)
        hashes[f"02/{profile}/{experiment}"] = digest(configs)
        built.extend(configs)
        if experiment == "main":
            hashes[f"02/{profile}/main/first"] = config_hash(configs[0])
            hashes[f"02/{profile}/main/last"] = config_hash(configs[-1])
    return hashes, built


def notebook04(profile: str) -> tuple[dict[str, str], list[Mapping[str, Any]]]:
    params = resolve("04", profile)
    in_channels, image_size, num_classes = IMAGE_SHAPES[params["data"]["name"]]
    specs = zoo_specs(
        params["zoo_size"], in_channels=in_channels, image_size=image_size, num_classes=num_classes
    )
    studies = {
        "architecture": decision_regions.architecture_configs(params, specs),
        "optimizer": decision_regions.optimizer_configs(params, specs),
        "distillation": decision_regions.distillation_configs(params, specs),
        "width": decision_regions.width_configs(
            params, in_channels=in_channels, image_size=image_size, num_classes=num_classes
        ),
    }
    hashes, built = {}, []
    for name, configs in studies.items():
        hashes[f"04/{profile}/{name}"] = digest(configs)
        hashes[f"04/{profile}/{name}/first"] = config_hash(_first(configs))
        built.extend(configs.values())
    return hashes, built


def notebook03(profile: str) -> tuple[dict[str, str], list[Mapping[str, Any]]]:
    params = resolve("03", profile)
    main_config = local_complexity.main_config
    sweeps = {
        "depths": [local_complexity.sweep_config(params, depth=d) for d in params["depths"]],
        "widths": [local_complexity.sweep_config(params, width=w) for w in params["widths"]],
        "train_sizes": [
            local_complexity.sweep_config(params, train_size=size, label_noise=rate)
            for rate in (0.0, params["random_label_rate"])
            for size in params["train_sizes"]
        ],
        "grokking": [
            main_config(
                params,
                depth=d,
                init_scale=params["grokking_init_scale"],
                steps=params["grokking_steps"],
            )
            for d in params["grokking_depths"]
        ],
    }
    cifar = local_complexity.cifar_configs(params)
    main = main_config(params)
    hashes = {
        f"03/{profile}/main": config_hash(main),
        **{f"03/{profile}/{name}": digest(configs) for name, configs in sweeps.items()},
        f"03/{profile}/cifar": digest(cifar),
        f"03/{profile}/cifar/CNN": config_hash(cifar["CNN"]),
    }
    built = [main, *cifar.values()] + [c for configs in sweeps.values() for c in configs]
    return hashes, built


BUILDERS = {"02": notebook02, "03": notebook03, "04": notebook04}


@pytest.fixture(autouse=True)
def _no_cifar10(tmp_path, monkeypatch) -> None:
    """An empty data folder: the laptop profiles' ``cifar10-or-mnist5k`` becomes mnist5k, whatever
    this machine's data/ holds, so the ids below do not depend on it."""
    monkeypatch.setenv("DDLIB_DATA", str(tmp_path))


def test_config_hash_is_the_pre_refactor_canonical_json_hash() -> None:
    assert config_hash(CANONICAL_EXAMPLE) == CANONICAL_EXAMPLE_HASH
    assert config_hash(dict(reversed(list(CANONICAL_EXAMPLE.items())))) == CANONICAL_EXAMPLE_HASH


def test_every_pinned_value_is_checked() -> None:
    """Every (notebook, profile) has pinned values, and each is a 16-hex-digit run id."""
    covered = {tuple(key.split("/")[:2]) for key in PINNED}
    assert covered == {(nb, profile) for nb in BUILDERS for profile in PROFILES}
    assert all(len(v) == 16 and set(v) <= set("0123456789abcdef") for v in PINNED.values())


@pytest.mark.parametrize("profile", PROFILES)
@pytest.mark.parametrize("notebook", sorted(BUILDERS))
def test_run_ids_match_the_pre_refactor_code(notebook: str, profile: str) -> None:
    hashes, _ = BUILDERS[notebook](profile)
    pinned = {k: v for k, v in PINNED.items() if k.startswith(f"{notebook}/{profile}/")}
    assert set(hashes) == set(pinned), (
        f"built {sorted(set(hashes) - set(pinned))}, pinned but not built "
        f"{sorted(set(pinned) - set(hashes))}"
    )
    changed = [
        f"{k}: pinned {pinned[k]}, now {hashes[k]}"
        for k in sorted(pinned)
        if hashes[k] != pinned[k]
    ]
    assert not changed, (
        "run ids changed since the reorganisation; an existing run store would not be reused:\n  "
        + "\n  ".join(changed)
    )


@pytest.mark.parametrize("profile", PROFILES)
@pytest.mark.parametrize("notebook", sorted(BUILDERS))
def test_configs_name_no_ddlib_module(notebook: str, profile: str) -> None:
    _, built = BUILDERS[notebook](profile)
    assert built
    leaking = [json.dumps(c, sort_keys=True, default=str) for c in built]
    leaking = [text[:200] for text in leaking if "ddlib" in text]
    assert not leaking, f"configs that name a ddlib module path (they enter the hash): {leaking}"


# The ids of the laptop runs on CIFAR-10's JPEG copy (what a machine with data/cifar10-jpeg
# trains; computed when the laptop profiles moved to CIFAR-10, and matching the run store of the
# measured cold run).
PINNED_CIFAR10_JPEG = {
    "02/laptop/main": "d43dfc09804c7ff5",
    "02/laptop/main/first": "2bafcdc19d955ca0",
    "02/laptop/main/last": "b0ea5edb292a0eee",
    "04/laptop/architecture": "c2483e96bee09872",
    "04/laptop/architecture/first": "f090c57efa56276a",
    "04/laptop/distillation": "3bffd7c3fbed2f20",
    "04/laptop/optimizer": "eba9e0fc5635baef",
    "04/laptop/width": "83a8b7029b710f1a",  # 20% label noise only (each noisy run keeps its id)
    "04/laptop/width/first": "e7b0b58f9f4c9e00",  # the first noisy run, trained in the cold run
}


@pytest.mark.parametrize("notebook", ["02", "04"])
def test_laptop_run_ids_on_the_cifar10_jpeg_copy(notebook, tmp_path) -> None:
    from tests.test_data_sources import write_jpeg_folder

    write_jpeg_folder(tmp_path / "cifar10-jpeg")  # DDLIB_DATA is tmp_path (autouse fixture)
    hashes, _ = BUILDERS[notebook]("laptop")
    pinned = {k: v for k, v in PINNED_CIFAR10_JPEG.items() if k.startswith(f"{notebook}/")}
    assert {k: hashes[k] for k in pinned} == pinned
