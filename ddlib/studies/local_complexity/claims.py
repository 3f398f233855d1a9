"""Claims of notebook 03 (Humayun et al. 2024, ``docs/papers.md`` §3), judged on the logged curves
and the exact partitions.

Each claim is one function below whose docstring quotes the sentence of the paper it tests (with
where the words were found) and states the criterion derived from it. Nothing here knows an
expected answer: phases, timings and ratios are measured by :mod:`ddlib.analysis` on the runs' own
metrics. Every rule reads one run (one seed), so a claim that rests on a difference records
``"1 seed, no band"``; ``dataset`` and ``seeds`` are passed by the notebook.

Source of the quotes: the paper's arXiv HTML version (ICML 2024), ``ARXIV`` =
https://arxiv.org/html/2402.15555v2 (the same abstract at https://ar5iv.labs.arxiv.org/html/2402.15555).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from ddlib.core.claims import NO_BAND, ClaimsTable

MIGRATION_RATIO = 0.9  # "fewer": the count falls below this fraction of its value at the LC peak
MIN_TEST_GAIN = 0.1  # grokking: test accuracy rises by at least this much after saturation
DELAY_FACTOR = 3  # grokking: the rise comes at least this many times later than saturation
LC_DROP = 0.9  # grokking: at the rise, LC is below this fraction of its peak (final descent)
MIN_CORRELATION = 0.5  # validation (c): Spearman correlation of exact counts and LC


def _one_run_band(seeds: int) -> str:
    """The confidence of a rule that reads a single run."""
    return NO_BAND if seeds == 1 else f"one run of the {seeds} seeds read, no band"


def lc_three_phases(claims: ClaimsTable, radius: str, ph: Mapping[str, Any], min_change: float,
                    dataset: str, seeds: int) -> bool:
    """During training the LC around the training points descends, ascends, then descends again.

    Paper text for this sentence not found offline (the abstract, ARXIV, says only that "the
    linear regions undergo a phase transition during training"); criterion from
    ``docs/papers.md`` §3, "Reported numbers and claims": "During training, LC around data
    descends, then ascends, then descends again" (three phases).

    Criterion (:func:`ddlib.analysis.lc_phases`): on the smoothed train LC at this radius each of
    the three phases changes LC by more than ``min_change`` x LC at the first step.
    """
    return claims.add(
        f"train LC ({radius} radius) descends, ascends, then descends again",
        f"{ph['lc_start']:.2f} -> {ph['lc_first_min']:.2f} (step {ph['first_min_step']}) -> "
        f"{ph['lc_peak']:.2f} (step {ph['peak_step']}) -> {ph['lc_final_min']:.2f} "
        f"(step {ph['final_min_step']})",
        f"each phase changes the smoothed LC by > {min_change:g} x LC(0)", ph["three_phases"],
        role="headline", dataset=dataset, seeds=seeds, confidence=_one_run_band(seeds))


def add_phase_claims(claims: ClaimsTable, phases: Mapping[str, Mapping[str, Any]],
                     min_change: float, *, dataset: str, seeds: int) -> None:
    """The three-phase claim at every radius (Humayun et al. Fig. 1), one row per radius."""
    for radius, ph in phases.items():
        lc_three_phases(claims, radius, ph, min_change, dataset, seeds)


def grokking_holds(timing: Mapping[str, Any], phases: Mapping[str, Any], last_step: int) -> bool:
    """Test accuracy rises well after training accuracy saturated, within the run, during the
    final LC descent (Humayun et al. Sec. 4; quotes in :func:`add_grokking_claim`).

    Criterion: test-accuracy gain after saturation >= 0.1; the rise (half of that gain) comes at
    >= 3 x the saturation step and before the last logged step; after the train-LC peak, with LC
    at the rise below 0.9 x its peak.
    """
    saturation, rise = timing["saturation_step"], timing["rise_step"]
    return bool(saturation is not None and timing["test_gain"] >= MIN_TEST_GAIN
                and rise >= DELAY_FACTOR * max(saturation, 1) and rise < last_step
                and rise > phases["peak_step"] and timing["lc_at_rise"] < LC_DROP * phases["lc_peak"])


def add_grokking_claim(claims: ClaimsTable, timing: Mapping[str, Any], phases: Mapping[str, Any],
                       last_step: int, init_scale: float, *, dataset: str, seeds: int) -> bool:
    """Grokking: generalisation arrives long after interpolation, with the final LC descent.

    Paper (ARXIV, abstract): "Grokking, or delayed generalization, is a phenomenon where
    generalization in a deep neural network (DNN) occurs long after achieving near zero training
    error." and "Grokking occurs post phase transition as a robust partition of the input space
    thanks to the linearization of the DNN mapping around the training points."

    Criterion: :func:`grokking_holds` on :func:`ddlib.analysis.grokking_timing` and the LC phases of
    the grokking run (one run: ``"1 seed, no band"``).
    """
    nan = float("nan")
    return claims.add(
        f"grokking (init x{init_scale:g}): test accuracy rises well after train accuracy saturates, "
        "during the final LC descent",
        f"train acc >= 0.99 at step {timing['saturation_step']}; test acc "
        f"{timing.get('test_at_saturation', nan):.2f} -> {timing.get('test_final', nan):.2f}, half of "
        f"the gain at step {timing['rise_step']}; train LC peak at step {phases['peak_step']}, LC "
        f"{phases['lc_peak']:.2f} -> {timing.get('lc_at_rise', nan):.2f} at the rise",
        f"gain >= {MIN_TEST_GAIN:g}, rise step >= {DELAY_FACTOR} x saturation step and before the "
        "last logged step (the rise happened within the run), rise after the LC peak with LC below "
        f"{LC_DROP:g} x peak",
        grokking_holds(timing, phases, last_step),
        role="headline", dataset=dataset, seeds=seeds, confidence=_one_run_band(seeds))


def count_ratio(per_step: pd.DataFrame, column: str, peak_step: int) -> float:
    """Count at the last kept step over the count at ``peak_step`` (NaN when undefined)."""
    last = int(per_step.index[-1])
    before = per_step.loc[peak_step, column]
    return float(per_step.loc[last, column] / before) if peak_step < last and before > 0 else float("nan")


def regions_leave_training_points(claims: ClaimsTable, per_step: pd.DataFrame, peak_step: int,
                                  radii: Mapping[str, float], num_slices: int, dataset: str,
                                  seeds: int) -> bool:
    """In the last phase the linear regions migrate away from the training points.

    Paper (ARXIV, abstract): "the linear regions undergo a phase transition during training
    whereafter they migrate away from the training samples (making the DNN mapping smoother
    there) and towards the decision boundary (making the DNN mapping less smooth there)."

    Criterion: on exact partitions of ``num_slices`` 2-D slices, the region count near training
    points at the last kept step over its count at the LC peak step is < 0.9 at the fine radius.
    """
    last = int(per_step.index[-1])
    migration = ", ".join(
        f"r = {radii[r]:g}: near data x{count_ratio(per_step, f'near_data_{r}', peak_step):.2f}, "
        f"near boundary x{count_ratio(per_step, f'near_boundary_{r}', peak_step):.2f}"
        for r in radii)
    near_data = count_ratio(per_step, "near_data_fine", peak_step)
    return claims.add("in the last phase the regions near training points become fewer",
                      f"step {peak_step} (LC peak) -> {last}, exact partitions of {num_slices} "
                      f"slices; {migration}",
                      f"near-data count ratio < {MIGRATION_RATIO:g} at the fine radius",
                      bool(near_data < MIGRATION_RATIO),
                      role="headline", dataset=dataset, seeds=seeds, confidence=_one_run_band(seeds))


def regions_stay_at_boundary(claims: ClaimsTable, per_step: pd.DataFrame, peak_step: int,
                             radii: Mapping[str, float], dataset: str, seeds: int) -> bool:
    """... while they do not leave the decision boundary (they migrate towards it).

    Paper (ARXIV, abstract): the regions "migrate away from the training samples [...] and
    towards the decision boundary (making the DNN mapping less smooth there)."

    Criterion: the region count near the decision boundary at the last kept step over its count
    at the LC peak step is >= 0.9 at the fine radius (it does not become fewer).
    """
    near_boundary = count_ratio(per_step, "near_boundary_fine", peak_step)
    return claims.add("... while the regions near the decision boundary do not",
                      f"near boundary x{near_boundary:.2f} at r = {radii['fine']:g}",
                      f"near-boundary count ratio >= {MIGRATION_RATIO:g} at the fine radius",
                      bool(near_boundary >= MIGRATION_RATIO),
                      role="headline", dataset=dataset, seeds=seeds, confidence=_one_run_band(seeds))


def add_migration_claims(claims: ClaimsTable, per_step: pd.DataFrame, peak_step: int,
                         radii: Mapping[str, float], num_slices: int, *, dataset: str,
                         seeds: int) -> None:
    """In the last phase regions migrate away from the training points (fewer near the data) but
    not from the decision boundary (Humayun et al. Sec. 5), on exact partitions of slices."""
    regions_leave_training_points(claims, per_step, peak_step, radii, num_slices, dataset, seeds)
    regions_stay_at_boundary(claims, per_step, peak_step, radii, dataset, seeds)


def add_correlation_claim(claims: ClaimsTable, correlation: Mapping[str, float], *, dataset: str,
                          seeds: int) -> bool:
    """Validation (c) of Humayun et al.: exact region counts near training points follow LC.

    Paper text not available offline (the paper's appendix); criterion from ``docs/papers.md``
    §3, "Recipe", validation cases: "(c) LC and the exact region count on 2D slices follow the
    same double-descent trend during training."

    Criterion: Spearman rank correlation along training between the exact near-data region count
    and the train LC at the fine radius >= 0.5. A threshold on a correlation, not a difference: no
    band.
    """
    return claims.add("exact region counts near training points follow the train LC along training",
                      ", ".join(f"Spearman {k} {v:.2f}" for k, v in correlation.items()),
                      f"Spearman rank correlation at the fine radius >= {MIN_CORRELATION:g}",
                      bool(correlation["fine"] >= MIN_CORRELATION), role="secondary", dataset=dataset, seeds=seeds)


def add_batchnorm_claim(claims: ClaimsTable, plain: Mapping[str, Any],
                        normed: Mapping[str, Any], *, dataset: str, seeds: int) -> bool:
    """Batch norm removes the second LC descent (CNN on CIFAR-10, Humayun et al. Sec. 6).

    Paper text for this sentence not found offline; criterion from ``docs/papers.md`` §3,
    "Reported numbers and claims": "Batch norm removes the second descent and raises LC overall."
    (only its first half is checked here).

    Criterion: the phase rule (:func:`ddlib.analysis.lc_phases`) finds a second descent in the
    train LC of the CNN without batch norm and none with it.
    """
    return claims.add("batch norm removes the second descent (CNN on CIFAR-10)",
                      f"second descent without BN: {plain['second_descent']}, with BN: {normed['second_descent']}",
                      "phase rule above", bool(plain["second_descent"] and not normed["second_descent"]),
                      role="headline", dataset=dataset, seeds=seeds, confidence=_one_run_band(seeds))
