"""One style for every figure, and deterministic PNG + PDF files in a notebook's figures folder."""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path

import matplotlib
import matplotlib.pyplot as plt
import seaborn as sns
from matplotlib.ticker import NullFormatter, NullLocator

from ddlib.core.paths import is_rehearsal_output
from ddlib.core.store import atomic_write_bytes

PALETTE = sns.color_palette("colorblind")
# Colours with a fixed meaning across notebooks (Humayun et al.'s purple train, orange test, blue
# random points; docs/papers.md §3).
ROLE_COLOURS = {"train": "#7b3294", "test": "#e66101", "random": "#2c7bb6",
                "clean": "#1b9e77", "noisy": "#d95f02"}


def use_style() -> None:
    """The companion's plotting style (seaborn ticks, readable fonts, constrained layout)."""
    sns.set_theme(context="notebook", style="ticks", palette=PALETTE)
    matplotlib.rcParams.update({
        "figure.dpi": 100, "savefig.dpi": 150, "figure.constrained_layout.use": True,
        "axes.spines.top": False, "axes.spines.right": False, "legend.frameon": False,
        "svg.hashsalt": "ddlib", "pdf.compression": 6,
    })


def threshold_line(ax: plt.Axes, x: float, label: str = "interpolation threshold",
                   vertical: bool = True) -> None:
    """A dashed line marking the interpolation threshold."""
    line = ax.axvline if vertical else ax.axhline
    line(x, color="0.3", linestyle="--", linewidth=1, label=label)


def width_axis(ax: plt.Axes, widths: Sequence[int], label: str = "width w") -> None:
    """Log-scaled axis with a tick at every trained width, labelled sparsely enough to stay
    readable (from the widest down, a label at least 1.4x below the previous one)."""
    widths = sorted(widths)
    labelled, last = set(), None
    for w in reversed(widths):
        if last is None or last / w >= 1.4:
            labelled.add(w)
            last = w
    ax.set_xscale("log")
    ax.set_xticks(widths, [str(w) if w in labelled else "" for w in widths])
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.xaxis.set_minor_locator(NullLocator())
    ax.set_xlabel(label)


REHEARSAL_STAMP = "REHEARSAL at toy sizes: not a result"  # short enough for a 5-inch figure


def save_figure(fig: plt.Figure, folder: Path, name: str) -> None:
    """Save ``fig`` as ``<name>.png`` and ``<name>.pdf`` in ``folder`` (a notebook's
    :func:`ddlib.core.paths.figures_dir`) with fixed metadata (byte-stable reruns). A figure saved
    under the rehearsal's output name carries :data:`REHEARSAL_STAMP` across its top, so it can
    never be mistaken for a result. Returns nothing, so a notebook cell ending in it prints
    nothing."""
    title = fig.get_suptitle()
    if is_rehearsal_output(folder) and not title.startswith(REHEARSAL_STAMP):
        fig.suptitle(REHEARSAL_STAMP + (f"\n{title}" if title else ""), color="crimson")
    for fmt, metadata in (("png", {"Software": None}),
                          ("pdf", {"Creator": None, "Producer": None, "CreationDate": None})):
        buffer = io.BytesIO()
        fig.savefig(buffer, format=fmt, metadata=metadata)
        atomic_write_bytes(folder / f"{name}.{fmt}", buffer.getvalue())
