"""Run store: hashing, atomic writes, corruption detection, resume."""

import json

import pandas as pd
import pytest
import torch

from ddlib.core.store import CorruptRunError, RunStore, atomic_write_bytes, config_hash


def test_hash_ignores_key_order_and_sees_values():
    assert config_hash({"a": 1, "b": [1, 2]}) == config_hash({"b": [1, 2], "a": 1})
    assert config_hash({"a": 1}) != config_hash({"a": 2})


def test_round_trip(tmp_path):
    run = RunStore(tmp_path).run({"kind": "test", "seed": 3})
    assert not run.is_complete()
    state = {"model": {"w": torch.arange(3.0)}}
    run.save_checkpoint(2, state, [{"epoch": 2, "loss": 1.0}], keep=True)
    run.finish([{"epoch": 2, "loss": 1.0}, {"epoch": 4, "loss": 0.5}], {"loss": 0.5}, state)
    again = RunStore(tmp_path).run({"seed": 3, "kind": "test"})
    assert again.is_complete() and again.id == run.id
    assert again.result()["summary"] == {"loss": 0.5} and again.result()["seed"] == 3
    assert "torch" in again.result()["environment"]
    assert list(again.metrics()["loss"]) == [1.0, 0.5]
    assert torch.equal(again.load_checkpoint(2)["w"], torch.arange(3.0))
    assert torch.equal(again.load_checkpoint(None)["w"], torch.arange(3.0))
    assert again.checkpoints() == [2]
    assert json.loads((again.dir / "config.json").read_text()) == {"kind": "test", "seed": 3}


def test_resume_point_and_corruption(tmp_path):
    run = RunStore(tmp_path).run({"kind": "test"})
    assert run.resume_point() is None
    run.save_checkpoint(5, {"model": {"w": torch.ones(2)}}, [{"epoch": 5}], keep=False)
    epoch, state, metrics = run.resume_point()
    assert (
        epoch == 5 and metrics == [{"epoch": 5}] and torch.equal(state["model"]["w"], torch.ones(2))
    )
    data = (run.dir / "resume.pt").read_bytes()
    (run.dir / "resume.pt").write_bytes(data[: len(data) // 2])  # truncated file
    assert run.resume_point() is None
    assert not (run.dir / "resume.pt").exists()


def test_corrupt_final_checkpoint_is_reported(tmp_path):
    run = RunStore(tmp_path).run({"kind": "test"})
    run.finish([], {}, {"model": {"w": torch.ones(2)}})
    (run.dir / "final.pt").write_bytes(b"garbage")
    with pytest.raises(CorruptRunError, match="final.pt"):
        run.load_checkpoint(None)
    (run.dir / "result.json").write_text("{trunc")
    assert not run.is_complete()  # an unreadable result marks the run incomplete


def test_atomic_write_leaves_old_file_when_interrupted(tmp_path, monkeypatch):
    target = tmp_path / "file.json"
    target.write_text("old")

    def fail(*args):
        raise KeyboardInterrupt

    monkeypatch.setattr("os.replace", fail)
    with pytest.raises(KeyboardInterrupt):
        atomic_write_bytes(target, b"new")
    assert target.read_text() == "old"
    assert list(tmp_path.iterdir()) == [target]  # no temporary left behind


def test_cached_derived_table_is_computed_once(tmp_path):
    run = RunStore(tmp_path).run({"kind": "derived"})
    calls = []

    def compute():
        calls.append(1)
        return pd.DataFrame({"x": [1, 2]})

    first = run.cached("metric", compute)
    second = run.cached("metric", compute)
    assert len(calls) == 1 and second["x"].tolist() == first["x"].tolist() == [1, 2]
