"""Unit tests of :mod:`ddlib.analysis` on synthetic curves with exact, hand-computed answers."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from ddlib import analysis
from ddlib.analysis import (
    grokking_timing,
    interpolation_threshold,
    lc_phases,
    log_spaced_integers,
    log_spaced_steps,
    nearest_in_log,
    peak_near_threshold,
    prominence,
    seed_bands,
    threshold_window,
)

NAN = float("nan")


# --------------------------------------------------------------------------- log grids


@pytest.mark.parametrize(
    ("last", "count", "expected"),
    [
        (100, 3, [1, 10, 100]),
        (1000, 4, [1, 10, 100, 1000]),
        (100, 5, [1, 3, 10, 32, 100]),  # 10**0.5 = 3.16 -> 3, 10**1.5 = 31.6 -> 32
        (5, 10, [1, 2, 3, 4, 5]),  # rounded duplicates collapse
        (10, 1, [1, 10]),  # a single point still keeps the last one
        (1, 1, [1]),
        (1, 5, [1]),
        (7, 2, [1, 7]),
    ],
)
def test_log_spaced_integers_exact(last, count, expected):
    grid = log_spaced_integers(last, count)
    assert grid == expected
    assert all(type(value) is int for value in grid)  # plain ints: JSON and hash friendly


@pytest.mark.parametrize("last", [1, 2, 3, 7, 10, 99, 100, 101, 999, 1000, 2999, 3000, 12345])
@pytest.mark.parametrize("count", [1, 2, 3, 7, 20, 50])
def test_log_spaced_integers_sorted_unique_with_both_ends(last, count):
    grid = log_spaced_integers(last, count)
    assert grid == sorted(set(grid))
    assert grid[0] == 1 and grid[-1] == last
    assert len(grid) <= max(count, 2)


@pytest.mark.parametrize(("last", "count"), [(0, 3), (-5, 3), (10, 0), (10, -1)])
def test_log_spaced_integers_bad_inputs(last, count):
    with pytest.raises(ValueError, match="last"):
        log_spaced_integers(last, count)


@pytest.mark.parametrize(
    ("last", "per_decade", "expected"),
    [
        (1, 1, [0, 1]),
        (1, 20, [0, 1]),
        (10, 1, [0, 1, 10]),
        (100, 1, [0, 1, 10, 100]),
        (100, 2, [0, 1, 3, 10, 32, 100]),
        (1000, 3, [0, 1, 2, 5, 10, 22, 46, 100, 215, 464, 1000]),
    ],
)
def test_log_spaced_steps_exact(last, per_decade, expected):
    steps = log_spaced_steps(last, per_decade)
    assert steps == expected
    assert all(type(value) is int for value in steps)


@pytest.mark.parametrize(("last", "per_decade"), [(0, 4), (-1, 4), (100, 0), (100, -2)])
def test_log_spaced_steps_bad_inputs(last, per_decade):
    with pytest.raises(ValueError, match="per_decade"):
        log_spaced_steps(last, per_decade)


def _old_log_steps(last: int, per_decade: int) -> list[int]:
    """The formula the step grids of stored runs (and so their run-store hashes) were built with."""
    count = max(int(np.ceil(np.log10(last) * per_decade)) + 1, 2)
    grid = np.unique(np.round(np.logspace(0, np.log10(last), count)).astype(int))
    return [0, *(int(value) for value in grid)]


def _assert_matches_old_formula(lasts, per_decades) -> None:
    mismatches = [
        (last, per_decade)
        for last in lasts
        for per_decade in per_decades
        if log_spaced_steps(last, per_decade) != _old_log_steps(last, per_decade)
    ]
    assert mismatches == []


# Every integer up to 60, the neighbours of powers of ten and a deterministic spread up to 3000.
_SAMPLED_LASTS = sorted(
    set(range(1, 61)) | {99, 100, 101, 999, 1000, 1001, 2999, 3000} | set(range(61, 3001, 37))
)


def test_log_spaced_steps_matches_old_formula_sampled():
    _assert_matches_old_formula(_SAMPLED_LASTS, range(1, 21))


@pytest.mark.slow
def test_log_spaced_steps_matches_old_formula_exhaustive():
    """All of last in 1..3000 and per_decade in 1..20 (about 10 s: 60,000 grids)."""
    _assert_matches_old_formula(range(1, 3001), range(1, 21))


# --------------------------------------------------------------------------- nearest_in_log


@pytest.mark.parametrize(
    ("step", "expected"),
    [
        (0, 0),
        (1, 1),
        (2, 1),  # log 3 - log 2 = 0.405 < log 11 - log 3 = 1.299
        (5, 10),  # log 6 - log 2 = 1.099 > log 11 - log 6 = 0.606 (linear distance would pick 1)
        (30, 10),  # log(31/11) = 1.036 < log(101/31) = 1.181
        (32, 10),  # log(33/11) = log 3 = 1.099 < log(101/33) = 1.119
        # log midpoint of 10 and 100: sqrt(11 * 101) - 1 = 32.3
        (33, 100),  # log(34/11) = 1.128 > log(101/34) = 1.089
        (40, 100),
        (5000, 100),
    ],
)
def test_nearest_in_log_exact(step, expected):
    # The hand-computed log1p distances behind each pick.
    grid = [0, 1, 10, 100]
    distances = [abs(math.log1p(g) - math.log1p(step)) for g in grid]
    assert grid[distances.index(min(distances))] == expected
    picked = nearest_in_log(grid, step)
    assert picked == expected and type(picked) is int
    assert nearest_in_log([100, 0, 10, 1], step) == expected  # order of the grid does not matter


def test_nearest_in_log_single_member_and_empty():
    assert nearest_in_log([7], 123456) == 7
    assert nearest_in_log(np.array([3, 300]), 30) == 3  # log(31/4)=2.05 < log(301/31)=2.27
    with pytest.raises(ValueError, match="grid"):
        nearest_in_log([], 5)


# --------------------------------------------------------------------------- seed_bands


def test_seed_bands_exact_mean_and_population_std():
    table = pd.DataFrame(
        {
            "width": [1, 1, 2, 2, 2, 4],
            "seed": [0, 1, 0, 1, 2, 0],
            "err": [0.5, 0.25, 0.125, 0.125, 0.375, 0.0],
            "acc": [0.25, 0.75, 1.0, 0.5, 0.75, 1.0],
        }
    )
    bands = seed_bands(table, ["width"], ["err", "acc"])
    assert list(bands.columns) == ["width", "err_mean", "acc_mean", "err_std", "acc_std"]
    assert bands["width"].tolist() == [1, 2, 4]
    assert bands["err_mean"].tolist() == [0.375, 0.625 / 3, 0.0]
    assert bands["acc_mean"].tolist() == [0.5, 0.75, 1.0]
    # ddof=0: width 1 err deviations +-0.125; width 2 err deviations -1/12, -1/12, +1/6 -> var 1/72
    assert bands["err_std"].tolist() == pytest.approx([0.125, math.sqrt(1 / 72), 0.0], abs=1e-15)
    assert bands["acc_std"].tolist() == pytest.approx([0.25, math.sqrt(1 / 24), 0.0], abs=1e-15)
    # a single seed has spread 0 (population std), not NaN as with pandas' default ddof=1
    assert bands.loc[bands.width == 4, "err_std"].item() == 0.0


def test_seed_bands_groups_by_several_keys():
    table = pd.DataFrame(
        {
            "noise": [0.0, 0.0, 0.2, 0.2],
            "width": [8, 8, 8, 8],
            "seed": [0, 1, 0, 1],
            "err": [0.0, 0.5, 0.25, 0.75],
        }
    )
    bands = seed_bands(table, ("noise", "width"), ("err",))
    assert bands[["noise", "width"]].values.tolist() == [[0.0, 8], [0.2, 8]]
    assert bands["err_mean"].tolist() == [0.25, 0.5]
    assert bands["err_std"].tolist() == [0.25, 0.25]


# --------------------------------------------------------------------------- interpolation_threshold

_DIP_WIDTHS = [1, 2, 3, 4, 5, 6, 8]
_DIP_ERRORS = [0.5, 0.3, 0.0, 0.2, 0.1, 0.0, 0.0]  # fits by chance at 3, again from 6 on


def test_interpolation_threshold_stays_rule():
    threshold = interpolation_threshold(_DIP_WIDTHS, _DIP_ERRORS, tolerance=0.01)
    assert threshold == 6  # not 3: width 4 and 5 do not fit
    assert type(threshold) is int


def test_interpolation_threshold_ignores_input_order():
    order = [4, 0, 6, 2, 5, 1, 3]
    widths = [_DIP_WIDTHS[i] for i in order]
    errors = [_DIP_ERRORS[i] for i in order]
    assert interpolation_threshold(widths, errors, 0.01) == 6
    assert interpolation_threshold(np.array(widths), np.array(errors), 0.01) == 6


def test_interpolation_threshold_widest_not_fitting_is_none():
    assert interpolation_threshold([1, 2, 4, 8], [0.5, 0.0, 0.0, 0.02], 0.01) is None
    assert interpolation_threshold([], [], 0.01) is None


def test_interpolation_threshold_all_fit_gives_the_smallest_width():
    assert interpolation_threshold([16, 4, 8], [0.0, 0.005, 0.0], 0.01) == 4


def test_interpolation_threshold_at_tolerance_counts_as_fitting():
    assert interpolation_threshold([1, 2, 3], [0.3, 0.05, 0.05], 0.05) == 2
    assert interpolation_threshold([1, 2, 3], [0.3, 0.05, np.nextafter(0.05, 1)], 0.05) is None
    assert interpolation_threshold([1, 2, 3], [0.3, 0.0, 0.0], 0.0) == 2  # tolerance 0 allowed


@pytest.mark.parametrize("tolerance", [-0.01, NAN, 1.0, 1.5, float("inf")])
def test_interpolation_threshold_bad_tolerance(tolerance):
    with pytest.raises(ValueError, match="tolerance"):
        interpolation_threshold([1, 2], [0.5, 0.0], tolerance)


def test_interpolation_threshold_length_mismatch_raises():
    with pytest.raises(ValueError):
        interpolation_threshold([1, 2, 3], [0.5, 0.0], 0.01)


def test_interpolation_threshold_nan_error_does_not_fit():
    assert interpolation_threshold([1, 2, 4], [0.5, 0.0, NAN], 0.01) is None


# --------------------------------------------------------------------------- peak_near_threshold

_WIDTHS = [1, 2, 4, 8, 16, 32, 64]


def _curve(values, widths=_WIDTHS) -> pd.Series:
    return pd.Series(values, index=widths, dtype=float)


def test_peak_near_threshold_exact_peak():
    # window [8 / 2, 8 * 2] = [4, 16]: values 2.5, 4.0, 3.0
    curve = _curve([3.0, 2.0, 2.5, 4.0, 3.0, 2.0, 1.0])
    peak = peak_near_threshold(curve, threshold=8, factor=2, margin=0.1)
    assert peak == {
        "peak_width": 8,
        "peak": 4.0,
        "rise_from": 2.0,  # minimum over widths 1, 2, 4
        "widest": 1.0,
        "holds": True,
    }
    assert type(peak["peak_width"]) is int and type(peak["holds"]) is bool


def test_peak_near_threshold_only_looks_inside_the_window():
    # larger values outside [4, 16] (at widths 1 and 32) are not the peak
    curve = _curve([10.0, 2.0, 2.5, 4.0, 3.0, 5.0, 1.0])
    peak = peak_near_threshold(curve, 8, 2, 0.1)
    assert (peak["peak_width"], peak["peak"], peak["rise_from"], peak["holds"]) == (
        8,
        4.0,
        2.0,
        True,
    )


def test_peak_near_threshold_window_bounds_are_inclusive_and_in_width_ratio():
    curve = _curve([1.0, 1.0, 1.0, 1.0, 3.0, 2.0], widths=[1, 2, 4, 8, 16, 17])
    assert peak_near_threshold(curve, 8, 2, 0.1)["peak_width"] == 16  # 16 = 8 * 2 is inside
    curve = _curve([1.0, 1.0, 1.0, 1.0, 2.0, 3.0, 1.0], widths=[1, 2, 4, 8, 16, 17, 64])
    assert peak_near_threshold(curve, 8, 2, 0.1)["peak_width"] == 16  # 17 is outside
    curve = _curve([1.0, 5.0, 1.0, 2.0, 1.0], widths=[3, 4, 5, 8, 64])
    assert peak_near_threshold(curve, 8, 2, 0.1)["peak_width"] == 4  # 4 = 8 / 2 is inside
    # factor 1: the window is the threshold width alone
    peak = peak_near_threshold(_curve([3.0, 2.0, 2.5, 4.0, 3.0, 2.0, 1.0]), 16, 1, 0.1)
    assert (peak["peak_width"], peak["peak"], peak["rise_from"]) == (16, 3.0, 2.0)


def test_peak_near_threshold_ignores_index_order():
    curve = _curve([3.0, 2.0, 2.5, 4.0, 3.0, 2.0, 1.0])
    shuffled = curve.iloc[[3, 6, 0, 5, 1, 4, 2]]
    assert peak_near_threshold(shuffled, 8, 2, 0.1) == peak_near_threshold(curve, 8, 2, 0.1)


def test_peak_near_threshold_monotone_decreasing_does_not_hold():
    curve = _curve([8.0, 7.0, 6.0, 5.0, 4.0, 3.0, 2.0])
    peak = peak_near_threshold(curve, 8, 2, 0.0)
    assert peak == {"peak_width": 4, "peak": 6.0, "rise_from": 7.0, "widest": 2.0, "holds": False}


def test_peak_near_threshold_peak_at_widest_does_not_hold():
    curve = _curve([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0])
    peak = peak_near_threshold(curve, 64, 2, 0.0)
    assert peak == {"peak_width": 64, "peak": 7.0, "rise_from": 1.0, "widest": 7.0, "holds": False}


def test_peak_near_threshold_at_narrowest_width_does_not_hold():
    curve = _curve([9.0, 2.0, 2.5, 4.0, 3.0, 2.0, 1.0])
    peak = peak_near_threshold(curve, 1, 2, 0.0)  # window [0.5, 2]: the peak is at width 1
    assert peak["peak_width"] == 1 and peak["peak"] == 9.0
    assert math.isnan(peak["rise_from"]) and peak["holds"] is False


def test_peak_near_threshold_margin_boundary_on_the_rise():
    # relative rise (4 - 2) / 4 = 0.5 < relative fall (4 - 1) / 4 = 0.75: the rise binds
    curve = _curve([3.0, 2.0, 2.5, 4.0, 3.0, 2.0, 1.0])
    assert peak_near_threshold(curve, 8, 2, 0.5)["holds"] is True
    assert peak_near_threshold(curve, 8, 2, np.nextafter(0.5, 0))["holds"] is True
    assert peak_near_threshold(curve, 8, 2, np.nextafter(0.5, 1))["holds"] is False


def test_peak_near_threshold_margin_boundary_on_the_fall():
    # relative rise (4 - 1) / 4 = 0.75 > relative fall (4 - 3) / 4 = 0.25: the widest model binds
    curve = _curve([3.0, 1.0, 2.5, 4.0, 3.0, 2.0, 3.0])
    assert peak_near_threshold(curve, 8, 2, 0.25)["holds"] is True
    assert peak_near_threshold(curve, 8, 2, np.nextafter(0.25, 0))["holds"] is True
    assert peak_near_threshold(curve, 8, 2, np.nextafter(0.25, 1))["holds"] is False


_DIP = [1.0, 0.75, 0.625, 0.25, 0.5, 0.875, 0.75]


def test_peak_near_threshold_finds_dips_in_the_curves_units():
    peak = peak_near_threshold(_curve(_DIP), 8, 2, 0.1, largest=False)
    assert peak == {
        "peak_width": 8,
        "peak": 0.25,  # the minimum in [4, 16], not negated
        "rise_from": 1.0,  # the maximum at smaller widths
        "widest": 0.75,
        "holds": True,
    }
    # relative excesses: rise (1 - 0.25) / 0.25 = 3, fall (0.75 - 0.25) / 0.25 = 2
    assert peak_near_threshold(_curve(_DIP), 8, 2, 2.0, largest=False)["holds"] is True
    assert (
        peak_near_threshold(_curve(_DIP), 8, 2, np.nextafter(2.0, 3), largest=False)["holds"]
        is False
    )
    # the same curve read for a peak: max in [4, 16] is 0.625 at 4, below 0.75 at width 2
    as_peak = peak_near_threshold(_curve(_DIP), 8, 2, 0.1)
    assert (as_peak["peak_width"], as_peak["peak"], as_peak["rise_from"], as_peak["holds"]) == (
        4,
        0.625,
        0.75,
        False,
    )


def test_peak_near_threshold_without_threshold_or_window():
    curve = _curve([3.0, 2.0, 2.5, 4.0, 3.0, 2.0, 1.0])
    for threshold in (None, 1000):  # no threshold; a window [500, 2000] without widths
        peak = peak_near_threshold(curve, threshold, 2, 0.1)
        assert peak["peak_width"] is None and peak["holds"] is False
        assert math.isnan(peak["peak"]) and math.isnan(peak["rise_from"])
        assert peak["widest"] == 1.0


@pytest.mark.parametrize("factor", [0.5, 0.0, -2.0, float("inf"), NAN])
def test_peak_near_threshold_bad_factor(factor):
    with pytest.raises(ValueError, match="factor"):
        peak_near_threshold(_curve([1.0] * 7), 8, factor, 0.1)


@pytest.mark.parametrize("margin", [-0.1, NAN, float("inf")])
def test_peak_near_threshold_bad_margin(margin):
    with pytest.raises(ValueError, match="margin"):
        peak_near_threshold(_curve([1.0] * 7), 8, 2, margin)


# ------------------------------------------------------------- "at the threshold": one grid step
_GRID = [1, 2, 3, 4, 6, 8, 12, 16]  # notebook 04's laptop widths


def test_threshold_window_in_grid_steps_and_in_width_ratio():
    assert threshold_window(_GRID, 6, steps=1) == [4, 6, 8]
    assert threshold_window(_GRID, 6, steps=0) == [6]
    assert threshold_window(_GRID, 1, steps=1) == [1, 2]  # clipped at the grid's ends
    assert threshold_window(_GRID, 16, steps=2) == [8, 12, 16]
    assert threshold_window(reversed(_GRID), 6, steps=1) == [4, 6, 8]  # order does not matter
    assert threshold_window(_GRID, 6, earlier=True) == [1, 2, 3, 4]
    # the factor-2 window covers 5 of the 8 widths: it cannot tell "at" from "in the middle"
    assert threshold_window(_GRID, 6, factor=2) == [3, 4, 6, 8, 12]


@pytest.mark.parametrize(("kwargs", "message"), [
    ({}, "exactly one of"),
    ({"factor": 2, "steps": 1}, "exactly one of"),
    ({"steps": 1, "earlier": True}, "exactly one of"),
    ({"steps": -1}, "steps=-1"),
    ({"steps": 1.0}, "steps=1.0"),
    ({"steps": True}, "steps=True"),
    ({"factor": 0.5}, "factor=0.5"),
])
def test_threshold_window_refuses_bad_rules(kwargs, message):
    with pytest.raises(ValueError, match=message):
        threshold_window(_GRID, 6, **kwargs)


def test_threshold_window_in_steps_needs_the_threshold_on_the_grid():
    with pytest.raises(ValueError, match="threshold=5 is not a width of the grid"):
        threshold_window(_GRID, 5, steps=1)


def test_peak_at_the_threshold_fails_where_the_ratio_window_holds():
    # the peak is at w = 3, two grid steps below the threshold w = 6: near in ratio, not "at"
    curve = _curve([0.5, 0.6, 0.9, 0.7, 0.6, 0.55, 0.5, 0.4], widths=_GRID)
    near = peak_near_threshold(curve, 6, 2, 0.1)
    at = peak_near_threshold(curve, 6, None, 0.1, steps=1)
    assert (near["peak_width"], near["holds"]) == (3, True)
    # w = 4 rises from 0.5 and falls to 0.4, but it is the flank of the peak at w = 3
    assert (at["peak_width"], at["peak"], at["holds"]) == (4, 0.7, False)
    assert peak_near_threshold(curve, 6, None, 0.1, steps=2)["holds"] is True  # 3 is 2 steps away
    # a peak at the threshold's neighbour holds, even below a higher narrowest model (underfit)
    curve = _curve([0.95, 0.6, 0.6, 0.9, 0.7, 0.55, 0.5, 0.4], widths=_GRID)
    assert peak_near_threshold(curve, 6, None, 0.1, steps=1)["holds"] is True
    # a dip at the threshold
    assert peak_near_threshold(-curve, 6, None, 0.1, steps=1, largest=False)["holds"] is True


def test_peak_at_the_threshold_takes_the_windows_local_peak_not_its_flank():
    # window {3, 4, 6} around 4: w = 3 (5) is the flank of the peak at w = 2; w = 6 (4) is a peak
    curve = pd.Series([1.0, 6.0, 5.0, 3.0, 4.0, 2.0, 1.0], index=[1, 2, 3, 4, 6, 8, 12])
    peak = peak_near_threshold(curve, 4, None, 0.1, steps=1)
    assert (peak["peak_width"], peak["peak"], peak["rise_from"], peak["holds"]) == (6, 4.0, 1.0, True)
    # a window with no local peak of the curve does not hold; NaN widths are skipped
    rising = pd.Series([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0], index=[1, 2, 3, 4, 6, 8, 12])
    assert peak_near_threshold(rising, 4, None, 0.0, steps=1)["holds"] is False
    with_nan = curve.copy()
    with_nan[[3, 4, 6]] = NAN
    assert peak_near_threshold(with_nan, 4, None, 0.1, steps=1)["peak_width"] is None


def test_peak_earlier_than_the_threshold():
    curve = _curve([0.5, 0.6, 0.9, 0.7, 0.6, 0.55, 0.5, 0.4], widths=_GRID)
    earlier = peak_near_threshold(curve, 6, None, 0.1, earlier=True)
    assert (earlier["peak_width"], earlier["holds"]) == (3, True)
    # a peak at the threshold itself is not earlier: below it the curve only rises (a flank)
    curve = _curve([0.5, 0.6, 0.7, 0.8, 0.9, 0.55, 0.5, 0.4], widths=_GRID)
    assert peak_near_threshold(curve, 6, None, 0.1, earlier=True)["holds"] is False
    assert peak_near_threshold(curve, 6, None, 0.1, steps=1)["holds"] is True


# --------------------------------------------------------------------------- prominence


def test_prominence_of_a_peak_and_a_dip():
    peak = peak_near_threshold(_curve([3.0, 2.0, 2.5, 4.0, 3.0, 2.0, 1.0]), 8, 2, 0.1)
    assert prominence(peak) == 2.0  # 4 - max(2, 1)
    dip = peak_near_threshold(_curve(_DIP), 8, 2, 0.1, largest=False)
    assert prominence(dip, largest=False) == 0.5  # min(1, 0.75) - 0.25


def test_prominence_negative_without_a_peak():
    peak = peak_near_threshold(_curve([8.0, 7.0, 6.0, 5.0, 4.0, 3.0, 2.0]), 8, 2, 0.0)
    assert prominence(peak) == -1.0  # 6 - max(7, 2)
    rising = peak_near_threshold(_curve([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0]), 64, 2, 0.0)
    assert prominence(rising) == 0.0  # 7 - max(1, 7): the widest model is no shoulder below it
    # no dip in a rising curve: the minimum in [4, 16] is 3 at width 4, above 2 at width 2
    no_dip = peak_near_threshold(
        _curve([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0]), 8, 2, 0.0, largest=False
    )
    assert (no_dip["peak"], no_dip["rise_from"], no_dip["widest"]) == (3.0, 2.0, 7.0)
    assert prominence(no_dip, largest=False) == -1.0  # min(2, 7) - 3


def test_prominence_from_a_hand_made_mapping():
    assert prominence({"peak": 5.0, "rise_from": 1.0, "widest": 3.0}) == 2.0
    assert prominence({"peak": 5.0, "rise_from": NAN, "widest": 3.0}) == 0.0  # never rose to it
    assert prominence({"peak": 0.5, "rise_from": 2.0, "widest": 1.0}, largest=False) == 0.5


def test_prominence_is_not_positive_for_a_curve_peaking_at_the_narrowest_width():
    """Without smaller widths the curve never rose to its window maximum: no prominence."""
    peak = peak_near_threshold(_curve([8.0, 6.0, 4.0, 2.0], widths=[1, 2, 4, 8]), 2, 2, 0.0)
    assert peak["holds"] is False
    assert prominence(peak) == 0.0


# --------------------------------------------------------------------------- lc_phases

_LC_STEPS = [0, 1, 2, 3, 5, 10, 20, 50, 100, 200, 500, 1000]
# running median of three (ends repeated): [10, 9, 6, 5, 5, 7, 8, 8, 6, 3, 3, 4]
_LC_VALUES = [10, 9, 6, 4, 5, 7, 9, 8, 6, 2, 3, 4]


def test_lc_phases_descent_ascent_descent_exact():
    found = lc_phases(_LC_STEPS, _LC_VALUES, min_change=0.1)
    assert found == {
        "first_min_step": 3,  # first of the two 5s
        "peak_step": 20,  # largest rise above the running minimum: 8 - 5 = 3 (first of two 8s)
        "final_min_step": 200,  # first of the two 3s after the peak
        "lc_start": 10.0,
        "lc_first_min": 5.0,
        "lc_peak": 8.0,
        "lc_final_min": 3.0,
        "lc_end": 4.0,
        "descent": True,
        "ascent": True,
        "second_descent": True,
        "three_phases": True,
    }


def test_lc_phases_min_change_is_a_strict_threshold():
    # the ascent changes LC by 3 = 0.3 * 10: not more than the threshold, so it is no ascent
    none = lc_phases(_LC_STEPS, _LC_VALUES, min_change=0.3)
    assert (none["first_min_step"], none["peak_step"], none["final_min_step"]) == (200, 200, 200)
    assert (none["descent"], none["ascent"], none["second_descent"]) == (True, False, False)
    assert none["three_phases"] is False
    some = lc_phases(_LC_STEPS, _LC_VALUES, min_change=0.29)
    assert (some["first_min_step"], some["peak_step"], some["final_min_step"]) == (3, 20, 200)
    assert some["three_phases"] is True


def test_lc_phases_monotone_curve_has_no_ascent():
    found = lc_phases(_LC_STEPS, list(range(12, 0, -1)), min_change=0.1)
    assert (found["first_min_step"], found["peak_step"], found["final_min_step"]) == (
        1000,
        1000,
        1000,
    )
    assert (found["lc_start"], found["lc_peak"], found["lc_end"]) == (12.0, 1.0, 1.0)
    assert (found["descent"], found["ascent"], found["second_descent"]) == (True, False, False)
    assert found["three_phases"] is False


def test_lc_phases_running_median_removes_a_single_point_spike():
    steps = list(range(8))
    spike = lc_phases(steps, [10, 5, 5, 20, 5, 5, 5, 5], min_change=0.1)
    assert spike["lc_peak"] == 5.0 and spike["ascent"] is False
    assert (spike["first_min_step"], spike["peak_step"], spike["final_min_step"]) == (1, 1, 1)
    # a two-point plateau survives: smooth [10, 10, 20, 20, 5, 5, 5, 5]
    plateau = lc_phases(steps, [10, 5, 20, 20, 5, 5, 5, 5], min_change=0.1)
    assert (plateau["first_min_step"], plateau["peak_step"], plateau["final_min_step"]) == (0, 2, 4)
    assert (plateau["descent"], plateau["ascent"], plateau["second_descent"]) == (False, True, True)
    assert plateau["three_phases"] is False


def test_lc_phases_accepts_pandas_columns():
    table = pd.DataFrame({"step": _LC_STEPS, "lc": _LC_VALUES})
    assert lc_phases(table["step"], table["lc"], 0.1) == lc_phases(_LC_STEPS, _LC_VALUES, 0.1)


def test_lc_phases_needs_four_points():
    with pytest.raises(ValueError, match="values"):
        lc_phases([0, 1, 2], [3.0, 2.0, 1.0], 0.1)
    assert lc_phases([0, 1, 2, 3], [4.0, 3.0, 2.0, 1.0], 0.1)["peak_step"] == 3


# --------------------------------------------------------------------------- grokking_timing


def _grokking_table(train, test) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "step": [0, 10, 100, 1000, 10000, 100000],
            "train_accuracy": train,
            "test_accuracy": test,
            "lc": [5.0, 4.0, 3.0, 6.0, 7.0, 2.0],
        }
    )


_TRAIN = [0.2, 0.9, 0.995, 0.98, 1.0, 1.0]  # first saturates at step 100, dips after it
_TEST = [0.125, 0.25, 0.25, 0.375, 0.5, 0.75]


def test_grokking_timing_exact():
    timing = grokking_timing(_grokking_table(_TRAIN, _TEST), "lc")
    # gain 0.75 - 0.25 = 0.5; half of it is reached exactly (>=) at 0.5, step 10000
    assert timing == {
        "saturation_step": 100,
        "rise_step": 10000,
        "test_at_saturation": 0.25,
        "test_final": 0.75,
        "test_gain": 0.5,
        "lc_at_rise": 7.0,
        "lc_final": 2.0,
    }


def test_grokking_timing_saturation_level():
    timing = grokking_timing(_grokking_table(_TRAIN, _TEST), "lc", saturation=1.0)
    # saturates at step 10000 (test 0.5); gain 0.25, half reached (0.625) only at the end
    assert (timing["saturation_step"], timing["rise_step"]) == (10000, 100000)
    assert (timing["test_at_saturation"], timing["test_gain"], timing["lc_at_rise"]) == (
        0.5,
        0.25,
        2.0,
    )


def test_grokking_timing_without_gain_rises_at_the_end():
    timing = grokking_timing(_grokking_table(_TRAIN, [0.1, 0.2, 0.5, 0.5, 0.4, 0.5]), "lc")
    assert (timing["saturation_step"], timing["rise_step"], timing["test_gain"]) == (
        100,
        100000,
        0.0,
    )
    falling = grokking_timing(_grokking_table(_TRAIN, [0.1, 0.2, 0.5, 0.5, 0.4, 0.25]), "lc")
    assert (falling["rise_step"], falling["test_gain"]) == (100000, -0.25)


def test_grokking_timing_never_saturating():
    table = _grokking_table([0.1, 0.5, 0.9, 0.95, 0.98, 0.989], _TEST)
    assert grokking_timing(table, "lc") == {
        "saturation_step": None,
        "rise_step": None,
        "test_gain": 0.0,
    }


# --------------------------------------------------------------------------------------------
# peak_excess and bootstrap_peak_excess
# --------------------------------------------------------------------------------------------
def test_peak_excess_is_the_smaller_clearance_minus_the_margin():
    curve = pd.Series([1.0, 2.0, 4.0, 3.0], index=[1, 2, 4, 8])
    peak = analysis.peak_near_threshold(curve, 4, 2.0, 0.1)
    # rise 4 - 1 = 3, fall 4 - 3 = 1: excess 1 - 0.1 * 4
    assert analysis.peak_excess(peak, 0.1) == pytest.approx(0.6)
    dip = analysis.peak_near_threshold(-curve, 4, 2.0, 0.1, largest=False)
    assert analysis.peak_excess(dip, 0.1, largest=False) == pytest.approx(0.6)


def test_peak_excess_sign_matches_the_rule():
    rng = np.random.default_rng(0)
    for _ in range(200):
        curve = pd.Series(rng.uniform(0, 1, 6), index=[1, 2, 3, 4, 6, 8])
        peak = analysis.peak_near_threshold(curve, 4, 2.0, 0.05)
        if peak["peak_width"] is None or math.isnan(peak["rise_from"]):
            continue
        excess = analysis.peak_excess(peak, 0.05)
        assert peak["holds"] == (excess >= 0 and peak["peak_width"] < 8)


def test_bootstrap_of_identical_units_is_the_point_excess():
    curve = [1.0, 2.0, 4.0, 3.0]
    samples = pd.DataFrame(np.repeat(np.array(curve)[:, None], 5, axis=1), index=[1, 2, 4, 8])
    low, high = analysis.bootstrap_peak_excess(samples, 4, 2.0, 0.1)
    assert low == pytest.approx(0.6) and high == pytest.approx(0.6)
    # "at the threshold" (one grid step): the same peak; one step from w = 1 it is not there
    assert analysis.bootstrap_peak_excess(samples, 4, None, 0.1, steps=1) == pytest.approx((0.6, 0.6))
    dip = -samples
    assert analysis.bootstrap_peak_excess(dip, 4, None, 0.1, steps=1, largest=False) == \
        pytest.approx((0.6, 0.6))
    assert analysis.bootstrap_peak_excess(samples, 1, None, 0.1, steps=1)[1] < 0


def test_bootstrap_is_seeded_and_wide_for_disagreeing_units():
    rng = np.random.default_rng(0)
    base = np.array([1.0, 2.0, 2.2, 2.0])[:, None]
    samples = pd.DataFrame(base + rng.normal(0, 1.0, (4, 20)), index=[1, 2, 4, 8])
    first = analysis.bootstrap_peak_excess(samples, 4, 2.0, 0.05, seed=3)
    assert analysis.bootstrap_peak_excess(samples, 4, 2.0, 0.05, seed=3) == first
    assert first[0] < 0 < first[1]


def test_bootstrap_refuses_a_single_unit_and_a_bad_level():
    samples = pd.DataFrame([[1.0], [2.0]], index=[1, 2])
    with pytest.raises(ValueError, match="at least 2 units"):
        analysis.bootstrap_peak_excess(samples, 2, 2.0, 0.05)
    with pytest.raises(ValueError, match="level"):
        analysis.bootstrap_peak_excess(pd.concat([samples, samples], axis=1), 2, 2.0, 0.05,
                                       level=1.5)


def test_peak_excess_edge_cases():
    """A NaN among the compared values gives NaN (never a pass); a peak at the widest model gives
    -inf even with margin 0, where the clearances alone would read 0."""
    nan_widest = peak_near_threshold(pd.Series([1.0, 2.0, 4.0, NAN], index=[1, 2, 4, 8]), 4, 2.0, 0.1)
    assert math.isnan(analysis.peak_excess(nan_widest, 0.1))
    at_widest = peak_near_threshold(pd.Series([1.0, 2.0, 4.0], index=[1, 2, 4]), 4, 2.0, 0.0)
    assert not at_widest["holds"]
    assert analysis.peak_excess(at_widest, 0.0) == -math.inf
    samples = pd.DataFrame([[1.0, 1.0], [2.0, 2.0], [4.0, 4.0]], index=[1, 2, 4])
    assert analysis.bootstrap_peak_excess(samples, 4, 2.0, 0.0) == (-math.inf, -math.inf)
    with pytest.raises(ValueError, match="resamples"):
        analysis.bootstrap_peak_excess(samples, 4, 2.0, 0.0, resamples=0)


# bootstrap_interval and interval_text


def test_bootstrap_interval_of_identical_units_is_the_statistic():
    samples = np.tile(np.array([[1.0], [3.0]]), (1, 5))  # two rows, five identical units
    low, high = analysis.bootstrap_interval(samples, lambda s: s[1].mean() - s[0].mean())
    assert (low, high) == (2.0, 2.0)


def test_bootstrap_interval_is_paired_across_rows():
    """Rows that differ by exactly 1 on every unit give a difference of exactly 1 when the same
    units are drawn for both rows, however widely the units themselves vary."""
    units = np.random.default_rng(1).normal(0, 10, size=40)
    samples = np.stack([units, units + 1.0])
    assert analysis.bootstrap_interval(samples, lambda s: (s[1] - s[0]).mean()) == (1.0, 1.0)


def test_bootstrap_interval_matches_the_normal_theory_width():
    """The 90% interval of a mean of 400 unit-variance draws is about +-1.645/sqrt(400)."""
    units = np.random.default_rng(2).normal(0, 1, size=400)
    low, high = analysis.bootstrap_interval(units, np.mean, resamples=4000)
    assert high - low == pytest.approx(2 * 1.645 / 20, rel=0.15)
    assert low < units.mean() < high


def test_bootstrap_interval_is_seeded_and_counts_nan_as_minus_infinity():
    units = np.arange(10.0)
    assert analysis.bootstrap_interval(units, np.mean, seed=4) == \
        analysis.bootstrap_interval(units, np.mean, seed=4)
    low, _ = analysis.bootstrap_interval(units, lambda s: float("nan") if s.min() == 0 else 1.0)
    assert low == -np.inf


def test_bootstrap_interval_refuses_bad_input():
    with pytest.raises(ValueError, match="at least 2 units"):
        analysis.bootstrap_interval(np.ones((3, 1)), np.mean)
    with pytest.raises(ValueError, match="level"):
        analysis.bootstrap_interval(np.ones(3), np.mean, level=1.0)
    with pytest.raises(ValueError, match="resamples"):
        analysis.bootstrap_interval(np.ones(3), np.mean, resamples=0)


def test_interval_text_names_level_units_and_pairing():
    text = analysis.interval_text(0.01234, 0.5, "planes", 12, paired="widths")
    assert text == ("90% two-sided seeded bootstrap over 12 planes (paired across widths; seed 0, "
                    "1000 resamples) [0.0123, 0.5]")


# is_monotone


def test_is_monotone_reads_both_directions_ties_slack_and_nan():
    assert analysis.is_monotone([1, 2, 2, 5])
    assert not analysis.is_monotone([1, 2, 1.9, 5])
    assert analysis.is_monotone([1, 2, 1.95, 5], slack=0.1)
    assert analysis.is_monotone([5, 3, 3, 0], increasing=False)
    assert not analysis.is_monotone([5, 3, 4, 0], increasing=False)
    assert analysis.is_monotone([1, float("nan"), 3])


def test_is_monotone_refuses_too_few_values_and_negative_slack():
    with pytest.raises(ValueError, match="at least 2"):
        analysis.is_monotone([1.0, float("nan")])
    with pytest.raises(ValueError, match="slack"):
        analysis.is_monotone([1.0, 2.0], slack=-1)
