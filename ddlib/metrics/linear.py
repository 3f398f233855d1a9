"""Double descent in ordinary linear regression (Schaeffer et al. 2023, "Double Descent Demystified").

The minimum-norm least-squares fit ``beta = V S^+ U^T y`` (their Eq. 4-5) has a test error whose
under-parameterised (N > D) and over-parameterised (N < D) forms share the factor

    sum_r  (1 / sigma_r) (x_test . v_r) (u_r . E),

the product of (i) inverted small singular values of the training features, (ii) how much the
test datum varies along the corresponding right singular vectors and (iii) how much the training
residuals E (the error of the best linear model ``beta*``) lie along the left singular vectors.
Each ablation removes one factor. Everything is batched over the repeats of one training size.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.polynomial import legendre

from ddlib.core.data import RegressionData


@dataclass(frozen=True)
class SweepSettings:
    """Parameters of one dataset's sweep (docs/papers.md §1)."""

    train_sizes: Sequence[int]  # N values (training-set sizes)
    repeats: int  # r = 0..repeats-1, each a different random split
    cutoffs: Sequence[float]  # ablation 1: absolute singular-value cut-offs c
    subspace_ranks: Sequence[int]  # ablation 2: top-k right singular vectors kept for x_test
    adversarial_scales: Sequence[float]  # a in x_test + a v_last and y + a u_last

    def check(self, n: int, dataset: str) -> None:
        if self.repeats < 1:
            raise ValueError(f"repeats={self.repeats} must be >= 1")
        bad = [N for N in self.train_sizes if not 1 <= N < n]
        if bad:
            raise ValueError(f"train_sizes {bad} must lie in 1..{n - 1} for dataset {dataset!r} "
                             f"(at least one test point is needed)")
        if any(c < 0 for c in self.cutoffs):
            raise ValueError(f"cutoffs {list(self.cutoffs)} must be >= 0")
        if any(k < 1 for k in self.subspace_ranks):
            raise ValueError(f"subspace_ranks {list(self.subspace_ranks)} must be >= 1")


def reference_splits(n: int, train_size: int, repeats: int) -> tuple[np.ndarray, np.ndarray]:
    """Train and test indices of the reference code's ``train_test_split(random_state=r)``.

    For repeat r the permutation is ``RandomState(r).permutation(n)``; the first ``n - N`` entries
    are test points and the last ``N`` the training set, so training sets are nested in N.
    """
    permutations = np.stack([np.random.RandomState(r).permutation(n) for r in range(repeats)])
    return permutations[:, n - train_size:], permutations[:, : n - train_size]


def min_norm_solution(X: np.ndarray, y: np.ndarray, cutoff: float = 0.0) -> np.ndarray:
    """``beta = V S^+ U^T y`` inverting every singular value above ``cutoff`` (batched over leading axes).

    ``cutoff=0`` inverts every non-zero singular value (Schaeffer et al. Eq. 4-5); a positive
    ``cutoff`` is ablation 1 (absolute, not relative, threshold).
    """
    U, S, Vt = np.linalg.svd(X, full_matrices=False)
    keep = S > cutoff
    inverse = np.divide(1.0, S, out=np.zeros_like(S), where=keep)
    coefficients = inverse * np.einsum("...nk,...n->...k", U, y)
    return np.einsum("...kd,...k->...d", Vt, coefficients)


def _pinv_rank(S: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Rank per batch element under numpy's default ``pinv`` cut-off (rcond = 1e-15 * max S)."""
    return (S > 1e-15 * S[..., :1]).sum(-1)


def _project(X: np.ndarray, Vt: np.ndarray) -> np.ndarray:
    """Rows of ``X`` projected on the span of the rows of ``Vt`` (orthonormal or zero), batched."""
    return (X @ Vt.transpose(0, 2, 1)) @ Vt


def _mse(prediction: np.ndarray, target: np.ndarray) -> np.ndarray:
    return ((prediction - target) ** 2).mean(-1)


def sweep(data: RegressionData, settings: SweepSettings) -> pd.DataFrame:
    """All quantities of notebook 01 for one dataset, as a long table.

    Columns: dataset, N, D, repeat, quantity, setting, value. Quantities: ``train_mse``,
    ``test_mse``, ``test_mse_cutoff`` (setting = c), ``test_mse_subspace`` (setting = k),
    ``test_mse_no_residual`` and ``train_mse_no_residual`` (y replaced by X beta*),
    ``sigma_min`` (smallest non-zero singular value of X_train), ``test_bias_sq``,
    ``test_mse_adversarial_test`` and ``test_mse_adversarial_train`` (setting = a).
    """
    X, y = np.asarray(data.X, dtype=float), np.asarray(data.y, dtype=float)
    n, D = X.shape
    settings.check(n, data.name)
    beta_star = np.linalg.lstsq(X, y, rcond=None)[0]  # the ideal model: OLS on the whole dataset
    y_ideal = X @ beta_star
    frames = []
    for N in settings.train_sizes:
        train, test = reference_splits(n, N, settings.repeats)
        values = _quantities(X[train], y[train], X[test], y[test], y_ideal[train],
                             y_ideal[test], beta_star, settings)
        for (quantity, setting), array in values.items():
            frames.append(pd.DataFrame({"N": N, "repeat": np.arange(settings.repeats),
                                        "quantity": quantity, "setting": setting,
                                        "value": array}))
    table = pd.concat(frames, ignore_index=True)
    table.insert(0, "dataset", data.name)
    table.insert(2, "D", D)
    return table


def _quantities(X_tr, y_tr, X_te, y_te, ideal_tr, ideal_te, beta_star, settings):
    """Every quantity for one training size, batched over repeats (leading axis)."""
    N, D = X_tr.shape[1:]
    U, S, Vt = np.linalg.svd(X_tr, full_matrices=False)
    beta = min_norm_solution(X_tr, y_tr)
    out: dict[tuple[str, float], np.ndarray] = {
        ("train_mse", 0.0): _mse(np.einsum("rnd,rd->rn", X_tr, beta), y_tr),
        ("test_mse", 0.0): _mse(np.einsum("rnd,rd->rn", X_te, beta), y_te),
    }
    for c in settings.cutoffs:
        beta_c = min_norm_solution(X_tr, y_tr, cutoff=c)
        out[("test_mse_cutoff", c)] = _mse(np.einsum("rnd,rd->rn", X_te, beta_c), y_te)

    rank = _pinv_rank(S, (N, D))  # numpy pinv convention for projection, bias and adversaries
    for k in settings.subspace_ranks:
        kept = np.arange(Vt.shape[1])[None, :] < np.minimum(k, rank)[:, None]
        V_k = Vt * kept[..., None]
        x_hat = _project(X_te, V_k)
        out[("test_mse_subspace", float(k))] = _mse(np.einsum("rnd,rd->rn", x_hat, beta), y_te)

    beta_ideal = min_norm_solution(X_tr, ideal_tr)
    out[("train_mse_no_residual", 0.0)] = _mse(np.einsum("rnd,rd->rn", X_tr, beta_ideal), ideal_tr)
    out[("test_mse_no_residual", 0.0)] = _mse(np.einsum("rnd,rd->rn", X_te, beta_ideal), ideal_te)

    last = rank - 1  # index of the smallest non-zero singular value
    rows = np.arange(len(S))
    out[("sigma_min", 0.0)] = S[rows, last]

    in_span = np.arange(Vt.shape[1])[None, :] < rank[:, None]
    V_r = Vt * in_span[..., None]
    x_hat = _project(X_te, V_r)
    out[("test_bias_sq", 0.0)] = np.einsum("rnd,d->rn", x_hat - X_te, beta_star).mean(-1) ** 2

    v_last, u_last = Vt[rows, last], U[rows, :, last]
    pinv = np.linalg.pinv(X_tr)
    for a in settings.adversarial_scales:
        adversarial_test = X_te + a * v_last[:, None, :]
        out[("test_mse_adversarial_test", a)] = _mse(
            np.einsum("rnd,rd->rn", adversarial_test, beta), y_te)
        beta_adv = np.einsum("rdn,rn->rd", pinv, y_tr + a * u_last)
        out[("test_mse_adversarial_train", a)] = _mse(np.einsum("rnd,rd->rn", X_te, beta_adv), y_te)
    return out


def summarize(table: pd.DataFrame, low: float = 0.25, high: float = 0.75) -> pd.DataFrame:
    """Median, mean, max and a deterministic band (quantiles ``low``..``high`` over repeats)."""
    grouped = table.groupby(["dataset", "quantity", "setting", "N", "D"])["value"]
    summary = grouped.agg(median="median", mean="mean", max="max",
                          low=lambda v: v.quantile(low), high=lambda v: v.quantile(high))
    return summary.reset_index()


def polynomial_sweep(degrees: Sequence[int], repeats: int, n_train: int = 15,
                     n_test: int = 1000, seed: int = 0) -> pd.DataFrame:
    """Min-norm Legendre regression of y = 2x + cos(25x) (docs/papers.md §1, Fig. 1a of Gamba et al.).

    For every (degree p, repeat) ``n_train`` points are drawn afresh, uniform on [-1, 1];
    features are Legendre polynomials of degree 1..p (no constant); the test set is ``n_test``
    evenly spaced points. Returns columns degree, repeat, train_mse, test_mse.
    """
    if n_train < 1 or n_test < 1 or repeats < 1:
        raise ValueError("n_train, n_test and repeats must be >= 1")
    if any(p < 1 for p in degrees):
        raise ValueError(f"degrees {list(degrees)} must be >= 1")

    def target(x: np.ndarray) -> np.ndarray:
        return 2 * x + np.cos(25 * x)

    x_test = np.linspace(-1, 1, n_test)
    rows = []
    for p in degrees:
        x = np.stack([np.random.default_rng([seed, p, r]).uniform(-1, 1, n_train)
                      for r in range(repeats)])
        features = legendre.legvander(x, p)[..., 1:]
        beta = min_norm_solution(features, target(x))
        test_features = legendre.legvander(x_test, p)[:, 1:]
        train_mse = _mse(np.einsum("rnd,rd->rn", features, beta), target(x))
        test_mse = _mse(np.einsum("nd,rd->rn", test_features, beta), target(x_test))
        rows += [{"degree": p, "repeat": r, "train_mse": train_mse[r], "test_mse": test_mse[r]}
                 for r in range(repeats)]
    return pd.DataFrame(rows)


def gaussian_smallest_singular_values(sizes: Sequence[int], repeats: int,
                                      covariance: np.ndarray, seed: int = 0) -> pd.DataFrame:
    """Smallest non-zero singular value of n Gaussian samples (the 3D picture of docs/papers.md §1).

    With D = 3 features, the smallest non-zero singular value is smallest near n = D: with
    fewer points it is the spread of few vectors, with more it grows like sqrt(n).
    """
    rows = []
    for n in sizes:
        rng = np.random.default_rng([seed, n])  # draws of one n do not depend on the other sizes
        samples = rng.multivariate_normal(np.zeros(len(covariance)), covariance, size=(repeats, n))
        S = np.linalg.svd(samples, compute_uv=False)
        rows += [{"n": n, "repeat": r, "sigma_min": S[r, min(n, len(covariance)) - 1]}
                 for r in range(repeats)]
    return pd.DataFrame(rows)


def repeat_values(table: pd.DataFrame, dataset: str, quantity: str,
                  setting: float = 0.0) -> pd.DataFrame:
    """One quantity of the per-repeat table of :func:`sweep`: rows N (sorted), columns the repeats
    (sorted), so that column r of two quantities is the same train/test split."""
    rows = table[(table["dataset"] == dataset) & (table["quantity"] == quantity)
                 & np.isclose(table["setting"], setting)]
    return rows.pivot(index="N", columns="repeat", values="value").sort_index().sort_index(axis=1)


def peak_flanks(sizes: Sequence[int], threshold: int) -> tuple[int, int]:
    """The two N that :func:`peak_height` compares N = D with: D // 2 and 2 D, clipped to the
    smallest and largest N of ``sizes``."""
    return max(threshold // 2, int(min(sizes))), min(2 * threshold, int(max(sizes)))


def peak_height(curve: pd.Series, threshold: int) -> float:
    """Height of the curve at N = D relative to both regimes: ``c(D) / sqrt(c(D/2) c(2D))``.

    Values well above 1 mean a peak at the interpolation threshold; near 1, none. The largest
    available N is used when 2 D is beyond the sweep.
    """
    over, under = (curve.loc[n] for n in peak_flanks(curve.index, threshold))
    return float(curve.loc[threshold] / np.sqrt(over * under))


def gradient_descent_solution(X: np.ndarray, y: np.ndarray, steps: int, learning_rate: float,
                              start: np.ndarray | None = None) -> np.ndarray:
    """``steps`` steps of full-batch gradient descent on ``||X beta - y||^2 / 2`` from ``start``
    (zero by default), each ``beta -= learning_rate * X^T (X beta - y)``.

    From zero every iterate lies in the row space of ``X``, so on an over-parameterised problem
    (N < D) the limit is the minimum-norm interpolant :func:`min_norm_solution`; a component of
    ``start`` outside the row space is never changed.
    """
    beta = np.zeros(X.shape[1]) if start is None else np.array(start, dtype=float)
    for _ in range(steps):
        beta -= learning_rate * (X.T @ (X @ beta - y))
    return beta


def gradient_descent_budget(X: np.ndarray, tolerance: float) -> tuple[int, float]:
    """Step count and learning rate ``1 / sigma_max^2`` after which gradient descent from zero is
    within ``tolerance`` (relative, in exact arithmetic) of the minimum-norm solution.

    With that rate the error along right singular vector i shrinks by ``1 - (sigma_i /
    sigma_max)^2`` per step; the slowest direction (the smallest non-zero sigma) sets the count.
    """
    S = np.linalg.svd(X, compute_uv=False)
    S = S[S > 1e-15 * S[0]]
    contraction = 1.0 - (S[-1] / S[0]) ** 2
    steps = 1 if contraction <= 0 else int(np.ceil(np.log(tolerance) / np.log(contraction)))
    return steps, float(1.0 / S[0] ** 2)
