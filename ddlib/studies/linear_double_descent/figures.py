"""Plots of notebook 01: curves against D/N with a median line and an interquartile band."""

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
