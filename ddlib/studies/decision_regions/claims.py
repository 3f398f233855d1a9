"""Claims of notebook 04 (Somepalli et al. 2022), judged on the measured tables, and the paper's
reported similarity matrix they are compared with (``docs/papers.md`` §4).

Each claim is one function below whose docstring quotes the sentence of the paper it tests (with
where the words were found) and states the criterion derived from it. Nothing here knows an
expected answer: thresholds, peaks and correlations are measured.

Source of the quotes: the paper's arXiv HTML version (CVPR 2022), ``AR5IV`` =
https://ar5iv.org/html/2203.08124 (the same abstract at https://paperswithcode.com/paper/can-neural-nets-learn-the-same-model-twice).
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from ddlib.analysis import bootstrap_peak_excess, peak_excess, peak_near_threshold
from ddlib.core.claims import NO_BAND
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


AT_THRESHOLD = 1  # grid steps from the threshold that count as near it (width_curve_peaks)
BOOTSTRAP_SEED = 0  # seed of the bootstrap intervals of the matrix claims
BOOTSTRAP_DRAWS = 1000
BOOTSTRAP_LEVEL = 0.9


def _bootstrap_difference(first: Sequence[float], second: Sequence[float] | None = None) -> str:
    """A seeded bootstrap interval of mean(first) - mean(second) (or of mean(first) alone)."""
    a = np.asarray([v for v in first if not np.isnan(v)], dtype=float)
    b = None if second is None else np.asarray([v for v in second if not np.isnan(v)], dtype=float)
    if len(a) == 0 or (b is not None and len(b) == 0):
        return "n/a"
    rng = np.random.default_rng(BOOTSTRAP_SEED)
    draws = rng.choice(a, (BOOTSTRAP_DRAWS, len(a))).mean(axis=1)
    if b is not None:
        draws = draws - rng.choice(b, (BOOTSTRAP_DRAWS, len(b))).mean(axis=1)
    tail = (1 - BOOTSTRAP_LEVEL) / 2
    low, high = np.quantile(draws, [tail, 1 - tail])
    return (f"{BOOTSTRAP_LEVEL:.0%} seeded bootstrap (seed {BOOTSTRAP_SEED}, {BOOTSTRAP_DRAWS} "
            f"draws) [{low:.3f}, {high:.3f}]")


def _seed_means_only(seeds: int, what: str) -> str:
    """Confidence of a claim on a table that keeps only seed means (or one seed pair)."""
    return NO_BAND if seeds == 1 else f"{seeds} seeds; {what}, no band"


def same_architecture_more_similar(claims: Any, matrix: pd.DataFrame, kinds: Mapping[str, str],
                                   dataset: str, seeds: int) -> bool:
    """Two seeds of one architecture agree more than two architectures do.

    Paper (AR5IV, abstract): "We observe that changes in model architecture (and its associate
    inductive bias) cause visible changes in decision boundaries, while multiple runs with the
    same architecture yield results with strong similarities, especially in the case of wide
    architectures."

    Criterion: the mean diagonal of the similarity matrix (same architecture, other seed) exceeds
    the mean off-diagonal entry, and for at least 3/4 of the rows the diagonal exceeds that row's
    off-diagonal mean. Confidence: a seeded bootstrap over the architectures of diagonal minus
    row cross mean.
    """
    means = family_means(matrix, kinds)
    values = matrix.to_numpy(dtype=float)
    off_diagonal = ~np.eye(len(values), dtype=bool)
    row_cross = np.array([values[i, off_diagonal[i]].mean() for i in range(len(values))])
    above = [label for label, same, cross in zip(matrix.index, np.diag(values), row_cross)
             if same > cross]
    below = sorted(set(matrix.index) - set(above))
    exceptions = f" (not {', '.join(below)})" if below else ""
    return claims.add(
        claim="models of the same architecture (other seed) have more similar decision regions than "
        "models of different architectures",
        measured=f"same {means['same_architecture']:.3f}, cross {means['cross_architecture']:.3f}; "
        f"diagonal above its row's cross mean for {len(above)} of {len(values)}{exceptions}",
        criterion="mean diagonal > mean off-diagonal, and so for at least 3/4 of the rows",
        holds=bool(means["same_architecture"] > means["cross_architecture"]
                   and len(above) >= 0.75 * len(values)),
        role="headline", dataset=dataset, seeds=seeds,
        confidence=f"diagonal - row cross mean over {len(values)} architectures: "
        + _bootstrap_difference(np.diag(values) - row_cross),
    )


def convolutional_models_closer(claims: Any, matrix: pd.DataFrame, kinds: Mapping[str, str],
                                dataset: str, seeds: int) -> bool:
    """Convolutional models are mutually similar; ViT and MLPMixer less so.

    Paper text for this sentence not found offline; criterion from ``docs/papers.md`` §4,
    "Reported numbers and claims": "Convolutional models are mutually similar; ViT and MLPMixer
    less so."

    Criterion: the mean similarity over pairs of distinct convolutional models exceeds the mean
    over (convolutional, ViT or MLPMixer) pairs. Confidence: a seeded bootstrap over the pairs of
    the difference of the two means.
    """
    means = family_means(matrix, kinds)
    labels, values = list(matrix.index), matrix.to_numpy(dtype=float)
    conv = [i for i, label in enumerate(labels) if kinds[label] == "conv"]
    patch = [i for i, label in enumerate(labels) if kinds[label] in PATCH_BASED]
    conv_pairs = [values[i, j] for i, j in itertools.combinations(conv, 2)]
    patch_pairs = [values[i, j] for i in conv for j in patch]
    return claims.add(
        claim="convolutional models are closer to each other than to ViT / MLPMixer",
        measured=f"conv-conv {means['conv_conv']:.3f}, conv-patch {means['conv_patch']:.3f}",
        criterion="mean conv-conv pair > mean conv-(ViT, MLPMixer) pair",
        holds=means["conv_conv"] > means["conv_patch"],
        role="headline", dataset=dataset, seeds=seeds,
        confidence="conv-conv - conv-patch over pairs: "
        + _bootstrap_difference(conv_pairs, patch_pairs),
    )


def width_curve_peaks(claims: Any, widths: pd.DataFrame, thresholds: Mapping[float, int | None],
                      column: str, largest: bool, what: str, peak_margin: float, dataset: str,
                      seeds: int, plane_values: pd.DataFrame | None = None) -> bool:
    """Test error, fragmentation and irreproducibility peak near the interpolation threshold.

    Paper (the published version's abstract; the offline poster's "Double descent" section holds
    only definitions; source: the published paper, not the offline text): "Near the threshold of
    interpolation, neural network decision boundaries become fragmented into many small decision
    regions, and these regions are non-reproducible. Meanwhile, very narrows and very wide
    networks have high levels of reproducibility in their decision boundaries with relatively few
    decision regions."

    Criterion (:func:`ddlib.analysis.peak_near_threshold` on the seed means of the noisiest
    label-noise rate, with its threshold): a local maximum (minimum for similarity, a dip) among
    the threshold and its two grid neighbours ("near" judged as one grid step, the finest the
    width grid resolves: a factor-2 window held 5 of the 8 laptop widths) stands above (below)
    both the best smaller width and the widest model by >= ``peak_margin`` of the peak. For
    fragmentation and similarity, which average over planes, ``plane_values`` (rows (label noise,
    width), one column per plane: :func:`experiment.width_plane_values`) gives a seeded bootstrap
    over planes, paired across widths (the same planes at every width;
    :func:`ddlib.analysis.bootstrap_peak_excess`, 1,000 resamples, seed 0, 90% two-sided), and the
    claim holds only if the lower end of the interval of the excess over the margin is above 0.
    Test error is one number per model: its confidence is the spread over seeds
    (``test_error_std`` of the width table), which does not decide (an interval over test images
    needs per-image test outcomes, which are not logged).
    """
    noisy = max(thresholds)
    rows = widths[widths["label_noise"] == noisy]
    threshold = thresholds[noisy]
    curve = rows.set_index("width")[column]
    peak = peak_near_threshold(curve, threshold, None, peak_margin, largest=largest,
                               steps=AT_THRESHOLD)
    criterion = (f"a local {'max' if largest else 'min'} within {AT_THRESHOLD} grid step of the "
                 f"threshold {'above' if largest else 'below'} both the best smaller width and "
                 f"the widest model by >= {peak_margin:.0%}")
    holds = bool(peak["holds"])
    if plane_values is not None:
        samples = plane_values.xs(noisy, level="label_noise")
        low, high = bootstrap_peak_excess(samples, threshold, None, peak_margin,
                                          largest=largest, steps=AT_THRESHOLD)
        holds = holds and low > 0
        criterion += ("; and the 90% two-sided bootstrap interval (over planes, paired across "
                      "widths) of the excess above 0")
        confidence = (f"excess over the margin {peak_excess(peak, peak_margin, largest=largest):.3g}"
                      f", 90% bootstrap interval over {samples.shape[1]} planes [{low:.3g}, "
                      f"{high:.3g}] (1000 resamples, seed 0; {seeds} seeds)")
    elif f"{column}_std" in rows and seeds > 1 and peak["peak_width"] is not None:
        spread = rows.set_index("width")[f"{column}_std"]
        confidence = (f"std over {seeds} seeds: {spread.loc[peak['peak_width']]:.3g} at the peak,"
                      f" {spread.iloc[-1]:.3g} at the widest model")
    else:
        confidence = _seed_means_only(seeds, "the width table holds seed means")
    return claims.add(
        claim=f"with {noisy:.0%} label noise, {what} near the interpolation threshold (double descent)",
        measured=f"{peak['peak']:.3f} at width {peak['peak_width']} (threshold {threshold}); "
        f"best smaller width {peak['rise_from']:.3f}, widest {peak['widest']:.3f}",
        criterion=criterion,
        holds=holds,
        role="headline", dataset=dataset, seeds=seeds,
        confidence=confidence,
    )


def sam_raises_similarity(claims: Any, optimizers: pd.DataFrame, dataset: str, seeds: int) -> bool:
    """SAM makes independently trained models agree more.

    Paper text not available offline (the paper's optimiser table, Table 1); criterion from
    ``docs/papers.md`` §4, "Reported numbers and claims": "SAM makes independently trained models
    agree more."

    Criterion: the seed-to-seed similarity with SGD+SAM exceeds that with plain SGD for every
    architecture. The table keeps one similarity per seed set, so no seed band.
    """
    by_optimizer = optimizers.pivot_table(index="architecture", columns="optimizer",
                                          values="similarity")
    sam_gain = by_optimizer["SGD+SAM"] - by_optimizer["SGD"]
    return claims.add(
        claim="SAM raises seed-to-seed similarity over plain SGD",
        measured=", ".join(f"{a}: SGD {by_optimizer.loc[a, 'SGD']:.3f} -> SAM "
                           f"{by_optimizer.loc[a, 'SGD+SAM']:.3f}" for a in by_optimizer.index),
        criterion="similarity SGD+SAM > SGD for every architecture",
        holds=bool((sam_gain > 0).all()),
        role="secondary", dataset=dataset, seeds=seeds,
        confidence=_seed_means_only(seeds, "the optimiser table holds the mean over seed pairs"),
    )


def distillation_raises_similarity(claims: Any, distillation: pd.DataFrame, dataset: str,
                                   seeds: int) -> bool:
    """Distillation raises the similarity between student and teacher.

    Paper text not available offline (the paper's distillation figure); criterion from
    ``docs/papers.md`` §4, "Reported numbers and claims": "Distillation raises the similarity
    between student and teacher."

    Criterion: for every student architecture, the similarity to the teacher of the distilled
    students exceeds that of students trained on the labels. The table keeps seed means, so no
    seed band.
    """
    by_training = distillation.pivot_table(index="student", columns="training",
                                           values="similarity_to_teacher")
    return claims.add(
        claim="distillation raises student-teacher similarity",
        measured=", ".join(f"{a}: labels {by_training.loc[a, 'vanilla']:.3f} -> distilled "
                           f"{by_training.loc[a, 'distilled']:.3f}" for a in by_training.index),
        criterion="similarity to the teacher: distilled > trained on labels, for every student",
        holds=bool((by_training["distilled"] > by_training["vanilla"]).all()),
        role="secondary", dataset=dataset, seeds=seeds,
        confidence=_seed_means_only(seeds, "the distillation table holds seed means"),
    )


def matrix_ranks_like_paper(claims: Any, rho: float, rho_entries: int, dataset: str,
                            seeds: int) -> bool:
    """The measured similarity matrix ranks its entries like the paper's reported matrix.

    No sentence of the paper: a comparison with the values it reports (poster version of Fig. 2,
    ``docs/papers.md`` §4, "Reported numbers and claims": diagonal "WideRN30 0.87 [...] FullyCon
    0.46"; off-diagonal "convolutional pairs 0.77-0.85, ViT vs CNNs ~0.63, MLPMixer vs CNNs ~0.60,
    FullyCon vs others 0.44-0.47").

    Criterion: Spearman rho between the upper triangles (where the paper has a value) >= 0.5. A
    threshold on a correlation, not a difference: no band.
    """
    return claims.add(
        claim="the measured similarity matrix ranks entries like the paper's reported matrix",
        measured=f"Spearman rho {rho:.2f} over {rho_entries} entries",
        criterion="rho >= 0.5",
        holds=bool(rho >= 0.5),
        role="secondary", dataset=dataset, seeds=seeds,
    )


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
    peak_margin: float,
    *,
    dataset: str,
    seeds: int,
    width_seeds: int,
    width_planes: Mapping[str, pd.DataFrame],
    width_dataset: str | None = None,
) -> None:
    """Check Somepalli et al.'s claims on the measured tables and add them to ``claims``.

    ``dataset`` and ``seeds`` describe the architecture zoo (matrix, optimiser and distillation
    tables: ``P.data["name"]``, ``len(P.seeds)``); ``width_dataset`` (default ``dataset``) and
    ``width_seeds`` the width study (``len(P.width_seeds)``); ``width_planes`` its per-plane values
    (:func:`experiment.width_plane_values`) for the bootstrap over planes.

    The width-study peaks use the companion's one peak rule,
    :func:`ddlib.analysis.peak_near_threshold` within one grid step of the threshold
    (``peak_margin``: how far, relative to the peak, it must stand above both shoulders), applied
    to the seed means of the noisiest label-noise rate.
    """
    width_dataset = dataset if width_dataset is None else width_dataset
    same_architecture_more_similar(claims, matrix, kinds, dataset, seeds)
    convolutional_models_closer(claims, matrix, kinds, dataset, seeds)
    for column, largest, what in (
        ("test_error", True, "test error peaks"),
        ("fragmentation", True, "fragmentation peaks"),
        ("similarity", False, "seed-to-seed similarity dips (irreproducibility peaks)"),
    ):
        width_curve_peaks(claims, widths, thresholds, column, largest, what, peak_margin,
                          width_dataset, width_seeds, width_planes.get(column))
    sam_raises_similarity(claims, optimizers, dataset, seeds)
    distillation_raises_similarity(claims, distillation, dataset, seeds)
    matrix_ranks_like_paper(claims, rho, rho_entries, dataset, seeds)
