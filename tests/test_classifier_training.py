"""Classifier training through ``ddlib.training.train``: reuse, exact resume, schedules, bad
configs, augmentation and soft distillation."""

import copy

import pytest
import torch
import torch.nn.functional as F

from ddlib.core.store import RunStore
from ddlib.training import classifier, train
from ddlib.training.evaluation import load_model, per_image_test_outcomes, predict_logits
from ddlib.training.run_inputs import seeded_model, training_data

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

SHORT = {"epochs": 2, "eval_epochs": [2], "checkpoint_epochs": []}


def config(**changes):
    c = copy.deepcopy(CONFIG)
    c.update(changes)
    return c


def final_weights(run):
    return run.load_checkpoint(None)


def assert_same_weights(a, b):
    assert a.keys() == b.keys()
    for name, tensor in a.items():
        assert torch.equal(tensor, b[name]), name


def weights_differ(a, b):
    return any(not torch.equal(tensor, b[name]) for name, tensor in a.items())


# --- reuse, resume, recompute ----------------------------------------------------------------


def test_train_then_reuse_without_training(tmp_path, monkeypatch):
    store = RunStore(tmp_path)
    run = train(config(), store, device="cpu", progress=False)
    metrics = run.metrics()
    assert metrics["epoch"].tolist() == [1, 2, 3, 4]
    assert run.checkpoints() == [2]
    assert metrics["train_error"].iloc[-1] < metrics["train_error"].iloc[0]
    monkeypatch.setattr(
        classifier, "train_epochs", lambda *a, **k: pytest.fail("retrained a finished run")
    )
    again = train(config(), store, device="cpu", progress=False)
    assert again.id == run.id
    assert_same_weights(final_weights(again), final_weights(run))


def test_interrupted_run_resumes_to_the_same_weights(tmp_path, monkeypatch):
    reference = train(config(), RunStore(tmp_path / "a"), "cpu", False)
    store = RunStore(tmp_path / "b")
    original = store.run(config()).save_checkpoint.__func__

    def save_then_die(self, epoch, state, metrics, keep):
        original(self, epoch, state, metrics, keep)
        if epoch == 3:
            raise KeyboardInterrupt

    monkeypatch.setattr("ddlib.core.store.Run.save_checkpoint", save_then_die)
    with pytest.raises(KeyboardInterrupt):
        train(config(), store, "cpu", False, resume_every_seconds=0.0)
    monkeypatch.undo()
    assert store.run(config()).resume_point()[0] == 3
    assert not store.run(config()).is_complete()
    resumed = train(config(), store, "cpu", False)
    assert_same_weights(final_weights(reference), final_weights(resumed))
    assert resumed.metrics()["test_error"].tolist() == reference.metrics()["test_error"].tolist()


def test_corrupt_final_weights_are_recomputed(tmp_path):
    store = RunStore(tmp_path)
    short = config(epochs=1, eval_epochs=[1], checkpoint_epochs=[])
    run = train(short, store, "cpu", False)
    expected = final_weights(run)
    (run.dir / "final.pt").write_bytes(b"not a checkpoint")
    again = train(short, store, "cpu", False)
    assert again.is_trained()
    assert_same_weights(final_weights(again), expected)


def test_training_does_not_touch_the_global_random_state(tmp_path):
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    train(config(epochs=1, eval_epochs=[1], checkpoint_epochs=[]), RunStore(tmp_path), "cpu", False)
    assert torch.equal(torch.rand(3), expected)


# --- schedules and configs -------------------------------------------------------------------


def test_learning_rate_schedules():
    warm = {"lr": 0.005, "warmup_epochs": 5, "warmup_start_lr": 0.001}
    assert classifier.learning_rate(warm, 0.0, 100) == pytest.approx(0.001)
    assert classifier.learning_rate(warm, 2.5, 100) == pytest.approx(0.003)
    assert classifier.learning_rate(warm, 50.0, 100) == pytest.approx(0.005)
    steps = {"lr": 0.1, "schedule": "multistep"}
    assert [classifier.learning_rate(steps, e, 80) for e in (0, 30, 50, 70)] == pytest.approx(
        [0.1, 0.01, 0.001, 0.0001]
    )


@pytest.mark.parametrize(
    "change,message",
    [
        ({"epochs": 0}, "epochs"),
        ({"batch_size": -1}, "batch_size"),
        ({"optimizer": {"name": "lbfgs", "lr": 0.1}}, "optimizer.name"),
        ({"loss": "hinge"}, "loss"),
        ({"loss": "distill_mse"}, "teacher"),
        ({"augment": "mixup"}, "augment"),
        ({"checkpoint_epochs": [9]}, "checkpoint_epochs"),
        ({"model": {"name": "transformer-xl"}}, "model.name"),
        ({"data": {"name": "imagenet"}}, "data.name"),
        ({"loss": "distill_mse", "teacher": {"epochs": 1}}, "lacks"),
    ],
)
def test_bad_configs_fail_before_compute(tmp_path, monkeypatch, change, message):
    monkeypatch.setattr(
        classifier, "train_epochs", lambda *a, **k: pytest.fail("trained an invalid config")
    )
    with pytest.raises(ValueError, match=message):
        train(config(**change), RunStore(tmp_path), "cpu", False)
    assert not any(tmp_path.iterdir())  # not even a run folder was created


# --- augmentation ----------------------------------------------------------------------------


def test_augmentation_is_the_seeded_crop_and_flip():
    n, channels, height, width = 32, 2, 5, 6
    images = torch.rand(n, channels, height, width, generator=torch.Generator().manual_seed(1)) + 1
    out = classifier.augment_crop_flip(images, torch.Generator().manual_seed(7))
    assert out.shape == images.shape

    g = torch.Generator().manual_seed(7)
    dy = torch.randint(0, 9, (n,), generator=g)
    dx = torch.randint(0, 9, (n,), generator=g)
    flip = torch.rand(n, generator=g) < 0.5
    assert flip.any() and not flip.all()  # both branches are exercised
    padded = torch.zeros(n, channels, height + 8, width + 8)
    padded[:, :, 4 : 4 + height, 4 : 4 + width] = images
    for i in range(n):
        y, x = int(dy[i]), int(dx[i])
        expected = padded[i, :, y : y + height, x : x + width]
        if flip[i]:
            expected = expected.flip(-1)
        assert torch.equal(out[i], expected), f"image {i}: dy={y}, dx={x}, flip={bool(flip[i])}"
    assert any(not torch.equal(out[i], images[i]) for i in range(n))


def test_training_applies_the_augmentation(tmp_path):
    store = RunStore(tmp_path)
    plain = train(config(augment="none", **SHORT), store, "cpu", False)
    augmented = train(config(augment="crop_flip", **SHORT), store, "cpu", False)
    assert plain.id != augmented.id
    assert weights_differ(final_weights(plain), final_weights(augmented))
    # Same seeds, same initialisation: only the augmentation separates the two runs.
    assert_same_weights(
        seeded_model(plain.config).state_dict(), seeded_model(augmented.config).state_dict()
    )


# --- soft distillation -----------------------------------------------------------------------

DIGITS = {
    "kind": "classifier",
    "model": {"name": "mlp", "in_features": 64, "num_classes": 10, "depth": 1, "width": 8},
    "data": {"name": "digits", "train_size": 96, "test_size": 50},
    "optimizer": {"name": "sgd", "lr": 0.1, "momentum": 0.0},
    "loss": "ce",
    "epochs": 1,
    "batch_size": 96,
    "seed": 0,
    "data_seed": 0,
    "checkpoint_epochs": [],
    "eval_epochs": [1],
}


@pytest.mark.parametrize("augment", ["none", "crop_flip"])
def test_one_distillation_step_regresses_the_teacher_logits(tmp_path, augment):
    """With the whole set as one batch, plain SGD and one epoch, the student takes exactly one
    step: w - lr * grad of the mean squared error between its logits and the teacher's, both on
    the (augmented) batch the student sees."""
    teacher_config = dict(copy.deepcopy(DIGITS), epochs=3, batch_size=16, seed=5)
    student_config = dict(
        copy.deepcopy(DIGITS), loss="distill_mse", teacher=teacher_config, augment=augment
    )
    store = RunStore(tmp_path)
    student = train(student_config, store, "cpu", False)
    teacher_run = store.run(teacher_config)
    assert teacher_run.is_complete() and student.is_complete()

    data = training_data(student_config)
    # Epoch 1's generator: the batch order first, then the augmentation of that batch.
    generator = torch.Generator().manual_seed(student_config["data_seed"] * 1_000_003 + 1)
    order = torch.randperm(len(data.x_train), generator=generator)
    x, y = data.x_train[order], data.y_train[order]
    if augment == "crop_flip":
        x = classifier.augment_crop_flip(x, generator)
    with torch.no_grad():
        teacher_logits = load_model(teacher_run)(x)
    lr = student_config["optimizer"]["lr"]

    def one_step(loss_of_logits):
        model = seeded_model(student_config)
        loss = loss_of_logits(model(x))
        parameters = dict(model.named_parameters())
        grads = torch.autograd.grad(loss, list(parameters.values()))
        return {name: (p - lr * g).detach() for (name, p), g in zip(parameters.items(), grads)}

    expected = one_step(lambda logits: ((logits - teacher_logits) ** 2).mean())
    got = final_weights(student)
    assert expected.keys() == got.keys()
    for name, tensor in expected.items():
        torch.testing.assert_close(got[name], tensor, rtol=0, atol=1e-6, msg=name)

    # The check has teeth: a step on the labels lands elsewhere.
    on_labels = one_step(lambda logits: F.cross_entropy(logits, y))
    assert max((on_labels[k] - expected[k]).abs().max().item() for k in expected) > 1e-3


def test_distilled_student_follows_the_teacher_not_the_labels(tmp_path):
    teacher_config = config(**SHORT)
    student_config = config(
        **SHORT,
        loss="distill_mse",
        teacher=teacher_config,
        seed=1,
        optimizer={"name": "sgd", "lr": 0.05, "momentum": 0.9},
    )
    labels_config = {k: v for k, v in student_config.items() if k != "teacher"}
    labels_config["loss"] = "ce"
    store = RunStore(tmp_path)
    distilled = train(student_config, store, "cpu", False)
    on_labels = train(labels_config, store, "cpu", False)
    assert store.run(teacher_config).is_complete()
    assert weights_differ(final_weights(distilled), final_weights(on_labels))

    x = training_data(teacher_config).x_train
    teacher_logits = predict_logits(load_model(store.run(teacher_config)), x)
    distance = {
        name: F.mse_loss(predict_logits(load_model(run), x), teacher_logits).item()
        for name, run in (("distilled", distilled), ("labels", on_labels))
    }
    assert distance["distilled"] < 0.5 * distance["labels"], distance


# --- per-image test outcomes --------------------------------------------------------------------


def test_per_image_test_outcomes_are_the_final_models_predictions_and_average_to_the_logged_error(tmp_path):
    """Each row is the final model's argmax on one test image, in split order; their mean is the
    test error the run logged at its last epoch (the same weights, the same split), and a second
    call reads the cached table instead of recomputing it."""
    run = train(config(), RunStore(tmp_path), device="cpu", progress=False)
    outcomes = per_image_test_outcomes(run)
    data = training_data(run.config)
    expected = predict_logits(load_model(run), data.x_test).argmax(1)
    assert outcomes["prediction"].tolist() == expected.tolist()
    assert outcomes["label"].tolist() == data.y_test.tolist()
    assert outcomes["wrong"].tolist() == (expected != data.y_test).int().tolist()
    assert outcomes["wrong"].mean() == pytest.approx(run.metrics()["test_error"].iloc[-1], abs=1e-6)
    (run.dir / "test-outcomes.json").write_text('[{"label": 0, "prediction": 1, "wrong": 1}]')
    assert len(per_image_test_outcomes(run)) == 1  # cached: read back, not recomputed
