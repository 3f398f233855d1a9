"""Figures of notebook 03: LC curves along training, sweeps of runs, exact partitions and region
counts, one function per figure of the notebook."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from ddlib.core.store import Run
from ddlib.metrics.partition2d import Plane, exact_partition
from ddlib.plotting.partitions import draw_partition
from ddlib.plotting.style import ROLE_COLOURS
from ddlib.training import load_model

ROLES = ("train", "test", "random")


def step_axis(metrics: pd.DataFrame) -> pd.Series:
    """Training steps for a log axis (step 0, the initialisation, drawn at 0.5)."""
    return metrics["step"].clip(lower=0.5)


def plot_lc(ax: plt.Axes, metrics: pd.DataFrame, radius: str, radii: Mapping[str, float],
            roles: Sequence[str] = ROLES, label_prefix: str = "") -> None:
    """LC at the points of each role (purple train, orange test, blue random) against the step."""
    for role in roles:
        ax.plot(step_axis(metrics), metrics[f"lc_{role}_{radius}"], color=ROLE_COLOURS[role],
                label=f"{label_prefix}{role}")
    ax.set_xscale("log")
    ax.set_xlabel("training step")
    ax.set_ylabel(f"LC, r = {radii[radius]:g}" if radius in radii else "LC")


def plot_accuracy(ax: plt.Axes, metrics: pd.DataFrame) -> None:
    """Train and test accuracy against the step."""
    ax.plot(step_axis(metrics), metrics["train_accuracy"], color=ROLE_COLOURS["train"], label="train")
    ax.plot(step_axis(metrics), metrics["test_accuracy"], color=ROLE_COLOURS["test"], label="test")
    ax.set(xscale="log", xlabel="training step", ylabel="accuracy", title="accuracy")
    ax.legend()


def lc_and_accuracy_figure(metrics: pd.DataFrame, radii: Mapping[str, float],
                           title: str = "") -> tuple[plt.Figure, np.ndarray]:
    """LC at the fine and the coarse radius, and accuracy, side by side."""
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.6))
    for ax, radius in zip(axes, ("fine", "coarse")):
        plot_lc(ax, metrics, radius, radii)
        ax.set_title(f"{title}{radius} radius")
    axes[0].legend()
    plot_accuracy(axes[2], metrics)
    return fig, axes


def sweep_figure(runs: Mapping[object, Run], name: str, radii: Mapping[str, float],
                 radius: str = "fine", title: str = "") -> plt.Figure:
    """Train (solid) and test (dashed) LC and test accuracy of a sweep, one colour per run."""
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.5))
    colours = plt.cm.viridis(np.linspace(0, 0.9, len(runs)))
    for colour, (value, run) in zip(colours, runs.items()):
        metrics = run.metrics()
        axes[0].plot(step_axis(metrics), metrics[f"lc_train_{radius}"], color=colour,
                     label=f"{name} {value}")
        axes[0].plot(step_axis(metrics), metrics[f"lc_test_{radius}"], color=colour, linestyle="--")
        axes[1].plot(step_axis(metrics), metrics["test_accuracy"], color=colour, label=f"{name} {value}")
    axes[0].set(xscale="log", xlabel="training step", ylabel=f"LC, r = {radii[radius]:g}",
                title="train (solid) and test (dashed) LC")
    axes[1].set(xscale="log", xlabel="training step", ylabel="test accuracy")
    axes[0].legend()
    if title:
        fig.suptitle(title)
    return fig


def partitions_figure(run: Run, plane: Plane, anchor_labels: Sequence[str],
                      shown: Mapping[str, int], zoom: float) -> plt.Figure:
    """Exact partitions of one slice at the kept checkpoints ``shown`` ({title: step}): regions
    coloured by log area (top) and a close-up of the first anchor coloured by class (bottom)."""
    fig, axes = plt.subplots(2, len(shown), figsize=(4 * len(shown), 7.6), squeeze=False)
    regions = None
    for column, (name, step) in enumerate(shown.items()):
        partition = exact_partition(load_model(run, step), plane)
        regions = draw_partition(axes[0, column], partition, anchor_labels, colour_by="area")
        regions.set_clim(-4, 0)
        axes[0, column].set_title(f"{name}: step {step}\n{partition.num_regions} regions")
        draw_partition(axes[1, column], partition, colour_by="class")
        (u, v), half = plane.anchors[0], zoom
        axes[1, column].set(xlim=(u - half, u + half), ylim=(v - half, v + half))
        axes[1, column].set_title(f"close-up: {anchor_labels[0]}", fontsize=10)
    fig.colorbar(regions, ax=axes[0], shrink=0.8, label="log10 region area")
    return fig


def layerwise_figure(metrics: pd.DataFrame, radii: Mapping[str, float], depth: int) -> plt.Figure:
    """Train LC per hidden layer at the fine and the coarse radius."""
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.4))
    for ax, radius in zip(axes, ("fine", "coarse")):
        for layer in range(depth):
            ax.plot(step_axis(metrics), metrics[f"lc_train_{radius}_layer{layer}"],
                    label=f"layer {layer + 1}")
        ax.set(xscale="log", xlabel="training step", ylabel=f"train LC, r = {radii[radius]:g}")
    axes[0].legend()
    return fig


def train_size_figure(runs: Mapping[tuple[int, float], Run], train_sizes: Sequence[int],
                      radii: Mapping[str, float]) -> plt.Figure:
    """Fine train LC for each training-set size with true (left) and random labels (middle), and
    train accuracy (right); ``runs`` keyed by (training images, random-label rate)."""
    fig, axes = plt.subplots(1, 3, figsize=(14, 3.5), sharey=False)
    colours = dict(zip(train_sizes, plt.cm.viridis(np.linspace(0, 0.9, len(train_sizes)))))
    for (size, rate), run in runs.items():
        metrics = run.metrics()
        ax = axes[0] if rate == 0.0 else axes[1]
        ax.plot(step_axis(metrics), metrics["lc_train_fine"], color=colours[size],
                label=f"{size} images")
        axes[2].plot(step_axis(metrics), metrics["train_accuracy"], color=colours[size],
                     linestyle="-" if rate == 0.0 else "--")
    for ax, title in zip(axes[:2], ("true labels", "random labels")):
        ax.set(xscale="log", xlabel="training step", ylabel=f"train LC, r = {radii['fine']:g}",
               title=title)
    axes[2].set(xscale="log", xlabel="training step", ylabel="train accuracy",
                title="solid: true, dashed: random")
    axes[0].legend()
    return fig


def grokking_figure(metrics: pd.DataFrame, radii: Mapping[str, float], timing: Mapping[str, Any],
                    title: str = "") -> plt.Figure:
    """:func:`lc_and_accuracy_figure` of a grokking run with its saturation step (dotted) and
    rise step (dashed) marked (``timing``: :func:`ddlib.analysis.grokking_timing`)."""
    fig, axes = lc_and_accuracy_figure(metrics, radii, title=title)
    for ax in axes:
        if timing["saturation_step"]:
            ax.axvline(timing["saturation_step"], color="0.5", linestyle=":", linewidth=1)
            ax.axvline(timing["rise_step"], color="0.2", linestyle="--", linewidth=1)
    return fig


def regions_vs_lc_figure(per_step: pd.DataFrame, lc_at: pd.DataFrame,
                         radii: Mapping[str, float]) -> plt.Figure:
    """Left: region counts of the slices and train LC along training, each relative to its value
    at initialisation (near-data counts to their mean); right: regions near the training points
    and near the decision boundary per radius (``per_step``, ``lc_at``: the first two tables of
    :func:`ddlib.studies.local_complexity.experiment.partition_trends`)."""
    x = per_step.index.to_numpy().clip(min=0.5)
    fig, axes = plt.subplots(1, 3, figsize=(15, 3.6))
    axes[0].plot(x, per_step["regions"] / per_step["regions"].iloc[0], "k-o", ms=3,
                 label="regions of the slice")
    for radius, style in (("fine", "-"), ("coarse", "--")):
        near = per_step[f"near_data_{radius}"]
        axes[0].plot(x, near / near.mean(), "o" + style, ms=3, color="0.5",
                     label=f"near data, r = {radii[radius]:g}")
        axes[0].plot(x, lc_at[f"lc_train_{radius}"] / lc_at[f"lc_train_{radius}"].iloc[0], style,
                     color=ROLE_COLOURS["train"], label=f"train LC, r = {radii[radius]:g}")
    axes[0].set(xscale="log", xlabel="training step", ylabel="relative value")
    axes[0].legend(fontsize=8)
    for ax, radius in zip(axes[1:], ("fine", "coarse")):
        for column, colour, label in (("near_data", ROLE_COLOURS["train"], "near training points"),
                                      ("near_boundary", "crimson", "near decision boundary")):
            counts = per_step[f"{column}_{radius}"].replace(0, np.nan)  # log axis: none yet -> gap
            ax.plot(x, counts, "-o", ms=3, color=colour, label=label)
        ax.set(xscale="log", yscale="log", xlabel="training step",
               ylabel="regions (mean over slices)", title=f"within r = {radii[radius]:g}")
        ax.legend()
    return fig


def cifar_figure(runs: Mapping[str, Run], radius: float) -> plt.Figure:
    """Train LC of the CIFAR-10 runs ({label: run}, labels of
    :func:`ddlib.studies.local_complexity.experiment.cifar_configs`): ConvNet with and without
    batch norm, the weight-decay sweep, ResNet18 with and without batch norm."""
    groups = [("CNN", "CNN + BN"), tuple(k for k in runs if k.startswith("CNN, wd")),
              ("ResNet18", "ResNet18 + BN")]
    fig, axes = plt.subplots(1, 3, figsize=(14, 3.6))
    for ax, group in zip(axes, groups):
        for name in group:
            metrics = runs[name].metrics()
            ax.plot(step_axis(metrics), metrics["lc_train_fine"], label=name)
        ax.set(xscale="log", xlabel="training step", ylabel=f"train LC, r = {radius:g}")
        ax.legend()
    return fig
