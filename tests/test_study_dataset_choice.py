"""The laptop profiles of notebooks 02 and 04 name ``cifar10-or-mnist5k``; ``studies.resolve``
replaces it by the dataset ``choose_cifar10`` finds, prints why, and checks every possible outcome
before looking at the disk. Data folders are written by the tests themselves."""

from __future__ import annotations

import pytest

from ddlib.core.data_sources import CIFAR10_OR_FALLBACK
from ddlib.studies import resolve
from tests.test_data_sources import write_jpeg_folder

CASES = [("02", ("dataset",)), ("04", ("data", "name"))]


def dataset_of(params, path):
    value = params
    for key in path:
        value = value[key]
    return value


@pytest.fixture
def empty_data(tmp_path, monkeypatch):
    folder = tmp_path / "data"
    folder.mkdir()
    monkeypatch.setenv("DDLIB_DATA", str(folder))
    return folder


@pytest.mark.parametrize(("notebook", "path"), CASES)
def test_laptop_names_the_choice_not_a_fixed_dataset(notebook, path, empty_data):
    from ddlib.studies import profile_module

    assert dataset_of(profile_module(notebook).PROFILES["laptop"], path) == CIFAR10_OR_FALLBACK


@pytest.mark.parametrize(("notebook", "path"), CASES)
def test_offline_without_cifar_falls_back_to_mnist5k_with_a_notice(notebook, path, empty_data,
                                                                  capsys):
    params = resolve(notebook, "laptop")
    assert dataset_of(params, path) == "mnist5k"
    out = capsys.readouterr().out
    assert "using mnist5k" in out and "labelled mnist5k" in out
    assert list(empty_data.iterdir()) == []  # nothing written


@pytest.mark.parametrize(("notebook", "path"), CASES)
def test_jpeg_copy_is_used_and_named(notebook, path, empty_data, capsys):
    write_jpeg_folder(empty_data / "cifar10-jpeg")
    params = resolve(notebook, "laptop")
    assert dataset_of(params, path) == "cifar10-jpeg"
    assert "cifar10-jpeg" in capsys.readouterr().out


def test_a_bad_parameter_fails_before_the_dataset_is_chosen(empty_data, capsys):
    """A single-value rule (checked first of all) and, below, cross-field rules that only one of
    the possible datasets would break."""
    with pytest.raises(ValueError, match="epochs"):
        resolve("02", "laptop", epochs=0)
    assert capsys.readouterr().out == ""  # no notice: the disk was not looked at


def test_a_setting_invalid_for_the_fallback_fails_even_with_cifar_present(empty_data, capsys):
    """4,500 training + 2,000 test images fit CIFAR-10 but not mnist5k's 5,000-image pool: refused
    whichever dataset this machine would have chosen."""
    write_jpeg_folder(empty_data / "cifar10-jpeg")
    with pytest.raises(ValueError, match="test_size=2000 is not allowed for dataset 'mnist5k'"):
        resolve("02", "laptop", train_size=4500)
    assert capsys.readouterr().out == ""


def test_an_explicit_dataset_is_kept(empty_data, capsys):
    params = resolve("02", "laptop", dataset="mnist5k")
    assert params.dataset == "mnist5k" and capsys.readouterr().out == ""


@pytest.mark.parametrize(("notebook", "overrides"), [
    ("02", {"allow_download": True}),
    ("04", {"data": {"name": CIFAR10_OR_FALLBACK, "train_size": 1000, "test_size": 2000,
                     "split_seed": 0, "pad_to": 32, "allow_download": True}}),
])
def test_the_download_switch_reaches_the_choice(notebook, overrides, empty_data, monkeypatch):
    import ddlib.studies as studies
    from ddlib.core.data_sources import DatasetChoice

    asked = []

    def record(allow_download, fallback="mnist5k"):
        asked.append(allow_download)
        return DatasetChoice("mnist5k", 32, "")

    monkeypatch.setattr(studies, "choose_cifar10", record)
    resolve(notebook, "laptop")
    resolve(notebook, "laptop", **overrides)
    assert asked == [False, True]


def test_04_setting_invalid_for_the_fallback_fails_even_with_cifar_present(empty_data, capsys):
    """4,500 + 1,000 images fit CIFAR-10's splits but not mnist5k's one 5,000-image pool."""
    write_jpeg_folder(empty_data / "cifar10-jpeg")
    with pytest.raises(ValueError, match="mnist5k"):
        resolve("04", "laptop", data={"name": CIFAR10_OR_FALLBACK, "train_size": 4500,
                                      "test_size": 1000, "split_seed": 0, "pad_to": 32})
    assert capsys.readouterr().out == ""
