"""Figures of notebook 02 (Gamba et al. Fig. 2-7) drawn from the width-sweep tables.

Every curve is the mean over seeds with a band of one standard deviation; the dashed line marks
the measured interpolation threshold.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.colors import LogNorm

from ddlib.analysis import seed_bands
from ddlib.metrics.sharpness import METRICS
from ddlib.plotting.style import ROLE_COLOURS, threshold_line, width_axis
from ddlib.studies.convnet_sharpness.experiment import SweepResult

METRIC_LABELS = {
    "accuracy": "accuracy",
    "cross_entropy": "cross-entropy",
    "jacobian_norm": "Jacobian norm",
    "hessian_norm": "tangent Hessian norm",
}


def data_title(dataset: str, train_size: int | None, label_noise: float, seeds: int) -> str:
    """The figure title naming the main sweep's data (``train_size`` None: every training image,
    as in the ``paper`` profile)."""
    images = "all" if train_size is None else f"{train_size:,}"
    return f"{dataset}, {images} training images, {label_noise:.0%} label noise, {seeds} seeds"


def _band(ax: plt.Axes, x: np.ndarray, mean: np.ndarray, std: np.ndarray, **style) -> None:
    ax.plot(x, mean, marker="o", markersize=3, **style)
    ax.fill_between(
        x,
        mean - np.nan_to_num(std),
        mean + np.nan_to_num(std),
        color=ax.lines[-1].get_color(),
        alpha=0.2,
        linewidth=0,
    )


def _mark_threshold(ax: plt.Axes, threshold: int | None) -> None:
    if threshold is not None:
        threshold_line(ax, threshold, label=f"interpolation threshold (w = {threshold})")


def plot_errors(final: pd.DataFrame, threshold: int | None, title: str = "") -> plt.Figure:
    """Train and test error vs width (Fig. 2a)."""
    bands = seed_bands(final, ["width"], ["train_error", "test_error"])
    fig, ax = plt.subplots(figsize=(5, 3.5))
    for split in ("train", "test"):
        _band(
            ax,
            bands.width.to_numpy(),
            bands[f"{split}_error_mean"].to_numpy(),
            bands[f"{split}_error_std"].to_numpy(),
            color=ROLE_COLOURS[split],
            label=f"{split} error",
        )
    _mark_threshold(ax, threshold)
    width_axis(ax, sorted(bands.width.unique()))
    ax.set(ylabel="error", title=title)
    ax.legend()
    return fig


def plot_volume_metrics(
    volumes: pd.DataFrame, threshold: int | None, subsets: Sequence[str] = ("all",), title: str = ""
) -> plt.Figure:
    """Volume metrics vs width, one curve per volume K; one row per subset (Fig. 2b, Fig. 3)."""
    bands = seed_bands(volumes, ["subset", "volume", "width"], METRICS)
    fig, axes = plt.subplots(
        len(subsets), len(METRICS), figsize=(3.2 * len(METRICS), 2.7 * len(subsets)), squeeze=False
    )
    num_volumes = int(bands.volume.max()) + 1
    colours = plt.get_cmap("viridis")(np.linspace(0, 0.9, num_volumes))
    for row, subset in enumerate(subsets):
        for col, metric in enumerate(METRICS):
            ax = axes[row, col]
            for volume in range(num_volumes):
                rows = bands[(bands.subset == subset) & (bands.volume == volume)]
                _band(
                    ax,
                    rows.width.to_numpy(),
                    rows[f"{metric}_mean"].to_numpy(),
                    rows[f"{metric}_std"].to_numpy(),
                    color=colours[volume],
                    label=f"K = {volume}",
                )
            _mark_threshold(ax, threshold)
            width_axis(ax, sorted(bands.width.unique()))
            ax.set_title(f"{METRIC_LABELS[metric]} ({subset})")
    axes[0, -1].legend(fontsize="small", ncol=1, loc="upper left", bbox_to_anchor=(1, 1))
    if title:
        fig.suptitle(title)
    return fig


def plot_epoch_heatmaps(
    errors: pd.DataFrame, jacobians: pd.DataFrame, threshold: int | None, title: str = ""
) -> plt.Figure:
    """Epoch x width heatmaps of test error, train cross-entropy and Jacobian norm (Fig. 5).

    Colours are on a log scale, so that the late epochs are not washed out by the first ones.
    """
    panels = [
        ("test error", errors.groupby(["epoch", "width"]).test_error.mean()),
        ("train cross-entropy", errors.groupby(["epoch", "width"]).train_loss.mean()),
        (
            "Jacobian norm (train points)",
            jacobians[jacobians.subset == "all"].groupby(["epoch", "width"]).jacobian_norm.mean(),
        ),
    ]
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.8))
    for ax, (name, series) in zip(axes, panels, strict=True):
        grid = series.unstack("width").sort_index(ascending=False)
        values = grid.to_numpy()
        positive = values[values > 0]
        scale = LogNorm(positive.min(), positive.max()) if positive.size else None
        image = ax.imshow(values, aspect="auto", cmap="magma", norm=scale, interpolation="nearest")
        ax.set_xticks(range(grid.shape[1]), [str(w) for w in grid.columns])
        ax.set_yticks(range(grid.shape[0]), [str(e) for e in grid.index])
        if threshold is not None and threshold in list(grid.columns):
            ax.axvline(list(grid.columns).index(threshold), color="white", linestyle="--")
        ax.set(xlabel="width w", ylabel="epoch", title=name)
        fig.colorbar(image, ax=ax)
    if title:
        fig.suptitle(title)
    return fig


def plot_class_group_errors(
    groups: pd.DataFrame, threshold: int | None, title: str = ""
) -> plt.Figure:
    """Test error vs width on corrupted and unperturbed classes (Fig. 7, asymmetric noise)."""
    bands = seed_bands(groups, ["classes", "width"], ["test_error"])
    fig, ax = plt.subplots(figsize=(5, 3.5))
    for classes, colour in (
        ("corrupted", ROLE_COLOURS["noisy"]),
        ("unperturbed", ROLE_COLOURS["clean"]),
    ):
        rows = bands[bands.classes == classes]
        _band(
            ax,
            rows.width.to_numpy(),
            rows.test_error_mean.to_numpy(),
            rows.test_error_std.to_numpy(),
            color=colour,
            label=f"{classes} classes",
        )
    _mark_threshold(ax, threshold)
    width_axis(ax, sorted(bands.width.unique()))
    ax.set(ylabel="test error", title=title)
    ax.legend()
    return fig


# Figure of Gamba et al. that each extra experiment (``paper`` profile) regenerates.
EXTRA_FIGURES = {"cifar100": "fig4", "resnet18": "fig6", "asymmetric": "fig7a",
                 "random_labels": "fig7b"}


def extra_experiment_figures(result: SweepResult) -> dict[str, plt.Figure]:
    """{figure name: figure} of one extra experiment: errors and volume metrics vs width, and for
    asymmetric noise the test error on corrupted vs unperturbed classes."""
    experiment = result.experiment
    prefix = f"{EXTRA_FIGURES[experiment]}_{experiment}"
    figures = {
        f"{prefix}_errors": plot_errors(result.final, result.threshold, title=experiment),
        f"{prefix}_volume_metrics": plot_volume_metrics(
            result.volumes, result.threshold, subsets=("all", "clean", "noisy"), title=experiment),
    }
    if result.class_groups is not None:
        figures[f"{prefix}_class_groups"] = plot_class_group_errors(
            result.class_groups, result.threshold, title=experiment)
    return figures
