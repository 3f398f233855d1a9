"""Test isolation: runs, figures and reports go to a temporary folder, never into the checkout."""

import os
import tempfile

import pytest


def pytest_configure(config: pytest.Config) -> None:
    scratch = tempfile.mkdtemp(prefix="ddlib-tests-")
    for variable, folder in (
        ("DDLIB_RUNS", "runs"),
        ("DDLIB_FIGURES", "figures"),
        ("DDLIB_REPORTS", "reports"),
    ):
        os.environ[variable] = os.path.join(scratch, folder)
    os.environ.setdefault("TQDM_DISABLE", "1")
    os.environ.setdefault("MPLBACKEND", "Agg")


@pytest.fixture
def shared_data_dir():
    """The development data folder named by DDLIB_SHARED_DATA; the test is skipped without it."""
    from pathlib import Path

    folder = os.environ.get("DDLIB_SHARED_DATA")
    if not folder or not Path(folder).is_dir():
        pytest.skip("DDLIB_SHARED_DATA is not set to a folder with the development data")
    return Path(folder)
