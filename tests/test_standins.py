"""Synthetic stand-ins (ddlib.core.standins): each is read by the real loader with the real shape,
class count and feature count; integrity checks refuse them unless switched off; the writer never
overwrites a file and announces what it writes."""

from __future__ import annotations

import pytest

from ddlib.core import data as ddata
from ddlib.core import standins
from ddlib.core.standins import STANDIN_ROWS, STANDIN_TEST, STANDIN_TRAIN

IMAGE_SETS = {"mnist": (1, 10), "cifar10": (3, 10), "cifar100": (3, 100)}  # channels, classes
REGRESSION_SETS = {"california-housing": 8, "who-life-expectancy": 17}  # features


@pytest.fixture(scope="module")
def standin_folder(tmp_path_factory):
    """Every stand-in, written once for this module."""
    folder = tmp_path_factory.mktemp("standins")
    standins.write_standins(folder, standins.STANDIN_DATASETS)
    return folder


@pytest.fixture
def read_from(monkeypatch):
    """Point DDLIB_DATA at a folder (loader cache cleared before and after)."""
    def point(folder):
        monkeypatch.setenv("DDLIB_DATA", str(folder))
        ddata._raw_images_in.cache_clear()
    yield point
    ddata._raw_images_in.cache_clear()


@pytest.mark.parametrize("name", IMAGE_SETS)
def test_image_standin_loads_with_the_real_shape_and_every_class(name, standin_folder, read_from,
                                                                  monkeypatch):
    read_from(standin_folder)
    monkeypatch.setattr(ddata, "VERIFY_INTEGRITY", False)
    channels, classes = IMAGE_SETS[name]
    d = ddata.load_classification(name, pad_to=32)  # MNIST's 28 x 28 padded as the studies do
    assert d.x_train.shape == (STANDIN_TRAIN, channels, 32, 32)
    assert d.x_test.shape == (STANDIN_TEST, channels, 32, 32)
    assert d.num_classes == classes and d.in_channels == channels
    for labels, count in ((d.y_train, STANDIN_TRAIN), (d.y_test, STANDIN_TEST)):
        assert labels.bincount(minlength=classes).tolist() == [count // classes] * classes
    side = 28 if name == "mnist" else 32
    raw = ddata._raw_images(name, allow_download=False)[0]
    assert raw.dtype == "uint8" and raw.shape[1:] == (channels, side, side)


@pytest.mark.parametrize("name", REGRESSION_SETS)
def test_regression_standin_loads_with_the_real_feature_count(name, standin_folder, read_from):
    read_from(standin_folder)
    d = ddata.load_regression(name)  # california: sklearn's cache, no download
    assert d.X.shape == (STANDIN_ROWS, REGRESSION_SETS[name]) and d.y.shape == (STANDIN_ROWS,)
    assert (d.X == d.X).all() and d.y.std() > 0  # no missing values left, a target that varies


@pytest.mark.parametrize("name", ["cifar10", "cifar100"])
def test_integrity_checks_refuse_a_cifar_standin_unless_switched_off(name, standin_folder,
                                                                    read_from):
    read_from(standin_folder)
    assert ddata.VERIFY_INTEGRITY
    with pytest.raises(ddata.DatasetUnavailable, match="corrupted"):
        ddata.load_classification(name)


def test_writer_announces_each_standin_and_is_deterministic(tmp_path, capsys):
    names = ["california-housing", "mnist"]
    first = standins.write_standins(tmp_path / "a", names)
    second = standins.write_standins(tmp_path / "b", reversed(names))
    assert sorted(p.relative_to(tmp_path / "a") for p in first) == sorted(
        p.relative_to(tmp_path / "b") for p in second)
    assert all(p.read_bytes() == (tmp_path / "b" / p.relative_to(tmp_path / "a")).read_bytes()
               for p in first)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 4 and all(line.startswith("SYNTHETIC STAND-IN: ") for line in lines)
    assert "mnist is not the real dataset" in lines[1] and str(tmp_path / "a") in lines[1]


def test_writer_refuses_to_overwrite_any_file_and_writes_nothing_then(tmp_path, capsys):
    real = tmp_path / standins.CALIFORNIA_FILE
    real.parent.mkdir()
    real.write_bytes(b"the real cache")
    with pytest.raises(FileExistsError, match="cal_housing_py3.pkz"):
        standins.write_standins(tmp_path, ["mnist", "california-housing"])
    assert real.read_bytes() == b"the real cache"
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["cal_housing_py3.pkz", "sklearn"]
    assert capsys.readouterr().out == ""


def test_missing_datasets_lists_those_without_files(tmp_path, read_from):
    read_from(tmp_path)
    every = ["mnist", "cifar10", "cifar100", "california-housing", "who-life-expectancy"]
    bundled = ["mnist5k", "digits", "diabetes", "student-teacher"]
    assert standins.missing_datasets([*bundled, *every, "mnist"]) == every
    standins.write_standins(tmp_path, ["cifar100", "california-housing"])
    assert standins.missing_datasets(every) == ["mnist", "cifar10", "who-life-expectancy"]
    (tmp_path / "cifar-100-python" / "test").write_bytes(b"")  # an empty file is not a dataset
    assert "cifar100" in standins.missing_datasets(every)
    with pytest.raises(ValueError, match="unknown datasets \\['cifar1000'\\]"):
        standins.missing_datasets(["cifar1000"])


def test_prepare_links_real_files_and_writes_standins_for_the_rest(tmp_path, read_from,
                                                                   monkeypatch):
    real = tmp_path / "data"
    standins.write_standins(real, ["california-housing"])  # plays the real cache here
    before = (real / standins.CALIFORNIA_FILE).read_bytes()
    read_from(real)
    rehearsal = tmp_path / "rehearsal"
    assert standins.prepare_data_folder(rehearsal, ["cifar100", "california-housing"]) == [
        "cifar100"]
    link = rehearsal / standins.CALIFORNIA_FILE
    assert link.is_symlink() and link.resolve() == (real / standins.CALIFORNIA_FILE).resolve()
    assert (real / standins.CALIFORNIA_FILE).read_bytes() == before
    assert sorted(p.name for p in real.rglob("*")) == ["cal_housing_py3.pkz", "sklearn"]
    read_from(rehearsal)
    monkeypatch.setattr(ddata, "VERIFY_INTEGRITY", False)
    assert ddata.load_classification("cifar100").num_classes == 100
    assert ddata.load_regression("california-housing").X.shape == (STANDIN_ROWS, 8)
