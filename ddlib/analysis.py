"""Curve analysis shared by the notebooks, each rule defined once and unit-tested on synthetic curves.

- :func:`interpolation_threshold`: where a width sweep starts to fit its (noisy) training labels;
- :func:`threshold_window`, :func:`peak_near_threshold` and :func:`prominence`: a double-descent
  peak (or dip) at or near it;
- :func:`peak_excess` and :func:`bootstrap_peak_excess`: by how much a peak clears its margin, and a
  seeded bootstrap interval of that amount over the units (planes, points) the curve averages;
- :func:`bootstrap_interval` and :func:`interval_text`: the one seeded, paired bootstrap of any
  statistic over units (planes, points, test images, repeats), and how its interval is reported;
- :func:`is_monotone`: "monotonically increases / decreases" along a grid, with a stated slack;
- :func:`lc_phases`: descent, ascent and second descent of a local-complexity curve;
- :func:`grokking_timing`: when test accuracy rises after training accuracy saturated;
- :func:`log_spaced_integers` and :func:`log_spaced_steps`: the epoch and step grids of logging;
- :func:`seed_bands`: mean and spread over seeds.

Nothing here knows an expected answer: thresholds, peaks and phases are measured on the data given.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd


def log_spaced_integers(last: int, count: int) -> list[int]:
    """About ``count`` distinct integers, log-spaced from 1 to ``last`` (both included).

    The grid of kept checkpoints and evaluations of the epoch-based sweeps (02, 04).
    """
    if last < 1 or count < 1:
        raise ValueError(f"last={last!r} and count={count!r} must be positive integers")
    grid = np.unique(np.round(np.geomspace(1, last, num=count)).astype(int))
    return sorted({int(value) for value in grid} | {last})


def log_spaced_steps(last: int, per_decade: int) -> list[int]:
    """Step 0 and about ``per_decade`` integer steps per decade from 1 to ``last`` (inclusive).

    The log grid of the step-based LC runs (03): ``ceil(log10(last) * per_decade) + 1`` points of
    :func:`log_spaced_integers`, with the initialisation (step 0) in front.
    """
    if last < 1 or per_decade < 1:
        raise ValueError(f"last={last} and per_decade={per_decade} must be >= 1")
    count = int(np.ceil(np.log10(last) * per_decade)) + 1
    return [0, *log_spaced_integers(last, max(count, 2))]


def nearest_in_log(grid: Sequence[int], step: int) -> int:
    """The member of ``grid`` (e.g. kept checkpoint steps) nearest to ``step`` in log(1 + step)."""
    values = np.asarray(grid)
    if values.size == 0:
        raise ValueError("grid: need at least one step")
    return int(values[np.argmin(np.abs(np.log1p(values) - np.log1p(step)))])


def seed_bands(table: pd.DataFrame, by: Sequence[str], columns: Sequence[str]) -> pd.DataFrame:
    """Mean and population standard deviation over seeds (``<column>_mean``, ``<column>_std``)."""
    grouped = table.groupby(list(by))[list(columns)]
    bands = grouped.mean().add_suffix("_mean").join(grouped.std(ddof=0).add_suffix("_std"))
    return bands.reset_index()


def interpolation_threshold(
    widths: Sequence[int], train_errors: Sequence[float], tolerance: float
) -> int | None:
    """The smallest width from which on every wider model fits its training labels.

    ``train_errors`` are the (seed-mean) training errors on the possibly noisy labels; a width fits
    when its error is at most ``tolerance``. The rule asks that the error *stays* at or below the
    tolerance for all wider models, not only that it dips there once: a narrow model that fits by
    chance while wider ones still do not is not the interpolation threshold of Gamba et al. /
    Somepalli et al. (the point from which on the model family interpolates). None when the widest
    model does not fit.
    """
    if not 0 <= tolerance < 1 or math.isnan(tolerance):
        raise ValueError(f"tolerance={tolerance!r} is not allowed; use a training error in [0, 1)")
    curve = sorted(zip(widths, train_errors, strict=True))
    threshold = None
    for width, error in reversed(curve):
        if not error <= tolerance:  # a NaN error (a missing seed) does not fit either
            break
        threshold = int(width)
    return threshold


def threshold_window(widths: Sequence[int], threshold: int, *, factor: float | None = None,
                     steps: int | None = None, earlier: bool = False) -> list[int]:
    """The widths that count as at, near or earlier than the interpolation ``threshold``, by one
    of three rules (give exactly one).

    ``steps``: the widths at most ``steps`` positions from the threshold in the sorted grid
    (``steps=1``: the threshold and its two neighbours, the finest "at the interpolation
    threshold" a grid of widths can resolve; the threshold must be a grid width). ``earlier``: the
    widths below the threshold ("earlier than the interpolation threshold"). ``factor``: the widths
    in ``[threshold / factor, threshold * factor]``, a window in width ratio.
    """
    if sum((factor is not None, steps is not None, bool(earlier))) != 1:
        raise ValueError("give exactly one of factor (a width ratio), steps (grid positions) "
                         "and earlier=True")
    grid = sorted({int(w) for w in widths})
    if earlier:
        return [w for w in grid if w < threshold]
    if steps is not None:
        if isinstance(steps, bool) or not isinstance(steps, int) or steps < 0:
            raise ValueError(f"steps={steps!r} is not allowed; use an integer >= 0")
        if threshold not in grid:
            raise ValueError(f"threshold={threshold!r} is not a width of the grid {grid}")
        position = grid.index(threshold)
        return grid[max(0, position - steps): position + steps + 1]
    if not factor >= 1 or math.isinf(factor):
        raise ValueError(f"factor={factor!r} is not allowed; use a finite width ratio >= 1")
    return [w for w in grid if threshold / factor <= w <= threshold * factor]


def peak_near_threshold(
    curve: pd.Series,
    threshold: int | None,
    factor: float | None,
    margin: float,
    *,
    largest: bool = True,
    steps: int | None = None,
    earlier: bool = False,
) -> dict[str, Any]:
    """A double-descent peak of ``curve`` (indexed by width) at or near the interpolation threshold.

    The peak is the largest value (the smallest with ``largest=False``: a dip, e.g. of seed-to-seed
    similarity) among the widths of :func:`threshold_window` (``factor``, ``steps`` or
    ``earlier``). It holds when it exceeds, by ``margin`` relative to the peak, both the lowest
    value at smaller widths (the curve rose to it: the first descent) and the value of the widest
    model (it falls beyond: the second descent), and the widest model is not the peak itself. With
    ``steps`` or ``earlier`` the peak is the highest of the window's local peaks of the curve (at
    least as high as its two grid neighbours), so that the flank of a peak elsewhere never counts;
    without one the rule does not hold.

    Returns ``peak_width``, ``peak``, ``rise_from`` (best value at smaller widths), ``widest`` and
    ``holds``, in the curve's own units (not negated for dips).
    """
    if factor is not None and (not factor >= 1 or math.isinf(factor)):
        raise ValueError(f"factor={factor!r} is not allowed; use a finite width ratio >= 1")
    if not margin >= 0 or math.isinf(margin):
        raise ValueError(f"margin={margin!r} is not allowed; use a finite fraction >= 0")
    curve = curve.sort_index().astype(float)
    result: dict[str, Any] = {"peak_width": None, "peak": float("nan"),
                              "rise_from": float("nan"), "widest": float(curve.iloc[-1]),
                              "holds": False}
    if threshold is None:
        return result
    sign = 1.0 if largest else -1.0
    signed = sign * curve
    window = signed[signed.index.isin(threshold_window(curve.index, threshold, factor=factor,
                                                       steps=steps, earlier=earlier))]
    window = window.dropna()
    if window.empty:
        return result
    local = True
    if steps is not None or earlier:  # the highest of the window's local peaks of the curve
        position = {width: i for i, width in enumerate(signed.index)}
        peaks = window[[float(window[w]) >= float(signed.iloc[max(0, position[w] - 1):
                                                              position[w] + 2].max())
                        for w in window.index]]
        local = not peaks.empty
        window = peaks if local else window
    peak_width = int(window.idxmax())
    peak = float(window.max())
    before = signed[signed.index < peak_width]
    widest = float(signed.iloc[-1])
    rises = bool(len(before)) and peak - float(before.min()) >= margin * abs(peak)
    falls = peak_width < curve.index.max() and peak - widest >= margin * abs(peak)
    result.update(peak_width=peak_width, peak=sign * peak,
                  rise_from=sign * float(before.min()) if len(before) else float("nan"),
                  holds=bool(rises and falls and local))
    return result


def peak_excess(peak: Mapping[str, Any], margin: float, *, largest: bool = True) -> float:
    """By how much a :func:`peak_near_threshold` result clears its margin on both sides.

    ``min(peak - rise_from, peak - widest) - margin * |peak|`` in signed units (negated for a dip),
    so that the rule holds exactly when this is >= 0; -inf when the peak is the widest model (the
    rule never holds then). NaN when there is no peak, no smaller width to rise from, or a NaN
    value among the three.
    """
    sign = 1.0 if largest else -1.0
    peak_value, rise_from, widest = (sign * float(peak[k]) for k in ("peak", "rise_from", "widest"))
    if any(math.isnan(v) for v in (peak_value, rise_from, widest)):
        return float("nan")
    excess = min(peak_value - rise_from, peak_value - widest) - margin * abs(peak_value)
    if excess >= 0 and not peak["holds"]:
        return -math.inf  # the peak is the widest model: nothing to fall to, the rule never holds
    return excess


BOOTSTRAP_LEVEL = 0.9  # two-sided level of every interval that decides a claim
BOOTSTRAP_RESAMPLES = 1000
BOOTSTRAP_SEED = 0


def bootstrap_interval(
    samples: np.ndarray | pd.DataFrame,
    statistic: Callable[[np.ndarray], float],
    *,
    resamples: int = BOOTSTRAP_RESAMPLES,
    seed: int = BOOTSTRAP_SEED,
    level: float = BOOTSTRAP_LEVEL,
    nan_as: float = -math.inf,
) -> tuple[float, float]:
    """Seeded, paired bootstrap interval of ``statistic`` over units.

    The **last axis** of ``samples`` indexes the units (planes, training points, test images,
    repeats); any leading axes (widths, conditions) are kept. Each resample draws units with
    replacement (generator seeded with ``seed``) and takes the *same* draw for every leading row,
    so a comparison between rows is paired. ``statistic`` maps a resampled array of the same shape
    to one number; a NaN statistic (the claim's quantity could not be formed) counts as ``nan_as``,
    which must count *against* the claim: -inf (the default) for a claim that needs a lower bound
    above a level, +inf for one that needs an upper bound below a level. The
    ``(1 - level) / 2`` and ``(1 + level) / 2`` quantiles (method "nearest") are returned: a claim
    that rests on a positive quantity holds when the lower bound is above 0.
    """
    values = np.asarray(samples, dtype=float)
    if resamples < 1:
        raise ValueError(f"resamples={resamples!r} is not allowed; use a positive integer")
    if values.ndim == 0 or values.shape[-1] < 2:
        raise ValueError(f"samples must hold at least 2 units on its last axis, got shape {values.shape}")
    if not 0 < level < 1:
        raise ValueError(f"level={level!r} is not allowed; use a fraction in (0, 1)")
    generator = np.random.default_rng(seed)
    draws = generator.integers(0, values.shape[-1], size=(resamples, values.shape[-1]))
    results = np.array([statistic(values[..., draw]) for draw in draws], dtype=float)
    results[np.isnan(results)] = nan_as
    low, high = np.quantile(results, [(1 - level) / 2, (1 + level) / 2], method="nearest")
    return float(low), float(high)


def interval_text(low: float, high: float, units: str, count: int, *, paired: str = "",
                  level: float = BOOTSTRAP_LEVEL, seed: int = BOOTSTRAP_SEED,
                  resamples: int = BOOTSTRAP_RESAMPLES) -> str:
    """How a claims row reports the interval that decided it, e.g. "90% two-sided seeded bootstrap
    over 200 training points (paired across widths; seed 0, 1000 resamples) [0.012, 0.034]"."""
    pairing = f"paired across {paired}; " if paired else ""
    return (f"{level:.0%} two-sided seeded bootstrap over {count} {units} ({pairing}seed {seed}, "
            f"{resamples} resamples) [{low:.3g}, {high:.3g}]")


def bootstrap_peak_excess(
    samples: pd.DataFrame,
    threshold: int | None,
    factor: float | None,
    margin: float,
    *,
    largest: bool = True,
    steps: int | None = None,
    earlier: bool = False,
    resamples: int = BOOTSTRAP_RESAMPLES,
    seed: int = BOOTSTRAP_SEED,
    level: float = BOOTSTRAP_LEVEL,
) -> tuple[float, float]:
    """Seeded bootstrap interval of :func:`peak_excess` over the units a curve averages.

    ``samples`` has one row per width and one column per unit (a plane, a point); the curve is the
    column mean. Units are drawn with replacement ``resamples`` times (generator seeded with
    ``seed``), the peak rule is applied to each resampled curve (its peak width may move), and the
    ``(1 - level) / 2`` and ``(1 + level) / 2`` quantiles of the excess are returned. A lower bound
    above 0 means the peak clears its margin in almost every resample, not only in the one sample
    measured. A resample without a peak counts as -inf. The resampling is
    :func:`bootstrap_interval`'s (one resample at a time, so memory stays at one resampled table).
    """
    ordered = samples.sort_index()
    widths = ordered.index

    def excess(resampled: np.ndarray) -> float:  # the rule itself works on one curve
        curve = pd.Series(resampled.mean(axis=1), index=widths)
        peak = peak_near_threshold(curve, threshold, factor, margin, largest=largest, steps=steps,
                                   earlier=earlier)
        return peak_excess(peak, margin, largest=largest)  # NaN (no peak) counts as -inf

    return bootstrap_interval(ordered.to_numpy(dtype=float), excess, resamples=resamples,
                              seed=seed, level=level)


def prominence(peak: Mapping[str, Any], *, largest: bool = True) -> float:
    """How far a peak of :func:`peak_near_threshold` stands above the higher of its shoulders
    (below the lower one for a dip); never positive when there is no peak.

    Without smaller widths (``rise_from`` is NaN) the curve starts at its "peak" and never rose
    to it, so the missing shoulder is the peak itself and the prominence is at most 0.
    """
    sign = 1.0 if largest else -1.0
    rise_from = peak["peak"] if math.isnan(peak["rise_from"]) else peak["rise_from"]
    return float(sign * peak["peak"] - max(sign * peak["widest"], sign * rise_from))


def is_monotone(values: Sequence[float], *, increasing: bool = True, slack: float = 0.0) -> bool:
    """Whether ``values`` (in grid order) never move against the stated direction by more than
    ``slack`` from one grid point to the next: the test of a paper's "monotonically increases"
    (``increasing=True``) or "decreases". ``slack = 0`` is the strict reading (ties allowed); a
    rule that allows more says why in its docstring. NaN values are skipped; fewer than two values
    are refused (no trend can be read).
    """
    known = np.asarray([v for v in values if not math.isnan(float(v))], dtype=float)
    if len(known) < 2:
        raise ValueError(f"values: need at least 2 known values to read a trend, got {len(known)}")
    if slack < 0:
        raise ValueError(f"slack={slack!r} is not allowed; use a value >= 0")
    steps = np.diff(known) if increasing else -np.diff(known)
    return bool((steps >= -slack).all())


def lc_phases(steps: Sequence[int], values: Sequence[float], min_change: float) -> dict[str, Any]:
    """Descent, ascent and second descent of an LC curve (Humayun et al., Fig. 1), by rule.

    The curve is smoothed by a running median of three log points. The ascent is the largest
    rise from an earlier minimum: its top is the peak, the earlier minimum the end of the first
    descent; the second descent ends at the minimum after the peak. Each phase is present when
    it changes LC by more than ``min_change`` times LC at the first step.
    """
    steps = np.asarray(steps)
    values = np.asarray(values, dtype=float)
    if len(values) < 4:
        raise ValueError(f"values: need at least 4 log points to find phases, got {len(values)}")
    padded = np.concatenate([values[:1], values, values[-1:]])
    smooth = np.median(np.stack([padded[:-2], padded[1:-1], padded[2:]]), axis=0)
    running_min = np.minimum.accumulate(smooth)
    threshold = min_change * smooth[0]
    peak = int(np.argmax(smooth - running_min))
    if smooth[peak] - running_min[peak] <= threshold:  # no ascent: the whole curve is descent 1
        peak = int(np.argmin(smooth))
    first_min = int(np.argmin(smooth[: peak + 1]))
    final_min = peak + int(np.argmin(smooth[peak:]))
    result = {
        "first_min_step": int(steps[first_min]),
        "peak_step": int(steps[peak]),
        "final_min_step": int(steps[final_min]),
        "lc_start": float(smooth[0]),
        "lc_first_min": float(smooth[first_min]),
        "lc_peak": float(smooth[peak]),
        "lc_final_min": float(smooth[final_min]),
        "lc_end": float(smooth[-1]),
        "descent": bool(smooth[0] - smooth[first_min] > threshold),
        "ascent": bool(smooth[peak] - smooth[first_min] > threshold),
        "second_descent": bool(smooth[peak] - smooth[final_min] > threshold),
    }
    result["three_phases"] = result["descent"] and result["ascent"] and result["second_descent"]
    return result


def grokking_timing(metrics: pd.DataFrame, lc_column: str, saturation: float = 0.99) -> dict[str, Any]:
    """When training accuracy saturates, when test accuracy rises, and where LC is then.

    ``rise_step`` is the first log step at which test accuracy has covered half of its gain
    from the saturation step to the end of training.
    """
    steps = metrics["step"].to_numpy()
    train, test = metrics["train_accuracy"].to_numpy(), metrics["test_accuracy"].to_numpy()
    saturated = np.nonzero(train >= saturation)[0]
    if len(saturated) == 0:
        return {"saturation_step": None, "rise_step": None, "test_gain": 0.0}
    start = int(saturated[0])
    gain = float(test[-1] - test[start])
    half = np.nonzero(test[start:] >= test[start] + gain / 2)[0]
    rise = start + int(half[0]) if gain > 0 else len(steps) - 1
    lc = metrics[lc_column].to_numpy()
    return {
        "saturation_step": int(steps[start]),
        "rise_step": int(steps[rise]),
        "test_at_saturation": float(test[start]),
        "test_final": float(test[-1]),
        "test_gain": gain,
        "lc_at_rise": float(lc[rise]),
        "lc_final": float(lc[-1]),
    }
