"""LC-logged step training (kind "lc_training"): resumption, store caching, data order, config checks."""

import json

import pytest
import torch

from ddlib.analysis import grokking_timing, lc_phases, log_spaced_steps
from ddlib.core.store import RunStore
from ddlib.training import EXAMPLE_CONFIGS, load_model, train
from ddlib.training.lc_logged import BatchOrder


def _config(**changes):
    config = json.loads(json.dumps(EXAMPLE_CONFIGS["lc_training"]))
    config["model"] |= {"in_features": 64, "depth": 2, "width": 16}
    config["data"] = {
        "name": "digits",
        "train_size": 120,
        "test_size": 100,
        "normalize": False,
        "flatten": True,
    }
    config |= {"steps": 30, "batch_size": 40, "log_steps": [0, 5, 12, 30], "checkpoint_steps": [12]}
    config["lc"] |= {
        "radii": {"fine": 0.05, "coarse": 0.5},
        "num_directions": 4,
        "points": {"train": 20, "test": 20, "random": 20},
    }
    return config | changes


class _Interrupt(Exception):
    pass


def test_resumed_run_equals_uninterrupted(tmp_path):
    config = _config()
    reference = train(config, RunStore(tmp_path / "a"), device="cpu", progress=False)

    def stop_at_12(step, _row):
        if step == 12:
            raise _Interrupt

    store = RunStore(tmp_path / "b")
    with pytest.raises(_Interrupt):
        train(config, store, device="cpu", progress=False, on_log=stop_at_12)
    assert not store.run(config).is_complete()
    resumed = train(config, store, device="cpu", progress=False)
    columns = [c for c in reference.metrics().columns if c != "seconds"]
    assert resumed.metrics()[columns].equals(reference.metrics()[columns])
    for a, b in zip(load_model(reference).parameters(), load_model(resumed).parameters()):
        assert torch.equal(a, b)
    assert resumed.checkpoints() == [12]


def test_metrics_columns_and_cached_reload(tmp_path):
    store = RunStore(tmp_path)
    run = train(_config(), store, device="cpu", progress=False)
    metrics = run.metrics()
    assert metrics["step"].tolist() == [0, 5, 12, 30]
    for role in ("train", "test", "random"):
        for radius in ("fine", "coarse"):
            assert (metrics[f"lc_{role}_{radius}"] >= 0).all()
            layers = metrics[[f"lc_{role}_{radius}_layer{i}" for i in range(2)]].sum(axis=1)
            assert (layers - metrics[f"lc_{role}_{radius}"]).abs().max() < 1e-9
    assert metrics["lc_train_coarse"].iloc[0] > metrics["lc_train_fine"].iloc[0]
    assert 0 <= metrics["test_accuracy"].iloc[-1] <= 1
    mtime = (run.dir / "result.json").stat().st_mtime_ns
    again = train(_config(), store, device="cpu", progress=False)
    assert (again.dir / "result.json").stat().st_mtime_ns == mtime


def test_global_random_state_is_untouched(tmp_path):
    state = torch.get_rng_state()
    train(
        _config(steps=5, log_steps=[0, 5], checkpoint_steps=[]),
        RunStore(tmp_path),
        device="cpu",
        progress=False,
    )
    assert torch.equal(torch.get_rng_state(), state)


def test_batch_order_visits_every_point_once_per_epoch_and_restores():
    order = BatchOrder(10, 4, seed=0)
    first_epoch = torch.cat([order.next(), order.next()])
    assert len(set(first_epoch.tolist())) == 8
    saved = order.state()
    expected = [order.next() for _ in range(3)]
    fresh = BatchOrder(10, 4, seed=0)
    fresh.load(saved)
    assert all(torch.equal(a, fresh.next()) for a in expected)


def test_log_spaced_steps():
    steps = log_spaced_steps(1000, 4)
    assert steps[:2] == [0, 1] and steps[-1] == 1000
    assert steps == sorted(set(steps))
    assert 10 in steps and 100 in steps


@pytest.mark.parametrize(
    ("change", "name"),
    [
        ({"loss": "hinge"}, "loss"),
        ({"steps": 0}, "steps"),
        ({"log_steps": [0, 99]}, "log_steps"),
    ],
)
def test_bad_configs_fail_before_compute(tmp_path, change, name):
    with pytest.raises(ValueError, match=name):
        train(_config(**change), RunStore(tmp_path), device="cpu", progress=False)


def test_lc_phases_rule():
    steps = list(range(0, 1200, 100))
    found = lc_phases(steps, [10, 8, 5, 3, 3, 5, 8, 9, 8, 5, 3, 3], min_change=0.1)
    assert found["three_phases"]
    assert (found["first_min_step"], found["peak_step"], found["final_min_step"]) == (
        300,
        600,
        1000,
    )
    falling = lc_phases(steps, list(range(12, 0, -1)), min_change=0.1)
    assert falling["descent"] and not falling["ascent"] and not falling["three_phases"]
    single_spike = lc_phases(steps, [10, 5, 5, 20, 5, 5, 5, 5, 5, 5, 5, 5], min_change=0.1)
    assert not single_spike["ascent"]  # the running median removes one-point outliers


def test_grokking_timing():
    import pandas as pd


    metrics = pd.DataFrame(
        {
            "step": [0, 10, 100, 1000, 10000],
            "train_accuracy": [0.1, 0.5, 1.0, 1.0, 1.0],
            "test_accuracy": [0.1, 0.2, 0.2, 0.3, 0.8],
            "lc": [5.0, 4.0, 6.0, 5.0, 2.0],
        }
    )
    timing = grokking_timing(metrics, "lc")
    assert timing["saturation_step"] == 100
    assert timing["rise_step"] == 10000  # 0.2 -> 0.8: half of the gain reached only at the end
    assert timing["test_gain"] == pytest.approx(0.6)
    assert timing["lc_at_rise"] == 2.0


def test_time_based_resume_point_between_log_steps(tmp_path, monkeypatch):
    """With resume_every_seconds=0 every step is a resume point; dying at step 20 (no log step)
    and resuming gives the uninterrupted run."""
    config = _config()
    reference = train(config, RunStore(tmp_path / "a"), device="cpu", progress=False)
    store = RunStore(tmp_path / "b")
    original = store.run(config).save_checkpoint.__func__

    def save_then_die(self, step, state, metrics, keep):
        original(self, step, state, metrics, keep)
        if step == 20:
            raise _Interrupt

    monkeypatch.setattr("ddlib.core.store.Run.save_checkpoint", save_then_die)
    with pytest.raises(_Interrupt):
        train(config, store, device="cpu", progress=False, resume_every_seconds=0.0)
    monkeypatch.undo()
    assert store.run(config).resume_point()[0] == 20
    resumed = train(config, store, device="cpu", progress=False)
    for a, b in zip(load_model(reference).parameters(), load_model(resumed).parameters()):
        assert torch.equal(a, b)
