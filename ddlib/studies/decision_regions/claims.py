"""Claims of notebook 04 (Somepalli et al. 2022), judged on the measured tables, and the paper's
reported similarity matrix they are compared with (``docs/papers.md`` §4).

Nothing here knows an expected answer: thresholds, peaks and correlations are measured.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from ddlib.analysis import peak_near_threshold
from ddlib.studies.decision_regions.experiment import PATCH_BASED

# Somepalli et al., poster version of Fig. 2 (docs/papers.md §4): the diagonal (same architecture,
# different seeds) is reported per model; off-diagonal values only by family, so each family pair
# gets the midpoint of the reported range. Keys are the display labels of ``zoo_specs``.
PAPER_DIAGONAL = {
    "WideRN30": 0.87,
    "WideRN20": 0.86,
    "WideRN10": 0.86,
    "WideRN": 0.86,
    "ResNet18": 0.83,
    "DenseNet": 0.82,
    "VGG": 0.79,
    "ViT": 0.75,
    "MLPMixer": 0.67,
    "MLP": 0.46,
}
PAPER_FAMILY_OFF_DIAGONAL = {
    ("conv", "conv"): 0.81,
    ("conv", "vit"): 0.63,
    ("conv", "mlp_mixer"): 0.60,
    ("conv", "mlp"): 0.455,
    ("vit", "mlp"): 0.455,
    ("mlp_mixer", "mlp"): 0.455,
}



def family_means(matrix: pd.DataFrame, kinds: Mapping[str, str]) -> dict[str, float]:
    """Mean similarity on the diagonal, off the diagonal, among convolutional models (off-diagonal
    pairs) and between convolutional and patch-based (ViT, MLPMixer) models."""
    labels = list(matrix.index)
    values = matrix.to_numpy()
    pairs = list(itertools.combinations(range(len(labels)), 2))

    def mean_over(selected: list[tuple[int, int]]) -> float:
        return float(np.nanmean([values[i, j] for i, j in selected])) if selected else float("nan")

    conv = [i for i, label in enumerate(labels) if kinds[label] == "conv"]
    patch = [i for i, label in enumerate(labels) if kinds[label] in PATCH_BASED]
    return {
        "same_architecture": float(np.nanmean(np.diag(values))),
        "cross_architecture": mean_over(pairs),
        "conv_conv": mean_over([(i, j) for i, j in pairs if i in conv and j in conv]),
        "conv_patch": mean_over([(i, j) for i in conv for j in patch]),
    }


def paper_reference_matrix(labels: Sequence[str], kinds: Mapping[str, str]) -> pd.DataFrame:
    """Somepalli et al.'s reported similarities on ``labels`` (NaN where the paper has no value)."""
    reference = pd.DataFrame(np.nan, index=list(labels), columns=list(labels))
    for a, b in itertools.combinations_with_replacement(labels, 2):
        if a == b:
            value = PAPER_DIAGONAL.get(a, np.nan)
        else:
            key = tuple(
                sorted(
                    (kinds[a], kinds[b]), key=lambda k: ("conv", "vit", "mlp_mixer", "mlp").index(k)
                )
            )
            value = PAPER_FAMILY_OFF_DIAGONAL.get(key, np.nan)
            if a not in PAPER_DIAGONAL or b not in PAPER_DIAGONAL:
                value = np.nan  # an architecture the paper did not train
        reference.loc[a, b] = reference.loc[b, a] = value
    return reference


def rank_correlation(measured: pd.DataFrame, reference: pd.DataFrame) -> tuple[float, int]:
    """Spearman correlation between the upper triangles (diagonal included) where both are known."""
    upper = np.triu_indices(len(measured))
    a, b = (
        measured.to_numpy()[upper],
        reference.loc[measured.index, measured.columns].to_numpy()[upper],
    )
    known = ~(np.isnan(a) | np.isnan(b))
    if known.sum() < 3:
        return float("nan"), int(known.sum())
    return float(stats.spearmanr(a[known], b[known]).statistic), int(known.sum())


def add_claims(
    claims: Any,
    matrix: pd.DataFrame,
    kinds: Mapping[str, str],
    optimizers: pd.DataFrame,
    distillation: pd.DataFrame,
    widths: pd.DataFrame,
    thresholds: Mapping[float, int | None],
    rho: float,
    rho_entries: int,
    peak_factor: float,
    peak_margin: float,
) -> None:
    """Check Somepalli et al.'s claims on the measured tables and add them to ``claims``.

    The width-study peaks use the companion's one peak rule,
    :func:`ddlib.analysis.peak_near_threshold` (``peak_factor``: the width ratio that counts as
    near the threshold; ``peak_margin``: how far, relative to the peak, it must stand above both
    shoulders), applied to the seed means of the noisiest label-noise rate.
    """
    means = family_means(matrix, kinds)
    values = matrix.to_numpy(dtype=float)
    off_diagonal = ~np.eye(len(values), dtype=bool)
    row_cross = np.array([values[i, off_diagonal[i]].mean() for i in range(len(values))])
    above = [label for label, same, cross in zip(matrix.index, np.diag(values), row_cross)
             if same > cross]
    below = sorted(set(matrix.index) - set(above))
    exceptions = f" (not {', '.join(below)})" if below else ""
    claims.add(
        claim="models of the same architecture (other seed) have more similar decision regions than "
        "models of different architectures",
        measured=f"same {means['same_architecture']:.3f}, cross {means['cross_architecture']:.3f}; "
        f"diagonal above its row's cross mean for {len(above)} of {len(values)}{exceptions}",
        criterion="mean diagonal > mean off-diagonal, and so for at least 3/4 of the rows",
        holds=bool(means["same_architecture"] > means["cross_architecture"]
                   and len(above) >= 0.75 * len(values)),
    )
    claims.add(
        claim="convolutional models are closer to each other than to ViT / MLPMixer",
        measured=f"conv-conv {means['conv_conv']:.3f}, conv-patch {means['conv_patch']:.3f}",
        criterion="mean conv-conv pair > mean conv-(ViT, MLPMixer) pair",
        holds=means["conv_conv"] > means["conv_patch"],
    )
    noisy = max(thresholds)
    rows = widths[widths["label_noise"] == noisy]
    threshold = thresholds[noisy]
    for column, largest, what in (
        ("test_error", True, "test error peaks"),
        ("fragmentation", True, "fragmentation peaks"),
        ("similarity", False, "seed-to-seed similarity dips (irreproducibility peaks)"),
    ):
        curve = rows.set_index("width")[column]
        peak = peak_near_threshold(curve, threshold, peak_factor, peak_margin, largest=largest)
        claims.add(
            claim=f"with {noisy:.0%} label noise, {what} near the interpolation threshold (double descent)",
            measured=f"{peak['peak']:.3f} at width {peak['peak_width']} (threshold {threshold}); "
            f"best smaller width {peak['rise_from']:.3f}, widest {peak['widest']:.3f}",
            criterion=f"{'max' if largest else 'min'} over widths in [threshold/{peak_factor:g}, "
            f"threshold*{peak_factor:g}] {'above' if largest else 'below'} both the best smaller "
            f"width and the widest model by >= {peak_margin:.0%}",
            holds=peak["holds"],
        )
    by_optimizer = optimizers.pivot_table(index="architecture", columns="optimizer",
                                          values="similarity")
    sam_gain = by_optimizer["SGD+SAM"] - by_optimizer["SGD"]
    claims.add(
        claim="SAM raises seed-to-seed similarity over plain SGD",
        measured=", ".join(f"{a}: SGD {by_optimizer.loc[a, 'SGD']:.3f} -> SAM "
                           f"{by_optimizer.loc[a, 'SGD+SAM']:.3f}" for a in by_optimizer.index),
        criterion="similarity SGD+SAM > SGD for every architecture",
        holds=bool((sam_gain > 0).all()),
    )
    by_training = distillation.pivot_table(index="student", columns="training",
                                           values="similarity_to_teacher")
    claims.add(
        claim="distillation raises student-teacher similarity",
        measured=", ".join(f"{a}: labels {by_training.loc[a, 'vanilla']:.3f} -> distilled "
                           f"{by_training.loc[a, 'distilled']:.3f}" for a in by_training.index),
        criterion="similarity to the teacher: distilled > trained on labels, for every student",
        holds=bool((by_training["distilled"] > by_training["vanilla"]).all()),
    )
    claims.add(
        claim="the measured similarity matrix ranks entries like the paper's reported matrix",
        measured=f"Spearman rho {rho:.2f} over {rho_entries} entries",
        criterion="rho >= 0.5",
        holds=bool(rho >= 0.5),
    )
