"""Geodesic Monte Carlo integration along augmentation paths (Gamba et al., Eq. 6-7).

A metric ``f`` evaluated at the anchors ``x_0, ..., x_K`` of ``P`` polyline paths is averaged
along each path by the trapezoid rule weighted by segment length and divided by the path length,

    F_p = sum_a 0.5 (f_a + f_{a+1}) ||x_{a+1} - x_a|| / sum_a ||x_{a+1} - x_a||,

then averaged over paths. "Volume K" truncates every path after its first K segments; volume 0
is the metric at the image itself. A path of zero length (nothing erased) has the limit value
``f_0``.
"""

from __future__ import annotations

import torch


def segment_lengths(anchors: torch.Tensor) -> torch.Tensor:
    """Euclidean lengths ``[P, K, N]`` of the segments of paths ``[P, K + 1, N, *point_shape]``."""
    return (anchors[:, 1:] - anchors[:, :-1]).flatten(3).norm(dim=-1)


def geodesic_volume_means(values: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """Path-averaged integrals ``[K + 1, ...]`` for every volume ``0..K`` (Eq. 6-7).

    ``values [P, K + 1, ...]`` holds the metric at each anchor of each path (anchor 0 is the point
    itself); ``lengths [P, K, ...]`` the segment lengths (broadcast against ``values``).
    """
    num_paths, num_anchors = values.shape[:2]
    if lengths.dim() != values.dim() or tuple(lengths.shape[:2]) != (num_paths, num_anchors - 1):
        raise ValueError(
            f"values {tuple(values.shape)} and lengths {tuple(lengths.shape)} do not "
            "match: expected values [P, K + 1, ...] and lengths [P, K, ...]"
        )
    trapezoids = 0.5 * (values[:, 1:] + values[:, :-1]) * lengths
    integral = trapezoids.cumsum(dim=1)
    path_length = lengths.cumsum(dim=1).expand_as(integral)
    start = values[:, :1].expand_as(integral)
    per_path = torch.where(path_length > 0, integral / path_length.clamp_min(1e-30), start)
    return torch.cat([values[:, 0].mean(dim=0, keepdim=True), per_path.mean(dim=0)])
