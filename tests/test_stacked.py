"""Stacked training (``ddlib.training.stacked``) equals training every run alone.

Every case trains the same configs twice, one run after another (``stack="never"``) and as one
stacked ensemble (``stack="always"``), and requires the same logged losses and weights at every
kept checkpoint to 1e-6. The comparison runs in float64 (models and images): vmap runs the members'
convolutions as one grouped convolution, whose summation order differs in the last bits, and in
float32 Adam amplifies those bits to about 1e-4 relative within ten steps. Interrupted stacked runs
resume exactly (bit for bit, in float32).
"""

import copy
import dataclasses

import pytest
import torch

from ddlib.core import data as data_module
from ddlib.core.store import RunStore
from ddlib.training import run_inputs, stacked, train_sweep
from ddlib.training.classifier import make_optimizer
from ddlib.training.run_inputs import seeded_model

CONVNET = {"name": "convnet", "width": 2, "in_channels": 1, "num_classes": 10}
RESNET_BN = {"name": "preact_resnet18", "width": 2, "in_channels": 1, "num_classes": 10,
             "batch_norm": True}
BASE = {
    "kind": "classifier",
    "model": CONVNET,
    "data": {"name": "mnist5k", "train_size": 96, "test_size": 64, "label_noise": 0.2,
             "pad_to": 32},
    "optimizer": {"name": "adam", "lr": 0.01},
    "loss": "ce",
    "epochs": 3,
    "batch_size": 40,  # 96 images: the last batch of every epoch is short
    "seed": 0,
    "data_seed": 0,
    "checkpoint_epochs": [2],
    "eval_epochs": [1, 2, 3],
}
TOLERANCE = 1e-6


def members(seeds=(0, 1, 2), data_seeds=None, **changes):
    configs = []
    for index, seed in enumerate(seeds):
        config = copy.deepcopy(BASE) | copy.deepcopy(changes)
        config["seed"] = seed
        config["data_seed"] = data_seeds[index] if data_seeds else 0
        configs.append(config)
    return configs


def assert_close_runs(alone, together):
    for a, b in zip(alone, together, strict=True):
        assert a.id == b.id
        for column in ("train_loss", "test_loss", "train_error", "test_error"):
            assert a.metrics()[column].tolist() == pytest.approx(
                b.metrics()[column].tolist(), abs=TOLERANCE, rel=TOLERANCE), column
        for epoch in (*a.checkpoints(), None):
            wa, wb = a.load_checkpoint(epoch), b.load_checkpoint(epoch)
            assert wa.keys() == wb.keys()
            for name in wa:
                torch.testing.assert_close(wb[name], wa[name], atol=TOLERANCE, rtol=TOLERANCE,
                                           msg=f"{name} at checkpoint {epoch}")


@pytest.fixture
def float64(monkeypatch):
    """Models built in float64 and images loaded in float64, for the whole test."""
    load = run_inputs.load_data

    def load_in_float64(spec):
        data = load(spec)
        return dataclasses.replace(data, x_train=data.x_train.double(),
                                   x_test=data.x_test.double())

    monkeypatch.setattr(run_inputs, "load_data", load_in_float64)
    default = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(default)
    data_module._load_data_json.cache_clear()  # splits loaded meanwhile hold float64 tensors


def train_both_ways(tmp_path, configs):
    alone = train_sweep(configs, RunStore(tmp_path / "alone"), "cpu", False, stack="never")
    together = train_sweep(configs, RunStore(tmp_path / "together"), "cpu", False,
                           stack="always")
    return alone, together


@pytest.mark.parametrize("case", [
    {},
    {"optimizer": {"name": "sgd", "lr": 0.05, "momentum": 0.9, "weight_decay": 5e-4,
                   "warmup_epochs": 1, "warmup_start_lr": 0.01}},
    {"optimizer": {"name": "sam", "base": "sgd", "lr": 0.05, "momentum": 0.9, "rho": 0.05}},
    {"optimizer": {"name": "adamw", "lr": 0.01, "weight_decay": 0.05, "schedule": "multistep"},
     "augment": "crop_flip", "loss": "mse_onehot"},
    {"model": RESNET_BN},
], ids=["adam", "sgd-momentum-warmup", "sam", "adamw-augment-mse", "batchnorm"])
def test_stacked_training_equals_training_alone(tmp_path, float64, case):
    assert_close_runs(*train_both_ways(tmp_path, members(**case)))


def test_members_keep_their_own_data_order(tmp_path, float64):
    configs = members(seeds=(0, 0, 1), data_seeds=(0, 1, 1), augment="crop_flip")
    alone, together = train_both_ways(tmp_path, configs)
    assert_close_runs(alone, together)
    first, second = (run.load_checkpoint(None) for run in together[:2])
    assert any(not torch.equal(first[k], second[k]) for k in first)  # data order matters


def test_distillation_students_stack_with_their_teachers(tmp_path, float64):
    teachers = members(seeds=(5, 6), model={**CONVNET, "width": 3})
    students = [dict(config, loss="distill_mse", teacher=teacher)
                for config, teacher in zip(members(seeds=(0, 1)), teachers)]
    assert_close_runs(*train_both_ways(tmp_path, students))


def test_interrupted_stacked_run_resumes_exactly(tmp_path):
    configs = members(epochs=4, checkpoint_epochs=[], eval_epochs=[4])
    reference = train_sweep(configs, RunStore(tmp_path / "a"), "cpu", False, stack="always")
    store = RunStore(tmp_path / "b")
    original = type(store.run(configs[0])).save_checkpoint
    calls = []

    def save_then_die(self, epoch, state, metrics, keep):
        original(self, epoch, state, metrics, keep)
        calls.append(self.id)
        if len(calls) == len(configs):  # every member saved epoch 2, then the process dies
            raise KeyboardInterrupt

    with pytest.MonkeyPatch.context() as patch, pytest.raises(KeyboardInterrupt):
        patch.setattr(stacked, "time", _ClockJumping())
        patch.setattr(type(store.run(configs[0])), "save_checkpoint", save_then_die)
        train_sweep(configs, store, "cpu", False, stack="always")
    assert all(store.run(c).resume_point()[0] == 1 for c in configs)
    resumed = train_sweep(configs, store, "cpu", False, stack="always")
    for a, b in zip(reference, resumed):
        wa, wb = a.load_checkpoint(None), b.load_checkpoint(None)
        assert all(torch.equal(wa[k], wb[k]) for k in wa)
        assert a.metrics().drop(columns="seconds").equals(b.metrics().drop(columns="seconds"))


def test_stacked_resume_point_resumes_alone(tmp_path, float64):
    """A resume point written by a stacked step has the format of one written alone."""
    configs = members(epochs=4, checkpoint_epochs=[], eval_epochs=[4])
    reference = train_sweep(configs, RunStore(tmp_path / "a"), "cpu", False, stack="never")
    store = RunStore(tmp_path / "b")
    original = type(store.run(configs[0])).save_checkpoint
    calls = []

    def save_then_die(self, epoch, state, metrics, keep):
        original(self, epoch, state, metrics, keep)
        calls.append(epoch)
        if len(calls) == len(configs):
            raise KeyboardInterrupt

    with pytest.MonkeyPatch.context() as patch, pytest.raises(KeyboardInterrupt):
        patch.setattr(stacked, "time", _ClockJumping())
        patch.setattr(type(store.run(configs[0])), "save_checkpoint", save_then_die)
        train_sweep(configs, store, "cpu", False, stack="always")
    resumed = train_sweep(configs, store, "cpu", False, stack="never")
    assert_close_runs(reference, resumed)


class _ClockJumping:
    """``time`` stand-in whose monotonic clock advances 100 s per call (a resume point is due
    after every epoch)."""

    def __init__(self):
        self.now = 0.0

    def monotonic(self):
        self.now += 100.0
        return self.now


def test_optimizer_state_round_trip_per_member():
    models = [seeded_model({"model": CONVNET, "seed": s}) for s in range(3)]
    ensemble = stacked.StackedModels(models)
    optimizer = make_optimizer({"name": "adam", "lr": 0.1}, list(ensemble.params.values()),
                               stacked=True)
    loss = ensemble(torch.randn(3, 4, 1, 32, 32)).square().sum()
    loss.backward()
    optimizer.step()
    state = optimizer.state_dict()
    parts = [stacked.member_optimizer_state(state, m) for m in range(3)]
    assert parts[1]["state"][0]["exp_avg"].shape == models[0].features[0].weight.shape
    joined = stacked.stacked_optimizer_state(parts)
    for index, entry in state["state"].items():
        for key, value in entry.items():
            assert torch.equal(joined["state"][index][key], value)


def test_stacked_sam_norm_is_each_members_own():
    grads = [torch.tensor([[3.0, 4.0], [0.0, 0.0]]), torch.tensor([[0.0], [12.0]])]
    params = [torch.zeros_like(g, requires_grad=True) for g in grads]
    for p, g in zip(params, grads):
        p.grad = g.clone()
    sam = make_optimizer({"name": "sam", "base": "sgd", "lr": 0.1, "rho": 1.0}, params,
                         stacked=True)
    assert sam._grad_norm().tolist() == [5.0, 12.0]  # member 0: |(3, 4, 0)|, member 1: |(0, 0, 12)|
    sam.first_step()
    torch.testing.assert_close(params[0].detach(), torch.tensor([[0.6, 0.8], [0.0, 0.0]]))
    torch.testing.assert_close(params[1].detach(), torch.tensor([[0.0], [1.0]]))


def test_shape_groups_and_policies():
    configs = members(seeds=(0, 1)) + members(seeds=(0,), model={**CONVNET, "width": 3})
    configs.append(dict(members(seeds=(2,))[0], data_seed=4))
    dropout = dict(copy.deepcopy(BASE), model={"name": "vit", "image_size": 32, "patch_size": 8,
                                                "in_channels": 1, "dim": 16, "depth": 1,
                                                "heads": 2, "mlp_dim": 16, "dropout": 0.1})
    configs += [dropout, dict(dropout, seed=1)]
    assert stacked.shape_groups(configs) == [[0, 1, 3], [2], [4], [5]]
    assert stacked.stacks_on("auto", torch.device("cpu")) is False
    assert stacked.stacks_on("auto", torch.device("cuda")) is True
    assert stacked.stacks_on("always", torch.device("cpu")) is True
    assert stacked.stacks_on("never", torch.device("cuda")) is False
    with pytest.raises(ValueError, match="stack='sometimes' is unknown; allowed"):
        train_sweep(members(), RunStore("/nonexistent"), "cpu", False, stack="sometimes")
