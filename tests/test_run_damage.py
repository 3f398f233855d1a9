"""Damaged run files never shrink a result: a finished run whose metrics, result, final weights
or kept checkpoints are truncated, garbage, deleted or altered is detected (one printed line
naming the run and the file) and recomputed to the same weights and metrics."""

from __future__ import annotations

import copy
import json

import pandas as pd
import pytest
import torch

from ddlib.core.store import CorruptRunError, RunStore
from ddlib.training import load_model, train, train_sweep

CONFIG = {
    "kind": "classifier",
    "model": {"name": "mlp", "in_features": 64, "num_classes": 10, "depth": 1, "width": 8},
    "data": {"name": "digits", "train_size": 120, "test_size": 60, "label_noise": 0.1},
    "optimizer": {"name": "sgd", "lr": 0.05, "momentum": 0.9},
    "loss": "ce",
    "epochs": 3,
    "batch_size": 40,
    "seed": 0,
    "data_seed": 0,
    "checkpoint_epochs": [2],
    "eval_epochs": [1, 2, 3],
}
FILES = ("metrics.json", "result.json", "final.pt", "ckpt_2.pt")


def truncate(path):
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def garbage(path):
    path.write_bytes(b"\x00garbage\xff" * 7)


def delete(path):
    path.unlink()


def flip_byte(path):
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x40  # one altered byte in the middle: still a loadable file, mostly
    path.write_bytes(bytes(data))


DAMAGES = {"truncate": truncate, "garbage": garbage, "delete": delete, "flip": flip_byte}


def weights(run):
    return {k: v.clone() for k, v in load_model(run).state_dict().items()}


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    run = train(CONFIG, RunStore(tmp_path_factory.mktemp("reference")), "cpu", False)
    return weights(run), run.metrics(), run.load_checkpoint(2)


@pytest.mark.parametrize("damage", list(DAMAGES))
@pytest.mark.parametrize("name", FILES)
def test_damaged_file_is_detected_and_the_run_recomputed(tmp_path, capsys, reference, name, damage):
    store = RunStore(tmp_path)
    run = train(CONFIG, store, "cpu", False)
    DAMAGES[damage](run.dir / name)
    capsys.readouterr()
    again = train(copy.deepcopy(CONFIG), store, "cpu", False)
    printed = capsys.readouterr().out
    assert f"run {run.id}: {name}" in printed and "recomputing" in printed, printed
    final, metrics, kept = reference
    assert all(torch.equal(final[k], v) for k, v in weights(again).items())
    pd.testing.assert_frame_equal(again.metrics().drop(columns="seconds"),
                                  metrics.drop(columns="seconds"))
    assert all(torch.equal(kept[k], v) for k, v in again.load_checkpoint(2).items())
    assert again.damage() is None


@pytest.mark.parametrize("name", ["metrics.json", "final.pt", "ckpt_2.pt"])
def test_runs_finished_before_checksums_are_checked_by_loading(tmp_path, capsys, reference, name):
    """A run store filled before checksums were recorded: damage is still found by loading the
    files, and a sound run gets its checksums recorded without retraining."""
    store = RunStore(tmp_path)
    run = train(CONFIG, store, "cpu", False)
    result = json.loads((run.dir / "result.json").read_text())
    del result["files"], result["digest"]
    (run.dir / "result.json").write_text(json.dumps(result))
    assert run.damage() is None and "files" in run.result()  # sound: checksums recorded
    (run.dir / "result.json").write_text(json.dumps(result))  # again without checksums
    delete(run.dir / name)
    capsys.readouterr()
    again = train(copy.deepcopy(CONFIG), store, "cpu", False)
    assert f"run {run.id}: {name} (missing" in capsys.readouterr().out
    assert all(torch.equal(reference[0][k], v) for k, v in weights(again).items())


def test_derived_results_are_cleared_with_a_damaged_run(tmp_path):
    store = RunStore(tmp_path)
    run = train(CONFIG, store, "cpu", False)
    run.cached("derived", lambda: pd.DataFrame({"x": [1.0]}))
    (run.dir / "planes_test.pt").write_bytes(b"cached predictions")
    truncate(run.dir / "final.pt")
    train(copy.deepcopy(CONFIG), store, "cpu", False)
    assert not (run.dir / "derived.json").exists() and not (run.dir / "planes_test.pt").exists()


def test_a_sweep_table_never_loses_a_damaged_run(tmp_path, capsys):
    """Three seeds, one run's metrics deleted: the sweep retrains it, and a finished run whose
    metrics are unreadable raises instead of returning an empty table."""
    configs = [dict(copy.deepcopy(CONFIG), seed=seed, data_seed=seed) for seed in range(3)]
    store = RunStore(tmp_path)
    runs = train_sweep(configs, store, "cpu", False)
    (runs[1].dir / "metrics.json").unlink()
    with pytest.raises(CorruptRunError, match="metrics.json"):
        runs[1].metrics()
    capsys.readouterr()
    again = train_sweep(configs, store, "cpu", False)
    assert f"run {runs[1].id}: metrics.json (missing)" in capsys.readouterr().out
    table = pd.concat([run.metrics() for run in again])
    assert len(table) == 3 * len(CONFIG["eval_epochs"])


def test_temporary_files_of_a_killed_writer_are_removed_before_training(tmp_path):
    store = RunStore(tmp_path)
    run = store.run(CONFIG)
    (run.dir / ".final.pt.abc123.tmp").write_bytes(b"half written")
    train(CONFIG, store, "cpu", False)
    assert not list(run.dir.glob("*.tmp")) and run.damage() is None
