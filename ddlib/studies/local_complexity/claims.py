"""Claims of notebook 03 (Humayun et al., *Deep Network Partition Density Exhibits Double Descent*,
``docs/papers.md`` §3), judged on the logged curves and the exact partitions.

Each claim is one function below whose docstring quotes the sentence of the paper it tests (from
the review version of the paper, with its section or figure) and states the criterion derived
from it. Nothing here knows an expected answer: phases, timings and counts are measured by
:mod:`ddlib.analysis` on the runs' own metrics. Every rule reads one run per setting (one seed), so
a rule that rests on a difference records ``"1 seed, no band"`` unless it is decided by a seeded
bootstrap over the 2-D slices of the exact partitions; ``dataset`` and ``seeds`` are passed by the
notebook.

Words of the paper that recur: "increases / decreases" with a swept setting is read with
:func:`ddlib.analysis.is_monotone` (no slack: the values never move against the direction from one
setting to the next) and the last setting strictly beyond the first (:func:`trend`); the LC phases
(descent, ascent, second descent) are those of :func:`ddlib.analysis.lc_phases`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from ddlib.analysis import bootstrap_interval, interval_text, is_monotone, lc_phases
from ddlib.core.claims import NO_BAND, ClaimsTable

MIGRATION_RATIO = 0.9  # "migrate away": the near-point count falls below this fraction of its peak value
MIN_BOOTSTRAP_SLICES = 5  # fewer slices give no meaningful bootstrap interval: decide on the estimate
MIN_TEST_GAIN = 0.1  # grokking: test accuracy rises by at least this much after saturation
DELAY_FACTOR = 3  # grokking: the rise comes at least this many times later than saturation
LC_DROP = 0.9  # grokking: at the rise, LC is below this fraction of its peak (final descent)
SATURATION = 0.5  # "saturating": the last rise per doubling of width is at most this fraction of the first
PHASE_POINTS = 4  # ddlib.analysis.lc_phases needs at least this many points
ROLES = ("train", "test", "random")  # the points at which LC is logged


def _one_run_band(seeds: int) -> str:
    """The confidence of a rule that reads a single run per setting."""
    return NO_BAND if seeds == 1 else f"one run of the {seeds} seeds read, no band"


def _values(values: Sequence[float]) -> str:
    """Measured values, 3 significant digits."""
    return ", ".join(f"{v:.3g}" for v in values)


def _grid(settings: Sequence[float]) -> str:
    """Swept settings as given (sizes, widths, depths in full; weight decays with ``:g``)."""
    return ", ".join(f"{v:g}" if isinstance(v, float) else str(v) for v in settings)


def trend(values: Sequence[float], *, increasing: bool) -> bool:
    """"Increases" (or "decreases") along a grid: :func:`ddlib.analysis.is_monotone` with no slack
    and the last value strictly beyond the first (a flat curve does not change). False with fewer
    than two values: no trend can be read."""
    known = [float(v) for v in values if not np.isnan(float(v))]
    if len(known) < 2:
        return False
    beyond = known[-1] > known[0] if increasing else known[-1] < known[0]
    return bool(beyond and is_monotone(known, increasing=increasing))


def phases_of(metrics: pd.DataFrame, column: str, min_change: float) -> dict[str, Any]:
    """:func:`ddlib.analysis.lc_phases` of one logged LC column."""
    return lc_phases(metrics["step"], metrics[column], min_change)


def value_at(metrics: pd.DataFrame, column: str, step: int) -> float:
    """The logged value of ``column`` at ``step``."""
    return float(metrics.set_index("step").loc[step, column])


# ---------------------------------------------------------------------------------------------
# Fig. 1: three phases, at training and test points
# ---------------------------------------------------------------------------------------------
def lc_three_phases(claims: ClaimsTable, role: str, radius: str, ph: Mapping[str, Any],
                    min_change: float, dataset: str, seeds: int) -> bool:
    """During training the LC around data points descends, ascends, then descends again.

    Paper (abstract): "We observe that during training, the LC around data points undergoes a
    number of phases, starting with a decreasing trend after initialization, followed by an ascent
    and ending with a final descending trend." Fig. 1 caption: "the local complexity around data
    points follow a double descent curve ultimately falling until training is stopped." The data
    points are the training and the test points (both logged), each judged on its own row.

    Criterion (:func:`ddlib.analysis.lc_phases`): on the smoothed LC of ``role`` points at this
    radius each of the three phases changes LC by more than ``min_change`` x LC at the first step.
    """
    return claims.add(
        f"{role} LC ({radius} radius) descends, ascends, then descends again",
        f"{ph['lc_start']:.2f} -> {ph['lc_first_min']:.2f} (step {ph['first_min_step']}) -> "
        f"{ph['lc_peak']:.2f} (step {ph['peak_step']}) -> {ph['lc_final_min']:.2f} "
        f"(step {ph['final_min_step']})",
        f"each phase changes the smoothed LC by > {min_change:g} x LC(0)", ph["three_phases"],
        role="headline", dataset=dataset, seeds=seeds, confidence=_one_run_band(seeds))


def add_phase_claims(claims: ClaimsTable, phases: Mapping[str, Mapping[str, Mapping[str, Any]]],
                     min_change: float, *, dataset: str, seeds: int) -> None:
    """The three-phase claim (Fig. 1) for every point role and radius: ``phases[role][radius]``."""
    for role, per_radius in phases.items():
        for radius, ph in per_radius.items():
            lc_three_phases(claims, role, radius, ph, min_change, dataset, seeds)


# ---------------------------------------------------------------------------------------------
# Fig. 1: migration of the regions (exact partitions of 2-D slices)
# ---------------------------------------------------------------------------------------------
def slice_pairs(stats: pd.DataFrame, column: str, peak_step: int) -> np.ndarray:
    """[2, slices]: ``column`` per slice at ``peak_step`` (row 0) and at the last kept step (row 1)."""
    table = stats.pivot(index="step", columns="slice", values=column).sort_index()
    return table.loc[[peak_step, int(table.index[-1])]].to_numpy(dtype=float)


def boundary_share(stats: pd.DataFrame, radius: str) -> pd.DataFrame:
    """``stats`` with ``share`` = near_boundary_<radius> / regions of each (step, slice)."""
    return stats.assign(share=stats[f"near_boundary_{radius}"] / stats["regions"])


def mean_ratio(pairs: np.ndarray) -> float:
    """Slice-mean at the end over slice-mean at the peak; NaN when nothing was counted at the peak."""
    before = float(pairs[0].mean())
    return float(pairs[1].mean()) / before if before > 0 else float("nan")


def fewer_statistic(pairs: np.ndarray) -> float:
    """``MIGRATION_RATIO - mean_ratio``: positive when the count fell below that fraction of its
    value at the peak (NaN, never positive, when nothing was counted at the peak)."""
    return MIGRATION_RATIO - mean_ratio(pairs)


def rise_statistic(pairs: np.ndarray) -> float:
    """Slice-mean of (end - peak): positive when the quantity rose."""
    return float((pairs[1] - pairs[0]).mean())


def decide_over_slices(pairs: np.ndarray, statistic: Callable[[np.ndarray], float],
                       seeds: int) -> tuple[bool, float, str]:
    """(holds, point estimate, confidence) of a claim that holds when ``statistic`` > 0.

    With at least :data:`MIN_BOOTSTRAP_SLICES` slices a seeded bootstrap over slices, paired
    between the two checkpoints, decides (90% two-sided; holds when its lower bound is above 0).
    With fewer, an interval would be formed from a handful of resamples of the same few values and
    is not meaningful: the point estimate decides and the confidence says so.
    """
    estimate = statistic(pairs)
    count = pairs.shape[-1]
    if count < MIN_BOOTSTRAP_SLICES:
        confidence = (f"{_one_run_band(seeds)}; {count} slice(s): too few for a meaningful "
                      f"bootstrap interval (< {MIN_BOOTSTRAP_SLICES}), decided on the point estimate")
        return bool(estimate > 0), estimate, confidence
    low, high = bootstrap_interval(pairs, statistic)
    confidence = interval_text(low, high, "slices", count,
                               paired="the LC-peak and last checkpoints") + "; slices of one run"
    return bool(low > 0), estimate, confidence


def regions_leave_points(claims: ClaimsTable, stats: pd.DataFrame, anchors: str, peak_step: int,
                         radii: Mapping[str, float], dataset: str, seeds: int) -> bool:
    """In the last phase the linear regions migrate away from the training (test) points.

    Paper (abstract): "Using exact visualization methods, we come across the perplexing
    observation that during the final LC descent phase of training, linear regions migrate away
    from training and test samples towards the decision boundary, making the DN input-output
    nearly linear everywhere else." The slices here pass through three training points, or
    three test points (``anchors``), one row each.

    Criterion: on the exact partitions of the slices, the slice-mean number of regions within the
    fine radius of the three anchor points at the last kept step is below ``MIGRATION_RATIO`` = 0.9
    of its value at the kept step nearest to the train-LC peak (the peak ends the ascent, the last
    step the final descent). Decided by :func:`decide_over_slices` on ``0.9 - ratio``.
    """
    last = int(stats["step"].max())
    ratios = ", ".join(f"r = {radii[r]:g}: x{mean_ratio(slice_pairs(stats, f'near_data_{r}', peak_step)):.2f}"
                       for r in radii)
    holds, _, confidence = decide_over_slices(slice_pairs(stats, "near_data_fine", peak_step),
                                              fewer_statistic, seeds)
    points = "training" if anchors == "train" else anchors
    return claims.add(f"in the last phase the regions near {points} points become fewer",
                      f"step {peak_step} (LC peak) -> {last}, exact partitions of "
                      f"{stats['slice'].nunique()} slices through {points} points; near-point "
                      f"count {ratios}",
                      f"slice-mean near-point count at the end < {MIGRATION_RATIO:g} x its value "
                      "at the LC peak, fine radius",
                      holds, role="headline", dataset=dataset, seeds=seeds, confidence=confidence)


def regions_concentrate_at_boundary(claims: ClaimsTable, stats: pd.DataFrame, peak_step: int,
                                    radii: Mapping[str, float], dataset: str, seeds: int) -> bool:
    """... and concentrate towards the decision boundary.

    Paper (contributions): "an astonishing observation showing that DN's partition regions all
    concentrate towards the decision boundary by the end of training"; Fig. 1 caption: neurons
    "move away from the training points during the second descent, ultimately concentrating near
    the decision boundary (red lines)." To concentrate is a share, not a count: the whole
    partition coarsens in the final descent, so fewer regions near the boundary can still be a
    larger part of the slice's regions.

    Criterion: the share of a slice's regions within the fine radius of the decision boundary
    (``near_boundary_fine / regions``) rises from the kept step nearest to the train-LC peak to
    the last kept step, averaged over every slice (through training and through test points: the
    sentence is about the whole partition). Decided by :func:`decide_over_slices` on the
    slice-mean rise, paired per slice.
    """
    share = boundary_share(stats, "fine")
    pairs = slice_pairs(share, "share", peak_step)
    holds, estimate, confidence = decide_over_slices(pairs, rise_statistic, seeds)
    return claims.add("... and the share of regions near the decision boundary rises",
                      f"share near the boundary (r = {radii['fine']:g}) {pairs[0].mean():.3f} at "
                      f"step {peak_step} (LC peak) -> {pairs[1].mean():.3f} at step "
                      f"{int(stats['step'].max())} (rise {estimate:+.3f}), mean over "
                      f"{pairs.shape[1]} slices",
                      "slice-mean share of regions near the boundary at the end > at the LC peak, "
                      "fine radius",
                      holds, role="headline", dataset=dataset, seeds=seeds, confidence=confidence)


def add_migration_claims(claims: ClaimsTable, stats: Mapping[str, pd.DataFrame], peak_step: int,
                         radii: Mapping[str, float], *, dataset: str, seeds: int) -> None:
    """Fig. 1 migration: regions leave the training points and the test points (``stats`` by
    anchors, ``"train"`` and ``"test"``, from ``experiment.partition_statistics``), and the share
    near the decision boundary rises over all of their slices (slices renumbered apart)."""
    for anchors, table in stats.items():
        regions_leave_points(claims, table, anchors, peak_step, radii, dataset, seeds)
    offset, parts = 0, []
    for table in stats.values():
        parts.append(table.assign(slice=table["slice"] + offset))
        offset += int(table["slice"].max()) + 1
    regions_concentrate_at_boundary(claims, pd.concat(parts, ignore_index=True), peak_step, radii,
                                    dataset, seeds)


# ---------------------------------------------------------------------------------------------
# Fig. 14: exact region counts and LC both show double descent
# ---------------------------------------------------------------------------------------------
def add_exact_count_claim(claims: ClaimsTable, per_step: pd.DataFrame, lc_at: pd.DataFrame,
                          correlation: Mapping[str, float], min_change: float, *, dataset: str,
                          seeds: int) -> bool:
    """The exact region count near training points and the LC both show double descent.

    Paper (Fig. 14 caption): "Both methods exhibit the double descent behavior." (§3.3: "We can
    see that for both methods the local complexity follows a similar trend with a clear double
    descent.")

    Criterion: :func:`ddlib.analysis.lc_phases` finds all three phases both in the slice-mean
    number of regions within the fine radius of the training points and in the train LC at the
    fine radius, each read at the kept checkpoints (the same steps for both). The Spearman
    correlation of the two curves is reported, not judged. Fewer than 4 kept checkpoints: no
    phases can be read, the claim does not hold.
    """
    steps = per_step.index.to_numpy()
    spearman = ", ".join(f"Spearman {k} {v:.2f}" for k, v in correlation.items())
    if len(steps) < PHASE_POINTS:
        return claims.add("exact region counts near training points and train LC both descend, "
                          "ascend, then descend again",
                          f"{len(steps)} kept checkpoints (< {PHASE_POINTS}); {spearman}",
                          f"both three phases of lc_phases (> {min_change:g} x value at step 0) "
                          "at the kept checkpoints, fine radius", False, role="headline",
                          dataset=dataset, seeds=seeds, confidence=_one_run_band(seeds))
    counts = lc_phases(steps, per_step["near_data_fine"], min_change)
    lc = lc_phases(steps, lc_at["lc_train_fine"], min_change)
    return claims.add(
        "exact region counts near training points and train LC both descend, ascend, then "
        "descend again",
        f"regions: descent {counts['descent']}, ascent {counts['ascent']}, second descent "
        f"{counts['second_descent']}; LC: descent {lc['descent']}, ascent {lc['ascent']}, "
        f"second descent {lc['second_descent']} ({len(steps)} kept checkpoints); {spearman}",
        f"both three phases of lc_phases (> {min_change:g} x value at step 0) at the kept "
        "checkpoints, fine radius",
        bool(counts["three_phases"] and lc["three_phases"]), role="headline", dataset=dataset,
        seeds=seeds, confidence=_one_run_band(seeds))


# ---------------------------------------------------------------------------------------------
# Fig. 15: layer-wise train-test difference
# ---------------------------------------------------------------------------------------------
def layer_gaps(metrics: pd.DataFrame, radius: str, step: int) -> list[float]:
    """Train LC - test LC of every hidden layer (``lc_<role>_<radius>_layer<i>``) at ``step``."""
    layers = sum(1 for c in metrics.columns if c.startswith(f"lc_train_{radius}_layer"))
    return [value_at(metrics, f"lc_train_{radius}_layer{i}", step)
            - value_at(metrics, f"lc_test_{radius}_layer{i}", step) for i in range(layers)]


def add_layerwise_claims(claims: ClaimsTable, metrics: pd.DataFrame,
                         phases: Mapping[str, Mapping[str, Any]], *, dataset: str,
                         seeds: int) -> None:
    """The train-test LC difference shrinks from shallow to deep layers, one row per radius.

    Paper (Fig. 15 caption, also §4.2): "Shallow layers have sharper peak during ascent phase,
    with distinct difference between train and test. For deeper layers however, the train vs
    test LC difference is negligible."

    Criterion: at the train-LC peak step of the radius (the end of the ascent, ``phases``), the
    per-layer train LC - test LC decreases with the layer index (:func:`trend`).
    """
    for radius, ph in phases.items():
        gaps = layer_gaps(metrics, radius, ph["peak_step"])
        claims.add(f"train - test LC ({radius} radius) at the LC peak shrinks from shallow to deep "
                   "layers", f"step {ph['peak_step']}: layers 1..{len(gaps)}: {_values(gaps)}",
                   "decreases with the layer index (monotone, last < first)",
                   trend(gaps, increasing=False), role="headline", dataset=dataset, seeds=seeds,
                   confidence=_one_run_band(seeds))


# ---------------------------------------------------------------------------------------------
# Figs. 3 and 6: depth and width sweeps
# ---------------------------------------------------------------------------------------------
def gap_at_peak(metrics: pd.DataFrame, radius: str, min_change: float) -> float:
    """Train LC - test LC at the step of the train-LC peak (:func:`ddlib.analysis.lc_phases`)."""
    step = phases_of(metrics, f"lc_train_{radius}", min_change)["peak_step"]
    return value_at(metrics, f"lc_train_{radius}", step) - value_at(metrics, f"lc_test_{radius}", step)


def add_depth_claims(claims: ClaimsTable, runs: Mapping[int, pd.DataFrame], radii: Sequence[str],
                     min_change: float, *, dataset: str, seeds: int) -> None:
    """The train-test LC difference during the ascent shrinks with depth, one row per radius.

    Paper (Fig. 3 caption): "As the number of parameters increase, the LC difference between
    train and test during ascent phase, decreases." (§4.2: "The difference as well as the
    sharpness of the ascent is reduced when increasing the depth of the network. This is visible
    for both fine and coarse r scales.")

    Criterion: train LC - test LC at each depth's train-LC peak (:func:`gap_at_peak`, ``runs`` =
    {depth: logged metrics}) decreases with depth (:func:`trend`).
    """
    depths = sorted(runs)
    for radius in radii:
        gaps = [gap_at_peak(runs[d], radius, min_change) for d in depths]
        claims.add(f"train - test LC ({radius} radius) at the LC peak shrinks with depth",
                   f"depths {_grid(depths)}: {_values(gaps)}",
                   "decreases with depth (monotone, last < first)", trend(gaps, increasing=False),
                   role="headline", dataset=dataset, seeds=seeds, confidence=_one_run_band(seeds))


def interior_peak(values: Sequence[float]) -> bool:
    """"An initial increase and then decrease": the largest value is neither the first nor the last."""
    return len(values) >= 3 and 0 < int(np.argmax(values)) < len(values) - 1


def saturates(widths: Sequence[int], values: Sequence[float]) -> bool:
    """"Saturating as we increase width": the curve rises per doubling of width between the two
    narrowest widths, and between the two widest it moves (up or down) by at most
    ``SATURATION`` = half of that rise per doubling. Needs three widths."""
    if len(widths) < 3:
        return False
    slopes = np.diff(np.asarray(values, dtype=float)) / np.diff(np.log2(np.asarray(widths, float)))
    return bool(slopes[0] > 0 and abs(slopes[-1]) <= SATURATION * slopes[0])


def add_width_claims(claims: ClaimsTable, runs: Mapping[int, pd.DataFrame], min_change: float, *,
                     dataset: str, seeds: int) -> None:
    """Peak train LC first rises, then falls with width; test and random LC saturate.

    Paper (Fig. 6 caption): "For the peak LC achieved around training points during the ascent
    phase, we see an initial increase and then decrease as the network gets overparameterized.
    For test and random samples, we see the LC during ascent phase saturating as we increase
    width." (§4.2: the fall comes from width 1000 to 2000; narrower grids may not reach it.)

    Criteria, at the fine radius, ``runs`` = {width: logged metrics}: the train-LC peak
    (``lc_peak`` of :func:`ddlib.analysis.lc_phases`) is largest at an interior width
    (:func:`interior_peak`); the test and the random LC at each width's train-LC peak step
    :func:`saturates` (a secondary row: the caption's second sentence).
    """
    widths = sorted(runs)
    phases = [phases_of(runs[w], "lc_train_fine", min_change) for w in widths]
    peaks = [ph["lc_peak"] for ph in phases]
    claims.add("peak train LC first rises, then falls with width",
               f"widths {_grid(widths)}: {_values(peaks)}",
               "largest at an interior width (needs >= 3 widths)", interior_peak(peaks),
               role="headline", dataset=dataset, seeds=seeds, confidence=_one_run_band(seeds))
    for role in ("test", "random"):
        at_peak = [value_at(runs[w], f"lc_{role}_fine", ph["peak_step"])
                   for w, ph in zip(widths, phases, strict=True)]
        claims.add(f"{role} LC at the ascent peak saturates with width",
                   f"widths {_grid(widths)}: {_values(at_peak)}",
                   f"rises per doubling of width between the two narrowest; between the two widest "
                   f"changes by at most {SATURATION:g} x that (needs >= 3 widths)",
                   saturates(widths, at_peak), role="secondary", dataset=dataset, seeds=seeds,
                   confidence=_one_run_band(seeds))


# ---------------------------------------------------------------------------------------------
# Figs. 10 and 11: training-set size, true and random labels
# ---------------------------------------------------------------------------------------------
def ascent_height(ph: Mapping[str, Any]) -> float:
    """LC gained in the ascent: ``lc_peak - lc_first_min`` of :func:`ddlib.analysis.lc_phases`."""
    return float(ph["lc_peak"] - ph["lc_first_min"])


def add_size_claims(claims: ClaimsTable, runs: Mapping[tuple[int, float], pd.DataFrame],
                    random_rate: float, min_change: float, *, dataset: str, seeds: int) -> None:
    """Training-set size with true labels (Fig. 10) and random labels (Fig. 11), fine radius.

    Paper (Fig. 10 caption): "As data set size is increased, the network generalizes more and
    earlier. We see that with more generalization removes the LC peak during ascent phase."
    (Fig. 11 caption): "Here more training samples would require more memorization, therefore we
    do not see the ascent peak get reduced, like we see with non-random labels." (§4.4):
    "gradually increasing training dataset size elongates the ascent phase, gradually increasing
    the peak train and test LC."

    ``runs`` = {(training images, random-label rate): logged metrics}. Criteria (:func:`trend`
    unless said): true labels: the ascent height (:func:`ascent_height`) decreases with size;
    the final test accuracy increases with size (secondary). Random labels: the train-LC peak
    never falls with size (``is_monotone``, ties allowed: "we do not see [it] get reduced"); the
    ascent duration (peak step - end of the first descent), the train-LC peak and the test LC at
    that step increase with size (secondary, §4.4).
    """
    def series(rate: float) -> tuple[list[int], list[pd.DataFrame], list[dict[str, Any]]]:
        sizes = sorted(size for size, r in runs if r == rate)
        metrics = [runs[(size, rate)] for size in sizes]
        return sizes, metrics, [phases_of(m, "lc_train_fine", min_change) for m in metrics]

    band = _one_run_band(seeds)
    sizes, metrics, phases = series(0.0)
    heights = [ascent_height(ph) for ph in phases]
    claims.add("true labels: the ascent of train LC shrinks as the training set grows",
               f"sizes {_grid(sizes)}: ascent height {_values(heights)}",
               "decreases with size (monotone, last < first)", trend(heights, increasing=False),
               role="headline", dataset=dataset, seeds=seeds, confidence=band)
    accuracy = [float(m["test_accuracy"].iloc[-1]) for m in metrics]
    claims.add("true labels: final test accuracy grows with the training set",
               f"sizes {_grid(sizes)}: {_values(accuracy)}",
               "increases with size (monotone, last > first)", trend(accuracy, increasing=True),
               role="secondary", dataset=dataset, seeds=seeds, confidence=band)

    sizes, metrics, phases = series(random_rate)
    peaks = [ph["lc_peak"] for ph in phases]
    claims.add("random labels: the train-LC peak is not reduced as the training set grows",
               f"sizes {_grid(sizes)}: peak {_values(peaks)}",
               "never falls with size (monotone, ties allowed; needs >= 2 sizes)",
               len(peaks) >= 2 and is_monotone(peaks, increasing=True), role="headline",
               dataset=dataset, seeds=seeds, confidence=band)
    duration = [int(ph["peak_step"] - ph["first_min_step"]) for ph in phases]
    test_lc = [value_at(m, "lc_test_fine", ph["peak_step"])
               for m, ph in zip(metrics, phases, strict=True)]
    claims.add("random labels: more training images elongate the ascent, raising peak train "
               "and test LC", f"sizes {_grid(sizes)}: ascent steps {_grid(duration)}, "
               f"train peak {_values(peaks)}, test LC there {_values(test_lc)}",
               "all three increase with size (monotone, last > first)",
               all(trend(v, increasing=True) for v in (duration, peaks, test_lc)),
               role="secondary", dataset=dataset, seeds=seeds, confidence=band)


# ---------------------------------------------------------------------------------------------
# Figs. 8 and 9: grokking
# ---------------------------------------------------------------------------------------------
def grokking_holds(timing: Mapping[str, Any], phases: Mapping[str, Any], last_step: int) -> bool:
    """Test accuracy rises well after training accuracy saturated, within the run, during the
    final LC descent (Humayun et al. §4.4; quotes in :func:`add_grokking_claim`).

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
    """Grokking: generalisation arrives long after memorisation, during the second LC descent.

    Paper (Fig. 9 caption): "Generalization occurs during the second descent of LC." (abstract):
    "We also observe that the different LC phases are closely related to the memorization and
    generalization performance of the DN, especially during grokking." (§4.4): "Grokking [...] is
    a phenomenon where networks tend to generalize significantly after overfitting".

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


def memorisation_in_ascent(timing: Mapping[str, Any], phases: Mapping[str, Any]) -> bool:
    """The training accuracy saturates inside the ascent: first_min_step <= saturation <= peak_step."""
    saturation = timing["saturation_step"]
    return saturation is not None and phases["first_min_step"] <= saturation <= phases["peak_step"]


def add_memorisation_claim(claims: ClaimsTable, timing: Mapping[str, Any],
                           phases: Mapping[str, Any], init_scale: float, *, dataset: str,
                           seeds: int) -> bool:
    """Grokking: memorisation happens during the LC ascent.

    Paper (Fig. 9 caption): "Memorization phase of grokking happens during the ascent phase of
    LC." (§4.4: "This indicates that the ascent phase during grokking, is related to
    memorization.")

    Criterion (:func:`memorisation_in_ascent`): the step at which training accuracy reaches 0.99
    (:func:`ddlib.analysis.grokking_timing`) lies in the ascent [end of the first descent, train-LC
    peak] of the grokking run's fine train LC, both ends included. A placement, not a
    difference: no band.
    """
    return claims.add(f"grokking (init x{init_scale:g}): train accuracy saturates during the LC "
                      "ascent", f"train acc >= 0.99 at step {timing['saturation_step']}; ascent "
                      f"from step {phases['first_min_step']} to {phases['peak_step']}",
                      "first-descent end <= saturation step <= LC peak step",
                      memorisation_in_ascent(timing, phases), role="headline", dataset=dataset,
                      seeds=seeds)


def add_grokking_depth_claim(claims: ClaimsTable, runs: Mapping[int, pd.DataFrame],
                             min_change: float, *, dataset: str, seeds: int) -> bool:
    """Grokking: the LC peak of the ascent grows with depth.

    Paper (Fig. 8 caption): "As depth is increased the max LC during ascent phase becomes
    larger." (§4.4: "increasing the depth of the network makes the ascent max LC peak higher")

    Criterion: the train-LC peak at the fine radius (``lc_peak`` of
    :func:`ddlib.analysis.lc_phases`) of the grokking runs (``runs`` = {depth: logged metrics})
    increases with depth (:func:`trend`).
    """
    depths = sorted(runs)
    peaks = [phases_of(runs[d], "lc_train_fine", min_change)["lc_peak"] for d in depths]
    return claims.add("grokking: the train-LC peak of the ascent grows with depth",
                      f"depths {_grid(depths)}: {_values(peaks)}",
                      "increases with depth (monotone, last > first; needs >= 2 depths)",
                      trend(peaks, increasing=True), role="headline", dataset=dataset,
                      seeds=seeds, confidence=_one_run_band(seeds))


# ---------------------------------------------------------------------------------------------
# Figs. 4, 5 and 7: batch norm and weight decay on CIFAR-10 (paper profile)
# ---------------------------------------------------------------------------------------------
def add_batchnorm_claim(claims: ClaimsTable, plain: Mapping[str, Any],
                        normed: Mapping[str, Any], *, dataset: str, seeds: int) -> bool:
    """Batch norm removes the second LC descent (CNN on CIFAR-10).

    Paper (Fig. 4 caption): "Batch normalization removes second descent while increasing overall
    LC." (§4.3: "The first thing to note is that BN largely removes the second descent for all
    the experiments.") This row checks the first half; :func:`add_overall_lc_claim` the second.

    Criterion: the phase rule (:func:`ddlib.analysis.lc_phases`) finds a second descent in the
    train LC of the CNN without batch norm and none with it.
    """
    return claims.add("batch norm removes the second descent (CNN on CIFAR-10)",
                      f"second descent without BN: {plain['second_descent']}, with BN: {normed['second_descent']}",
                      "phase rule above", bool(plain["second_descent"] and not normed["second_descent"]),
                      role="headline", dataset=dataset, seeds=seeds, confidence=_one_run_band(seeds))


def overall_lc(metrics: pd.DataFrame, role: str) -> float:
    """The "overall LC throughout training" of ``role`` points: the mean fine-radius LC over
    every logged step."""
    return float(metrics[f"lc_{role}_fine"].mean())


def add_overall_lc_claim(claims: ClaimsTable, plain: pd.DataFrame, normed: pd.DataFrame, *,
                         dataset: str, seeds: int) -> bool:
    """Batch norm increases the overall LC at training, test and random points (CNN, CIFAR-10).

    Paper (Fig. 4 caption): "Batch normalization removes second descent while increasing overall
    LC." (§4.3): "employing BN increases the overall LC throughout training for train, test and
    also random points in the input space".

    Criterion: for each of the train, test and random points the mean LC over the logged steps
    (:func:`overall_lc`; both runs log the same steps) is larger with batch norm. The share of
    logged steps at which it is larger is reported.
    """
    merged = plain.merge(normed, on="step", suffixes=("", "_bn"))
    parts, holds = [], True
    for role in ROLES:
        without, with_bn = overall_lc(plain, role), overall_lc(normed, role)
        above = float((merged[f"lc_{role}_fine_bn"] > merged[f"lc_{role}_fine"]).mean())
        parts.append(f"{role} {without:.3g} -> {with_bn:.3g} (BN higher at {above:.0%} of steps)")
        holds = holds and with_bn > without
    return claims.add("batch norm increases the overall LC at train, test and random points "
                      "(CNN on CIFAR-10)", "mean LC without -> with BN: " + "; ".join(parts),
                      "mean LC over the logged steps larger with BN, for each of the three roles",
                      holds, role="headline", dataset=dataset, seeds=seeds,
                      confidence=_one_run_band(seeds))


def second_descent_depth(ph: Mapping[str, Any]) -> float:
    """The part of the peak LC lost in the second descent, ``(lc_peak - lc_final_min) / lc_peak``:
    relative, since batch norm and weight decay change the LC's scale (Figs. 4, 7)."""
    return float((ph["lc_peak"] - ph["lc_final_min"]) / ph["lc_peak"]) if ph["lc_peak"] > 0 else 0.0


def add_resnet_batchnorm_claim(claims: ClaimsTable, plain: Mapping[str, Any],
                               normed: Mapping[str, Any], *, dataset: str, seeds: int) -> bool:
    """Batch norm reduces the second descent of a ResNet18.

    Paper (Fig. 5 caption): "LC dynamics of a Resnet18 trained with and without Batch
    Normalization (BN) on CIFAR10. BN reduces second descent."

    Criterion: the relative second-descent depth (:func:`second_descent_depth` of the fine train
    LC's phases) is smaller with batch norm than without.
    """
    without, with_bn = second_descent_depth(plain), second_descent_depth(normed)
    return claims.add("batch norm reduces the second descent (ResNet18 on CIFAR-10)",
                      f"second descent / peak LC: without BN {without:.3f}, with BN {with_bn:.3f}",
                      "smaller with BN", with_bn < without, role="headline", dataset=dataset,
                      seeds=seeds, confidence=_one_run_band(seeds))


def add_weight_decay_claim(claims: ClaimsTable, phases: Mapping[float, Mapping[str, Any]], *,
                           dataset: str, seeds: int) -> bool:
    """The final LC descent shrinks as weight decay grows (CNN on CIFAR-10).

    Paper (Fig. 7 caption): "Final descent gets reduced as we increase weight decay." (§4.3:
    "increasing weight decay also delays or removes the second descent in training LC.")

    Criterion: the relative second-descent depth (:func:`second_descent_depth`) of the fine train
    LC of the CNN without batch norm, ``phases`` = {weight decay: phases}, decreases with weight
    decay (:func:`trend`).
    """
    decays = sorted(phases)
    lost = [second_descent_depth(phases[wd]) for wd in decays]
    return claims.add("the final LC descent shrinks as weight decay grows (CNN on CIFAR-10)",
                      f"weight decay {_grid(decays)}: second descent / peak LC {_values(lost)}",
                      "decreases with weight decay (monotone, last < first)",
                      trend(lost, increasing=False), role="headline", dataset=dataset,
                      seeds=seeds, confidence=_one_run_band(seeds))


def add_cifar_claims(claims: ClaimsTable, runs: Mapping[str, pd.DataFrame],
                     phases: Mapping[str, Mapping[str, Any]], weight_decays: Sequence[float], *,
                     dataset: str, seeds: int) -> None:
    """Figs. 4, 5 and 7 on the CIFAR-10 runs of ``experiment.cifar_configs`` (labels as there):
    ``runs`` = {label: logged metrics}, ``phases`` = {label: fine train-LC phases}."""
    one = {"dataset": dataset, "seeds": seeds}
    add_batchnorm_claim(claims, phases["CNN"], phases["CNN + BN"], **one)
    add_overall_lc_claim(claims, runs["CNN"], runs["CNN + BN"], **one)
    add_resnet_batchnorm_claim(claims, phases["ResNet18"], phases["ResNet18 + BN"], **one)
    add_weight_decay_claim(claims, {wd: phases[f"CNN, wd {wd:g}"] for wd in weight_decays}, **one)
