"""Figures of notebook 03: LC curves along training, sweeps of runs, and exact partitions."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

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
                 radius: str = "fine") -> plt.Figure:
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
