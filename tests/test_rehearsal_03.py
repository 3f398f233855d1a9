"""Notebook 03's rehearsal of its paper profile (docs/rehearsal.md): only sizes shrink, every run
structure of the paper profile stays, and the rehearsal resolves onto stand-ins that its loaders
read."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from ddlib.core import data, paths
from ddlib.core.standins import STANDIN_TEST, STANDIN_TRAIN
from ddlib.studies import rehearsal_values, resolve
from ddlib.studies.local_complexity import experiment
from ddlib.studies.local_complexity.params import PAPER_DATASETS, PROFILES, REHEARSAL
from ddlib.training import training_data

PAPER = PROFILES["paper"]
SIZES = {  # the parameters a rehearsal may shrink: numbers of steps, points, images and widths
    "steps", "sweep_steps", "grokking_steps", "cifar_steps", "log_per_decade",
    "checkpoints_per_decade", "test_size", "lc_points", "num_directions", "depths", "widths",
    "train_sizes", "grokking_depths", "cifar_train_size", "cnn_width", "resnet_width",
}
SWEEPS = ("depths", "widths", "grokking_depths")  # keep their smallest and largest setting


def structure(config: Mapping[str, Any]) -> tuple:
    """What a run is, apart from its sizes: dataset, architecture, precision, loss, optimiser,
    labels, initialisation and where LC is measured."""
    model, lc = config["model"], config["lc"]
    return (config["data"]["name"], config["data"]["label_noise"], config["data"]["normalize"],
            model["name"], model.get("batch_norm"), model.get("activation"), model.get("dtype"),
            model.get("init_scale"), config["loss"], config["optimizer"]["weight_decay"],
            lc["layers"], tuple(sorted(lc["radii"].items())))


def test_rehearsal_shrinks_only_sizes_and_keeps_every_other_paper_value(capsys):
    values = rehearsal_values("03")
    assert set(REHEARSAL) - {"allow_download"} <= SIZES
    assert values["allow_download"] is False
    assert {k: v for k, v in values.items() if k not in REHEARSAL} == \
        {k: v for k, v in PAPER.items() if k not in REHEARSAL}
    for name in SWEEPS:
        assert (min(values[name]), max(values[name])) == (min(PAPER[name]), max(PAPER[name]))
    assert "shrunk" in capsys.readouterr().out


def test_rehearsal_sizes_fit_in_the_stand_ins():
    values = rehearsal_values("03")
    assert {PAPER["dataset"], PAPER["cifar_dataset"]} <= set(PAPER_DATASETS)
    assert max(values["train_sizes"]) <= STANDIN_TRAIN and values["train_size"] <= STANDIN_TRAIN
    assert values["cifar_train_size"] <= STANDIN_TRAIN and values["test_size"] <= STANDIN_TEST


def test_rehearsal_trains_every_run_structure_of_the_paper_profile():
    paper = {structure(c) for c in experiment.training_configs(PAPER)}
    rehearsal = {structure(c) for c in experiment.training_configs(rehearsal_values("03"))}
    assert rehearsal == paper
    assert {"convnet", "preact_resnet18", "mlp"} == {s[3] for s in paper}


def test_rehearsal_resolves_onto_stand_ins_that_the_loaders_read(tmp_path, monkeypatch):
    monkeypatch.setenv("DDLIB_RUNS", str(tmp_path / "runs"))
    monkeypatch.setenv("DDLIB_DATA", str(tmp_path / "no-data"))  # nothing on disk
    monkeypatch.setattr(data, "VERIFY_INTEGRITY", True)  # resolve turns it off: restored after
    params = resolve("03", "paper", rehearse=True)
    assert params.rehearsal and params.profile == paths.REHEARSAL_OUTPUT
    assert paths.runs_root() == tmp_path / "runs" / paths.REHEARSAL_OUTPUT
    assert paths.data_root() != tmp_path / "no-data" and data.VERIFY_INTEGRITY is False
    mnist = training_data(experiment.main_config(params))
    assert tuple(mnist.x_train.shape) == (params["train_size"], 784)
    assert len(mnist.x_test) == params["test_size"]
    cifar = training_data(experiment.cifar_configs(params)["ResNet18 + BN"])
    assert tuple(cifar.x_train.shape) == (params["cifar_train_size"], 3, 32, 32)
    assert (len(cifar.x_test), cifar.num_classes) == (STANDIN_TEST, 10)


def test_rehearsal_is_refused_with_the_laptop_profile():
    with pytest.raises(ValueError, match="rehearses the paper profile"):
        resolve("03", "laptop", rehearse=True)
