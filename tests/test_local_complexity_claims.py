"""The claim rules of notebook 03 (``ddlib.studies.local_complexity.claims``) on synthetic inputs
with exact answers: every rule holds on one input and fails on a minimally changed one (so that
flipping its comparison breaks a test). No training, no data loading."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ddlib.analysis import grokking_timing, lc_phases
from ddlib.core.claims import ClaimsTable
from ddlib.studies.local_complexity import claims as nb03

NAN = float("nan")
ONE_RUN = {"dataset": "mnist5k", "seeds": 1}
# smoothed by lc_phases unchanged: descent 4 -> 2 (step 2), ascent -> 4 (step 5), descent -> 1
THREE = [4.0, 3.0, 2.0, 2.0, 3.0, 4.0, 4.0, 2.0, 1.0]
# a longer ascent: 4 -> 2 (step 2) -> 6 (step 7) -> 1 (step 9)
LONG = [4.0, 3.0, 2.0, 2.0, 3.0, 4.0, 5.0, 6.0, 6.0, 1.0]
MONOTONE = [4.0, 3.5, 3.0, 2.5, 2.0, 1.5, 1.0, 0.5, 0.5]


def log(train: list[float], test: float | list[float] = 1.0, random: float | list[float] = 0.5,
        accuracy: float = 0.9, radius: str = "fine") -> pd.DataFrame:
    """A logged-metrics table: steps 0, 1, ..., LC of the three roles at ``radius``."""
    return pd.DataFrame({"step": range(len(train)), f"lc_train_{radius}": train,
                         f"lc_test_{radius}": test, f"lc_random_{radius}": random,
                         "test_accuracy": accuracy})


def scaled(curve: list[float], factor: float) -> list[float]:
    return [factor * v for v in curve]


def rows(add, *args, **kwargs) -> list[dict]:
    claims = ClaimsTable("03")
    add(claims, *args, **kwargs)
    return claims.rows


def phases_dict(first_min_step: int = 10, peak_step: int = 50, lc_peak: float = 2.0,
                lc_final_min: float = 0.25, three_phases: bool = True) -> dict:
    return {"lc_start": 1.0, "lc_first_min": 0.5, "first_min_step": first_min_step,
            "lc_peak": lc_peak, "peak_step": peak_step, "lc_final_min": lc_final_min,
            "final_min_step": 1000, "three_phases": three_phases,
            "second_descent": three_phases}


# ---------------------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("values", "increasing", "expected"), [
    ([3.0, 2.0, 1.0], False, True),
    ([3.0, 2.0, 2.0], False, True),  # ties allowed, the last below the first
    ([2.0, 2.0, 2.0], False, False),  # flat: no change
    ([3.0, 1.0, 2.0], False, False),  # moves back up
    ([1.0, 2.0, 3.0], False, False),
    ([1.0, 2.0, 3.0], True, True),
    ([3.0, 2.0, 1.0], True, False),
    ([1.0], True, False),  # one value: no trend
    ([1.0, NAN, 3.0], True, True),  # NaN skipped
])
def test_trend_is_monotone_and_ends_beyond_the_start(values, increasing, expected):
    assert nb03.trend(values, increasing=increasing) is expected


def test_three_curve_has_the_phases_the_tests_rely_on():
    ph = lc_phases(range(9), THREE, 0.1)
    assert (ph["first_min_step"], ph["peak_step"], ph["final_min_step"]) == (2, 5, 8)
    assert (ph["lc_first_min"], ph["lc_peak"], ph["lc_final_min"]) == (2.0, 4.0, 1.0)
    long = lc_phases(range(10), LONG, 0.1)
    assert (long["first_min_step"], long["peak_step"], long["lc_peak"]) == (2, 7, 6.0)


# ---------------------------------------------------------------------------------------------
# Fig. 1: three phases at train and test points
# ---------------------------------------------------------------------------------------------
def test_phase_claims_cover_every_role_and_radius():
    phases = {"train": {"fine": phases_dict(), "coarse": phases_dict(three_phases=False)},
              "test": {"fine": phases_dict(three_phases=False), "coarse": phases_dict()}}
    table = rows(nb03.add_phase_claims, phases, 0.05, **ONE_RUN)
    assert [r["claim"] for r in table] == [
        "train LC (fine radius) descends, ascends, then descends again",
        "train LC (coarse radius) descends, ascends, then descends again",
        "test LC (fine radius) descends, ascends, then descends again",
        "test LC (coarse radius) descends, ascends, then descends again"]
    assert [r["holds"] for r in table] == [True, False, False, True]
    assert table[0]["measured"] == "1.00 -> 0.50 (step 10) -> 2.00 (step 50) -> 0.25 (step 1000)"
    assert {r["role"] for r in table} == {"headline"}
    assert {r["confidence"] for r in table} == {"1 seed, no band"}


def test_phase_claims_accept_lc_phases_output():
    phases = {"train": {"fine": lc_phases(range(9), THREE, 0.1)},
              "test": {"fine": lc_phases(range(9), MONOTONE, 0.1)}}
    assert [r["holds"] for r in rows(nb03.add_phase_claims, phases, 0.1, **ONE_RUN)] == [True, False]


# ---------------------------------------------------------------------------------------------
# Fig. 1: migration (exact partitions of slices)
# ---------------------------------------------------------------------------------------------
def slice_stats(peak: dict[str, list[float]], end: dict[str, list[float]]) -> pd.DataFrame:
    """Partition statistics at steps 0, 10 (the LC peak) and 100 (the end), one row per slice;
    columns given per step as lists over slices (step 0 copies the peak)."""
    count = len(next(iter(peak.values())))
    frames = [pd.DataFrame({"step": step, "slice": range(count), **values})
              for step, values in ((0, peak), (10, peak), (100, end))]
    return pd.concat(frames, ignore_index=True)


def counts(slices: int, *, near_data: float = 10.0, near_boundary: float = 10.0,
           regions: float = 100.0, coarse: float = 50.0) -> dict[str, list[float]]:
    return {"regions": [regions] * slices, "near_data_fine": [near_data] * slices,
            "near_boundary_fine": [near_boundary] * slices, "near_data_coarse": [coarse] * slices,
            "near_boundary_coarse": [coarse] * slices}


RADII = {"fine": 0.01, "coarse": 0.1}


@pytest.mark.parametrize(("end", "holds"), [(5.0, True), (8.9, True), (9.0, False), (12.0, False)])
def test_leave_points_needs_the_near_point_count_below_0_9_of_the_peak(end, holds):
    stats = slice_stats(counts(3), counts(3, near_data=end, coarse=25.0))
    (row,) = rows(nb03.regions_leave_points, stats, "train", 10, RADII, "mnist5k", 1)
    assert row["holds"] is holds
    assert row["claim"] == "in the last phase the regions near training points become fewer"
    assert row["measured"] == (f"step 10 (LC peak) -> 100, exact partitions of 3 slices through "
                               f"training points; near-point count r = 0.01: x{end / 10:.2f}, "
                               "r = 0.1: x0.50")
    assert row["confidence"] == ("1 seed, no band; 3 slice(s): too few for a meaningful bootstrap "
                                 "interval (< 5), decided on the point estimate")


def test_leave_points_reads_the_fine_radius_and_names_test_points():
    stats = slice_stats(counts(3), counts(3, near_data=5.0, coarse=500.0))  # coarse x10 ignored
    (row,) = rows(nb03.regions_leave_points, stats, "test", 10, RADII, "mnist5k", 1)
    assert row["holds"] and row["claim"] == "in the last phase the regions near test points become fewer"
    zero = slice_stats(counts(3, near_data=0.0), counts(3, near_data=0.0))  # nothing at the peak
    assert not rows(nb03.regions_leave_points, zero, "train", 10, RADII, "mnist5k", 1)[0]["holds"]


def test_leave_points_with_five_slices_is_decided_by_the_bootstrap():
    """The slice mean falls to x0.8, but one slice of five doubles: the interval of 0.9 - ratio
    reaches below 0, so the claim does not hold although its point estimate does."""
    ends = {"near_data_fine": [5.0, 5.0, 5.0, 5.0, 20.0]}
    stats = slice_stats(counts(5), counts(5) | ends)
    (row,) = rows(nb03.regions_leave_points, stats, "train", 10, RADII, "mnist5k", 1)
    assert nb03.fewer_statistic(nb03.slice_pairs(stats, "near_data_fine", 10)) == pytest.approx(0.1)
    assert not row["holds"]
    assert row["confidence"].startswith("90% two-sided seeded bootstrap over 5 slices (paired "
                                        "across the LC-peak and last checkpoints; seed 0, 1000 "
                                        "resamples) [-")
    assert row["confidence"].endswith("; slices of one run")
    same = slice_stats(counts(5), counts(5, near_data=5.0))  # every slice x0.5: interval [0.4, 0.4]
    (row,) = rows(nb03.regions_leave_points, same, "train", 10, RADII, "mnist5k", 1)
    assert row["holds"] and row["confidence"].split(") ")[-1] == "[0.4, 0.4]; slices of one run"


@pytest.mark.parametrize(("regions", "near_boundary", "holds"), [
    (20.0, 4.0, True),  # fewer regions near the boundary (10 -> 4) but a larger share (0.1 -> 0.2)
    (100.0, 11.0, True),
    (100.0, 10.0, False),  # the same share: no rise
    (50.0, 4.0, False),  # 0.1 -> 0.08
])
def test_concentration_is_a_rising_share_of_regions_near_the_boundary(regions, near_boundary,
                                                                      holds):
    stats = slice_stats(counts(3), counts(3, regions=regions, near_boundary=near_boundary))
    (row,) = rows(nb03.regions_concentrate_at_boundary, stats, 10, RADII, "mnist5k", 1)
    assert row["holds"] is holds
    share = near_boundary / regions
    assert row["measured"] == (f"share near the boundary (r = 0.01) 0.100 at step 10 (LC peak) -> "
                               f"{share:.3f} at step 100 (rise {share - 0.1:+.3f}), mean over 3 "
                               "slices")


def test_concentration_over_few_slices_decides_on_the_estimate_and_over_many_on_the_interval():
    # share rises 0.1, 0.1 and falls 0.15 per slice: mean +0.0167
    three = slice_stats(counts(3), {**counts(3), "near_boundary_fine": [20.0, 20.0, -5.0]})
    (row,) = rows(nb03.regions_concentrate_at_boundary, three, 10, RADII, "mnist5k", 1)
    assert row["holds"] and "decided on the point estimate" in row["confidence"]
    # six slices: +0.1 five times and -0.45 once: mean +0.0083, the 5% quantile below 0
    six = slice_stats(counts(6), {**counts(6), "near_boundary_fine": [20.0] * 5 + [-35.0]})
    (row,) = rows(nb03.regions_concentrate_at_boundary, six, 10, RADII, "mnist5k", 1)
    assert not row["holds"] and "(rise +0.008)" in row["measured"]
    assert row["confidence"].startswith("90% two-sided seeded bootstrap over 6 slices")


def test_migration_claims_read_both_anchors_and_pool_their_slices_for_the_boundary():
    stats = {"train": slice_stats(counts(3), counts(3, near_data=5.0, near_boundary=20.0)),
             "test": slice_stats(counts(3), counts(3, near_data=9.5, near_boundary=20.0))}
    table = rows(nb03.add_migration_claims, stats, 10, RADII, **ONE_RUN)
    assert [r["claim"] for r in table] == [
        "in the last phase the regions near training points become fewer",
        "in the last phase the regions near test points become fewer",
        "... and the share of regions near the decision boundary rises"]
    assert [r["holds"] for r in table] == [True, False, True]
    assert table[2]["measured"].endswith("mean over 6 slices")
    # six identical rises of 0.1: the bootstrap decides, with a degenerate interval
    assert table[2]["confidence"].split(") ")[-1] == "[0.1, 0.1]; slices of one run"
    assert [r["role"] for r in table] == ["headline"] * 3


def test_migration_does_not_hold_when_the_peak_is_the_last_checkpoint():
    stats = slice_stats(counts(3), counts(3, near_data=5.0, near_boundary=20.0))
    table = rows(nb03.add_migration_claims, {"train": stats}, 100, RADII, **ONE_RUN)
    assert [r["holds"] for r in table] == [False, False]


# ---------------------------------------------------------------------------------------------
# Fig. 14: exact counts and LC both show double descent
# ---------------------------------------------------------------------------------------------
def exact_rows(counts_curve: list[float], lc_curve: list[float]) -> dict:
    index = pd.Index(range(len(counts_curve)), name="step")
    per_step = pd.DataFrame({"near_data_fine": counts_curve}, index=index)
    lc_at = pd.DataFrame({"lc_train_fine": lc_curve}, index=index)
    (row,) = rows(nb03.add_exact_count_claim, per_step, lc_at, {"fine": 0.2, "coarse": -0.3}, 0.1,
                  **ONE_RUN)
    return row


@pytest.mark.parametrize(("counts_curve", "lc_curve", "holds"), [
    (THREE, scaled(THREE, 2), True),
    (MONOTONE, THREE, False),  # the exact counts never ascend
    (THREE, MONOTONE, False),  # the LC never ascends
])
def test_exact_count_claim_needs_three_phases_in_both_curves(counts_curve, lc_curve, holds):
    row = exact_rows(counts_curve, lc_curve)
    assert row["holds"] is holds
    assert row["measured"].endswith("(9 kept checkpoints); Spearman fine 0.20, Spearman coarse -0.30")
    assert row["role"] == "headline"


def test_exact_count_claim_with_too_few_checkpoints_does_not_hold():
    row = exact_rows([1.0, 2.0, 1.0], [1.0, 2.0, 1.0])
    assert not row["holds"]
    assert row["measured"] == "3 kept checkpoints (< 4); Spearman fine 0.20, Spearman coarse -0.30"


# ---------------------------------------------------------------------------------------------
# Fig. 15: layer-wise train - test gap
# ---------------------------------------------------------------------------------------------
def layer_log(train: list[float], test: list[float]) -> pd.DataFrame:
    """Steps 0 and 5; at step 5 the per-layer train and test LC given."""
    columns = {}
    for i, (tr, te) in enumerate(zip(train, test, strict=True)):
        columns[f"lc_train_fine_layer{i}"] = [0.0, tr]
        columns[f"lc_test_fine_layer{i}"] = [0.0, te]
    return pd.DataFrame({"step": [0, 5], **columns})


@pytest.mark.parametrize(("train", "test", "holds"), [
    ([5.0, 3.0, 2.0], [2.0, 1.0, 1.5], True),  # gaps 3, 2, 0.5
    ([5.0, 3.0, 2.0], [3.0, 1.0, 1.5], True),  # gaps 2, 2, 0.5: ties allowed, last below first
    ([2.0, 3.0, 5.0], [1.5, 1.0, 2.0], False),  # gaps 0.5, 2, 3: grows with depth
    ([3.0, 3.0, 3.0], [1.0, 1.0, 1.0], False),  # equal gaps: no decrease
])
def test_layerwise_gap_must_shrink_with_the_layer_index(train, test, holds):
    table = rows(nb03.add_layerwise_claims, layer_log(train, test), {"fine": {"peak_step": 5}},
                 **ONE_RUN)
    (row,) = table
    assert row["holds"] is holds
    gaps = [a - b for a, b in zip(train, test, strict=True)]
    assert row["measured"] == "step 5: layers 1..3: " + ", ".join(f"{g:.3g}" for g in gaps)


# ---------------------------------------------------------------------------------------------
# Fig. 3: depth
# ---------------------------------------------------------------------------------------------
def test_gap_at_peak_reads_train_minus_test_at_the_train_lc_peak():
    metrics = log(THREE, test=[0, 0, 0, 0, 0, 1.5, 0, 0, 0])
    assert nb03.gap_at_peak(metrics, "fine", 0.1) == 2.5  # 4 - 1.5 at step 5


@pytest.mark.parametrize(("tests", "holds"), [
    ((1.0, 2.0, 3.0), True),  # gaps 3, 2, 1
    ((1.0, 1.0, 3.0), True),  # gaps 3, 3, 1
    ((3.0, 2.0, 1.0), False),  # gaps grow
    ((1.0, 3.0, 2.0), False),  # 3, 1, 2: not monotone
    ((2.0, 2.0, 2.0), False),  # equal
])
def test_depth_claim_needs_the_gap_at_the_peak_to_shrink_with_depth(tests, holds):
    runs = {4: log(THREE, test=tests[2]), 2: log(THREE, test=tests[0]),
            3: log(THREE, test=tests[1])}  # unsorted: the rule sorts depths
    (row,) = rows(nb03.add_depth_claims, runs, ["fine"], 0.1, **ONE_RUN)
    assert row["holds"] is holds
    assert row["measured"] == "depths 2, 3, 4: " + ", ".join(f"{4 - t:.3g}" for t in tests)
    assert row["claim"] == "train - test LC (fine radius) at the LC peak shrinks with depth"


# ---------------------------------------------------------------------------------------------
# Fig. 6: width
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("factors", "holds"), [
    ((1.0, 2.0, 1.5), True),
    ((1.0, 2.0, 3.0), False),  # still rising at the widest
    ((3.0, 2.0, 1.0), False),  # falling from the narrowest
])
def test_width_peak_must_be_at_an_interior_width(factors, holds):
    runs = {w: log(scaled(THREE, f)) for w, f in zip((16, 32, 64), factors, strict=True)}
    peak_row = rows(nb03.add_width_claims, runs, 0.1, **ONE_RUN)[0]
    assert peak_row["holds"] is holds
    assert peak_row["measured"] == "widths 16, 32, 64: " + ", ".join(f"{4 * f:.3g}" for f in factors)


def test_width_peak_needs_three_widths():
    runs = {16: log(scaled(THREE, 1.0)), 32: log(scaled(THREE, 2.0))}
    assert [r["holds"] for r in rows(nb03.add_width_claims, runs, 0.1, **ONE_RUN)] == [False] * 3


@pytest.mark.parametrize(("widths", "values", "holds"), [
    ((16, 32, 64), (1.0, 3.0, 3.5), True),  # slopes per doubling 2, 0.5
    ((16, 32, 64), (1.0, 3.0, 4.0), True),  # 2, 1: exactly half
    ((16, 32, 64), (1.0, 3.0, 4.5), False),  # 2, 1.5
    ((16, 32, 64), (1.0, 3.0, 1.5), False),  # falls by 1.5 > 1
    ((16, 32, 64), (3.0, 1.0, 1.0), False),  # never rose
    ((50, 200, 400), (1.0, 3.0, 3.5), True),  # per doubling: 1 (two doublings), then 0.5
    ((50, 200, 400), (1.0, 3.0, 3.6), False),  # 1, then 0.6
])
def test_saturation_compares_the_rise_per_doubling_of_width(widths, values, holds):
    assert nb03.saturates(widths, values) is holds


def test_width_claims_read_test_and_random_lc_at_each_train_peak():
    runs = {w: log(THREE, test=[0, 0, 0, 0, 0, t, 9, 9, 9], random=[0, 0, 0, 0, 0, r, 9, 9, 9])
            for w, t, r in ((16, 1.0, 1.0), (32, 3.0, 3.0), (64, 3.5, 4.5))}
    _, test, random = rows(nb03.add_width_claims, runs, 0.1, **ONE_RUN)
    assert test["claim"] == "test LC at the ascent peak saturates with width" and test["holds"]
    assert random["measured"] == "widths 16, 32, 64: 1, 3, 4.5" and not random["holds"]
    assert test["role"] == random["role"] == "secondary"


# ---------------------------------------------------------------------------------------------
# Figs. 10 and 11: training-set size
# ---------------------------------------------------------------------------------------------
def size_runs(true: dict[int, pd.DataFrame], random: dict[int, pd.DataFrame]) -> dict:
    return {(n, 0.0): m for n, m in true.items()} | {(n, 1.0): m for n, m in random.items()}


RANDOM_OK = {100: log(THREE, test=[0, 0, 0, 0, 0, 1, 0, 0, 0]), 300: log(LONG, test=2.0)}


@pytest.mark.parametrize(("factors", "holds"), [
    ((3.0, 2.0, 1.0), True),  # ascent heights 6, 4, 2
    ((1.0, 2.0, 3.0), False),
    ((2.0, 2.0, 2.0), False),
])
def test_true_label_ascent_must_shrink_with_size(factors, holds):
    true = {n: log(scaled(THREE, f)) for n, f in zip((100, 300, 1000), factors, strict=True)}
    table = rows(nb03.add_size_claims, size_runs(true, RANDOM_OK), 1.0, 0.1, **ONE_RUN)
    assert table[0]["holds"] is holds
    assert table[0]["measured"] == ("sizes 100, 300, 1000: ascent height "
                                    + ", ".join(f"{2 * f:.3g}" for f in factors))


@pytest.mark.parametrize(("accuracies", "holds"), [((0.5, 0.7, 0.9), True), ((0.5, 0.9, 0.7), False)])
def test_true_label_test_accuracy_must_grow_with_size(accuracies, holds):
    true = {n: log(THREE, accuracy=a) for n, a in zip((100, 300, 1000), accuracies, strict=True)}
    table = rows(nb03.add_size_claims, size_runs(true, RANDOM_OK), 1.0, 0.1, **ONE_RUN)
    assert table[1]["holds"] is holds and table[1]["role"] == "secondary"


def test_random_label_peak_must_not_fall_and_the_ascent_must_lengthen():
    true = {100: log(scaled(THREE, 2)), 300: log(THREE)}
    table = rows(nb03.add_size_claims, size_runs(true, RANDOM_OK), 1.0, 0.1, **ONE_RUN)
    assert [r["holds"] for r in table] == [True, False, True, True]  # accuracy flat: no rise
    assert table[3]["measured"] == ("sizes 100, 300: ascent steps 3, 5, train peak 4, 6, "
                                    "test LC there 1, 2")
    flat = {100: log(THREE), 300: log(THREE, test=2.0)}  # the same peak: not reduced, not longer
    table = rows(nb03.add_size_claims, size_runs(true, flat), 1.0, 0.1, **ONE_RUN)
    assert [r["holds"] for r in table[2:]] == [True, False]
    lower_test = {**RANDOM_OK, 300: log(LONG, test=0.5)}  # longer, higher peak, but test LC falls
    table = rows(nb03.add_size_claims, size_runs(true, lower_test), 1.0, 0.1, **ONE_RUN)
    assert [r["holds"] for r in table[2:]] == [True, False]
    falling = {100: log(LONG, test=2.0), 300: log(THREE, test=[0, 0, 0, 0, 0, 1, 0, 0, 0])}
    table = rows(nb03.add_size_claims, size_runs(true, falling), 1.0, 0.1, **ONE_RUN)
    assert [r["holds"] for r in table[2:]] == [False, False]


def test_size_claims_with_one_size_do_not_hold():
    table = rows(nb03.add_size_claims, size_runs({200: log(THREE)}, {200: log(THREE)}), 1.0, 0.1,
                 **ONE_RUN)
    assert [r["holds"] for r in table] == [False] * 4


# ---------------------------------------------------------------------------------------------
# Figs. 8 and 9: grokking
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("saturation", "holds"), [
    (10, True), (30, True), (50, True),  # the ascent's ends included
    (9, False), (51, False), (None, False),
])
def test_memorisation_must_saturate_inside_the_ascent(saturation, holds):
    timing = {"saturation_step": saturation}
    (row,) = rows(nb03.add_memorisation_claim, timing, phases_dict(), 8.0, **ONE_RUN)
    assert row["holds"] is holds
    assert row["measured"] == f"train acc >= 0.99 at step {saturation}; ascent from step 10 to 50"
    assert row["confidence"] == ""  # a placement, not a difference


def test_memorisation_claim_on_grokking_timing_of_a_synthetic_log():
    metrics = pd.DataFrame({"step": range(9), "train_accuracy": [0.1, 0.5, 0.9, 0.99] + [1.0] * 5,
                            "test_accuracy": [0.1] * 9, "lc_train_fine": THREE})
    timing = grokking_timing(metrics, "lc_train_fine")
    (row,) = rows(nb03.add_memorisation_claim, timing, lc_phases(range(9), THREE, 0.1), 8.0,
                  **ONE_RUN)
    assert timing["saturation_step"] == 3 and row["holds"]  # inside the ascent [2, 5]


@pytest.mark.parametrize(("factors", "holds"), [((1.0, 2.0), True), ((2.0, 1.0), False),
                                                ((1.0, 1.0), False), ((1.0,), False)])
def test_grokking_depth_claim_needs_the_peak_to_grow_with_depth(factors, holds):
    runs = {d: log(scaled(THREE, f)) for d, f in zip((2, 3), factors)}
    (row,) = rows(nb03.add_grokking_depth_claim, runs, 0.1, **ONE_RUN)
    assert row["holds"] is holds


# ---------------------------------------------------------------------------------------------
# Figs. 4, 5 and 7: CIFAR-10 (paper profile)
# ---------------------------------------------------------------------------------------------
def test_overall_lc_must_be_higher_with_batch_norm_for_every_role():
    plain = log([1.0, 2.0, 3.0], test=[1.0, 1.0, 1.0], random=[0.5, 0.5, 0.5])
    normed = log([2.0, 2.0, 2.5], test=[2.0, 2.0, 2.0], random=[0.6, 0.6, 0.6])
    (row,) = rows(nb03.add_overall_lc_claim, plain, normed, dataset="cifar10", seeds=1)
    assert row["holds"]  # train mean 2 -> 2.17 although lower at the last step
    assert row["measured"] == ("mean LC without -> with BN: train 2 -> 2.17 (BN higher at 33% of "
                               "steps); test 1 -> 2 (BN higher at 100% of steps); random 0.5 -> "
                               "0.6 (BN higher at 100% of steps)")
    lower_random = normed.assign(lc_random_fine=0.4)
    (row,) = rows(nb03.add_overall_lc_claim, plain, lower_random, dataset="cifar10", seeds=1)
    assert not row["holds"]
    equal = normed.assign(lc_test_fine=1.0)  # equal is not an increase
    assert not rows(nb03.add_overall_lc_claim, plain, equal, dataset="cifar10", seeds=1)[0]["holds"]


def test_second_descent_depth_is_relative_to_the_peak():
    assert nb03.second_descent_depth(phases_dict(lc_peak=4.0, lc_final_min=1.0)) == 0.75
    assert nb03.second_descent_depth(phases_dict(lc_peak=0.0, lc_final_min=0.0)) == 0.0


@pytest.mark.parametrize(("plain", "normed", "holds"), [
    ((2.0, 1.0), (10.0, 8.0), True),  # 0.5 -> 0.2, although the absolute drop grows (1 -> 2)
    ((2.0, 1.0), (2.0, 1.0), False),
    ((10.0, 8.0), (2.0, 1.0), False),
])
def test_resnet_batchnorm_claim_compares_relative_second_descents(plain, normed, holds):
    (row,) = rows(nb03.add_resnet_batchnorm_claim, phases_dict(lc_peak=plain[0], lc_final_min=plain[1]),
                  phases_dict(lc_peak=normed[0], lc_final_min=normed[1]), dataset="cifar10", seeds=1)
    assert row["holds"] is holds


@pytest.mark.parametrize(("finals", "holds"), [
    ((1.0, 2.0, 3.0), True),  # depths 0.75, 0.5, 0.25 for wd 0, 0.01, 0.1
    ((1.0, 3.0, 2.0), False),
    ((3.0, 2.0, 1.0), False),
])
def test_weight_decay_claim_needs_the_final_descent_to_shrink(finals, holds):
    phases = {0.1: phases_dict(lc_peak=4.0, lc_final_min=finals[2]),
              0.0: phases_dict(lc_peak=4.0, lc_final_min=finals[0]),
              0.01: phases_dict(lc_peak=4.0, lc_final_min=finals[1])}
    (row,) = rows(nb03.add_weight_decay_claim, phases, dataset="cifar10", seeds=1)
    assert row["holds"] is holds
    depths = ", ".join(f"{(4 - f) / 4:.3g}" for f in finals)
    assert row["measured"] == f"weight decay 0, 0.01, 0.1: second descent / peak LC {depths}"


def test_cifar_claims_read_the_runs_by_their_labels():
    runs = {"CNN": log([1.0, 1.0]), "CNN + BN": log([2.0, 2.0], test=2.0, random=1.0)}
    phases = {"CNN": phases_dict(), "CNN + BN": phases_dict(three_phases=False),
              "ResNet18": phases_dict(lc_final_min=0.5), "ResNet18 + BN": phases_dict(lc_final_min=1.5),
              "CNN, wd 0": phases_dict(lc_final_min=0.5), "CNN, wd 0.01": phases_dict(lc_final_min=1.0)}
    table = rows(nb03.add_cifar_claims, runs, phases, [0.0, 0.01], dataset="cifar10", seeds=1)
    assert [r["holds"] for r in table] == [True, True, True, True]
    assert {r["dataset"] for r in table} == {"cifar10"} and {r["role"] for r in table} == {"headline"}


@pytest.mark.parametrize(("plain", "normed", "holds"), [
    (True, False, True), (True, True, False), (False, False, False), (False, True, False)])
def test_batchnorm_claim_truth_table(plain, normed, holds):
    (row,) = rows(nb03.add_batchnorm_claim, {"second_descent": plain},
                  {"second_descent": normed}, dataset="cifar10", seeds=1)
    assert row["holds"] is holds
    assert row["measured"] == f"second descent without BN: {plain}, with BN: {normed}"


def test_rows_of_one_run_say_so():
    table = rows(nb03.add_grokking_depth_claim, {2: log(THREE)}, 0.1, **ONE_RUN)
    assert table[0]["confidence"] == "1 seed, no band"
    table = rows(nb03.add_grokking_depth_claim, {2: log(THREE)}, 0.1, dataset="mnist5k", seeds=3)
    assert table[0]["confidence"] == "one run of the 3 seeds read, no band"


def test_bootstrap_statistics_are_exact():
    pairs = np.array([[10.0, 20.0], [5.0, 5.0]])
    assert nb03.mean_ratio(pairs) == pytest.approx(1 / 3)
    assert nb03.fewer_statistic(pairs) == pytest.approx(0.9 - 1 / 3)
    assert nb03.rise_statistic(pairs) == -10.0
    assert np.isnan(nb03.fewer_statistic(np.zeros((2, 3))))
