"""The claim rules of the studies (``ddlib.studies.<study>.claims``) on synthetic inputs with known
answers: every rule is checked both ways (a case that holds and a minimally changed one that does
not), and the measured text where it carries the key number. No training, no data loading."""

from __future__ import annotations

import pandas as pd
import pytest

from ddlib.analysis import grokking_timing
from ddlib.core.claims import ClaimsTable
from ddlib.studies.local_complexity import claims as nb03

NAN = float("nan")
ONE_RUN = {"dataset": "mnist5k", "seeds": 1}  # notebook 03's rules read one run


# =============================================================================================
# Notebook 03: local complexity (grokking timing; the other rules: test_local_complexity_claims.py)
# =============================================================================================
def phases_dict(three_phases: bool = True, peak_step: int = 50, lc_peak: float = 2.0) -> dict:
    return {"lc_start": 1.0, "lc_first_min": 0.5, "first_min_step": 10, "lc_peak": lc_peak,
            "peak_step": peak_step, "lc_final_min": 0.25, "final_min_step": 1000,
            "three_phases": three_phases}


GROK_TIMING = {"saturation_step": 10, "rise_step": 100, "test_gain": 0.5, "lc_at_rise": 1.0,
               "test_at_saturation": 0.3, "test_final": 0.8, "lc_final": 0.5}


def test_grokking_holds_on_the_reference_case():
    assert nb03.grokking_holds(GROK_TIMING, phases_dict(), last_step=1000) is True


@pytest.mark.parametrize(("timing", "phases", "last_step"), [
    pytest.param({"test_gain": 0.09}, {}, 1000, id="gain below 0.1"),
    pytest.param({"saturation_step": 34}, {}, 1000, id="rise before 3x saturation (102 > 100)"),
    pytest.param({}, {}, 100, id="rise at the last logged step"),
    pytest.param({}, {"peak_step": 150}, 1000, id="rise before the LC peak"),
    pytest.param({}, {"peak_step": 100}, 1000, id="rise at the LC peak"),
    pytest.param({"lc_at_rise": 1.8}, {}, 1000, id="LC at the rise = 0.9 x peak"),
    pytest.param({"lc_at_rise": 1.9}, {}, 1000, id="LC at the rise above 0.9 x peak"),
    pytest.param({"saturation_step": None, "rise_step": None, "test_gain": 0.0}, {}, 1000,
                 id="never saturated"),
])
def test_grokking_fails_when_any_one_condition_is_violated(timing, phases, last_step):
    assert nb03.grokking_holds({**GROK_TIMING, **timing}, phases_dict(**phases), last_step) is False


@pytest.mark.parametrize(("timing", "peak_step", "last_step"), [
    ({"test_gain": 0.1}, 50, 1000),  # gain >= 0.1
    ({"saturation_step": 33}, 50, 1000),  # 99 <= 100
    ({"rise_step": 30, "saturation_step": 10}, 20, 1000),  # rise = 3 x saturation exactly
    ({"saturation_step": 0, "rise_step": 51}, 50, 1000),  # saturation 0 counts as step 1
    ({}, 50, 101),  # the last logged step is after the rise
    ({"lc_at_rise": 1.79}, 50, 1000),  # just below 0.9 x 2.0
])
def test_grokking_boundaries_that_still_hold(timing, peak_step, last_step):
    phases = phases_dict(peak_step=peak_step)
    assert nb03.grokking_holds({**GROK_TIMING, **timing}, phases, last_step) is True


def grokking_metrics(test: list[float], train: list[float] | None = None) -> pd.DataFrame:
    steps = [0, 10, 20, 40, 80, 160, 320, 640, 1000]
    train = [0.5, 0.99, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0] if train is None else train
    lc = [1.0, 1.5, 2.0, 1.8, 1.5, 1.0, 0.8, 0.6, 0.5]
    return pd.DataFrame({"step": steps, "train_accuracy": train, "test_accuracy": test,
                         "lc_train_fine": lc})


def test_grokking_claim_on_grokking_timing_of_a_synthetic_log():
    phases = phases_dict(peak_step=20, lc_peak=2.0)
    late = grokking_metrics([0.1, 0.2, 0.2, 0.2, 0.25, 0.3, 0.8, 0.9, 0.9])
    timing = grokking_timing(late, "lc_train_fine")
    assert timing["saturation_step"] == 10 and timing["rise_step"] == 320
    claims = ClaimsTable("03")
    nb03.add_grokking_claim(claims, timing, phases, last_step=1000, init_scale=8.0, **ONE_RUN)
    (row,) = claims.rows
    assert row["holds"]
    assert row["claim"].startswith("grokking (init x8):")
    assert "train acc >= 0.99 at step 10" in row["measured"]
    assert "test acc 0.20 -> 0.90, half of the gain at step 320" in row["measured"]
    assert "LC 2.00 -> 0.80 at the rise" in row["measured"]
    # Test accuracy rising together with training accuracy is no grokking (rise at step 20 < 30).
    early = grokking_metrics([0.1, 0.5, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9])
    claims = ClaimsTable("03")
    nb03.add_grokking_claim(claims, grokking_timing(early, "lc_train_fine"), phases, 1000, 8.0,
                            **ONE_RUN)
    assert not claims.rows[0]["holds"]


def test_grokking_claim_without_saturation_is_recorded_as_not_holding():
    never = grokking_metrics([0.1] * 9, train=[0.5] * 9)
    timing = grokking_timing(never, "lc_train_fine")
    claims = ClaimsTable("03")
    nb03.add_grokking_claim(claims, timing, phases_dict(), last_step=1000, init_scale=1.0,
                            **ONE_RUN)
    (row,) = claims.rows
    assert not row["holds"]
    assert "train acc >= 0.99 at step None" in row["measured"] and "nan" in row["measured"]


# =============================================================================================
# The claims table's dataset, seeds and confidence columns
# =============================================================================================
NEW_COLUMNS = ["notebook", "claim", "role", "dataset", "seeds", "measured", "confidence",
               "criterion", "holds", "rule"]


def test_claims_csv_and_md_carry_dataset_seeds_and_confidence(tmp_path, monkeypatch):
    from ddlib.core.claims import NO_BAND
    from ddlib.core.report import render

    monkeypatch.setenv("DDLIB_REPORTS", str(tmp_path / "reports"))
    table = ClaimsTable("98_columns")
    table.add("a peak", "at 4", "argmax == 4", True, role="headline", dataset="mnist5k", seeds=3,
              confidence="mean ± std over 3 seeds: w = 4: 0.3 ± 0.01")
    table.add("a ratio", "x0.5", "< 0.9", False, role="secondary", dataset="cifar10", seeds=1,
              confidence=NO_BAND)
    table.add("a bound", "1e-20", "< 1e-12", True, role="implementation check",
              dataset="diabetes", seeds=50)
    table.save(tmp_path / "98_columns")
    frame = pd.read_csv(tmp_path / "98_columns" / "claims.csv", keep_default_na=False)
    assert list(frame.columns) == NEW_COLUMNS
    assert frame["dataset"].tolist() == ["mnist5k", "cifar10", "diabetes"]
    assert frame["role"].tolist() == ["headline", "secondary", "implementation check"]
    assert frame["seeds"].tolist() == [3, 1, 50]
    assert frame["confidence"].tolist() == ["mean ± std over 3 seeds: w = 4: 0.3 ± 0.01",
                                            "1 seed, no band", ""]
    markdown = (tmp_path / "98_columns" / "claims.md").read_text()
    assert "| claim | role | dataset | seeds | measured | confidence | criterion | holds |" in markdown
    assert "| a ratio | secondary | cifar10 | 1 | x0.5 | 1 seed, no band | < 0.9 | **no** |" in markdown
    assert "| a bound | implementation check | diabetes | 50 | 1e-20 |  | < 1e-12 | yes |" in markdown
    html = table._repr_html_()
    assert all(f"<th>{c}</th>" in html for c in NEW_COLUMNS[1:])
    success = {"run_at": "2026-12-07 10:00:00 UTC", "commit": "abc", "seconds": 1, "overrides": [],
               "rows": table.rows}
    report = render("smoke", {"notebooks": {"98_columns": {"last_success": success}}})
    assert list(report.columns)[:len(NEW_COLUMNS)] == NEW_COLUMNS
    assert report["holds"].tolist() == [True, False, True]
    gathered = (tmp_path / "reports" / "smoke" / "claims.md").read_text()
    assert ("1 of 1 headline claims hold; 1 of 2 claims hold in all; "
            "1 of 1 implementation checks pass") in gathered
    assert "| a bound | implementation check | diabetes | 50 | 1e-20 |  | < 1e-12 | yes |" in gathered
    written = pd.read_csv(tmp_path / "reports" / "smoke" / "claims.csv")
    assert list(written.columns)[:len(NEW_COLUMNS)] == NEW_COLUMNS


def test_report_takes_over_an_old_claims_csv_without_the_new_columns(tmp_path, monkeypatch):
    """A report gathered by an older version (no attempts.json, no dataset column) keeps its rows."""
    from ddlib.core.report import _read_state, render

    monkeypatch.setenv("DDLIB_REPORTS", str(tmp_path))
    (tmp_path / "smoke").mkdir()
    pd.DataFrame([{"notebook": "01", "claim": "c", "measured": "m", "criterion": "k",
                   "holds": True}]).to_csv(tmp_path / "smoke" / "claims.csv", index=False)
    report = render("smoke", _read_state("smoke"))
    assert list(report.columns)[:len(NEW_COLUMNS)] == NEW_COLUMNS
    assert report["dataset"].tolist() == [""] and report["commit"].tolist() == ["unknown"]
    assert "| c |  |  |  | m |  | k | yes |" in (tmp_path / "smoke" / "claims.md").read_text()


@pytest.mark.parametrize("kwargs", [
    pytest.param({"seeds": 1, "role": "headline"}, id="no dataset"),
    pytest.param({"dataset": "toy", "role": "headline"}, id="no seeds"),
    pytest.param({"dataset": "toy", "seeds": 1}, id="no role"),
])
def test_add_requires_role_dataset_and_seeds(kwargs):
    with pytest.raises(TypeError, match="role|dataset|seeds"):
        ClaimsTable("99").add("c", "m", "k", True, **kwargs)
    with pytest.raises(TypeError):
        ClaimsTable("99").add("c", "m", "k", True)


def test_add_refuses_an_unknown_role():
    with pytest.raises(ValueError, match="role='main' is not allowed; use one of"):
        ClaimsTable("99").add("c", "m", "k", True, role="main", dataset="toy", seeds=1)


@pytest.mark.parametrize(("dataset", "seeds", "message"), [
    ("", 1, "dataset=''"),
    ("  ", 1, "dataset="),
    (None, 1, "dataset=None"),
    ("toy", 0, "seeds=0"),
    ("toy", 1.0, "seeds=1.0"),
    ("toy", True, "seeds=True"),
])
def test_add_refuses_an_empty_dataset_or_a_bad_seed_count(dataset, seeds, message):
    table = ClaimsTable("99")
    with pytest.raises(ValueError, match=message):
        table.add("c", "m", "k", True, role="headline", dataset=dataset, seeds=seeds)
    assert table.rows == []


