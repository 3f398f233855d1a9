"""Classifier training through the store: reuse, exact resume, schedules, bad configs."""

import copy

import pytest
import torch

from ddlib import train
from ddlib.store import RunStore

CONFIG = {
    "kind": "classifier",
    "model": {"name": "mlp", "in_features": 784, "num_classes": 10, "depth": 1, "width": 16},
    "data": {"name": "mnist5k", "train_size": 200, "test_size": 100, "label_noise": 0.1},
    "optimizer": {
        "name": "sgd",
        "lr": 0.05,
        "momentum": 0.9,
        "warmup_epochs": 1,
        "warmup_start_lr": 0.01,
    },
    "loss": "ce",
    "epochs": 4,
    "batch_size": 64,
    "seed": 0,
    "data_seed": 0,
    "checkpoint_epochs": [2],
    "eval_epochs": [1, 2, 3, 4],
}


def config(**changes):
    c = copy.deepcopy(CONFIG)
    c.update(changes)
    return c


def final_weights(run):
    return run.load_checkpoint(None)


def test_train_then_reuse_without_training(tmp_path, monkeypatch):
    store = RunStore(tmp_path)
    run = train.train_classifier(config(), store, device="cpu", progress=False)
    metrics = run.metrics()
    assert metrics["epoch"].tolist() == [1, 2, 3, 4]
    assert run.checkpoint_epochs() == [2]
    assert metrics["train_error"].iloc[-1] < metrics["train_error"].iloc[0]
    monkeypatch.setattr(train, "_train", lambda *a, **k: pytest.fail("retrained a finished run"))
    again = train.train_classifier(config(), store, device="cpu", progress=False)
    assert again.id == run.id


def test_interrupted_run_resumes_to_the_same_weights(tmp_path, monkeypatch):
    reference = train.train_classifier(config(), RunStore(tmp_path / "a"), "cpu", False)
    store = RunStore(tmp_path / "b")
    original = store.run(config()).save_checkpoint.__func__

    def save_then_die(self, epoch, state, metrics, keep):
        original(self, epoch, state, metrics, keep)
        if epoch == 3:
            raise KeyboardInterrupt

    monkeypatch.setattr("ddlib.store.Run.save_checkpoint", save_then_die)
    with pytest.raises(KeyboardInterrupt):
        train.train_classifier(config(), store, "cpu", False, resume_every_seconds=0.0)
    monkeypatch.undo()
    assert store.run(config()).resume_point()[0] == 3
    resumed = train.train_classifier(config(), store, "cpu", False)
    for name, tensor in final_weights(reference).items():
        assert torch.equal(tensor, final_weights(resumed)[name]), name
    assert resumed.metrics()["test_error"].tolist() == reference.metrics()["test_error"].tolist()


def test_corrupt_final_weights_are_recomputed(tmp_path):
    store = RunStore(tmp_path)
    run = train.train_classifier(
        config(epochs=1, eval_epochs=[1], checkpoint_epochs=[]), store, "cpu", False
    )
    (run.dir / "final.pt").write_bytes(b"not a checkpoint")
    again = train.train_classifier(
        config(epochs=1, eval_epochs=[1], checkpoint_epochs=[]), store, "cpu", False
    )
    assert set(final_weights(again))


def test_training_does_not_touch_the_global_random_state(tmp_path):
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    train.train_classifier(
        config(epochs=1, eval_epochs=[1], checkpoint_epochs=[]), RunStore(tmp_path), "cpu", False
    )
    assert torch.equal(torch.rand(3), expected)


def test_learning_rate_schedules():
    warm = {"lr": 0.005, "warmup_epochs": 5, "warmup_start_lr": 0.001}
    assert train.learning_rate(warm, 0.0, 100) == pytest.approx(0.001)
    assert train.learning_rate(warm, 2.5, 100) == pytest.approx(0.003)
    assert train.learning_rate(warm, 50.0, 100) == pytest.approx(0.005)
    steps = {"lr": 0.1, "schedule": "multistep"}
    assert [train.learning_rate(steps, e, 80) for e in (0, 30, 50, 70)] == pytest.approx(
        [0.1, 0.01, 0.001, 0.0001]
    )


@pytest.mark.parametrize(
    "change,message",
    [
        ({"epochs": 0}, "epochs"),
        ({"batch_size": -1}, "batch_size"),
        ({"optimizer": {"name": "lbfgs", "lr": 0.1}}, "optimizer name"),
        ({"loss": "hinge"}, "loss"),
        ({"loss": "distill_mse"}, "teacher"),
        ({"augment": "mixup"}, "augment"),
        ({"checkpoint_epochs": [9]}, "checkpoint_epochs"),
        ({"model": {"name": "transformer-xl"}}, "model name"),
        ({"data": {"name": "imagenet"}}, "data name"),
        ({"loss": "distill_mse", "teacher": {"epochs": 1}}, "lacks"),
    ],
)
def test_bad_configs_fail_before_compute(tmp_path, change, message):
    with pytest.raises(ValueError, match=message):
        train.train_classifier(config(**change), RunStore(tmp_path), "cpu", False)


def test_distillation_trains_teacher_first(tmp_path):
    teacher = config(epochs=2, eval_epochs=[2], checkpoint_epochs=[])
    student = config(
        epochs=2, eval_epochs=[2], checkpoint_epochs=[], loss="distill_mse", teacher=teacher, seed=1
    )
    store = RunStore(tmp_path)
    run = train.train_classifier(student, store, "cpu", False)
    assert store.run(teacher).is_complete() and run.is_complete()


def test_augmentation_is_a_crop_and_flip():
    images = torch.arange(2 * 1 * 4 * 4, dtype=torch.float32).view(2, 1, 4, 4) + 1
    out = train._augment(images, torch.Generator().manual_seed(0))
    assert out.shape == images.shape
    for original, moved in zip(images, out):
        values = set(moved.flatten().tolist()) - {0.0}
        assert values <= set(original.flatten().tolist())  # only shifted pixels or padding
