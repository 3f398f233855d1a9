"""Drawing an exact 2-D partition (:class:`ddlib.metrics.partition2d.Partition2D`): regions,
decision boundary and the anchors of the slice."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from matplotlib.collections import LineCollection, PolyCollection

from ddlib.metrics.partition2d import Partition2D


def draw_partition(
    ax, partition: Partition2D, anchor_labels: Sequence[str] = (), colour_by: str = "area"
) -> Any:
    """Regions, decision boundary (red) and the three anchors (black dots).

    ``colour_by="area"``: each region filled by log10 of its area (dark = small regions, where
    the partition is dense), no edges; ``"class"``: faint fill by predicted class and thin edges.
    Returns the region collection (for a colour bar).
    """
    if colour_by not in ("area", "class"):
        raise ValueError(f"colour_by must be 'area' or 'class', got {colour_by!r}")
    polygons = PolyCollection(list(partition.vertices), rasterized=True)
    if colour_by == "area":
        polygons.set_array(np.log10(np.maximum(partition.areas(), 1e-300)))
        polygons.set_cmap("magma")
        polygons.set_edgecolor("face")
        polygons.set_linewidth(0.0)
    else:
        palette = np.array(
            [
                [0.90, 0.94, 1.0],
                [1.0, 0.93, 0.86],
                [0.90, 1.0, 0.90],
                [1.0, 0.90, 0.95],
                [0.95, 0.92, 1.0],
                [0.93, 0.98, 0.98],
                [1.0, 1.0, 0.88],
                [0.93, 0.93, 0.93],
                [0.98, 0.90, 0.90],
                [0.88, 0.95, 0.92],
            ]
        )
        polygons.set_facecolor(palette[partition.predicted_class() % len(palette)])
        polygons.set_edgecolor("0.35")
        polygons.set_linewidth(0.15)
    ax.add_collection(polygons)
    ax.add_collection(LineCollection(list(partition.boundary), colors="red", linewidths=1.0))
    anchors = partition.plane.anchors
    ax.scatter(anchors[:, 0], anchors[:, 1], s=30, c="cyan", edgecolors="black", zorder=3)
    for (u, v), label in zip(anchors, anchor_labels):
        ax.annotate(label, (u, v), textcoords="offset points", xytext=(4, 4), fontsize=9)
    u0, u1, v0, v1 = partition.plane.box
    ax.set_xlim(u0, u1)
    ax.set_ylim(v0, v1)
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    return polygons
