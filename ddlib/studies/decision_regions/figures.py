"""Figures of notebook 04: decision regions on planes (Somepalli et al. Fig. 1), similarity heatmaps,
the optimiser, distillation and width-study charts; one function per figure of the notebook.

A decision-region panel shows a plane's argmax image with u horizontal and v vertical, the three
anchor images marked where they lie (x1 at (0, 0), x2 at (||x2 - x1||, 0), x3 at (a.b, b_perp.b))
and a legend that names each class colour.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.colors import ListedColormap
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from torch import Tensor

from ddlib.metrics.decision_planes import PlaneBatch
from ddlib.plotting.style import width_axis
from ddlib.studies.decision_regions.experiment import DecisionRegionsResult, figure_panels

ANCHOR_MARKERS = ("o", "s", "^")


def class_colours(num_classes: int) -> list:
    """One distinguishable colour per class (tab10 up to 10 classes, husl beyond)."""
    if num_classes < 1:
        raise ValueError(f"num_classes must be positive, got {num_classes}")
    palette = "tab10" if num_classes <= 10 else "husl"
    return list(sns.color_palette(palette, num_classes))


def plot_regions(
    ax: plt.Axes,
    prediction: Tensor,
    planes: PlaneBatch,
    plane: int,
    anchor_labels: Sequence[int],
    colours: Sequence,
) -> None:
    """Draw one plane's argmax image [R, R] and mark its three anchors with their true classes."""
    u_min, u_max, v_min, v_max = planes.extent[plane].tolist()
    cmap = ListedColormap(list(colours))
    ax.imshow(
        prediction.numpy(),
        origin="lower",
        extent=(u_min, u_max, v_min, v_max),
        aspect="auto",
        cmap=cmap,
        vmin=-0.5,
        vmax=len(colours) - 0.5,
        interpolation="nearest",
    )
    for k, (u, v) in enumerate(planes.anchors[plane].tolist()):
        ax.scatter(
            [u],
            [v],
            marker=ANCHOR_MARKERS[k],
            s=60,
            color=colours[int(anchor_labels[k])],
            edgecolors="black",
            linewidths=1.5,
            zorder=3,
        )
    ax.set_xticks([])
    ax.set_yticks([])


def region_grid(
    rows: Mapping[str, Sequence[Tensor]],
    planes: PlaneBatch,
    anchor_labels: Tensor,
    class_names: Sequence[str],
    column_planes: Sequence[int],
    column_titles: Sequence[str],
) -> plt.Figure:
    """A grid of decision-region panels: ``rows[label][c]`` is the [R, R] argmax image of column c,
    drawn on plane ``column_planes[c]``; column titles name the anchors' classes.

    Anchors are marked circle (x1), square (x2), triangle (x3), filled with their true class colour.
    """
    colours = class_colours(len(class_names))
    n_rows, n_cols = len(rows), len(column_planes)
    fig, axes = plt.subplots(
        n_rows, n_cols, figsize=(1.6 * n_cols + 2.2, 1.5 * n_rows + 0.6), squeeze=False
    )
    for r, (label, images) in enumerate(rows.items()):
        for c, plane in enumerate(column_planes):
            plot_regions(
                axes[r, c], images[c], planes, plane, anchor_labels[plane].tolist(), colours
            )
            if c == 0:
                axes[r, c].set_ylabel(label, rotation=0, ha="right", va="center")
            if r == 0:
                anchors = "/".join(class_names[int(k)] for k in anchor_labels[plane])
                axes[r, c].set_title(f"{anchors}\n{column_titles[c]}", fontsize="small")
    handles = [
        Patch(color=colour, label=name) for colour, name in zip(colours, class_names, strict=True)
    ]
    handles += [
        Line2D(
            [],
            [],
            marker=m,
            color="white",
            markeredgecolor="black",
            markersize=7,
            label=f"anchor x{k + 1}",
        )
        for k, m in enumerate(ANCHOR_MARKERS)
    ]
    fig.legend(
        handles=handles, loc="outside right center", title="predicted class", fontsize="small"
    )
    return fig


def similarity_heatmap(
    ax: plt.Axes, matrix: pd.DataFrame, title: str, *, vmin: float | None = None, vmax: float = 1.0
) -> None:
    """An annotated heatmap of a similarity matrix (diagonal: same architecture, other seeds)."""
    values = matrix.to_numpy(dtype=float)
    sns.heatmap(
        matrix,
        ax=ax,
        annot=True,
        fmt=".2f",
        cmap="viridis",
        square=True,
        cbar=False,
        vmin=np.nanmin(values) if vmin is None else vmin,
        vmax=vmax,
        annot_kws={"fontsize": "x-small"},
    )
    ax.set_title(title)
    ax.tick_params(axis="x", labelrotation=45)
    ax.tick_params(axis="y", labelrotation=0)


CIFAR10_CLASSES = (
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
)


def class_names(dataset: str, num_classes: int) -> list[str]:
    """Display names of the classes: CIFAR-10's names, digits otherwise."""
    if dataset.startswith("cifar10") and num_classes == 10:
        return list(CIFAR10_CLASSES)
    return [str(k) for k in range(num_classes)]


def width_study_figure(table: pd.DataFrame, thresholds: Mapping[float, int | None],
                       title: str = "") -> plt.Figure:
    """Test error, fragmentation and seed-to-seed similarity vs width, one line per label-noise
    rate, with each rate's interpolation threshold dashed (Somepalli et al. Figs. 7-8)."""
    panels = (
        ("test_error", "test error"),
        ("fragmentation", "fragmentation (components / plane)"),
        ("similarity", "seed-to-seed similarity"),
    )
    fig, axes = plt.subplots(1, len(panels), figsize=(4.2 * len(panels), 3.4))
    for (noise, rows), colour in zip(
        table.groupby("label_noise"), sns.color_palette("colorblind"), strict=False
    ):
        rows = rows.sort_values("width")
        for ax, (column, panel_title) in zip(axes, panels, strict=True):
            ax.plot(
                rows["width"],
                rows[column],
                marker="o",
                color=colour,
                label=f"{noise:.0%} label noise",
            )
            if thresholds.get(noise) is not None:
                ax.axvline(thresholds[noise], color=colour, linestyle="--", linewidth=1)
            width_axis(ax, sorted(rows["width"].unique()), label="width")
            ax.set_title(panel_title)
    axes[0].legend(
        title="dashed: interpolation threshold", fontsize="small", title_fontsize="small"
    )
    if title:
        fig.suptitle(title)
    return fig


def matrix_comparison_figure(
    measured: pd.DataFrame, reference: pd.DataFrame, rho: float, caption: str = ""
) -> plt.Figure:
    """The measured similarity matrix beside the paper's reported values (blank: not reported);
    ``caption`` is written at the bottom left."""
    fig, axes = plt.subplots(1, 2, figsize=(11, 5))
    low = float(
        np.nanmin([np.nanmin(measured.to_numpy(float)), np.nanmin(reference.to_numpy(float))])
    )
    similarity_heatmap(axes[0], measured, "measured", vmin=low)
    similarity_heatmap(
        axes[1], reference, "Somepalli et al. (poster, as printed)", vmin=low
    )
    fig.suptitle(f"Spearman rank correlation over the entries both report: {rho:.2f}")
    if caption:
        fig.text(0.01, 0.01, caption, fontsize="small")
    return fig


def seed_variant(same_data_order: bool) -> str:
    """What a seed changes, for figure titles."""
    return "same minibatch order" if same_data_order else "seed changes init and minibatch order"


def decision_regions_figure(result: DecisionRegionsResult, n_planes: int, title: str) -> plt.Figure:
    """The architecture study's decision regions on the first ``n_planes`` figure planes: one row
    per architecture, one column per plane and seed (seeds side by side)."""
    rows, column_planes, column_titles = figure_panels(
        result.architecture_runs, result.figure_predictions, n_planes)
    names = class_names(result.dataset.name, result.dataset.num_classes)
    fig = region_grid(rows, result.figure_planes, result.figure_anchor_classes, names,
                      column_planes, column_titles)
    fig.suptitle(title)
    return fig


def similarity_figure(matrix: pd.DataFrame, title: str) -> plt.Figure:
    """:func:`similarity_heatmap` of the architecture similarity matrix, sized to it."""
    fig, ax = plt.subplots(figsize=(1.0 * len(matrix) + 2, 0.9 * len(matrix) + 1.5))
    similarity_heatmap(ax, matrix, title)
    return fig


def optimizer_figure(table: pd.DataFrame, title: str = "") -> plt.Figure:
    """Bars of seed-to-seed similarity and test accuracy per architecture and optimiser
    (:func:`ddlib.studies.decision_regions.experiment.optimizer_table`)."""
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.4))
    for ax, column in zip(axes, ["similarity", "test_accuracy"]):
        table.pivot(index="architecture", columns="optimizer", values=column).plot.bar(ax=ax, rot=0)
        ax.set_title(column.replace("_", " "))
        ax.set_ylim(max(0.0, table[column].min() - 0.1), 1.0)
    fig.suptitle(title)
    return fig


def distillation_figure(table: pd.DataFrame, teacher: str, title: str = "") -> plt.Figure:
    """Bars of each student's similarity to the teacher, trained on labels vs distilled
    (:func:`ddlib.studies.decision_regions.experiment.distillation_table`)."""
    fig, ax = plt.subplots(figsize=(5, 3.4))
    table.pivot(index="student", columns="training", values="similarity_to_teacher").plot.bar(
        ax=ax, rot=0)
    ax.set_ylabel(f"similarity to the {teacher} teacher")
    ax.set_ylim(0, 1)
    ax.set_title(title, fontsize="small")
    return fig
