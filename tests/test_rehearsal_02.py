"""Notebook 02's rehearsal of its paper profile (docs/rehearsal.md, issue 29): only sizes shrink,
it resolves onto its own run store and stand-in data, and the paper-path bugs it led to stay fixed."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from types import SimpleNamespace

import nbformat
import pytest

from ddlib.core import data
from ddlib.core.paths import REHEARSAL_OUTPUT
from ddlib.studies import rehearsal_values, resolve
from ddlib.studies.convnet_sharpness import experiment, figures
from ddlib.studies.convnet_sharpness.params import PROFILES, REHEARSAL

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "02_convnet_sharpness.ipynb"
SIZES = {"train_size", "test_size", "cifar100_train_size", "cifar100_test_size", "widths",
         "resnet_widths", "epochs", "resnet_epochs", "checkpoints", "sharpness_points",
         "heatmap_points", "num_paths", "num_jitters", "seeds", "allow_download"}


def test_the_rehearsal_shrinks_only_sizes_and_keeps_the_paper_structure():
    paper, rehearsal = PROFILES["paper"], rehearsal_values("02")
    assert set(REHEARSAL) <= SIZES
    assert {k: v for k, v in rehearsal.items() if k not in REHEARSAL} == \
        {k: v for k, v in paper.items() if k not in REHEARSAL}
    for key in ("widths", "resnet_widths"):  # the smallest and the largest model
        assert (min(rehearsal[key]), max(rehearsal[key])) == (min(paper[key]), max(paper[key]))
    assert rehearsal["extra_experiments"] == list(experiment.EXPERIMENTS[1:])
    assert rehearsal["allow_download"] is False
    assert rehearsal["epochs"] > paper["warmup_epochs"]  # the warm-up and the constant rate run


@pytest.fixture
def rehearsal_env(tmp_path, monkeypatch):
    """resolve(rehearse=True) sets os.environ, VERIFY_INTEGRITY and a temporary data folder: all
    are pointed at tmp_path here and restored afterwards."""
    monkeypatch.setenv("DDLIB_RUNS", str(tmp_path / "runs"))
    monkeypatch.setenv("DDLIB_DATA", str(tmp_path / "no-data"))
    monkeypatch.setattr(data, "VERIFY_INTEGRITY", True)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    return tmp_path


def test_the_rehearsal_resolves_onto_its_own_store_and_stand_ins(rehearsal_env):
    params = resolve("02", "paper", rehearse=True)
    assert params.rehearsal and params.profile == REHEARSAL_OUTPUT
    assert Path(os.environ["DDLIB_RUNS"]) == rehearsal_env / "runs" / REHEARSAL_OUTPUT
    assert data.VERIFY_INTEGRITY is False
    for name in ("main", *params["extra_experiments"]):  # every experiment's configs build
        assert experiment.sweep_configs(params, name)
    asymmetric = data.load_data(experiment.data_spec(params, "asymmetric"))
    assert asymmetric.num_classes == 100
    assert len(asymmetric.y_train) == REHEARSAL["cifar100_train_size"]
    assert len(asymmetric.y_test) == REHEARSAL["cifar100_test_size"]
    points = asymmetric.noisy_mask[:REHEARSAL["sharpness_points"]]
    assert points.any() and not points.all()  # the clean / noisy splits have points


def test_the_cifar100_sizes_are_the_whole_splits_in_every_profile_and_checked():
    for profile in PROFILES:
        spec = experiment.data_spec(resolve("02", profile), "cifar100")
        assert (spec["train_size"], spec["test_size"]) == (None, None)
    with pytest.raises(ValueError, match="cifar100_train_size=50001 is not allowed"):
        resolve("02", "smoke", cifar100_train_size=50_001)
    with pytest.raises(ValueError, match="cifar100_test_size=10001 is not allowed"):
        resolve("02", "smoke", cifar100_test_size=10_001)


def test_the_figure_title_of_the_paper_profile_names_all_training_images():
    """Bug: the notebook formatted ``P.train_size`` with ``:,``, which raises for the paper
    profile's None (every training image) after the whole sweep has trained."""
    cell = next(c.source for c in nbformat.read(NOTEBOOK, as_version=4).cells
                if c.source.startswith("DATA = "))
    namespace = {"P": resolve("02", "paper"), "main": SimpleNamespace(dataset="cifar10"),
                 "figures": figures}
    exec(cell.splitlines()[0], namespace)
    assert namespace["DATA"] == "cifar10, all training images, 20% label noise, 3 seeds"
    assert figures.data_title("cifar10", 2000, 0.2, 2) == \
        "cifar10, 2,000 training images, 20% label noise, 2 seeds"
