"""Claims of notebook 02 (Gamba et al. Sec. 4), judged on the width-sweep tables.

Nothing here knows an expected answer: the threshold, the peaks and their widths are measured.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from ddlib.analysis import peak_near_threshold, prominence
from ddlib.core.claims import ClaimsTable
from ddlib.studies.convnet_sharpness.experiment import sweep_threshold


def add_claims(
    table: ClaimsTable,
    final: pd.DataFrame,
    volumes: pd.DataFrame,
    tolerance: float,
    factor: float,
    margin: float,
    label: str = "",
) -> int | None:
    """Add notebook 02's claims (Gamba et al. Sec. 4) for one sweep; returns the threshold.

    Without a threshold every peak claim is recorded as not holding (nothing to be near).
    """
    prefix = f"[{label}] " if label else ""
    threshold = sweep_threshold(final, tolerance)
    train_curve = final.groupby("width").train_error.mean()
    table.add(
        f"{prefix}training error reaches 0 at an interpolation threshold and stays 0",
        "threshold w = "
        + (str(threshold) if threshold is not None else "none")
        + f"; train error by width {train_curve.round(3).to_dict()}",
        f"mean train error <= {tolerance} from w_thr to the widest model",
        threshold is not None,
    )
    criterion = (
        f"max over w in [w_thr/{factor:g}, w_thr*{factor:g}] exceeds the minimum at "
        f"smaller widths and the widest model by >= {margin:.0%}"
    )
    widest_volume = volumes.volume.max()
    at_volume = volumes[volumes.volume == widest_volume]
    curves = {"test error": final.groupby("width").test_error.mean()}
    for metric in ("cross_entropy", "jacobian_norm", "hessian_norm"):
        name = f"volume-{widest_volume} {metric.replace('_', ' ')}"
        curves[name] = at_volume[at_volume.subset == "all"].groupby("width")[metric].mean()
    for name, curve in curves.items():
        claim = f"{prefix}{name} peaks near the threshold and falls for wider models"
        if threshold is None:
            table.add(claim, "no interpolation threshold measured", criterion, False)
            continue
        peak = peak_near_threshold(curve, threshold, factor, margin)
        table.add(claim, _describe_peak(peak, threshold), criterion, peak["holds"])
    if {"clean", "noisy"} <= set(at_volume.subset):
        for metric in ("cross_entropy", "jacobian_norm", "hessian_norm"):
            claim = (
                f"{prefix}the volume-{widest_volume} {metric.replace('_', ' ')} peak is "
                "more marked on noisy than on clean points"
            )
            noisy_criterion = (
                "noisy curve has a peak near the threshold and a larger prominence "
                "(peak minus the higher of its two shoulders) than the clean curve"
            )
            if threshold is None:
                table.add(claim, "no interpolation threshold measured", noisy_criterion, False)
                continue
            by_subset = at_volume.groupby(["subset", "width"])[metric].mean()
            peaks = {
                subset: peak_near_threshold(by_subset[subset], threshold, factor, margin)
                for subset in ("clean", "noisy")
            }
            clean, noisy = (prominence(peaks[s]) for s in ("clean", "noisy"))
            table.add(
                claim,
                f"prominence noisy {noisy:.3g} (peak at w = {peaks['noisy']['peak_width']}), "
                f"clean {clean:.3g} (peak at w = {peaks['clean']['peak_width']})",
                noisy_criterion,
                bool(peaks["noisy"]["holds"] and noisy > clean),
            )
    return threshold


def _describe_peak(peak: Mapping[str, Any], threshold: int) -> str:
    return (
        f"peak {peak['peak']:.3g} at w = {peak['peak_width']} (threshold {threshold}); "
        f"lowest before {peak['rise_from']:.3g}, widest {peak['widest']:.3g}"
    )
