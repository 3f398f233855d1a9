"""Claims of notebook 04 (Somepalli et al., *Can Neural Nets Learn the Same Model Twice?
Investigating Reproducibility and Double Descent from the Decision Boundary Perspective*, CVPR
2022), judged on the measured tables, and the reported similarity matrix they are compared with.

Each claim is one function below whose docstring quotes the sentence of the paper it tests (with
where the words were found) and states the criterion derived from it. The text we work from is the
CVPR poster; where it lacks a result, the sentence is the published paper's and is marked "source:
the published paper, not the offline text" (``docs/papers.md`` §4 gives those sentences). Nothing
here knows an expected answer: thresholds, peaks and correlations are measured.

Every claim that rests on a difference is decided by a seeded, paired bootstrap
(:func:`ddlib.analysis.bootstrap_interval` or :func:`ddlib.analysis.bootstrap_peak_excess`; 90%
two-sided, 1,000 resamples, seed 0) over the units the quantity averages: the scoring planes (the
same planes for every model, so the compared quantities are paired) or, for test error, the test
images (the same test split at every width). The interval printed is the one that decided.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from ddlib.analysis import (
    bootstrap_interval,
    bootstrap_peak_excess,
    interval_text,
    is_monotone,
    peak_excess,
    peak_near_threshold,
)
from ddlib.metrics.similarity import matrix_of_pairs
from ddlib.studies.decision_regions.experiment import PATCH_BASED

# The poster's similarity matrix (Fig. 2 in this project), as read: rows and columns in the order
# below, the ninth column FullyCon. The FullyCon *row* cannot be read in the poster's text (its
# diagonal is unknown; the 0.46 once used for it is MLPMixer vs FullyCon); its column can.
POSTER_ORDER = ("WideRN30", "WideRN20", "WideRN10", "ResNet18", "DenseNet", "VGG", "ViT",
                "MLPMixer", "FullyCon")
POSTER_ROWS = {
    "WideRN30": (0.87, 0.85, 0.85, 0.82, 0.81, 0.78, 0.63, 0.61, 0.45),
    "WideRN20": (0.85, 0.86, 0.85, 0.82, 0.81, 0.78, 0.63, 0.60, 0.44),
    "WideRN10": (0.85, 0.85, 0.86, 0.81, 0.81, 0.78, 0.63, 0.60, 0.44),
    "ResNet18": (0.82, 0.82, 0.81, 0.83, 0.81, 0.78, 0.63, 0.61, 0.45),
    "DenseNet": (0.81, 0.81, 0.81, 0.81, 0.82, 0.77, 0.64, 0.61, 0.44),
    "VGG": (0.78, 0.78, 0.78, 0.78, 0.77, 0.79, 0.63, 0.60, 0.44),
    "ViT": (0.63, 0.63, 0.63, 0.63, 0.64, 0.63, 0.75, 0.64, 0.47),
    "MLPMixer": (0.61, 0.60, 0.60, 0.61, 0.61, 0.60, 0.64, 0.67, 0.46),
}
# Display labels of ``zoo_specs`` -> the poster's architecture. The laptop zoo's one "WideRN" (a
# small WideResNet) stands for WideRN10, its "MLP" for the poster's fully connected net; labels
# absent here (the project's ConvNet) have no reference value.
POSTER_NAMES = {"WideRN30": "WideRN30", "WideRN20": "WideRN20", "WideRN10": "WideRN10",
                "WideRN": "WideRN10", "ResNet18": "ResNet18", "DenseNet": "DenseNet", "VGG": "VGG",
                "ViT": "ViT", "MLPMixer": "MLPMixer", "MLP": "FullyCon"}
RHO_CRITERION = 0.5  # matrix_ranks_like_paper
AT_THRESHOLD = 1  # grid steps from the threshold that count as near it (width_curve_peaks)
WIDTH_UNITS = {"test_error": "test images", "fragmentation": "planes", "similarity": "planes"}


def poster_value(first: str, second: str) -> float:
    """The poster's similarity of two of its architectures (NaN where it cannot be read)."""
    for row, column in ((first, second), (second, first)):
        if row in POSTER_ROWS:
            return POSTER_ROWS[row][POSTER_ORDER.index(column)]
    return float("nan")  # FullyCon vs FullyCon: the row is not in the text


def paper_reference_matrix(labels: Sequence[str]) -> pd.DataFrame:
    """The poster's reported similarities on ``labels`` (NaN where it has no readable value)."""
    reference = pd.DataFrame(np.nan, index=list(labels), columns=list(labels))
    for a, b in itertools.combinations_with_replacement(labels, 2):
        if a in POSTER_NAMES and b in POSTER_NAMES:
            reference.loc[a, b] = reference.loc[b, a] = poster_value(POSTER_NAMES[a],
                                                                     POSTER_NAMES[b])
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


def pair_groups(pairs: pd.DataFrame, kinds: Mapping[str, str]) -> dict[str, np.ndarray]:
    """Row masks of a per-plane pair table (:func:`ddlib.metrics.similarity.similarity_pairs_per_plane`):
    ``same`` (two seeds of one architecture), ``cross`` (two architectures), ``conv_conv`` (two
    distinct convolutional architectures) and ``conv_patch`` (a convolutional one and ViT or
    MLPMixer)."""
    first = pairs.index.get_level_values("first")
    second = pairs.index.get_level_values("second")
    conv = np.array([kinds[a] == "conv" for a in first]), np.array([kinds[b] == "conv"
                                                                    for b in second])
    patch = (np.array([kinds[a] in PATCH_BASED for a in first]),
             np.array([kinds[b] in PATCH_BASED for b in second]))
    same = np.asarray(first == second)
    return {"same": same, "cross": ~same, "conv_conv": ~same & conv[0] & conv[1],
            "conv_patch": (conv[0] & patch[1]) | (patch[0] & conv[1])}


def contrast(values: np.ndarray, first: np.ndarray, second: np.ndarray) -> float:
    """Mean over the ``first`` rows minus mean over the ``second`` rows of the plane means of
    ``values`` [pairs, planes] (rows without a value, NaN, are skipped; NaN when a side is empty)."""
    means = values.mean(axis=-1)
    a, b = means[first], means[second]
    a, b = a[~np.isnan(a)], b[~np.isnan(b)]
    if len(a) == 0 or len(b) == 0:
        return float("nan")
    return float(a.mean() - b.mean())


def _plane_interval(values: np.ndarray, first: np.ndarray, second: np.ndarray,
                    what: str) -> tuple[float, float, str]:
    """The paired bootstrap over planes of :func:`contrast` and its text."""
    low, high = bootstrap_interval(values, lambda v: contrast(v, first, second))
    return low, high, f"{what}: " + interval_text(low, high, "planes", values.shape[-1],
                                                   paired="the two means (the same planes)")


def same_architecture_more_similar(claims: Any, pairs: pd.DataFrame, kinds: Mapping[str, str],
                                   dataset: str, seeds: int) -> bool:
    """Two seeds of one architecture agree more than two architectures do.

    Paper (source: the published paper, not the offline text; abstract): "We observe that changes
    in model architecture (and its associate inductive bias) cause visible changes in decision
    boundaries, while multiple runs with the same architecture yield results with strong
    similarities, especially in the case of wide architectures." The poster gives only the matrix
    (Fig. 2 here), whose every diagonal entry it prints exceeds the rest of its row.

    Criterion: the mean diagonal of the similarity matrix (same architecture, other seed) minus the
    mean off-diagonal entry (two architectures), with the lower end of its 90% two-sided seeded
    bootstrap interval over planes (paired: both means on the same resampled planes) above 0. The
    rows whose diagonal exceeds their own off-diagonal mean are reported, not judged.
    """
    groups = pair_groups(pairs, kinds)
    values = pairs.to_numpy(dtype=float)
    low, _, confidence = _plane_interval(values, groups["same"], groups["cross"],
                                         "mean diagonal - mean off-diagonal")
    matrix = matrix_of_pairs(pairs).to_numpy(dtype=float)
    off_diagonal = ~np.eye(len(matrix), dtype=bool)
    above = sum(matrix[i, i] > matrix[i, off_diagonal[i]].mean() for i in range(len(matrix)))
    same, cross = (float(np.nanmean(values[groups[k]].mean(axis=-1))) for k in ("same", "cross"))
    return claims.add(
        claim="models of the same architecture (other seed) have more similar decision regions than "
        "models of different architectures",
        measured=f"same {same:.3f}, cross {cross:.3f}; diagonal above its row's cross mean for "
        f"{above} of {len(matrix)}",
        criterion="mean diagonal - mean off-diagonal: lower end of the 90% bootstrap interval over "
        "planes > 0",
        holds=bool(low > 0),
        role="headline", dataset=dataset, seeds=seeds, confidence=confidence,
    )


def convolutional_models_closer(claims: Any, pairs: pd.DataFrame, kinds: Mapping[str, str],
                                dataset: str, seeds: int) -> bool:
    """Convolutional models are mutually similar; ViT and MLPMixer less so.

    Paper (source: the published paper, not the offline text; ``docs/papers.md`` §4): "Convolutional
    models are mutually similar; ViT and MLPMixer less so." The poster's matrix (Fig. 2 here) shows
    it: convolutional pairs 0.77-0.85, ViT vs CNNs 0.63-0.64, MLPMixer vs CNNs 0.60-0.61.

    Criterion: the mean similarity over pairs of distinct convolutional architectures minus the
    mean over (convolutional, ViT or MLPMixer) pairs, with the lower end of its 90% two-sided seeded
    bootstrap interval over planes (paired) above 0.
    """
    groups = pair_groups(pairs, kinds)
    values = pairs.to_numpy(dtype=float)
    low, _, confidence = _plane_interval(values, groups["conv_conv"], groups["conv_patch"],
                                         "conv-conv - conv-patch")
    conv_conv, conv_patch = (float(np.mean(values[groups[k]])) if groups[k].any() else np.nan
                             for k in ("conv_conv", "conv_patch"))
    return claims.add(
        claim="convolutional models are closer to each other than to ViT / MLPMixer",
        measured=f"conv-conv {conv_conv:.3f}, conv-patch {conv_patch:.3f}",
        criterion="mean conv-conv pair - mean conv-(ViT, MLPMixer) pair: lower end of the 90% "
        "bootstrap interval over planes > 0",
        holds=bool(low > 0),
        role="headline", dataset=dataset, seeds=seeds, confidence=confidence,
    )


def wide_architectures_most_reproducible(claims: Any, matrix: pd.DataFrame,
                                         widen: Mapping[str, int], dataset: str,
                                         seeds: int) -> bool:
    """Runs of the same architecture agree, "especially in the case of wide architectures".

    Paper (source: the published paper, not the offline text; abstract): "multiple runs with the
    same architecture yield results with strong similarities, especially in the case of wide
    architectures." The poster's diagonal (Fig. 2 here) reads WideRN10 0.86, WideRN20 0.86,
    WideRN30 0.87: reproducibility does not fall as the WideResNet widens, and ties.

    Criterion (``paper`` profile, the only one with several widen factors): the diagonal entries
    of the WideResNets, ordered by widen factor, are non-decreasing
    (:func:`ddlib.analysis.is_monotone`, slack 0: the poster's own tie 0.86 = 0.86 must pass, so a
    strict increase is not asked). A trend along a grid, not a difference: no interval.
    """
    order = sorted(widen, key=widen.__getitem__)
    diagonal = [float(matrix.loc[label, label]) for label in order]
    return claims.add(
        claim="same-architecture similarity does not fall as the WideResNet widens (especially "
        "wide architectures)",
        measured=", ".join(f"{label} (widen {widen[label]}) {value:.3f}"
                           for label, value in zip(order, diagonal)),
        criterion="WideResNet diagonal non-decreasing in the widen factor (slack 0)",
        holds=is_monotone(diagonal, increasing=True),
        role="headline", dataset=dataset, seeds=seeds,
    )


def width_curve_peaks(claims: Any, widths: pd.DataFrame, thresholds: Mapping[float, int | None],
                      column: str, largest: bool, what: str, peak_margin: float, dataset: str,
                      seeds: int, samples: pd.DataFrame) -> bool:
    """Test error, fragmentation and irreproducibility peak near the interpolation threshold.

    Paper (source: the published paper, not the offline text; abstract; the poster's "Double
    descent" section holds only definitions): "Near the threshold of interpolation, neural network
    decision boundaries become fragmented into many small decision regions, and these regions are
    non-reproducible. Meanwhile, very narrows and very wide networks have high levels of
    reproducibility in their decision boundaries with relatively few decision regions."
    (``docs/papers.md`` §4: "Fragmentation and irreproducibility (and test error) peak at the
    interpolation threshold and fall for wide models", Figs. 7-8 here.)

    Criterion (:func:`ddlib.analysis.peak_near_threshold` on the seed means of the noisiest
    label-noise rate, with its threshold): a local maximum (minimum for similarity, a dip) among
    the threshold and its two grid neighbours ("near" judged as one grid step, the finest the
    width grid resolves: a factor-2 window held 5 of the 8 laptop widths) stands above (below)
    both the best smaller width and the widest model by >= ``peak_margin`` of the peak; and the
    lower end of the 90% two-sided seeded bootstrap interval of that excess
    (:func:`ddlib.analysis.bootstrap_peak_excess`, 1,000 resamples, seed 0) is above 0. The
    bootstrap is over the units the curve averages, paired across widths: ``samples`` has rows
    (label noise, width) and one column per unit, the planes for fragmentation and similarity
    (:func:`experiment.width_plane_values`: the same planes at every width) and the test images
    for test error (:func:`experiment.width_test_outcomes`, seeds averaged per image: the same
    test split at every width).
    """
    noisy = max(thresholds)
    rows = widths[widths["label_noise"] == noisy]
    threshold = thresholds[noisy]
    curve = rows.set_index("width")[column]
    peak = peak_near_threshold(curve, threshold, None, peak_margin, largest=largest,
                               steps=AT_THRESHOLD)
    units = samples.xs(noisy, level="label_noise")
    low, high = bootstrap_peak_excess(units, threshold, None, peak_margin, largest=largest,
                                      steps=AT_THRESHOLD)
    unit_name = WIDTH_UNITS[column]
    return claims.add(
        claim=f"with {noisy:.0%} label noise, {what} near the interpolation threshold (double descent)",
        measured=f"{peak['peak']:.3f} at width {peak['peak_width']} (threshold {threshold}); "
        f"best smaller width {peak['rise_from']:.3f}, widest {peak['widest']:.3f}",
        criterion=f"a local {'max' if largest else 'min'} within {AT_THRESHOLD} grid step of the "
        f"threshold {'above' if largest else 'below'} both the best smaller width and the widest "
        f"model by >= {peak_margin:.0%}; and the lower end of the 90% bootstrap interval (over "
        f"{unit_name}, paired across widths) of the excess over that margin > 0",
        holds=bool(peak["holds"]) and low > 0,
        role="headline", dataset=dataset, seeds=seeds,
        confidence=f"excess over the margin {peak_excess(peak, peak_margin, largest=largest):.3g}"
        f"; " + interval_text(low, high, unit_name, units.shape[1], paired="widths")
        + f"; {seeds} seeds averaged per unit",
    )


def _pooled_gain(claims: Any, gains: pd.DataFrame, before: pd.Series, after: pd.Series,
                 names: tuple[str, str], over: str, **row: Any) -> bool:
    """A claim that ``after`` exceeds ``before`` on average over the rows of ``gains`` (one row
    per architecture, named ``over``, one column per plane: after - before on that plane), decided
    by the paired bootstrap over planes of the mean gain."""
    values = gains.to_numpy(dtype=float)
    low, high = bootstrap_interval(values, lambda v: float(v.mean()))
    return claims.add(
        measured=", ".join(f"{label}: {names[0]} {before[label]:.3f} -> {names[1]} "
                           f"{after[label]:.3f}" for label in gains.index)
        + f"; mean gain {values.mean():.3f}",
        holds=bool(low > 0),
        confidence=f"mean gain over {over}: " + interval_text(
            low, high, "planes", values.shape[1], paired=f"{names[0]} and {names[1]} (the same "
            "planes)"),
        **row,
    )


def sam_raises_similarity(claims: Any, optimizer_planes: pd.DataFrame, dataset: str,
                          seeds: int) -> bool:
    """SAM makes independently trained models agree more, on average over architectures.

    Paper: the poster's Table 1, "Region Similarity Scores" (Adam / SGD / SGD + SAM): ResNet-18
    79.81 / 83.74 / 87.22, VGG 81.19 / 80.92 / 84.21, MLPMixer 67.80 / 66.51 / 68.06, ViT 69.55 /
    75.13 / 75.19; the sentence is the published paper's (source: the published paper, not the
    offline text; ``docs/papers.md`` §4): "SAM makes independently trained models agree more."

    "Every architecture" or "on average"? The sentence is about the optimiser, not any one
    architecture, and the paper's own table cannot support "every": SAM gains 3.48, 3.29 and 1.55
    points on three architectures but 0.06 on ViT, a difference no interval over planes would
    separate from 0. So the claim is read pooled. Criterion: the seed-to-seed similarity with
    SGD + SAM minus that with SGD, averaged over the architectures, with the lower end of its 90%
    two-sided seeded bootstrap interval over planes (paired: both optimisers on the same planes)
    above 0. Per-architecture values are reported, not judged.
    """
    sgd = optimizer_planes.xs("SGD", level="optimizer")
    sam = optimizer_planes.xs("SGD+SAM", level="optimizer")
    return _pooled_gain(
        claims, sam - sgd, sgd.mean(axis=1), sam.mean(axis=1), ("SGD", "SAM"), "architectures",
        claim="SAM raises seed-to-seed similarity over plain SGD (on average over architectures)",
        criterion="mean over architectures of similarity SGD+SAM - SGD: lower end of the 90% "
        "bootstrap interval over planes > 0",
        role="secondary", dataset=dataset, seeds=seeds,
    )


def distillation_raises_similarity(claims: Any, distillation_planes: pd.DataFrame, dataset: str,
                                   seeds: int) -> bool:
    """Distillation raises the similarity between student and teacher, on average over students.

    Paper (source: the published paper, not the offline text; ``docs/papers.md`` §4):
    "Distillation raises the similarity between student and teacher." The poster's distillation
    panel ("Distillation" vs "Vanilla Training", Fig. 5 here) is garbled in its text: its values
    cannot be assigned to students, so whether every student gains cannot be read from it.

    Read pooled, like :func:`sam_raises_similarity` (a statement about distillation, not about any
    one student). Criterion: similarity to the teacher of distilled students minus that of students
    trained on the labels, averaged over the student architectures, with the lower end of its 90%
    two-sided seeded bootstrap interval over planes (paired: both students on the same planes)
    above 0. Per-student values are reported, not judged.
    """
    vanilla = distillation_planes.xs("vanilla", level="training")
    distilled = distillation_planes.xs("distilled", level="training")
    return _pooled_gain(
        claims, distilled - vanilla, vanilla.mean(axis=1), distilled.mean(axis=1),
        ("labels", "distilled"), "students",
        claim="distillation raises student-teacher similarity (on average over students)",
        criterion="mean over students of similarity to the teacher, distilled - trained on "
        "labels: lower end of the 90% bootstrap interval over planes > 0",
        role="secondary", dataset=dataset, seeds=seeds,
    )


def matrix_ranks_like_paper(claims: Any, rho: float, rho_entries: int, dataset: str,
                            seeds: int) -> bool:
    """The measured similarity matrix ranks its entries like the poster's reported matrix.

    No sentence of the paper: a comparison with the values it reports (the poster's matrix,
    :data:`POSTER_ROWS`, Fig. 2 here; the FullyCon diagonal cannot be read there and stays blank).
    Its role is "implementation check", the claims table's one role for a row that is no claim of
    the paper, so that it is counted apart from the reproduced claims: it flags a pipeline whose
    matrix bears no resemblance to the paper's, not a result of the paper.

    Criterion: Spearman rho between the upper triangles (where the poster has a value) >= 0.5. A
    threshold on a correlation, not a difference: no interval.
    """
    return claims.add(
        claim="the measured similarity matrix ranks entries like the paper's reported matrix",
        measured=f"Spearman rho {rho:.2f} over {rho_entries} entries",
        criterion=f"rho >= {RHO_CRITERION}",
        holds=bool(rho >= RHO_CRITERION),
        role="implementation check", dataset=dataset, seeds=seeds,
    )


def add_claims(
    claims: Any,
    matrix_planes: pd.DataFrame,
    kinds: Mapping[str, str],
    widen: Mapping[str, int],
    optimizer_planes: pd.DataFrame,
    distillation_planes: pd.DataFrame,
    widths: pd.DataFrame,
    thresholds: Mapping[float, int | None],
    rho: float,
    rho_entries: int,
    peak_margin: float,
    *,
    dataset: str,
    seeds: int,
    width_seeds: int,
    width_samples: Mapping[str, pd.DataFrame],
    width_dataset: str | None = None,
) -> None:
    """Check Somepalli et al.'s claims on the measured tables and add them to ``claims``.

    ``matrix_planes``, ``optimizer_planes`` and ``distillation_planes`` are the per-plane values of
    the architecture, optimiser and distillation studies (``result.matrix_planes``,
    ``result.optimizer_planes``, ``result.distillation_planes``); ``widen`` maps the WideResNets
    of the zoo to their widen factor (:func:`experiment.widen_factors`; the wide-architecture row
    is added only with two or more). ``dataset`` and ``seeds`` describe the architecture zoo
    (``P.data["name"]``, ``len(P.seeds)``); ``width_dataset`` (default ``dataset``) and
    ``width_seeds`` the width study (``len(P.width_seeds)``); ``width_samples`` holds, for each of
    test_error, fragmentation and similarity, its values per unit (test image or plane) for the
    bootstrap (``result.width_test_images`` and ``result.width_planes``).
    """
    width_dataset = dataset if width_dataset is None else width_dataset
    same_architecture_more_similar(claims, matrix_planes, kinds, dataset, seeds)
    convolutional_models_closer(claims, matrix_planes, kinds, dataset, seeds)
    if len(widen) >= 2:
        wide_architectures_most_reproducible(claims, matrix_of_pairs(matrix_planes), widen,
                                             dataset, seeds)
    for column, largest, what in (
        ("test_error", True, "test error peaks"),
        ("fragmentation", True, "fragmentation peaks"),
        ("similarity", False, "seed-to-seed similarity dips (irreproducibility peaks)"),
    ):
        width_curve_peaks(claims, widths, thresholds, column, largest, what, peak_margin,
                          width_dataset, width_seeds, width_samples[column])
    sam_raises_similarity(claims, optimizer_planes, dataset, seeds)
    distillation_raises_similarity(claims, distillation_planes, dataset, seeds)
    matrix_ranks_like_paper(claims, rho, rho_entries, dataset, seeds)
