"""Claims of notebook 03 (Humayun et al. 2024, ``docs/papers.md`` §3), judged on the logged curves
and the exact partitions.

Nothing here knows an expected answer: phases, timings and ratios are measured by
:mod:`ddlib.analysis` on the runs' own metrics.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from ddlib.core.claims import ClaimsTable

MIGRATION_RATIO = 0.9  # "fewer": the count falls below this fraction of its value at the LC peak
MIN_TEST_GAIN = 0.1  # grokking: test accuracy rises by at least this much after saturation
DELAY_FACTOR = 3  # grokking: the rise comes at least this many times later than saturation
LC_DROP = 0.9  # grokking: at the rise, LC is below this fraction of its peak (final descent)
MIN_CORRELATION = 0.5  # validation (c): Spearman correlation of exact counts and LC


def add_phase_claims(claims: ClaimsTable, phases: Mapping[str, Mapping[str, Any]],
                     min_change: float) -> None:
    """"LC descends, ascends, then descends again" at every radius (Humayun et al. Fig. 1), by
    :func:`ddlib.analysis.lc_phases` with ``min_change``."""
    for radius, ph in phases.items():
        claims.add(
            f"train LC ({radius} radius) descends, ascends, then descends again",
            f"{ph['lc_start']:.2f} -> {ph['lc_first_min']:.2f} (step {ph['first_min_step']}) -> "
            f"{ph['lc_peak']:.2f} (step {ph['peak_step']}) -> {ph['lc_final_min']:.2f} "
            f"(step {ph['final_min_step']})",
            f"each phase changes the smoothed LC by > {min_change:g} x LC(0)", ph["three_phases"])


def grokking_holds(timing: Mapping[str, Any], phases: Mapping[str, Any], last_step: int) -> bool:
    """Test accuracy rises well after training accuracy saturated, within the run, during the
    final LC descent (Humayun et al. Sec. 4)."""
    saturation, rise = timing["saturation_step"], timing["rise_step"]
    return bool(saturation is not None and timing["test_gain"] >= MIN_TEST_GAIN
                and rise >= DELAY_FACTOR * max(saturation, 1) and rise < last_step
                and rise > phases["peak_step"] and timing["lc_at_rise"] < LC_DROP * phases["lc_peak"])


def add_grokking_claim(claims: ClaimsTable, timing: Mapping[str, Any], phases: Mapping[str, Any],
                       last_step: int, init_scale: float) -> None:
    """The grokking claim on :func:`ddlib.analysis.grokking_timing` and the LC phases of the run."""
    nan = float("nan")
    claims.add(
        f"grokking (init x{init_scale:g}): test accuracy rises well after train accuracy saturates, "
        "during the final LC descent",
        f"train acc >= 0.99 at step {timing['saturation_step']}; test acc "
        f"{timing.get('test_at_saturation', nan):.2f} -> {timing.get('test_final', nan):.2f}, half of "
        f"the gain at step {timing['rise_step']}; train LC peak at step {phases['peak_step']}, LC "
        f"{phases['lc_peak']:.2f} -> {timing.get('lc_at_rise', nan):.2f} at the rise",
        f"gain >= {MIN_TEST_GAIN:g}, rise step >= {DELAY_FACTOR} x saturation step and before the "
        "last logged step (the rise happened within the run), rise after the LC peak with LC below "
        f"{LC_DROP:g} x peak",
        grokking_holds(timing, phases, last_step))


def count_ratio(per_step: pd.DataFrame, column: str, peak_step: int) -> float:
    """Count at the last kept step over the count at ``peak_step`` (NaN when undefined)."""
    last = int(per_step.index[-1])
    before = per_step.loc[peak_step, column]
    return float(per_step.loc[last, column] / before) if peak_step < last and before > 0 else float("nan")


def add_migration_claims(claims: ClaimsTable, per_step: pd.DataFrame, peak_step: int,
                         radii: Mapping[str, float], num_slices: int) -> None:
    """In the last phase regions migrate away from the training points (fewer near the data) but
    not from the decision boundary (Humayun et al. Sec. 5), on exact partitions of slices."""
    last = int(per_step.index[-1])
    migration = ", ".join(
        f"r = {radii[r]:g}: near data x{count_ratio(per_step, f'near_data_{r}', peak_step):.2f}, "
        f"near boundary x{count_ratio(per_step, f'near_boundary_{r}', peak_step):.2f}"
        for r in radii)
    near_data = count_ratio(per_step, "near_data_fine", peak_step)
    near_boundary = count_ratio(per_step, "near_boundary_fine", peak_step)
    claims.add("in the last phase the regions near training points become fewer",
               f"step {peak_step} (LC peak) -> {last}, exact partitions of {num_slices} slices; {migration}",
               f"near-data count ratio < {MIGRATION_RATIO:g} at the fine radius",
               bool(near_data < MIGRATION_RATIO))
    claims.add("... while the regions near the decision boundary do not",
               f"near boundary x{near_boundary:.2f} at r = {radii['fine']:g}",
               f"near-boundary count ratio >= {MIGRATION_RATIO:g} at the fine radius",
               bool(near_boundary >= MIGRATION_RATIO))


def add_correlation_claim(claims: ClaimsTable, correlation: Mapping[str, float]) -> None:
    """Validation (c) of Humayun et al.: exact region counts near training points follow LC."""
    claims.add("exact region counts near training points follow the train LC along training",
               ", ".join(f"Spearman {k} {v:.2f}" for k, v in correlation.items()),
               f"Spearman rank correlation at the fine radius >= {MIN_CORRELATION:g}",
               bool(correlation["fine"] >= MIN_CORRELATION))


def add_batchnorm_claim(claims: ClaimsTable, plain: Mapping[str, Any],
                        normed: Mapping[str, Any]) -> None:
    """Batch norm removes the second LC descent (CNN on CIFAR-10, Humayun et al. Sec. 6)."""
    claims.add("batch norm removes the second descent (CNN on CIFAR-10)",
               f"second descent without BN: {plain['second_descent']}, with BN: {normed['second_descent']}",
               "phase rule above", bool(plain["second_descent"] and not normed["second_descent"]))
