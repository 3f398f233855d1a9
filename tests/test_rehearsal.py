"""The rehearsal of the paper profile (docs/rehearsal.md): kept apart from real results, stamped
as a rehearsal wherever it writes, refused with any other profile."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from ddlib.core import paths  # noqa: E402
from ddlib.core.claims import REHEARSAL_PREFIX, ClaimsTable  # noqa: E402
from ddlib.plotting.style import REHEARSAL_STAMP, save_figure  # noqa: E402
from ddlib.studies import resolve  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def a_table() -> ClaimsTable:
    table = ClaimsTable("02")
    table.add("test error peaks", "w=4", "argmax at the threshold", True, role="headline",
              dataset="cifar10", seeds=1)
    return table


def test_claims_saved_under_the_rehearsal_name_say_rehearsal_and_real_ones_do_not(tmp_path):
    rehearsal = tmp_path / paths.REHEARSAL_OUTPUT / "02_convnet_sharpness"
    real = tmp_path / "paper" / "02_convnet_sharpness"
    for folder in (rehearsal, real):
        folder.mkdir(parents=True)
        a_table().save(folder)
    assert pd.read_csv(rehearsal / "claims.csv")["claim"].tolist() == \
        [REHEARSAL_PREFIX + "test error peaks"]
    assert "REHEARSAL" in (rehearsal / "claims.md").read_text().splitlines()[0]
    assert pd.read_csv(real / "claims.csv")["claim"].tolist() == ["test error peaks"]
    assert "rehearsal" not in (real / "claims.md").read_text().lower()


def test_figures_saved_under_the_rehearsal_name_are_stamped_once(tmp_path):
    rehearsal = tmp_path / paths.REHEARSAL_OUTPUT / "01_linear_double_descent"
    rehearsal.mkdir(parents=True)
    fig = plt.figure()
    fig.suptitle("Figure 1")
    save_figure(fig, rehearsal, "one")
    save_figure(fig, rehearsal, "again")
    assert fig.get_suptitle() == f"{REHEARSAL_STAMP}\nFigure 1"
    real = plt.figure()
    real.suptitle("Figure 1")
    save_figure(real, tmp_path, "real")
    assert real.get_suptitle() == "Figure 1"
    plt.close("all")


def test_rehearse_is_refused_with_any_profile_but_paper_and_must_be_a_bool():
    with pytest.raises(ValueError, match="rehearses the paper profile"):
        resolve("01", "laptop", rehearse=True)
    with pytest.raises(ValueError, match="rehearse='yes' is not allowed"):
        resolve("01", "paper", rehearse="yes")


def test_run_all_refuses_rehearse_without_the_paper_profile():
    result = subprocess.run(["bash", str(ROOT / "run_all.sh"), "--rehearse"], capture_output=True,
                            text=True, cwd=ROOT, env={**os.environ, "PYTHON": sys.executable})
    assert result.returncode == 2 and "--profile paper" in result.stdout
