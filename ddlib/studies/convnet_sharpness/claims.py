"""Claims of notebook 02 (Gamba et al. Sec. 4), judged on the width-sweep tables.

Each claim is one function below whose docstring quotes the sentence of the paper it tests (with
where the words were found) and states the criterion derived from it. Nothing here knows an
expected answer: the threshold, the peaks and their widths are measured.

Source of the quotes: the paper's arXiv HTML version (TMLR 2023), ``AR5IV`` =
https://ar5iv.labs.arxiv.org/html/2209.10080 (the abstract is the same on
https://openreview.net/forum?id=fempQstMbV).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from ddlib.analysis import peak_near_threshold, prominence, seed_bands
from ddlib.core.claims import NO_BAND, ClaimsTable
from ddlib.studies.convnet_sharpness.experiment import sweep_threshold

METRICS = ("cross_entropy", "jacobian_norm", "hessian_norm")
# Headline: Fig. 2a's caption ("Double descent curve for the test error") and the abstract's "loss
# sharpness in the input space follows both model- and epoch-wise double descent, with worse peaks
# observed around noisy labels" (the Jacobian and Hessian norms); the cross-entropy is secondary.
HEADLINE_COLUMNS = ("test_error", "jacobian_norm", "hessian_norm")


def _role(column: str) -> str:
    return "headline" if column in HEADLINE_COLUMNS else "secondary"
NOISY_CRITERION = ("noisy curve has a peak near the threshold and a larger prominence "
                   "(peak minus the higher of its two shoulders) than the clean curve")


def _bands(table: pd.DataFrame, column: str, widths: list[int | None], seeds: int) -> str:
    """Mean ± std over seeds of ``column`` at ``widths`` (:func:`ddlib.analysis.seed_bands`)."""
    if seeds < 2:
        return NO_BAND
    bands = seed_bands(table, ["width"], [column]).set_index("width")
    parts = [f"w = {w}: {bands.loc[w, column + '_mean']:.3g} ± {bands.loc[w, column + '_std']:.2g}"
             for w in dict.fromkeys(widths) if w is not None and w in bands.index]
    return f"mean ± std over {seeds} seeds: " + ("; ".join(parts) if parts else "n/a")


def _shoulder_widths(curve: pd.Series, peak: Mapping[str, Any]) -> list[int | None]:
    """The widths the peak rule compares: the lowest smaller width, the peak and the widest."""
    curve = curve.sort_index()
    before = curve[curve.index < peak["peak_width"]] if peak["peak_width"] is not None else curve[:0]
    rise_width = int(before.idxmin()) if len(before) else None
    return [rise_width, peak["peak_width"], int(curve.index.max())]


def interpolation_threshold_reached(table: ClaimsTable, final: pd.DataFrame, tolerance: float,
                                    prefix: str, dataset: str, seeds: int) -> int | None:
    """Training error reaches zero at an interpolation threshold and stays zero beyond it.

    Paper text for this sentence not found offline (AR5IV's introduction, as far as it was
    available: "the test error follows the classical bias-variance trade-off curve (Geman et al.,
    1992), peaking as models become large enough to perfectl[y ...]"); criterion from
    ``docs/papers.md`` §2, "Reported numbers and claims": "Training accuracy increases
    monotonically with width and reaches 100% at the interpolation threshold."

    Criterion: the seed-mean training error is <= ``tolerance`` from some width w_thr to the
    widest model (:func:`ddlib.analysis.interpolation_threshold`). Confidence: the seed band of
    the training error at w_thr and at the width below it.
    """
    threshold = sweep_threshold(final, tolerance)
    train_curve = final.groupby("width").train_error.mean()
    below = [w for w in train_curve.index if threshold is not None and w < threshold]
    widths = [max(below) if below else None, threshold]
    table.add(
        f"{prefix}training error reaches 0 at an interpolation threshold and stays 0",
        "threshold w = "
        + (str(threshold) if threshold is not None else "none")
        + f"; train error by width {train_curve.round(3).to_dict()}",
        f"mean train error <= {tolerance} from w_thr to the widest model",
        threshold is not None,
        role="secondary", dataset=dataset, seeds=seeds,
        confidence=_bands(final, "train_error", widths, seeds) if threshold is not None else "",
    )
    return threshold


def curve_peaks_near_threshold(table: ClaimsTable, name: str, per_seed: pd.DataFrame,
                               column: str, threshold: int | None, factor: float, margin: float,
                               prefix: str, dataset: str, seeds: int) -> bool:
    """Test error and input-space sharpness peak near the threshold and fall for wider models.

    Paper (AR5IV, abstract): "Our findings show that loss sharpness in the input space follows
    both model- and epoch-wise double descent, with worse peaks observed around noisy labels.
    While small interpolating models sharply fit both clean and noisy data, large interpolating
    models express a smooth loss landscape". For the test error (AR5IV, introduction): "the test
    error follows the classical bias-variance trade-off curve (Geman et al., 1992), peaking as
    models become large enough to perfectl[y ...]".

    Criterion (:func:`ddlib.analysis.peak_near_threshold` on the seed-mean curve of ``column``):
    the maximum over widths in [w_thr / factor, w_thr * factor] exceeds both the minimum at smaller
    widths and the widest model by >= ``margin`` of the peak. Without a threshold it does not
    hold. Confidence: the seed bands at those three widths.
    """
    claim = f"{prefix}{name} peaks near the threshold and falls for wider models"
    criterion = (
        f"max over w in [w_thr/{factor:g}, w_thr*{factor:g}] exceeds the minimum at "
        f"smaller widths and the widest model by >= {margin:.0%}"
    )
    if threshold is None:
        return table.add(claim, "no interpolation threshold measured", criterion, False,
                         role=_role(column), dataset=dataset, seeds=seeds)
    curve = per_seed.groupby("width")[column].mean()
    peak = peak_near_threshold(curve, threshold, factor, margin)
    return table.add(claim, _describe_peak(peak, threshold), criterion, peak["holds"],
                     role=_role(column), dataset=dataset, seeds=seeds,
                     confidence=_bands(per_seed, column, _shoulder_widths(curve, peak), seeds))


def noisy_peak_more_marked(table: ClaimsTable, at_volume: pd.DataFrame, metric: str, volume: int,
                           threshold: int | None, factor: float, margin: float, prefix: str,
                           dataset: str, seeds: int) -> bool:
    """The sharpness peak is more marked around noisily labelled training points.

    Paper (AR5IV, abstract): "loss sharpness in the input space follows both model- and epoch-wise
    double descent, with worse peaks observed around noisy labels."

    Criterion: the noisy-point curve has a peak near the threshold (rule above) and a larger
    prominence (peak minus the higher of its two shoulders, :func:`ddlib.analysis.prominence`)
    than the clean-point curve. Confidence: the seed bands of both curves at their peak widths.
    """
    claim = (
        f"{prefix}the volume-{volume} {metric.replace('_', ' ')} peak is "
        "more marked on noisy than on clean points"
    )
    if threshold is None:
        return table.add(claim, "no interpolation threshold measured", NOISY_CRITERION, False,
                         role=_role(metric), dataset=dataset, seeds=seeds)
    by_subset = at_volume.groupby(["subset", "width"])[metric].mean()
    peaks = {
        subset: peak_near_threshold(by_subset[subset], threshold, factor, margin)
        for subset in ("clean", "noisy")
    }
    clean, noisy = (prominence(peaks[s]) for s in ("clean", "noisy"))
    confidence = NO_BAND if seeds < 2 else "; ".join(
        f"{s} " + _bands(at_volume[at_volume.subset == s], metric, [peaks[s]["peak_width"]], seeds)
        for s in ("noisy", "clean"))
    return table.add(
        claim,
        f"prominence noisy {noisy:.3g} (peak at w = {peaks['noisy']['peak_width']}), "
        f"clean {clean:.3g} (peak at w = {peaks['clean']['peak_width']})",
        NOISY_CRITERION,
        bool(peaks["noisy"]["holds"] and noisy > clean),
        role=_role(metric), dataset=dataset, seeds=seeds, confidence=confidence,
    )


def add_claims(
    table: ClaimsTable,
    final: pd.DataFrame,
    volumes: pd.DataFrame,
    tolerance: float,
    factor: float,
    margin: float,
    label: str = "",
    *,
    dataset: str,
    seeds: int,
) -> int | None:
    """Add notebook 02's claims (Gamba et al. Sec. 4) for one sweep; returns the threshold.

    ``dataset`` is the sweep's training data (its data spec's name) and ``seeds`` the number of
    seeds per width. Without a threshold every peak claim is recorded as not holding (nothing to
    be near).
    """
    prefix = f"[{label}] " if label else ""
    threshold = interpolation_threshold_reached(table, final, tolerance, prefix, dataset, seeds)
    widest_volume = volumes.volume.max()
    at_volume = volumes[volumes.volume == widest_volume]
    curve_peaks_near_threshold(table, "test error", final, "test_error", threshold, factor, margin,
                               prefix, dataset, seeds)
    for metric in METRICS:
        name = f"volume-{widest_volume} {metric.replace('_', ' ')}"
        curve_peaks_near_threshold(table, name, at_volume[at_volume.subset == "all"], metric,
                                   threshold, factor, margin, prefix, dataset, seeds)
    if {"clean", "noisy"} <= set(at_volume.subset):
        for metric in METRICS:
            noisy_peak_more_marked(table, at_volume, metric, widest_volume, threshold, factor,
                                   margin, prefix, dataset, seeds)
    return threshold


def _describe_peak(peak: Mapping[str, Any], threshold: int) -> str:
    return (
        f"peak {peak['peak']:.3g} at w = {peak['peak_width']} (threshold {threshold}); "
        f"lowest before {peak['rise_from']:.3g}, widest {peak['widest']:.3g}"
    )
