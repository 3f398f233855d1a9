"""Claims of notebook 02 (Gamba et al., *Deep Double Descent via Smooth Interpolation*, Sec. 4),
judged on the width-sweep tables.

Each claim is one function below whose docstring quotes the sentence of the paper it tests, with
section or figure, and states the criterion derived from that sentence. Quotes are from the
review version of the paper (TMLR 2023 under review); the published version words them the same
where they were compared. Nothing here knows an expected answer: the threshold, the peaks and
their widths are measured.

**At and near the threshold.** The paper says the Jacobian and Hessian norms peak "at" the
interpolation threshold and the test error and the volume cross-entropy "near" it. On a grid of
widths the finest statement of either is one grid step: a peak (a local maximum of the seed-mean
curve) among the threshold and its two grid neighbours (:func:`ddlib.analysis.threshold_window`,
``steps=1``). A wider "near" would cover most of the laptop grid (a factor-2 window holds 5 of its
7 widths), so "near" is judged like "at"; where the grid is too coarse the grid gets denser, the
window does not widen. With augmentation (Fig. 6) the paper says the test-error peak comes
"earlier than" the threshold: a peak at a width below it (``earlier=True``).

**Volumes.** Every volume metric is judged at K = 0 (the training point itself) and at the largest
volume K; the row holds when both hold.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from ddlib.analysis import peak_near_threshold, prominence, seed_bands
from ddlib.core.claims import NO_BAND, ClaimsTable
from ddlib.studies.convnet_sharpness.experiment import sweep_threshold

AT_THRESHOLD = 1  # grid steps from the threshold that count as "at" (and "near") it
PEAKING = ("cross_entropy", "jacobian_norm", "hessian_norm")  # volume metrics that peak
NOISY_CRITERION = ("clean and noisy curves both peak within 1 grid step of w_thr, and the noisy "
                   "peak's prominence (peak minus the higher shoulder) is larger")


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


def _largest_rise(curve: pd.Series) -> tuple[float, str]:
    """The largest increase of ``curve`` from one width to the next (0 when it never rises), and
    where it happens, in words."""
    steps = curve.sort_index().diff().iloc[1:]
    if steps.empty or not steps.max() > 0:
        return 0.0, "never"
    return float(steps.max()), f"{steps.max():.3g} (to w = {int(steps.idxmax())})"


def interpolation_threshold_reached(table: ClaimsTable, final: pd.DataFrame, tolerance: float,
                                    prefix: str, dataset: str, seeds: int) -> int | None:
    """Training error falls monotonically with width, reaching zero at the interpolation
    threshold and staying zero beyond it.

    Paper (Sec. 4.1): "we observe that training accuracy at convergence monotonically increases
    with model size, with 100% accuracy reached at the interpolation threshold and maintained
    therefrom."

    Criterion: the seed-mean training error is <= ``tolerance`` from some width w_thr to the
    widest model (:func:`ddlib.analysis.interpolation_threshold`), and it never rises by more than
    ``tolerance`` (what counts as fitting) from one width to the next. Confidence: the seed band of
    the training error at w_thr and at the width below it.
    """
    threshold = sweep_threshold(final, tolerance)
    train_curve = final.groupby("width").train_error.mean()
    rise, rise_text = _largest_rise(train_curve)
    below = [w for w in train_curve.index if threshold is not None and w < threshold]
    widths = [max(below) if below else None, threshold]
    table.add(
        f"{prefix}training error falls monotonically to 0 at an interpolation threshold and "
        "stays 0",
        "threshold w = " + (str(threshold) if threshold is not None else "none")
        + f"; largest rise: {rise_text}"
        + f"; train error by width {train_curve.round(3).to_dict()}",
        f"mean train error <= {tolerance} from w_thr to the widest model, and never rising by "
        f"more than {tolerance} from one width to the next",
        threshold is not None and rise <= tolerance,
        role="headline", dataset=dataset, seeds=seeds,
        confidence=_bands(final, "train_error", widths, seeds) if threshold is not None else "",
    )
    return threshold


def peak_of_test_error(table: ClaimsTable, final: pd.DataFrame, threshold: int | None,
                     margin: float, prefix: str, dataset: str, seeds: int, *,
                     earlier: bool = False) -> bool:
    """Test error peaks near the interpolation threshold (earlier than it with augmentation).

    Paper (Sec. 4, Fig. 2a): "Near said threshold, the test error peaks. Finally, large
    overparameterized models achieve improved generalization, as marked by decreasing test
    error, while still interpolating the training set." With data augmentation (Sec. 4.4, Fig. 6):
    "Interestingly, data augmentation causes the peak in test error to occur earlier than the
    interpolation threshold."

    Criterion (:func:`ddlib.analysis.peak_near_threshold`, module docstring): a peak of the
    seed-mean test error within 1 grid step of w_thr (``earlier``: at a width below w_thr) that
    exceeds both the lowest value at smaller widths and the widest model by >= ``margin`` of
    itself. Confidence: the seed bands at those widths; they do not decide (a bootstrap over test
    images needs per-image test outcomes, which are not logged yet).
    """
    where = "earlier than the threshold" if earlier else "near the threshold"
    claim = f"{prefix}test error peaks {where} and falls for wider models"
    window = "a width below w_thr" if earlier else f"{AT_THRESHOLD} grid step of w_thr"
    criterion = (f"a local maximum within {window} exceeds the minimum at smaller widths and the "
                 f"widest model by >= {margin:.0%}")
    if threshold is None:
        return table.add(claim, "no interpolation threshold measured", criterion, False,
                         role="headline", dataset=dataset, seeds=seeds)
    curve = final.groupby("width")["test_error"].mean()
    window_rule = {"earlier": True} if earlier else {"steps": AT_THRESHOLD}
    peak = peak_near_threshold(curve, threshold, None, margin, **window_rule)
    return table.add(claim, _describe_peak(peak, threshold), criterion, peak["holds"],
                     role="headline", dataset=dataset, seeds=seeds,
                     confidence=_bands(final, "test_error", _shoulder_widths(curve, peak), seeds))


def volume_metric_peaks(table: ClaimsTable, volumes: pd.DataFrame, metric: str,
                        threshold: int | None, margin: float, prefix: str, dataset: str,
                        seeds: int) -> bool:
    """Cross-entropy, Jacobian and Hessian norms over volumes peak at the threshold and fall.

    Paper (Sec. 4.1, Fig. 2b): "At the same time, crossentropy loss over volumes follows double
    descent, with peak near the interpolation threshold, and then decreasing as model size
    grows." and "Similarly, the Jacobian and Hessian norms peak at the interpolation threshold and
    then rapidly decrease". Abstract: "loss sharpness in the input space follows both model- and
    epoch-wise double descent".

    Criterion: at K = 0 and at the largest K, a local maximum of the seed-mean curve on all
    evaluated training points within 1 grid step of w_thr exceeds the minimum at smaller widths
    and the widest model by >= ``margin`` of itself. Confidence: the seed bands at the largest K.
    """
    name = metric.replace("_", " ")
    claim = f"{prefix}volume {name} peaks at the threshold and falls for wider models (K = 0 and largest K)"
    criterion = (f"at K = 0 and the largest K: a local maximum within {AT_THRESHOLD} grid step of "
                 f"w_thr exceeds the minimum at smaller widths and the widest model by >= {margin:.0%}")
    if threshold is None:
        return table.add(claim, "no interpolation threshold measured", criterion, False,
                         role="headline", dataset=dataset, seeds=seeds)
    rows = {volume: volumes[(volumes.volume == volume) & (volumes.subset == "all")]
            for volume in (0, int(volumes.volume.max()))}
    curves = {volume: table_.groupby("width")[metric].mean() for volume, table_ in rows.items()}
    peaks = {volume: peak_near_threshold(curve, threshold, None, margin, steps=AT_THRESHOLD)
             for volume, curve in curves.items()}
    largest = max(rows)
    return table.add(claim, "; ".join(f"K = {v}: {_describe_peak(p, threshold)}"
                                      for v, p in peaks.items()),
                     criterion, all(p["holds"] for p in peaks.values()), role="headline",
                     dataset=dataset, seeds=seeds,
                     confidence=_bands(rows[largest], metric,
                                       _shoulder_widths(curves[largest], peaks[largest]), seeds))


def volume_accuracy_rises(table: ClaimsTable, volumes: pd.DataFrame, tolerance: float,
                          prefix: str, dataset: str, seeds: int) -> bool:
    """Accuracy over volumes increases monotonically with model size.

    Paper (Fig. 2 caption): "We observe accuracy over volumes increases monotonically with model
    size, while crossentropy follows double descent."

    Criterion: at K = 0 and at the largest K, the seed-mean accuracy on all evaluated training
    points never falls by more than ``tolerance`` (the training error that counts as fitting)
    from one width to the next. Confidence: none (not a difference between two values).
    """
    parts, judged = [], []
    for volume in (0, int(volumes.volume.max())):
        rows = volumes[(volumes.volume == volume) & (volumes.subset == "all")]
        drop, drop_text = _largest_rise(-rows.groupby("width")["accuracy"].mean())
        judged.append(drop <= tolerance)
        parts.append(f"K = {volume}: largest drop: {drop_text}")
    return table.add(f"{prefix}accuracy over volumes increases monotonically with width "
                     "(K = 0 and largest K)", "; ".join(parts),
                     f"seed-mean accuracy never falls by more than {tolerance} from one width to "
                     "the next, at K = 0 and the largest K", all(judged),
                     role="headline", dataset=dataset, seeds=seeds)


def noisy_peak_more_marked(table: ClaimsTable, at_volume: pd.DataFrame, metric: str, volume: int,
                           threshold: int | None, margin: float, prefix: str, dataset: str,
                           seeds: int) -> bool:
    """The sharpness peak at the threshold is more marked around noisily labelled points.

    Paper (Sec. 4.2, Fig. 3): "Interestingly, this trend is observed both around cleanly- and
    noisily-labeled training samples, with peaks at the interpolation threshold which are
    considerably more marked for noisy labels."

    Criterion: the clean-point and the noisy-point curves both peak within 1 grid step of w_thr
    (rule of :func:`volume_metric_peaks`), and the noisy peak has the larger prominence (peak
    minus the higher of its two shoulders, :func:`ddlib.analysis.prominence`). Confidence: the
    seed bands of both curves at their peak widths; they do not decide (a bootstrap over training
    points is future work).
    """
    claim = (f"{prefix}the volume-{volume} {metric.replace('_', ' ')} peak is "
             "more marked on noisy than on clean points")
    if threshold is None:
        return table.add(claim, "no interpolation threshold measured", NOISY_CRITERION, False,
                         role="headline", dataset=dataset, seeds=seeds)
    by_subset = at_volume.groupby(["subset", "width"])[metric].mean()
    peaks = {subset: peak_near_threshold(by_subset[subset], threshold, None, margin,
                                         steps=AT_THRESHOLD)
             for subset in ("clean", "noisy")}
    clean, noisy = (prominence(peaks[s]) for s in ("clean", "noisy"))
    confidence = NO_BAND if seeds < 2 else "; ".join(
        f"{s} " + _bands(at_volume[at_volume.subset == s], metric, [peaks[s]["peak_width"]], seeds)
        for s in ("noisy", "clean"))
    return table.add(
        claim,
        f"prominence noisy {noisy:.3g} (peak at w = {peaks['noisy']['peak_width']}), "
        f"clean {clean:.3g} (peak at w = {peaks['clean']['peak_width']})",
        NOISY_CRITERION,
        bool(peaks["noisy"]["holds"] and peaks["clean"]["holds"] and noisy > clean),
        role="headline", dataset=dataset, seeds=seeds, confidence=confidence,
    )


def add_claims(
    table: ClaimsTable,
    final: pd.DataFrame,
    volumes: pd.DataFrame,
    tolerance: float,
    margin: float,
    label: str = "",
    *,
    dataset: str,
    seeds: int,
) -> int | None:
    """Add notebook 02's claims (Gamba et al. Sec. 4) for one sweep; returns the threshold.

    ``label`` names a `paper`-profile setting (``"resnet18"``: augmentation, so the test-error
    peak comes earlier than the threshold). ``dataset`` is the sweep's training data (its data
    spec's name) and ``seeds`` the number of seeds per width. Without a threshold every peak claim
    is recorded as not holding (nothing to be at).
    """
    prefix = f"[{label}] " if label else ""
    threshold = interpolation_threshold_reached(table, final, tolerance, prefix, dataset, seeds)
    peak_of_test_error(table, final, threshold, margin, prefix, dataset, seeds,
                     earlier=label == "resnet18")
    volume_accuracy_rises(table, volumes, tolerance, prefix, dataset, seeds)
    for metric in PEAKING:
        volume_metric_peaks(table, volumes, metric, threshold, margin, prefix, dataset, seeds)
    widest_volume = int(volumes.volume.max())
    at_volume = volumes[volumes.volume == widest_volume]
    if {"clean", "noisy"} <= set(at_volume.subset):
        for metric in PEAKING:
            noisy_peak_more_marked(table, at_volume, metric, widest_volume, threshold, margin,
                                   prefix, dataset, seeds)
    return threshold


def _describe_peak(peak: Mapping[str, Any], threshold: int) -> str:
    return (
        f"peak {peak['peak']:.3g} at w = {peak['peak_width']} (threshold {threshold}); "
        f"lowest before {peak['rise_from']:.3g}, widest {peak['widest']:.3g}"
    )
