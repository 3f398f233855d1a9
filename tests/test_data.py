"""Dataset registry and label noise: exact counts, always-wrong noise, clear errors offline."""

import pickle

import numpy as np
import pytest
import torch

from ddlib.core import data as ddata


def test_symmetric_noise_changes_exactly_round_np_labels_always_to_a_wrong_class():
    labels = torch.arange(1000) % 10
    noisy, mask = ddata.symmetric_label_noise(labels, 0.2, 10, seed=3)
    assert mask.sum().item() == 200
    assert torch.equal(mask, noisy != labels)  # every chosen label is wrong
    again, _ = ddata.symmetric_label_noise(labels, 0.2, 10, seed=3)
    assert torch.equal(noisy, again)
    assert ddata.symmetric_label_noise(labels, 0.0, 10, seed=3)[1].sum() == 0
    full, mask_full = ddata.symmetric_label_noise(labels, 1.0, 10, seed=3)
    assert mask_full.all() and (full != labels).all()


def test_asymmetric_noise_corrupts_only_chosen_classes():
    labels = torch.arange(5000) % 100
    noisy, mask, classes = ddata.asymmetric_label_noise(labels, 100, seed=0)
    assert len(classes) == 20
    assert torch.isin(labels[mask], classes).all()
    assert mask.sum().item() == 20 * 40  # 80% of 50 per class
    assert torch.equal(mask, noisy != labels)


@pytest.mark.parametrize("rate", [-0.1, 1.5])
def test_noise_outside_unit_interval_is_rejected(rate):
    with pytest.raises(ValueError, match="label_noise"):
        ddata.load_classification("mnist5k", train_size=100, label_noise=rate)


def test_bad_dataset_arguments_fail_with_named_parameter():
    with pytest.raises(ValueError, match="dataset='nope'"):
        ddata.load_classification("nope")
    with pytest.raises(ValueError, match="train_size=6000"):
        ddata.load_classification("mnist5k", train_size=6000)
    with pytest.raises(ValueError, match="noise_kind"):
        ddata.load_classification("mnist5k", train_size=10, noise_kind="weird")
    with pytest.raises(ValueError, match="dataset='nope'"):
        ddata.load_regression("nope")


def test_mnist5k_split_padding_and_normalisation():
    d = ddata.load_classification("mnist5k", train_size=1000, label_noise=0.2, pad_to=32)
    assert d.x_train.shape == (1000, 1, 32, 32) and d.x_test.shape == (4000, 1, 32, 32)
    assert d.noisy_mask.sum() == 200
    assert abs(d.x_train.mean().item()) < 1e-4 and abs(d.x_train.std().item() - 1) < 1e-3
    low, high = d.domain
    assert low.shape == (1, 32, 32)
    np.testing.assert_allclose(d.x_train.min().item(), low.min().item(), rtol=1e-5)  # padding = 0
    raw = ddata.load_classification("mnist5k", train_size=1000, normalize=False, flatten=True)
    assert raw.x_train.shape == (1000, 784) and raw.x_train.max() <= 1 and raw.x_train.min() >= 0


def test_offline_torchvision_dataset_says_where_and_how(tmp_path, monkeypatch):
    monkeypatch.setenv("DDLIB_DATA", str(tmp_path))
    with pytest.raises(ddata.DatasetUnavailable, match=str(tmp_path)) as error:
        ddata.load_classification("cifar10")
    assert "paper" in str(error.value)


def test_cifar10_loader_reads_pickles_written_here(tmp_path, monkeypatch):
    """A fake CIFAR-10 in torchvision's pickle layout, read with md5 checks off."""
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        batch = {
            "data": rng.integers(0, 256, (4, 3072), dtype=np.uint8),
            "labels": list(rng.integers(0, 10, 4)),
        }
        (folder / name).write_bytes(pickle.dumps(batch))
    (folder / "batches.meta").write_bytes(
        pickle.dumps({"label_names": [str(i) for i in range(10)]})
    )

    monkeypatch.setenv("DDLIB_DATA", str(tmp_path))
    monkeypatch.setattr(ddata, "VERIFY_INTEGRITY", False)
    d = ddata.load_classification("cifar10", label_noise=0.25)
    assert d.x_train.shape == (20, 3, 32, 32) and d.x_test.shape == (4, 3, 32, 32)
    assert d.noisy_mask.sum() == 5 and d.num_classes == 10


def test_image_folder(tmp_path):
    from PIL import Image

    for split, count in (("train", 3), ("test", 2)):
        for cls, colour in (("cat", 0), ("dog", 255)):
            (tmp_path / split / cls).mkdir(parents=True)
            for i in range(count):
                Image.new("RGB", (8, 8), (colour, 0, 0)).save(tmp_path / split / cls / f"{i}.png")
    d = ddata.load_classification(f"imagefolder:{tmp_path}", normalize=False)
    assert d.x_train.shape == (6, 3, 8, 8) and d.num_classes == 2
    assert d.y_train.tolist() == [0, 0, 0, 1, 1, 1]
    assert d.x_train[3, 0].max().item() == 1.0 and d.x_train[0, 0].max().item() == 0.0
    with pytest.raises(ddata.DatasetUnavailable, match="train"):
        ddata.load_classification(f"imagefolder:{tmp_path / 'missing'}")


def test_cifar10_jpeg_from_shared_data(shared_data_dir, tmp_path, monkeypatch):
    import tarfile

    archive = shared_data_dir / "cifar10-jpeg.tar.gz"
    if not archive.exists():
        pytest.skip("cifar10-jpeg.tar.gz not in DDLIB_SHARED_DATA")
    with tarfile.open(archive) as tar:
        members = [
            m
            for m in tar.getmembers()
            if m.isdir() or m.name.endswith(("/0000.jpg", "/0001.jpg"))
        ]
        tar.extractall(tmp_path, members=members, filter="data")
    monkeypatch.setenv("DDLIB_DATA", str(tmp_path))
    d = ddata.load_classification("cifar10-jpeg")
    assert d.num_classes == 10 and d.x_train.shape == (20, 3, 32, 32)
    assert d.y_train.tolist() == [c for c in range(10) for _ in range(2)]


def test_regression_sets():
    diabetes = ddata.load_regression("diabetes")
    assert diabetes.X.shape == (442, 10)
    st = ddata.load_regression("student-teacher")
    assert st.X.shape == (1000, 20)
    with pytest.raises(ddata.DatasetUnavailable, match="Kaggle"):
        ddata.load_regression("who-life-expectancy")


def test_who_csv_written_here_gives_17_features_and_drops_incomplete_rows(tmp_path, monkeypatch):
    import pandas as pd

    columns = ["Country", "Year", "Status", "Life expectancy ", "Adult Mortality", "infant deaths",
               "Alcohol", "percentage expenditure", "Hepatitis B", "Measles ", " BMI ",
               "under-five deaths ", "Polio", "Total expenditure", "Diphtheria ", " HIV/AIDS", "GDP",
               "Population", " thinness  1-19 years", " thinness 5-9 years",
               "Income composition of resources", "Schooling"]
    rows = [["A", 2000, "Developing"] + [float(i + r) for i in range(19)] for r in range(3)]
    rows[1][5] = None  # one missing value drops the whole row
    pd.DataFrame(rows, columns=columns).to_csv(tmp_path / ddata.WHO_FILE, index=False)
    monkeypatch.setenv("DDLIB_DATA", str(tmp_path))
    who = ddata.load_regression("who-life-expectancy")
    assert who.X.shape == (2, 17)
    assert who.y.tolist() == [0.0, 2.0]
    assert who.X[0, -1] == 18.0  # Schooling, with the income composition (17.0) left out
