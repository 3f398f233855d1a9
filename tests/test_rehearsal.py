"""The rehearsal of the paper profile (docs/rehearsal.md): kept apart from real results, stamped
as a rehearsal wherever it writes, refused with any other profile."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from ddlib.core import paths  # noqa: E402
from ddlib.core.checks import GPU_FLOP_RATE, CostEstimate, check_cost, recorded_costs  # noqa: E402
from ddlib.core.claims import REHEARSAL_PREFIX, ClaimsTable  # noqa: E402
from ddlib.core.data_sources import DOWNLOAD_MB  # noqa: E402
from ddlib.plotting.style import REHEARSAL_STAMP, save_figure  # noqa: E402
from ddlib.studies import resolve  # noqa: E402
from ddlib.studies.cost_table import cost_table  # noqa: E402

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


# the cost of a paper run, shown before it starts


def test_recorded_costs_collects_what_check_cost_prices_inside_the_block_only():
    check_cost("before", memory_bytes=1.0, flop=2.0)
    with recorded_costs() as estimates:
        check_cost("inside", memory_bytes=3.0, flop=4.0)
    check_cost("after", memory_bytes=1.0, flop=2.0)
    assert estimates == [CostEstimate("inside", 3.0, 4.0)]


def test_cost_table_sums_flop_and_takes_the_largest_memory_of_each_notebook():
    table = cost_table("paper").set_index("notebook")
    with recorded_costs() as estimates:
        resolve("04", "paper")
    row = table.loc["04_decision_regions"]
    assert row["GPU-hours"] == pytest.approx(sum(e.flop for e in estimates) / GPU_FLOP_RATE / 3600)
    assert row["memory of the largest run (GiB)"] == \
        pytest.approx(max(e.memory_bytes for e in estimates) / 2**30)
    assert row["GPU-hours"] > 1  # the paper zoo is not free
    assert table.loc["01_linear_double_descent", "downloads (MB)"] == DOWNLOAD_MB["california-housing"]


def test_run_all_paper_shows_the_cost_and_starts_nothing_when_the_answer_is_no():
    """From a terminal (a pseudo-terminal here), ./run_all.sh --profile paper prints the cost
    table and asks; answering "n" starts no notebook and writes no report."""
    pid, fd = pty.fork()
    if pid == 0:  # the child: run_all.sh with the pseudo-terminal as its stdin
        os.chdir(ROOT)
        os.execvpe("bash", ["bash", "run_all.sh", "--profile", "paper", "--only", "01"],
                   {**os.environ, "PYTHON": sys.executable})
    output = b""
    while b"[y/N]" not in output:
        output += os.read(fd, 4096)
    os.write(fd, b"n\n")
    while True:
        try:
            chunk = os.read(fd, 4096)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        output += chunk
    _, status = os.waitpid(pid, 0)
    text = output.decode()
    assert os.waitstatus_to_exitcode(status) == 0
    assert "01_linear_double_descent" in text and "GPU-hours" in text
    assert "run_all.sh: not started" in text and text.count("started\r\n") == 1  # no notebook line


# the whole rehearsal of the paper profile, through run_all.sh (part of the test command)

STUDY_OF_SECTION = {"Schaeffer": "01", "Gamba": "02", "Humayun": "03", "Somepalli": "04"}


def documented_rules() -> dict[str, set[str]]:
    """The rule functions docs/claims.md names, per notebook: every backquoted name in a paper's
    section that is a public function of that study's claims module. This list is written by
    hand from the papers' figures, independently of what the notebooks run."""
    import importlib
    import inspect
    import re

    from ddlib.studies import NOTEBOOKS

    rules: dict[str, set[str]] = {}
    for section in (ROOT / "docs" / "claims.md").read_text().split("\n## ")[1:]:
        key = next((k for author, k in STUDY_OF_SECTION.items() if section.startswith(author)), None)
        if key is None:
            continue
        module = importlib.import_module(f"ddlib.studies.{NOTEBOOKS[key]}.claims")
        public = {name for name, function in inspect.getmembers(module, inspect.isfunction)
                  if function.__module__ == module.__name__ and not name.startswith("_")}
        rules[key] = set(re.findall(r"`([A-Za-z_][A-Za-z0-9_]*)`", section)) & public
    return rules


def documented_figures() -> dict[str, set[str]]:
    """The figure files docs/rehearsal.md lists for each notebook's paper profile."""
    import re

    table = (ROOT / "docs" / "rehearsal.md").read_text().split("## What the paper profile draws")[1]
    return {row[2:4]: set(re.findall(r"`([a-z0-9_]+)`", row))
            for row in table.splitlines() if re.match(r"\| 0[1-4] \|", row)}


@pytest.fixture(scope="module")
def paper_rehearsal(tmp_path_factory):
    """``./run_all.sh --profile paper --rehearse`` into empty folders, with no dataset on disk."""
    root = tmp_path_factory.mktemp("rehearsal")
    env = {**os.environ, "PYTHON": sys.executable, "DDLIB_RUNS": str(root / "runs"),
           "DDLIB_FIGURES": str(root / "figures"), "DDLIB_REPORTS": str(root / "reports"),
           "DDLIB_DATA": str(root / "no-data")}
    result = subprocess.run(["bash", str(ROOT / "run_all.sh"), "--profile", "paper", "--rehearse"],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=1800)
    return root, result


def test_paper_rehearsal_runs_every_notebook_apart_from_real_results(paper_rehearsal):
    root, result = paper_rehearsal
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert sorted(p.name for p in (root / "reports").iterdir()) == [paths.REHEARSAL_OUTPUT]
    assert sorted(p.name for p in (root / "figures").iterdir()) == [paths.REHEARSAL_OUTPUT]
    assert sorted(p.name for p in (root / "runs").iterdir()) == [paths.REHEARSAL_OUTPUT]
    report = (root / "reports" / paths.REHEARSAL_OUTPUT / "claims.md").read_text()
    assert REHEARSAL_PREFIX.strip() in report


def test_paper_rehearsal_produces_every_documented_rule_and_figure_and_only_those(paper_rehearsal):
    from ddlib.studies import NOTEBOOKS

    root, result = paper_rehearsal
    assert result.returncode == 0
    expected = documented_rules()
    for key, study in NOTEBOOKS.items():
        folder = root / "figures" / paths.REHEARSAL_OUTPUT / f"{key}_{study}"
        table = pd.read_csv(folder / "claims.csv")
        assert table["claim"].str.startswith(REHEARSAL_PREFIX).all(), key
        produced = set(table["rule"].dropna())
        assert produced == expected[key], (key, sorted(expected[key] - produced),
                                           sorted(produced - expected[key]))
        assert {p.stem for p in folder.glob("*.png")} == documented_figures()[key], key
        assert {p.stem for p in folder.glob("*.pdf")} == documented_figures()[key], key


def test_claims_added_while_rehearsing_are_marked_where_they_are_shown(tmp_path, monkeypatch):
    monkeypatch.setenv("DDLIB_RUNS", str(tmp_path / paths.REHEARSAL_OUTPUT))
    table = a_table()
    assert table.rows[0]["claim"] == REHEARSAL_PREFIX + "test error peaks"
    assert REHEARSAL_PREFIX in table._repr_html_()
    folder = tmp_path / "figures" / paths.REHEARSAL_OUTPUT / "02_convnet_sharpness"
    folder.mkdir(parents=True)
    table.save(folder)  # not prefixed twice
    assert pd.read_csv(folder / "claims.csv")["claim"].tolist() == [REHEARSAL_PREFIX + "test error peaks"]


def test_rehearse_refuses_a_remote_executor(monkeypatch):
    import ddlib.studies

    monkeypatch.setattr(ddlib.studies, "validate_executor", lambda *args: None)  # no engine here
    with pytest.raises(ValueError, match="executor='slurm' is not allowed with rehearse"):
        resolve("01", "paper", rehearse=True, executor="slurm")
