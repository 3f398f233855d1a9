"""Notebook 04's rehearsal (docs/rehearsal.md): the paper profile with only its sizes shrunk, every
architecture of the paper zoo kept at its paper size, and a rehearsal that resolves."""

from __future__ import annotations

import os
from pathlib import Path

import nbformat

from ddlib.core import data
from ddlib.core.paths import REHEARSAL_OUTPUT
from ddlib.studies import rehearsal_values, resolve
from ddlib.studies.decision_regions.params import PAPER_DATASETS, PROFILES, REHEARSAL

ROOT = Path(__file__).resolve().parents[1]
SIZES = {"epochs", "width_epochs", "widths", "n_triplets", "width_n_triplets", "resolution",
         "figure_resolution"}  # what the rehearsal may shrink, besides the data dict's sizes
DATA_SIZES = {"train_size", "test_size", "allow_download"}


def test_rehearsal_shrinks_only_sizes():
    paper, rehearsal = PROFILES["paper"], rehearsal_values("04")
    assert set(REHEARSAL) <= SIZES | {"data"}
    assert rehearsal.keys() == paper.keys()
    assert {k: v for k, v in rehearsal.items() if k not in SIZES | {"data"}} == \
        {k: v for k, v in paper.items() if k not in SIZES | {"data"}}
    assert rehearsal["data"].keys() == paper["data"].keys()
    assert {k: v for k, v in rehearsal["data"].items() if k not in DATA_SIZES} == \
        {k: v for k, v in paper["data"].items() if k not in DATA_SIZES}
    assert rehearsal["data"]["allow_download"] is False


def test_rehearsal_keeps_the_paper_zoo_and_the_ends_of_the_width_grid():
    paper, rehearsal = PROFILES["paper"], rehearsal_values("04")
    assert rehearsal["zoo_size"] == "paper"
    assert rehearsal["architectures"] == paper["architectures"]
    assert min(rehearsal["widths"]) == min(paper["widths"])
    assert max(rehearsal["widths"]) == max(paper["widths"])
    assert set(rehearsal["widths"]) <= set(paper["widths"])
    assert rehearsal["n_triplets"] >= rehearsal["figure_planes"] == paper["figure_planes"]


def test_rehearsal_resolves_into_its_own_store_with_a_cifar10_stand_in(tmp_path, monkeypatch):
    runs, empty = tmp_path / "runs", tmp_path / "no-data"
    empty.mkdir()
    monkeypatch.setenv("DDLIB_RUNS", str(runs))
    monkeypatch.setenv("DDLIB_DATA", str(empty))
    monkeypatch.setattr(data, "VERIFY_INTEGRITY", True)  # resolve turns it off; restored after
    params = resolve("04", "paper", rehearse=True)
    assert params.profile == REHEARSAL_OUTPUT and params.rehearsal
    assert params["architectures"] == PROFILES["paper"]["architectures"]
    assert os.environ["DDLIB_RUNS"] == str(runs / REHEARSAL_OUTPUT)
    assert data.VERIFY_INTEGRITY is False
    assert PAPER_DATASETS == ("cifar10",)
    folder = Path(os.environ["DDLIB_DATA"])
    assert folder.parent == runs / REHEARSAL_OUTPUT / "stand-in-data"  # cleared with its store
    assert (folder / "cifar10" / "cifar-10-batches-py" / "test_batch").is_file()


def test_the_notebook_takes_rehearse_as_a_parameter():
    notebook = nbformat.read(ROOT / "notebooks" / "04_decision_regions.ipynb", as_version=4)
    cell = next(c for c in notebook.cells if "parameters" in c.metadata.get("tags", []))
    assert "rehearse = False" in cell.source
