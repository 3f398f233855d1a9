"""Bad parameters are refused when the profile is resolved: before any data is loaded, any model
is trained or any file is written, with a message naming the parameter and what is allowed.

The cases live in ``tests/bad_parameter_cases/nbNN.py``; every case goes through both ways a
notebook receives parameters: keyword overrides (``run_all.sh`` and tests) and the notebook's
namespace (papermill ``-p`` injects globals).
"""

from __future__ import annotations

import importlib
import math

import pytest

from ddlib.studies import NOTEBOOKS, PROFILE_NAMES, resolve

CASES = [
    pytest.param(notebook, overrides, parameter, allowed,
                 id=f"{notebook}-{'-'.join(f'{k}={v!r}' for k, v in overrides.items())[:60]}")
    for notebook in NOTEBOOKS
    for overrides, parameter, allowed in importlib.import_module(
        f"tests.bad_parameter_cases.nb{notebook}").CASES
]


@pytest.fixture
def nothing_loaded(tmp_path, monkeypatch):
    """Empty store, figure and data folders, and datasets that fail if anything loads them."""
    for variable in ("DDLIB_RUNS", "DDLIB_FIGURES", "DDLIB_DATA", "DDLIB_REPORTS"):
        (tmp_path / variable).mkdir()
        monkeypatch.setenv(variable, str(tmp_path / variable))

    def refuse(*args, **kwargs):
        raise AssertionError("a dataset was loaded while resolving parameters")

    from ddlib.core import data

    monkeypatch.setattr(data, "load_classification", refuse)
    monkeypatch.setattr(data, "load_regression", refuse)
    monkeypatch.setattr(data, "_raw_images", refuse)
    yield tmp_path
    written = [str(p) for p in tmp_path.rglob("*") if p.is_file()]
    assert not written, f"files were written while resolving parameters: {written}"


def test_there_are_enough_cases():
    assert len(CASES) >= 64
    assert {case.values[0] for case in CASES} == set(NOTEBOOKS)


@pytest.mark.parametrize(("notebook", "overrides", "parameter", "allowed"), CASES)
def test_bad_parameter_is_refused_by_keyword(nothing_loaded, notebook, overrides, parameter, allowed):
    with pytest.raises(ValueError) as error:
        resolve(notebook, "smoke", **overrides)
    message = str(error.value)
    assert parameter in message and allowed in message, message


@pytest.mark.parametrize(("notebook", "overrides", "parameter", "allowed"), CASES)
def test_bad_parameter_is_refused_through_the_namespace(nothing_loaded, notebook, overrides,
                                                        parameter, allowed):
    namespace = {"profile": "smoke", "device": "auto", "math": math, **overrides}
    with pytest.raises(ValueError) as error:
        resolve(notebook, "smoke", namespace=namespace)
    message = str(error.value)
    assert parameter in message and allowed in message, message


@pytest.mark.parametrize("profile", PROFILE_NAMES)
@pytest.mark.parametrize("notebook", list(NOTEBOOKS))
def test_every_profile_passes_its_own_rules(nothing_loaded, notebook, profile):
    params = resolve(notebook, profile)
    module = importlib.import_module(f"ddlib.studies.{NOTEBOOKS[notebook]}.params")
    assert set(module.PARAMETERS) == set(params) == set(params.descriptions)
