"""Claims of notebook 01 (Schaeffer et al. 2023, ``docs/papers.md`` §1), judged on the sweep summary.

Nothing here knows an expected answer: peaks, dips and heights are read off the medians measured.
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


def add_dataset_claims(claims: ClaimsTable, name: str, data: RegressionData,
                       summary: pd.DataFrame, cutoff: float) -> None:
    """The four per-dataset claims: the test MSE peaks at N = D (Schaeffer et al. Fig. 2); zeroing
    singular values below ``cutoff`` removes the peak (ablation 1); without residuals the test
    MSE is ~0 for N >= D (ablation 3); the smallest non-zero singular value dips at N = D."""
    D = data.X.shape[1]
    test = linear.median_curve(summary, name, "test_mse")
    claims.add(f"{name}: the median test MSE peaks at N = D", f"peak at N = {test.idxmax()} (D = {D})",
               "argmax over N of the median test MSE equals D", test.idxmax() == D)
    before = linear.peak_height(test, D)
    after = linear.peak_height(linear.median_curve(summary, name, "test_mse_cutoff", cutoff), D)
    claims.add(f"{name}: removing singular values < {cutoff:g} removes the peak",
               f"peak height {before:.3g} -> {after:.3g}",
               f"height > {PEAK_BEFORE:g} before and < {PEAK_AFTER:g} after",
               before > PEAK_BEFORE and after < PEAK_AFTER)
    rows = summary[(summary.dataset == name) & (summary.quantity == "test_mse_no_residual")
                   & (summary.N >= D)]
    worst = rows["max"].max()
    scale = float(np.mean(data.y ** 2))
    claims.add(f"{name}: without residuals the test MSE is ~0 for N >= D",
               f"largest over repeats {worst:.2g} (mean y^2 = {scale:.3g})",
               f"< {NO_RESIDUAL_SCALE:g} x mean y^2", worst < NO_RESIDUAL_SCALE * scale)
    sigma = linear.median_curve(summary, name, "sigma_min")
    claims.add(f"{name}: the smallest non-zero singular value dips at N = D",
               f"minimum at N = {sigma.idxmin()}", "argmin over N of the median equals D",
               sigma.idxmin() == D)


def add_polynomial_claim(claims: ClaimsTable, polynomial: pd.DataFrame) -> None:
    """Min-norm Legendre regression on N = 15 points: the median test MSE peaks at P = N (within
    one degree) and the widest model's median is below 1 (Gamba et al. Fig. 1a)."""
    test = polynomial.groupby("degree")["test_mse"].median()
    near = (POLYNOMIAL_N - 1, POLYNOMIAL_N, POLYNOMIAL_N + 1)
    claims.add(f"polynomial: test MSE peaks at P = N = {POLYNOMIAL_N} and falls below 1 for wide models",
               f"peak at P = {test.idxmax()}, median at P = {test.index.max()}: {test.iloc[-1]:.3g}",
               f"argmax in {{{', '.join(map(str, near))}}} and the widest model's median < 1",
               test.idxmax() in near and test.iloc[-1] < 1)


def add_claims(claims: ClaimsTable, sets: Mapping[str, RegressionData], summary: pd.DataFrame,
               polynomial: pd.DataFrame, cutoffs: Mapping[str, float]) -> None:
    """Every claim of notebook 01, in the notebook's order."""
    for name, data in sets.items():
        add_dataset_claims(claims, name, data, summary, cutoffs[name])
    add_polynomial_claim(claims, polynomial)
