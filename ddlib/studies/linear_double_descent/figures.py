"""Plots of notebook 01: curves against D/N with a median line and an interquartile band, one
function per figure of the notebook."""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from ddlib.plotting.style import threshold_line


def plot_quantity(ax: plt.Axes, summary: pd.DataFrame, dataset: str, quantity: str,
                  settings: Sequence[float] | None = None, label: str = "{setting:g}",
                  cmap: str = "viridis", color: str | None = None,
                  under_parameterised_only: bool = False, mark_threshold: bool = True) -> None:
    """Median over repeats (line) and 25-75% quantiles (band) of ``quantity`` against D/N.

    One curve per entry of ``settings`` (all settings when None), on log-log axes, with the
    interpolation threshold D/N = 1 dashed (``mark_threshold``). ``under_parameterised_only``
    keeps N > D, for quantities that are exactly zero (up to round-off) otherwise.
    """
    rows = summary[(summary["dataset"] == dataset) & (summary["quantity"] == quantity)]
    settings = sorted(rows["setting"].unique()) if settings is None else settings
    colours = plt.get_cmap(cmap)(np.linspace(0.1, 0.9, len(settings)))
    for setting, colour in zip(settings, colours):
        curve = rows[np.isclose(rows["setting"], setting)].sort_values("N")
        if under_parameterised_only:
            curve = curve[curve["N"] > curve["D"]]
        ratio = curve["D"] / curve["N"]
        shade = color or colour
        ax.plot(ratio, curve["median"], color=shade, label=label.format(setting=setting))
        ax.fill_between(ratio, curve["low"], curve["high"], color=shade, alpha=0.2, linewidth=0)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("parameters / training points  (D / N)")
    if mark_threshold:
        threshold_line(ax, 1.0)


def dataset_axes(names: Sequence[str], title_suffix: str = "") -> tuple[plt.Figure, list[plt.Axes]]:
    """One panel per dataset, side by side, titled by dataset name and ``title_suffix``."""
    fig, axes = plt.subplots(1, len(names), figsize=(4.2 * len(names), 3.4), squeeze=False)
    for ax, name in zip(axes[0], names):
        ax.set_title(f"{name}{title_suffix}")
    return fig, list(axes[0])


def double_descent_figure(summary: pd.DataFrame, names: Sequence[str]) -> plt.Figure:
    """Fig. 1: training error (N > D only) and test error against D/N, one panel per dataset."""
    fig, axes = dataset_axes(names)
    for ax, name in zip(axes, names):
        plot_quantity(ax, summary, name, "train_mse", color="C0", label="train (N > D)",
                      under_parameterised_only=True, mark_threshold=False)
        plot_quantity(ax, summary, name, "test_mse", color="C3", label="test")
        ax.set_ylabel("mean squared error")
    axes[0].legend()
    return fig


def polynomial_figure(polynomial: pd.DataFrame, repeats: int) -> plt.Figure:
    """Mean and median test error and median training error of the Legendre fits against the
    number of features P (threshold at P = N = 15)."""
    stats = polynomial.groupby("degree")[["train_mse", "test_mse"]].agg(["mean", "median"])
    fig, ax = plt.subplots(figsize=(5, 3.4))
    ax.plot(stats.index, stats[("test_mse", "mean")], "o-", color="C3", label="test, mean")
    ax.plot(stats.index, stats[("test_mse", "median")], "s--", color="C1", label="test, median")
    ax.plot(stats.index, stats[("train_mse", "median")].clip(lower=1e-30), "^:", color="C0",
            label="train, median")
    threshold_line(ax, 15, label="P = N = 15")
    ax.set(xscale="log", yscale="log", xlabel="number of Legendre features P",
           ylabel="mean squared error", title=f"y = 2x + cos(25x), N = 15, {repeats} repeats")
    ax.legend()
    return fig


def cutoff_ablation_figure(summary: pd.DataFrame, names: Sequence[str],
                           cutoffs: Sequence[float]) -> plt.Figure:
    """Ablation 1: test error with singular values below each cut-off c zeroed."""
    fig, axes = dataset_axes(names, " · sigma < c zeroed")
    for ax, name in zip(axes, names):
        plot_quantity(ax, summary, name, "test_mse_cutoff", settings=cutoffs, label="c = {setting:g}")
        ax.set_ylabel("test mean squared error")
    axes[-1].legend(fontsize="small")
    return fig


def subspace_ablation_figure(summary: pd.DataFrame, names: Sequence[str]) -> plt.Figure:
    """Ablation 2: test error with test features projected on the top-k training directions."""
    fig, axes = dataset_axes(names, " · x_test on top-k")
    fig.set_size_inches(5.4 * len(names), 3.6)
    for ax, name in zip(axes, names):
        plot_quantity(ax, summary, name, "test_mse_subspace", label="{setting:g}", cmap="magma")
        ax.set_ylabel("test mean squared error")
        ax.legend(title="k", fontsize="x-small", title_fontsize="small", loc="center left",
                  bbox_to_anchor=(1.0, 0.5), ncol=1 + (len(ax.get_lines()) > 6))
    return fig


def no_residual_figure(summary: pd.DataFrame, names: Sequence[str]) -> plt.Figure:
    """Ablation 3: test error with real targets and with targets y = X beta* (no residuals)."""
    fig, axes = dataset_axes(names, " · y = X beta*")
    for ax, name in zip(axes, names):
        plot_quantity(ax, summary, name, "test_mse", color="C3", label="test, real targets")
        plot_quantity(ax, summary, name, "test_mse_no_residual", color="C2",
                      label="test, no residuals", mark_threshold=False)
        ax.set_ylabel("test mean squared error")
    axes[0].legend(fontsize="small")
    return fig


def singular_value_and_bias_figure(summary: pd.DataFrame, names: Sequence[str]) -> plt.Figure:
    """Smallest non-zero singular value of the training features (left) and test bias squared
    (right) against D/N, one curve per dataset."""
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.4))
    for name in names:
        curve = summary[(summary.dataset == name) & (summary.quantity == "sigma_min")].sort_values("N")
        axes[0].plot(curve.D / curve.N, curve["median"], label=name)
        axes[0].fill_between(curve.D / curve.N, curve["low"], curve["high"], alpha=0.2)
        bias = summary[(summary.dataset == name)
                       & (summary.quantity == "test_bias_sq")].sort_values("N")
        axes[1].plot(bias.D / bias.N, bias["median"].clip(lower=1e-32), label=name)
    for ax, ylabel in zip(axes, ["smallest non-zero singular value", "test bias squared"]):
        ax.set(xscale="log", yscale="log", xlabel="D / N", ylabel=ylabel)
        threshold_line(ax, 1.0)
        ax.legend(fontsize="small")
    return fig


def adversarial_figure(summary: pd.DataFrame, names: Sequence[str]) -> plt.Figure:
    """Test error under an adversarial test datum (top) and adversarial training targets
    (bottom), one column per dataset, one curve per scale a."""
    fig, axes = plt.subplots(2, len(names), figsize=(4.2 * len(names), 6.4), squeeze=False)
    for column, name in enumerate(names):
        plot_quantity(axes[0, column], summary, name, "test_mse_adversarial_test",
                      label="a = {setting:g}", cmap="plasma")
        plot_quantity(axes[1, column], summary, name, "test_mse_adversarial_train",
                      label="a = {setting:g}", cmap="plasma")
        axes[0, column].set_title(f"{name} · x_test + a v_last")
        axes[1, column].set_title(f"{name} · y_train + a u_last")
        for ax in axes[:, column]:
            ax.set_ylabel("test mean squared error")
    axes[1, -1].legend(fontsize="x-small", ncol=4, loc="upper center", bbox_to_anchor=(0.5, -0.22))
    return fig


def gaussian_figure(cloud: np.ndarray, gaussian: pd.DataFrame) -> plt.Figure:
    """Samples of the 3-D Gaussian (left) and the smallest non-zero singular value of n of them
    (right; median and interquartile band over repeats)."""
    fig = plt.figure(figsize=(9, 3.6))
    ax3d = fig.add_subplot(1, 2, 1, projection="3d")
    ax3d.scatter(*cloud.T, s=2, alpha=0.3)
    ax3d.set_title(f"{len(cloud):,} samples, D = 3")
    ax = fig.add_subplot(1, 2, 2)
    by_n = gaussian.groupby("n")["sigma_min"]
    ax.plot(by_n.median().index, by_n.median(), "o-")
    ax.fill_between(by_n.median().index, by_n.quantile(0.25), by_n.quantile(0.75), alpha=0.2)
    threshold_line(ax, 3, label="n = D = 3")
    ax.set(xscale="log", yscale="log", xlabel="number of samples n",
           ylabel="smallest non-zero singular value")
    ax.legend()
    return fig
