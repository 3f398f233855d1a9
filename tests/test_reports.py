"""A report never shrinks: outputs kept apart by profile, a failed attempt keeps the last good
results, a figure set is replaced whole, and concurrent runs keep each other's rows
(ddlib/core/report.py and run_all.sh)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from ddlib.core import report
from ddlib.core.claims import ClaimsTable

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted(p.stem for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


@pytest.fixture
def folders(tmp_path, monkeypatch):
    """Figures and reports in a fresh folder (the run store stays the session's, so smoke
    notebooks that other tests already trained train nothing)."""
    monkeypatch.setenv("DDLIB_FIGURES", str(tmp_path / "figures"))
    monkeypatch.setenv("DDLIB_REPORTS", str(tmp_path / "reports"))
    return tmp_path


def stage(profile, notebook, figures, holds=(True,), notebook_text="{}", log="log"):
    """An attempt as run_all.sh leaves it: executed notebook, log, HTML and a figure set."""
    attempt, figures_root = report.begin_attempt(profile, notebook, os.getpid())
    folder = figures_root / profile / notebook
    folder.mkdir(parents=True)
    for name, data in figures.items():
        (folder / name).write_bytes(data)
    table = ClaimsTable(notebook)
    for i, holds_i in enumerate(holds):
        table.add(f"claim {i}", i, "rule", holds_i, role="headline", dataset="toy", seeds=1)
    table.save(folder)
    (attempt / f"{notebook}.ipynb").write_text(notebook_text)
    (attempt / f"{notebook}.html").write_text("<html/>")
    (attempt / f"{notebook}.log").write_text(log)
    return attempt, figures_root


def finish(profile, notebook, staged, ok, **kwargs):
    return report.finish_attempt(profile, notebook, *staged, succeeded=ok, seconds=3, **kwargs)


def rows_of(profile, folders):
    return pd.read_csv(folders / "reports" / profile / "claims.csv", keep_default_na=False)


def test_figures_and_reports_are_kept_apart_by_profile(folders):
    finish("smoke", "01_x", stage("smoke", "01_x", {"a.png": b"smoke"}), True)
    finish("laptop", "01_x", stage("laptop", "01_x", {"a.png": b"laptop"}), True)
    assert (folders / "figures" / "smoke" / "01_x" / "a.png").read_bytes() == b"smoke"
    assert (folders / "figures" / "laptop" / "01_x" / "a.png").read_bytes() == b"laptop"
    assert len(rows_of("smoke", folders)) == len(rows_of("laptop", folders)) == 1


def test_a_successful_attempt_replaces_the_figure_set_whole(folders):
    finish("smoke", "01_x", stage("smoke", "01_x", {"old.png": b"1", "kept.png": b"1"}), True)
    record = finish("smoke", "01_x", stage("smoke", "01_x", {"kept.png": b"2", "new.png": b"2"},
                                           notebook_text="second"), True, overrides=["repeats=3"])
    published = folders / "figures" / "smoke" / "01_x"
    assert sorted(p.name for p in published.iterdir()) == ["claims.csv", "claims.md", "kept.png",
                                                           "new.png"]
    assert (published / "kept.png").read_bytes() == b"2"
    out = folders / "reports" / "smoke"
    assert (out / "01_x.ipynb").read_text() == "second"
    assert (out / "01_x.html").exists() and (out / "01_x.log").exists()
    assert record["last_success"]["overrides"] == ["repeats=3"]
    assert not any((out / report.ATTEMPTS).iterdir())  # nothing half-written is left behind
    assert not any(report.figures_staging_root("smoke").iterdir())
    assert not list((folders / "figures" / "smoke").glob(".01_x.old-*"))


def test_a_failed_attempt_keeps_the_last_good_results_beside_it(folders):
    finish("smoke", "01_x", stage("smoke", "01_x", {"a.png": b"good"}, holds=(True, False),
                                  notebook_text="good"), True)
    finish("smoke", "02_y", stage("smoke", "02_y", {"b.png": b"good"}), True)
    half = stage("smoke", "01_x", {"a.png": b"half"}, holds=(False,), notebook_text="broken",
                 log="Traceback: ValueError")
    finish("smoke", "01_x", half, False, overrides=["widths=[0, 2]"])
    out = folders / "reports" / "smoke"
    assert (folders / "figures" / "smoke" / "01_x" / "a.png").read_bytes() == b"good"
    assert (out / "01_x.ipynb").read_text() == "good" and (out / "01_x.html").exists()
    assert (out / "01_x.failed.ipynb").read_text() == "broken"
    assert "ValueError" in (out / "01_x.failed.log").read_text()
    rows = rows_of("smoke", folders)
    assert rows["notebook"].tolist() == ["01_x", "01_x", "02_y"]
    assert rows["holds"].tolist() == [True, False, True]
    markdown = (out / "claims.md").read_text()
    assert "2 of 3 headline claims hold; 2 of 3 claims hold in all" in markdown
    assert "**failed**" in markdown and "01_x.failed.log" in markdown
    assert "## 01_x (the last attempt failed; these rows are from the last successful run)" in markdown
    assert "01_x: last attempt failed" in report.summary("smoke")
    # the next successful attempt clears the failure
    finish("smoke", "01_x", stage("smoke", "01_x", {"a.png": b"new"}), True)
    assert not (out / "01_x.failed.ipynb").exists() and not (out / "01_x.failed.log").exists()
    assert "**failed**" not in (out / "claims.md").read_text()
    assert "last attempt failed" not in report.summary("smoke")


def test_a_notebook_that_never_succeeded_is_reported_as_failed(folders):
    finish("smoke", "01_x", stage("smoke", "01_x", {}), False)
    assert len(rows_of("smoke", folders)) == 0
    assert "no good results yet" in report.summary("smoke")
    assert not (folders / "figures" / "smoke" / "01_x").exists()


def test_a_failed_html_export_removes_the_previous_html(folders):
    finish("smoke", "01_x", stage("smoke", "01_x", {}), True)
    staged = stage("smoke", "01_x", {})
    (staged[0] / "01_x.html").unlink()
    finish("smoke", "01_x", staged, True)
    assert not (folders / "reports" / "smoke" / "01_x.html").exists()


def test_rows_from_an_older_commit_are_flagged(folders, monkeypatch):
    monkeypatch.setattr(report, "current_commit", lambda: "aaa")
    finish("smoke", "01_x", stage("smoke", "01_x", {}), True)
    monkeypatch.setattr(report, "_now", lambda: "2999-01-01 00:00:00 UTC")
    monkeypatch.setattr(report, "current_commit", lambda: "bbb")
    finish("smoke", "02_y", stage("smoke", "02_y", {}), True)
    rows = rows_of("smoke", folders)
    assert rows.set_index("notebook")["older_commit"].to_dict() == {"01_x": True, "02_y": False}
    assert rows.set_index("notebook")["commit"].to_dict() == {"01_x": "aaa", "02_y": "bbb"}
    markdown = (folders / "reports" / "smoke" / "claims.md").read_text()
    assert "| 01_x | " in markdown and "`aaa` (**older commit** than the newest run)" in markdown
    assert "`bbb` (**older commit**" not in markdown


def test_attempt_folders_of_a_dead_owner_on_this_machine_are_removed(folders):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True).stdout.strip()
    abandoned, _ = report.begin_attempt("smoke", "01_x", int(dead))
    elsewhere = abandoned.parent / f"03_z.other-host.{dead}.abcdef"  # a live run on another machine
    elsewhere.mkdir()
    alive, _ = report.begin_attempt("smoke", "02_y", os.getpid())
    assert not abandoned.exists() and alive.exists() and elsewhere.exists()
    assert not (report.figures_staging_root("smoke") / abandoned.name).exists()


def test_a_success_without_a_claims_table_keeps_the_last_good_results(folders):
    """E.g. a notebook run under another profile than the report's: nothing to publish."""
    finish("smoke", "01_x", stage("smoke", "01_x", {"a.png": b"good"}), True)
    staged = stage("smoke", "01_x", {"a.png": b"other"})
    (staged[1] / "smoke" / "01_x" / "claims.csv").unlink()
    record = finish("smoke", "01_x", staged, True)
    assert record["last_attempt"]["status"] == "failed"
    assert (folders / "figures" / "smoke" / "01_x" / "a.png").read_bytes() == b"good"
    assert len(rows_of("smoke", folders)) == 1
    assert "wrote no claims table" in (folders / "reports" / "smoke" / "01_x.failed.log").read_text()


def test_a_swap_killed_between_its_renames_is_restored(folders):
    finish("smoke", "01_x", stage("smoke", "01_x", {"a.png": b"good"}), True)
    final = folders / "figures" / "smoke" / "01_x"
    os.replace(final, final.parent / ".01_x.old-123456")  # killed after the first rename
    finish("smoke", "01_x", stage("smoke", "01_x", {}), False)
    assert (final / "a.png").read_bytes() == b"good"
    assert not list(final.parent.glob(".01_x.old-*"))


def test_the_commit_is_the_one_read_when_the_attempt_began(folders, monkeypatch):
    monkeypatch.setattr(report, "current_commit", lambda: "aaa")
    staged = stage("smoke", "01_x", {})
    monkeypatch.setattr(report, "current_commit", lambda: "bbb")  # checked out during the run
    assert finish("smoke", "01_x", staged, True)["last_success"]["commit"] == "aaa"


def test_a_dirty_checkout_of_the_same_commit_is_not_older():
    assert report._older_commit("abc+dirty", "abc") is False
    assert report._older_commit("abc", "abc+dirty") is False
    assert report._older_commit("unknown", "abc") is True


def test_concurrent_finishes_keep_every_row(folders):
    """Processes that finish at the same moment (through the CLI run_all.sh uses) lose no row."""
    names = [f"{i:02d}_n" for i in range(6)]
    staged = {name: stage("smoke", name, {"a.png": name.encode()}, holds=(True, True))
              for name in names}
    processes = [subprocess.Popen([sys.executable, "-m", "ddlib.core.report", "finish", "smoke",
                                   name, str(staged[name][0]), str(staged[name][1]), "ok", "1"])
                 for name in names]
    assert all(p.wait() == 0 for p in processes)
    rows = rows_of("smoke", folders)
    assert sorted(set(rows["notebook"])) == names and len(rows) == 12
    state = json.loads((folders / "reports" / "smoke" / "attempts.json").read_text())
    assert sorted(state["notebooks"]) == names


# ------------------------------------------------------------------------------------------------
# run_all.sh, real processes, smoke profile
# ------------------------------------------------------------------------------------------------
def run_all(*args, wait=True):
    command = ["bash", str(ROOT / "run_all.sh"), "--profile", "smoke", *args]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               cwd=ROOT, env={**os.environ, "PYTHON": sys.executable})
    if not wait:
        return process
    output = process.communicate()[0]
    return process.returncode, output


def run_times(folders):
    state = json.loads((folders / "reports" / "smoke" / "attempts.json").read_text())
    return {name: record["last_success"]["run_at"] for name, record in state["notebooks"].items()}


def test_partial_failed_and_concurrent_runs_never_shrink_the_report(folders):
    code, output = run_all()
    assert code == 0, output
    first = rows_of("smoke", folders)
    assert sorted(set(first["notebook"])) == NOTEBOOKS
    before = run_times(folders)
    sharpness = folders / "figures" / "smoke" / "02_convnet_sharpness"
    figures_before = {p.name: p.read_bytes() for p in sharpness.iterdir()}
    out = folders / "reports" / "smoke"
    executed_before = (out / "02_convnet_sharpness.ipynb").read_bytes()

    # a bad parameter: refused inside the notebook; the last good results stay
    code, output = run_all("--only", "02", "-y", "widths", "[0, 2]")
    assert code == 1 and "FAILED" in output and "last good results kept" in output
    assert rows_of("smoke", folders).equals(first)
    assert {p.name: p.read_bytes() for p in sharpness.iterdir()} == figures_before
    assert (out / "02_convnet_sharpness.ipynb").read_bytes() == executed_before
    assert "widths[0]=0 is not allowed" in (out / "02_convnet_sharpness.failed.log").read_text()
    assert (out / "02_convnet_sharpness.failed.ipynb").exists()
    markdown = (out / "claims.md").read_text()
    assert report.counts(first) in markdown
    assert "**failed**" in markdown and "02_convnet_sharpness.failed.log" in markdown

    # two partial runs at once: both tables are updated, no notebook's rows are lost
    runs = [run_all("--only", "01", wait=False), run_all("--only", "03", wait=False)]
    outputs = [p.communicate()[0] for p in runs]
    assert all(p.returncode == 0 for p in runs), outputs
    assert all("02_convnet_sharpness: last attempt failed" in o for o in outputs)  # still said
    after = run_times(folders)
    assert after["01_linear_double_descent"] > before["01_linear_double_descent"]
    assert after["03_local_complexity"] > before["03_local_complexity"]
    assert after["02_convnet_sharpness"] == before["02_convnet_sharpness"]
    assert after["04_decision_regions"] == before["04_decision_regions"]
    final = rows_of("smoke", folders)
    assert sorted(set(final["notebook"])) == NOTEBOOKS and len(final) == len(first)
    assert not any((out / report.ATTEMPTS).iterdir())
