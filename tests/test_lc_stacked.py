"""Stacked LC-logged training (``ddlib.training.lc_stacked``) equals training every run alone.

The members differ in seed, data seed, training-set size and label noise (notebook 03's
training-size sweep). Compared in float64 (the MLP's ``dtype``): vmap runs the members' matmuls
as one batched matmul, whose rounding differs in the last bits. An interrupted stacked sweep
resumes bit for bit, stacked or alone.
"""

import json
import time

import pytest
import torch

from ddlib.core.store import RunStore
from ddlib.training import EXAMPLE_CONFIGS, lc_logged, lc_stacked, train_sweep
from ddlib.training.stacked import shape_groups

TOLERANCE = 1e-6


def lc_config(train_size=120, label_noise=0.0, seed=0, data_seed=0, dtype="float64", **changes):
    config = json.loads(json.dumps(EXAMPLE_CONFIGS["lc_training"]))
    config["model"] |= {"in_features": 64, "depth": 2, "width": 16, "dtype": dtype}
    config["data"] = {"name": "digits", "train_size": train_size, "test_size": 100,
                      "label_noise": label_noise, "noise_seed": 0, "normalize": False,
                      "flatten": True}
    config |= {"steps": 30, "batch_size": 40, "log_steps": [0, 5, 12, 30],
               "checkpoint_steps": [12], "seed": seed, "data_seed": data_seed}
    config["lc"] |= {"radii": {"fine": 0.05, "coarse": 0.5}, "num_directions": 4,
                     "points": {"train": 20, "test": 20, "random": 20}}
    return config | changes


def size_sweep(dtype="float64"):
    """Four members of one LC shape group: sizes 60 / 120, true and 50% random labels."""
    return [lc_config(60, 0.0, seed=0, dtype=dtype), lc_config(120, 0.0, seed=1, dtype=dtype),
            lc_config(60, 0.5, seed=2, data_seed=3, dtype=dtype),
            lc_config(120, 0.5, seed=0, data_seed=1, dtype=dtype)]


def assert_close_runs(alone, together, tolerance=TOLERANCE):
    for a, b in zip(alone, together, strict=True):
        assert a.id == b.id
        columns = [c for c in a.metrics().columns if c != "seconds"]
        assert list(b.metrics().columns) == list(a.metrics().columns)
        for column in columns:
            assert b.metrics()[column].tolist() == pytest.approx(
                a.metrics()[column].tolist(), abs=tolerance, rel=tolerance), column
        assert a.checkpoints() == b.checkpoints() == [12]
        for step in (12, None):
            wa, wb = a.load_checkpoint(step), b.load_checkpoint(step)
            for name in wa:
                torch.testing.assert_close(wb[name], wa[name], atol=tolerance, rtol=tolerance,
                                           msg=f"{name} at step {step}")


def test_size_sweep_forms_groups_of_equal_minibatch_size():
    deeper = lc_config(120)
    deeper["model"]["depth"] = 3
    configs = size_sweep() + [lc_config(30), lc_config(30, 0.5), deeper]
    # 30 images: minibatches of 30 (not 40), so a group of their own; depth 3: another shape
    assert shape_groups(configs) == [[0, 1, 2, 3], [4, 5], [6]]


def test_stacked_lc_training_equals_training_alone(tmp_path, monkeypatch):
    configs = size_sweep()
    alone = train_sweep(configs, RunStore(tmp_path / "alone"), "cpu", False, stack="never")
    stacks = []
    stacked_loop = lc_stacked.train_steps_stacked

    def counted(runs, *args):
        stacks.append(len(runs))
        stacked_loop(runs, *args)

    monkeypatch.setattr(lc_stacked, "train_steps_stacked", counted)
    together = train_sweep(configs, RunStore(tmp_path / "together"), "cpu", False, stack="always")
    assert stacks == [4]  # one stacked group of four members
    assert_close_runs(alone, together)
    first, second = (run.load_checkpoint(None) for run in together[:2])
    assert any(not torch.equal(first[k], second[k]) for k in first)  # the members differ
    assert all(run.result()["summary"]["seconds"] > 0 for run in together)


class _Interrupt(Exception):
    pass


def interrupted(store, configs, step=20, saves=None, stack="always"):
    """Train ``configs`` (stacked, or alone) with a resume point after every step, dying after
    ``saves`` members (default: all of them) have saved ``step``."""
    run_type = type(store.run(configs[0]))
    original = run_type.save_checkpoint
    saved = []

    def save_then_die(self, at, state, metrics, keep):
        original(self, at, state, metrics, keep)
        saved.append(at)
        if saved.count(step) == (saves or len(configs)):
            raise _Interrupt

    with pytest.MonkeyPatch.context() as patch, pytest.raises(_Interrupt):
        patch.setattr(lc_stacked, "time", _ClockJumping())
        patch.setattr(lc_logged, "time", _ClockJumping())
        patch.setattr(run_type, "save_checkpoint", save_then_die)
        train_sweep(configs, store, "cpu", False, stack=stack)
    assert not any(store.run(c).is_trained() for c in configs)


def interrupted_at_step_20(store, configs):
    interrupted(store, configs)
    assert all(store.run(c).resume_point()[0] == 20 for c in configs)


def test_interrupted_stacked_lc_sweep_resumes_exactly(tmp_path):
    configs = size_sweep(dtype="float32")
    reference = train_sweep(configs, RunStore(tmp_path / "a"), "cpu", False, stack="always")
    store = RunStore(tmp_path / "b")
    interrupted_at_step_20(store, configs)
    resumed = train_sweep(configs, store, "cpu", False, stack="always")
    for a, b in zip(reference, resumed, strict=True):
        wa, wb = a.load_checkpoint(None), b.load_checkpoint(None)
        assert all(torch.equal(wa[k], wb[k]) for k in wa)
        assert a.metrics().drop(columns="seconds").equals(b.metrics().drop(columns="seconds"))


def test_stacked_lc_resume_point_resumes_alone(tmp_path):
    """A resume point written by a stacked step has the format of one written alone."""
    configs = size_sweep()
    reference = train_sweep(configs, RunStore(tmp_path / "a"), "cpu", False, stack="never")
    store = RunStore(tmp_path / "b")
    interrupted_at_step_20(store, configs)
    assert_close_runs(reference, train_sweep(configs, store, "cpu", False, stack="never"))


def test_members_at_step_0_and_fresh_members_resume(tmp_path):
    """Killed while the step-0 rows are measured: the first member holds a step-0 resume point,
    the others none; they resume in two stacks and still equal training alone."""
    configs = size_sweep()
    reference = train_sweep(configs, RunStore(tmp_path / "a"), "cpu", False, stack="never")
    store = RunStore(tmp_path / "b")
    interrupted(store, configs, step=0, saves=1)
    assert sorted(store.run(c).resume_point() is None for c in configs) == [False, True, True, True]
    assert_close_runs(reference, train_sweep(configs, store, "cpu", False, stack="always"))


def test_runs_interrupted_alone_resume_stacked(tmp_path):
    configs = size_sweep()
    reference = train_sweep(configs, RunStore(tmp_path / "a"), "cpu", False, stack="never")
    store = RunStore(tmp_path / "b")
    interrupted(store, configs[:2], stack="never", saves=1)  # the first run dies at step 20
    assert [store.run(c).resume_point()[0] for c in configs[:1]] == [20]
    assert_close_runs(reference, train_sweep(configs, store, "cpu", False, stack="always"))


def test_whole_split_members_stack():
    configs = [lc_config(None, seed=0), lc_config(None, seed=1), lc_config(120)]
    assert shape_groups(configs) == [[0, 1], [2]]


class _ClockJumping:
    """``time`` stand-in whose monotonic clock advances 100 s per call: a resume point is due
    after every step."""

    perf_counter = staticmethod(time.perf_counter)

    def __init__(self):
        self.now = 0.0

    def monotonic(self):
        self.now += 100.0
        return self.now
