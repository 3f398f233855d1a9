"""The experiments of notebook 01 (Schaeffer et al. 2023, ``docs/papers.md`` §1): the datasets, the
min-norm sweeps with the three ablations over N, the polynomial intuition, the 3-D Gaussian
picture and the check that gradient descent finds the minimum-norm fit. Everything is computed by
:mod:`ddlib.metrics.linear` (in closed form but for the few milliseconds of gradient descent;
seconds on a CPU), so nothing is cached in the run store. :func:`run` is the notebook's one entry.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ddlib.core.data import DatasetUnavailable, RegressionData, load_regression
from ddlib.metrics import linear

# Covariance of the 3-D Gaussian picture (Schaeffer et al.'s intuition for sigma_min at n = D).
GAUSSIAN_COVARIANCE = np.array([[23.0, 9, 4], [9, 6, 2], [4, 2, 5]])
# The gradient-descent check: one Gaussian problem with N < D, run until GD is provably this close.
GD_TRAIN_SIZE, GD_FEATURES = 10, 20
GD_TOLERANCE = 1e-12


def regression_sets(params: Mapping[str, Any]) -> tuple[dict[str, RegressionData], list[str]]:
    """The required datasets (an error when one is missing) and the optional ones present in
    ``data/``; also the notices of optional datasets that were skipped."""
    sets = {name: load_regression(name, allow_download=params["allow_download"])
            for name in params["datasets"]}
    skipped = []
    for name in params["optional_datasets"]:
        try:
            sets[name] = load_regression(name)
        except DatasetUnavailable as missing:
            skipped.append(f"skipped {name}: {missing}")
    return sets, skipped


def sweep_table(params: Mapping[str, Any], sets: Mapping[str, RegressionData]) -> pd.DataFrame:
    """:func:`ddlib.metrics.linear.sweep` of every dataset over N = 1..max_train_size with the
    three ablations: one row per dataset, N, repeat, quantity and setting (the claims bootstrap
    over its repeats; the figures read its :func:`ddlib.metrics.linear.summarize`)."""
    tables = []
    for name, data in sets.items():
        ranks = (params["subspace_ranks_student_teacher"] if name == "student-teacher"
                 else params["subspace_ranks_real"])
        settings = linear.SweepSettings(
            train_sizes=range(1, params["max_train_size"] + 1), repeats=params["repeats"],
            cutoffs=params["cutoffs"], subspace_ranks=ranks,
            adversarial_scales=params["adversarial_scales"])
        tables.append(linear.sweep(data, settings))
    return pd.concat(tables, ignore_index=True)


def gradient_descent_check(train_size: int = GD_TRAIN_SIZE, features: int = GD_FEATURES,
                           seed: int = 0) -> dict[str, float]:
    """Gradient descent from zero against the minimum-norm fit on one seeded Gaussian problem with
    fewer points than features (the talk's "Why this choice?" slide; see the claims module).

    X and y are standard normal, ``train_size`` x ``features`` and ``train_size``; the step count
    is :func:`ddlib.metrics.linear.gradient_descent_budget` for a relative distance of
    :data:`GD_TOLERANCE` in exact arithmetic. Returns N, D, seed, steps and ``relative_distance``
    ``||beta_GD - beta_min-norm|| / ||beta_min-norm||``. A few milliseconds.
    """
    rng = np.random.default_rng(seed)
    X, y = rng.normal(size=(train_size, features)), rng.normal(size=train_size)
    steps, learning_rate = linear.gradient_descent_budget(X, GD_TOLERANCE)
    beta_gd = linear.gradient_descent_solution(X, y, steps, learning_rate)
    beta_min = linear.min_norm_solution(X, y)
    distance = float(np.linalg.norm(beta_gd - beta_min) / np.linalg.norm(beta_min))
    return {"N": train_size, "D": features, "seed": seed, "steps": steps,
            "relative_distance": distance}


def gaussian_cloud(samples: int = 1500, seed: int = 0) -> np.ndarray:
    """Samples of the 3-D Gaussian of :data:`GAUSSIAN_COVARIANCE`, for the scatter panel."""
    rng = np.random.default_rng(seed)
    return rng.multivariate_normal(np.zeros(3), GAUSSIAN_COVARIANCE, size=samples)


@dataclass
class LinearDoubleDescentResult:
    """Everything notebook 01 plots and judges."""

    regression_sets: dict[str, RegressionData]  # datasets of the sweep, by name
    skipped: list[str]  # notices of optional datasets not found in data/
    table: pd.DataFrame  # :func:`sweep_table`: every dataset, one row per repeat
    summary: pd.DataFrame  # :func:`ddlib.metrics.linear.summarize` of ``table``
    polynomial: pd.DataFrame  # :func:`ddlib.metrics.linear.polynomial_sweep`, one row per fit
    gaussian: pd.DataFrame  # smallest singular value of n samples of the 3-D Gaussian
    cloud: np.ndarray  # :func:`gaussian_cloud`, for the scatter panel
    gradient_descent: dict[str, float]  # :func:`gradient_descent_check`
    seconds: float  # wall time of the min-norm sweeps

    def dataset_table(self) -> pd.DataFrame:
        """Points and features of each dataset."""
        return pd.DataFrame({name: {"points n": d.X.shape[0], "features D": d.X.shape[1]}
                             for name, d in self.regression_sets.items()}).T

    def largest_test_bias(self) -> pd.DataFrame:
        """Per dataset, the largest 75% quantile of the test bias squared over N."""
        rows = self.summary[self.summary.quantity == "test_bias_sq"]
        return rows.groupby("dataset")["high"].max().rename(
            "largest 75% quantile of the test bias squared").to_frame()


def run(params: Mapping[str, Any], device: str = "auto") -> LinearDoubleDescentResult:
    """Notebook 01's study: the datasets, their min-norm sweeps with the three ablations, the
    polynomial sweep, the 3-D Gaussian picture and the gradient-descent check, all on the CPU
    (``device`` is accepted for the common study interface and not used)."""
    sets, skipped = regression_sets(params)
    started = time.perf_counter()
    table = sweep_table(params, sets)
    seconds = time.perf_counter() - started
    polynomial = linear.polynomial_sweep(params["polynomial_degrees"], params["polynomial_repeats"])
    gaussian = linear.gaussian_smallest_singular_values(
        params["gaussian_sizes"], params["gaussian_repeats"], GAUSSIAN_COVARIANCE)
    return LinearDoubleDescentResult(sets, skipped, table, linear.summarize(table), polynomial,
                                     gaussian, gaussian_cloud(), gradient_descent_check(), seconds)
