"""Claims of notebook 01 (Schaeffer et al. 2023, ``docs/papers.md`` §1), judged on the sweep summary.

Each claim is one function below whose docstring quotes the sentence of the paper it tests (with
where the words were found) and states the criterion derived from it. Nothing here knows an
expected answer: peaks, dips and heights are read off the medians measured.

Sources of the quotes (the paper's text as published online):

- ``BLOG``: the paper's ICLR 2024 blog-post version, https://iclr-blogposts.github.io/2024/blog/double-descent-demystified
- ``WORKSHOP``: the authors' page of the NeurIPS 2023 workshop version,
  http://rylanschaeffer.github.io/content/research/2023_neurips_workshop_double_descent/main.html
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from ddlib.core.claims import ClaimsTable
from ddlib.core.data import RegressionData
from ddlib.metrics import linear

PEAK_BEFORE = 2.0  # peak height (c(D) / sqrt(c(D/2) c(2D))) that counts as a peak
PEAK_AFTER = 1.5  # peak height below which the cut-off removed the peak
NO_RESIDUAL_SCALE = 1e-12  # "~0": below this fraction of the mean squared target
POLYNOMIAL_N = 15  # training points of the polynomial intuition
POLYNOMIAL_DATASET = "polynomial (synthetic: y = 2x + cos 25x, N = 15)"


def _quartiles(summary: pd.DataFrame, name: str, quantity: str, n: int, setting: float = 0.0) -> str:
    """The seeded band of one quantity at one N: its quartiles over the repeats (split seeds)."""
    rows = summary[(summary.dataset == name) & (summary.quantity == quantity) & (summary.N == n)
                   & np.isclose(summary.setting, setting)]
    if rows.empty:
        return "n/a"
    return f"[{rows['low'].iloc[0]:.3g}, {rows['high'].iloc[0]:.3g}]"


def _repeats_band(seeds: int, parts: list[str], what: str = "split seeds") -> str:
    return f"quartiles over {seeds} {what}: " + "; ".join(parts)


def error_peaks_at_threshold(claims: ClaimsTable, name: str, data: RegressionData,
                             summary: pd.DataFrame, seeds: int) -> bool:
    """Test MSE peaks at the interpolation threshold N = D.

    Paper (BLOG, caption of Fig. 1): "Three real datasets (California Housing, Diabetes, and WHO
    Life Expectancy) and one synthetic dataset (Student-Teacher) all exhibit double descent, with
    test loss spiking at the interpolation threshold."

    Criterion: the argmax over N of the median (over repeats) test MSE equals D. Confidence: the
    quartiles over repeats at N = D and at the two points the peak height compares with.
    """
    D = data.X.shape[1]
    test = linear.median_curve(summary, name, "test_mse")
    low, high = max(D // 2, int(test.index.min())), min(2 * D, int(test.index.max()))
    confidence = _repeats_band(seeds, [f"N = {n}: {_quartiles(summary, name, 'test_mse', n)}"
                                       for n in (low, D, high)])
    return claims.add(f"{name}: the median test MSE peaks at N = D",
                      f"peak at N = {test.idxmax()} (D = {D})",
                      "argmax over N of the median test MSE equals D", test.idxmax() == D,
                      role="headline", dataset=name, seeds=seeds, confidence=confidence)


def cutoff_removes_peak(claims: ClaimsTable, name: str, data: RegressionData,
                        summary: pd.DataFrame, cutoff: float, seeds: int) -> bool:
    """Ablation 1: zeroing the small singular values of the training features removes the peak.

    Paper (BLOG, Introduction): "Through practical experiments on real data sets, we confirm that
    both model’s test losses diverge at the interpolation threshold, and this divergence vanishes
    when even one of the three factors is removed." The factor removed here is the first one
    (WORKSHOP): "the inverse (non-zero) singular values of the training features X".

    Criterion: the peak height c(D) / sqrt(c(D/2) c(2D)) of the median test MSE is > 2 before and
    < 1.5 after singular values below ``cutoff`` are set to zero. Confidence: the quartiles over
    repeats of the test MSE at N = D without and with the cut-off.
    """
    D = data.X.shape[1]
    test = linear.median_curve(summary, name, "test_mse")
    before = linear.peak_height(test, D)
    after = linear.peak_height(linear.median_curve(summary, name, "test_mse_cutoff", cutoff), D)
    confidence = _repeats_band(seeds, [
        f"N = D before {_quartiles(summary, name, 'test_mse', D)}",
        f"after {_quartiles(summary, name, 'test_mse_cutoff', D, cutoff)}"])
    return claims.add(f"{name}: removing singular values < {cutoff:g} removes the peak",
                      f"peak height {before:.3g} -> {after:.3g}",
                      f"height > {PEAK_BEFORE:g} before and < {PEAK_AFTER:g} after",
                      before > PEAK_BEFORE and after < PEAK_AFTER,
                      role="headline", dataset=name, seeds=seeds, confidence=confidence)


def subspace_removes_peak(claims: ClaimsTable, name: str, data: RegressionData,
                          summary: pd.DataFrame, seeds: int) -> bool:
    """Ablation 2: test features without variance along the training features' smallest singular
    directions remove the peak.

    Paper (source: the published paper, not the offline text, which stops before the ablations;
    ``docs/papers.md`` §1): "The peak needs three ingredients together: small non-zero singular
    values of the training features, test features with variance along those directions, and
    residuals of beta* along them; removing any one (ablations 1-3) removes the peak."

    Criterion: the peak height c(D) / sqrt(c(D/2) c(2D)) of the median test MSE is > 2 without
    the ablation, and < 1.5 for every rank k < D whose test features are projected onto the top-k
    right singular vectors of the training features (k >= D keeps every direction: no ablation).
    Confidence: the quartiles over repeats at N = D without and with the largest such k.
    """
    D = data.X.shape[1]
    before = linear.peak_height(linear.median_curve(summary, name, "test_mse"), D)
    ranks = sorted(int(k) for k in summary[(summary["dataset"] == name)
                                           & (summary["quantity"] == "test_mse_subspace")
                                           ]["setting"].unique() if k < D)
    heights = {k: linear.peak_height(linear.median_curve(summary, name, "test_mse_subspace", k), D)
               for k in ranks}
    worst = max(heights, key=heights.get) if heights else None
    confidence = _repeats_band(seeds, [f"N = D before {_quartiles(summary, name, 'test_mse', D)}"]
                               + ([f"k = {max(ranks)} {_quartiles(summary, name, 'test_mse_subspace', D, max(ranks))}"]
                                  if ranks else []))
    measured = (f"peak height {before:.3g} -> at most {heights[worst]:.3g} (k = {worst}) over k in "
                f"{ranks}" if ranks else f"peak height {before:.3g}; no rank k < D = {D} swept")
    return claims.add(f"{name}: projecting the test features onto the top-k training directions "
                      "(k < D) removes the peak", measured,
                      f"height > {PEAK_BEFORE:g} before and < {PEAK_AFTER:g} for every k < D",
                      bool(ranks) and before > PEAK_BEFORE and heights[worst] < PEAK_AFTER,
                      role="headline", dataset=name, seeds=seeds, confidence=confidence)


def no_residuals_no_error(claims: ClaimsTable, name: str, data: RegressionData,
                          summary: pd.DataFrame, seeds: int) -> bool:
    """Ablation 3: without residuals of the ideal model the fit is exact for N >= D.

    A sanity check of the ablation more than a finding: least squares on exact targets X beta*
    recovers beta* whenever X has full column rank, so only a numerical bug makes it fail.

    Paper (BLOG, Introduction): "this divergence vanishes when even one of the three factors is
    removed"; the third factor (WORKSHOP): "how the residuals E of the best possible model in the
    model class project onto X’s left singular vectors U".

    Criterion: with targets replaced by X beta*, the largest test MSE over all repeats and all
    N >= D is < 1e-12 x mean(y^2). An upper bound over every repeat, not a difference: no band.
    """
    D = data.X.shape[1]
    rows = summary[(summary.dataset == name) & (summary.quantity == "test_mse_no_residual")
                   & (summary.N >= D)]
    worst = rows["max"].max()
    scale = float(np.mean(data.y ** 2))
    return claims.add(f"{name}: without residuals the test MSE is ~0 for N >= D",
                      f"largest over repeats {worst:.2g} (mean y^2 = {scale:.3g})",
                      f"< {NO_RESIDUAL_SCALE:g} x mean y^2", worst < NO_RESIDUAL_SCALE * scale,
                      role="implementation check", dataset=name, seeds=seeds)


def smallest_singular_value_dips(claims: ClaimsTable, name: str, data: RegressionData,
                                 summary: pd.DataFrame, seeds: int) -> bool:
    """The smallest non-zero singular value of the training features is smallest at N = D.

    Paper (WORKSHOP; the source's excerpt breaks off mid-sentence): "Why does this happen near the
    interpolation threshold? We provide geometric intuition for why the smallest non-zero singular
    value probabilistically reaches its smalles[t ...]" (the rest of the sentence was not available
    offline). The claim's wording is that of ``docs/papers.md`` §1, "Reported numbers and claims":
    "The smallest non-zero singular value of the training features is smallest at N = D."

    Criterion: the argmin over N of the median (over repeats) smallest non-zero singular value
    equals D. Confidence: its quartiles over repeats at N = D - 1, D and D + 1.
    """
    D = data.X.shape[1]
    sigma = linear.median_curve(summary, name, "sigma_min")
    near = [n for n in (D - 1, D, D + 1) if n in sigma.index]
    confidence = _repeats_band(seeds, [f"N = {n}: {_quartiles(summary, name, 'sigma_min', n)}"
                                       for n in near])
    return claims.add(f"{name}: the smallest non-zero singular value dips at N = D",
                      f"minimum at N = {sigma.idxmin()}", "argmin over N of the median equals D",
                      sigma.idxmin() == D, role="secondary", dataset=name, seeds=seeds, confidence=confidence)


def add_dataset_claims(claims: ClaimsTable, name: str, data: RegressionData,
                       summary: pd.DataFrame, cutoff: float, *, seeds: int) -> None:
    """The five per-dataset claims (Schaeffer et al. Fig. 2, ablations 1, 2 and 3, the singular-
    value panel) on dataset ``name``, whose summary pools ``seeds`` seeded train/test splits."""
    error_peaks_at_threshold(claims, name, data, summary, seeds)
    cutoff_removes_peak(claims, name, data, summary, cutoff, seeds)
    no_residuals_no_error(claims, name, data, summary, seeds)
    smallest_singular_value_dips(claims, name, data, summary, seeds)
    subspace_removes_peak(claims, name, data, summary, seeds)


def add_polynomial_claim(claims: ClaimsTable, polynomial: pd.DataFrame, *,
                         seeds: int | None = None) -> bool:
    """Min-norm Legendre regression on N = 15 points peaks at P = N and is good for wide models.

    Paper text not available offline for this figure's claim (the abstract, e.g. at
    https://exeter-ecml.github.io/papers/0177-double-descent-demystified, only says "We provide
    visual intuition using polynomial regression"); criterion from ``docs/papers.md`` §1,
    "Reported numbers and claims": "Polynomial figure: the mean test MSE peaks at p = 14-15
    (roughly 1e9-1e10) and drops below 1 for p beyond 25." (The same figure is Gamba et al.'s
    Fig. 1a.)

    Criterion: the argmax over degrees of the median (over repeats) test MSE is 14, 15 or 16 and
    the widest model's median is < 1. ``seeds`` (default: the repeats in the table) counts the
    seeded draws of the training points. Confidence: quartiles over repeats at the peak and at the
    widest model.
    """
    grouped = polynomial.groupby("degree")["test_mse"]
    test = grouped.median()
    seeds = int(polynomial["repeat"].nunique()) if seeds is None else seeds
    near = (POLYNOMIAL_N - 1, POLYNOMIAL_N, POLYNOMIAL_N + 1)
    low, high = grouped.quantile(0.25), grouped.quantile(0.75)
    confidence = _repeats_band(seeds, [f"P = {p}: [{low[p]:.3g}, {high[p]:.3g}]"
                                       for p in dict.fromkeys((test.idxmax(), test.index.max()))],
                               "seeded draws of the training points")
    return claims.add(
        f"polynomial: test MSE peaks at P = N = {POLYNOMIAL_N} and falls below 1 for wide models",
        f"peak at P = {test.idxmax()}, median at P = {test.index.max()}: {test.iloc[-1]:.3g}",
        f"argmax in {{{', '.join(map(str, near))}}} and the widest model's median < 1",
        test.idxmax() in near and test.iloc[-1] < 1,
        role="secondary", dataset=POLYNOMIAL_DATASET, seeds=seeds, confidence=confidence)


def add_claims(claims: ClaimsTable, sets: Mapping[str, RegressionData], summary: pd.DataFrame,
               polynomial: pd.DataFrame, cutoffs: Mapping[str, float], *, seeds: int,
               polynomial_seeds: int | None = None) -> None:
    """Every claim of notebook 01, in the notebook's order.

    Each dataset's rows name that dataset (the keys of ``sets``); ``seeds`` is the number of seeded
    train/test splits per N (``P.repeats``), ``polynomial_seeds`` the polynomial draws
    (``P.polynomial_repeats``; default: counted in ``polynomial``).
    """
    for name, data in sets.items():
        add_dataset_claims(claims, name, data, summary, cutoffs[name], seeds=seeds)
    add_polynomial_claim(claims, polynomial, seeds=polynomial_seeds)
