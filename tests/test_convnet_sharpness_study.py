"""Notebook 02's study (ddlib.studies.convnet_sharpness): threshold, clean/noisy split, configs (its claims: test_convnet_sharpness_claims.py)."""

import pandas as pd
import pytest
import torch

from ddlib.core.data import symmetric_label_noise
from ddlib.metrics.sharpness import METRICS
from ddlib.studies import resolve
from ddlib.studies.convnet_sharpness.experiment import (
    sharpness_settings,
    sweep_configs,
    sweep_threshold,
    volume_means,
)
from ddlib.studies.convnet_sharpness.params import PROFILES


def final_table(train, test):
    widths = [1, 2, 3, 4, 6, 8]
    return pd.DataFrame({"width": widths, "seed": 0, "train_error": train, "test_error": test})


def test_sweep_threshold_is_where_the_seed_mean_training_error_reaches_zero_for_good():
    final = final_table([0.3, 0.0, 0.1, 0.0, 0.0, 0.004], [0] * 6)
    assert sweep_threshold(final, tolerance=0.005) == 4
    assert sweep_threshold(final_table([0.3] * 6, [0] * 6), 0.005) is None
    two_seeds = pd.concat([final_table([0.3, 0.0, 0.0, 0.0, 0.0, 0.0], [0] * 6),
                           final_table([0.3, 0.2, 0.0, 0.0, 0.0, 0.0], [0] * 6).assign(seed=1)])
    assert sweep_threshold(two_seeds, tolerance=0.005) == 3  # width 2 fits on average only 0.1


def test_clean_noisy_split_matches_the_label_noise_indices():
    labels = torch.arange(50) % 10
    _, noisy = symmetric_label_noise(labels, 0.2, 10, seed=3)
    points = torch.arange(50).repeat(2)
    table = pd.DataFrame(
        {"point": points.numpy(), "noisy": noisy[points].numpy(), "volume": [0] * 50 + [1] * 50}
    )
    for metric in METRICS:
        table[metric] = points.double().numpy()
    means = volume_means(table).set_index(["subset", "volume"])
    assert means.loc[("noisy", 1), "jacobian_norm"] == pytest.approx(
        torch.nonzero(noisy).double().mean().item()
    )
    assert means.loc[("clean", 0), "accuracy"] == pytest.approx(
        torch.nonzero(~noisy).double().mean().item()
    )
    assert int(noisy.sum()) == 10


def test_profiles_share_keys_and_smoke_configs_cover_widths_and_seeds():
    assert PROFILES["smoke"].keys() == PROFILES["laptop"].keys() == PROFILES["paper"].keys()
    params = resolve("02", "smoke")
    configs = sweep_configs(params)
    assert len(configs) == len(params.widths) * len(params.seeds)
    first = configs[0]
    assert first["model"] == {
        "name": "convnet",
        "width": 1,
        "in_channels": 1,
        "num_classes": 10,
        "batch_norm": False,
    }
    assert first["optimizer"]["weight_decay"] == 0.0 and first["augment"] == "none"
    assert first["checkpoint_epochs"][-1] == params.epochs
    assert sharpness_settings(params).strengths == tuple(params.strengths)


@pytest.mark.parametrize(
    "override",
    [
        {"widths": [0, 2]},
        {"hessian_divisor": "exact"},
        {"extra_experiments": ["imagenet"]},
        {"strengths": [5, 40]},
        {"label_noise": 1.5},
    ],
)
def test_bad_parameters_fail_before_compute(override):
    name = next(iter(override))
    with pytest.raises(ValueError, match=name):
        resolve("02", "smoke", **override)
