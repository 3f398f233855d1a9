"""Where things live: the project root and the folders for data, runs, figures and reports.

Every folder can be moved with an environment variable so that tests and clusters can point the
library elsewhere without touching code: ``DDLIB_DATA`` (datasets), ``DDLIB_RUNS`` (run store),
``DDLIB_FIGURES`` (figures), ``DDLIB_REPORTS`` (executed notebooks and claims reports).
"""

from __future__ import annotations

import os
from pathlib import Path


def project_root() -> Path:
    """The repository root: the folder holding ``ddlib/`` (this file is ``ddlib/core/paths.py``)."""
    return Path(__file__).resolve().parents[2]


def _root_or_env(variable: str, default: str) -> Path:
    value = os.environ.get(variable)
    return Path(value).expanduser().resolve() if value else project_root() / default


def data_root() -> Path:
    """Dataset cache: ``$DDLIB_DATA`` or ``<root>/data``."""
    return _root_or_env("DDLIB_DATA", "data")


def runs_root() -> Path:
    """Run store: ``$DDLIB_RUNS`` or ``<root>/runs``."""
    return _root_or_env("DDLIB_RUNS", "runs")


def figures_root() -> Path:
    """Figures of every profile: ``$DDLIB_FIGURES`` or ``<root>/figures``."""
    return _root_or_env("DDLIB_FIGURES", "figures")


def figures_dir(notebook: str, profile: str) -> Path:
    """Figures and claims table of one notebook under one profile (profiles never share a folder;
    a rehearsal's profile is :data:`REHEARSAL_OUTPUT`): ``<figures root>/<profile>/<notebook>``."""
    return figures_root() / profile / notebook


REHEARSAL_OUTPUT = "paper-rehearsal"  # the output name of a rehearsal of the paper profile


def is_rehearsal_output(folder: Path) -> bool:
    """Whether ``folder`` is a notebook's folder under the rehearsal's output name
    (``<figures root>/paper-rehearsal/<notebook>``): what is saved there is stamped a rehearsal."""
    return Path(folder).parent.name == REHEARSAL_OUTPUT


def rehearsal_runs_root() -> Path:
    """The rehearsal's own run store: ``<runs root>/paper-rehearsal`` (never a real run's folder,
    which are named by two hex digits)."""
    return runs_root() / REHEARSAL_OUTPUT


def rehearsing() -> bool:
    """Whether this process rehearses the paper profile (``resolve(..., rehearse=True)`` pointed
    it at :func:`rehearsal_runs_root`): its claims then read "[rehearsal] ..." wherever shown."""
    return runs_root().name == REHEARSAL_OUTPUT


def reports_dir(profile: str) -> Path:
    """Executed notebooks, HTML exports and the claims report of one profile."""
    return _root_or_env("DDLIB_REPORTS", "reports") / profile
