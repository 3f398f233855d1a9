"""Planes through image triplets and batched prediction over their grids (Somepalli et al. 2022).

Section 3 of Somepalli et al. ("Can Neural Nets Learn the Same Model Twice?", CVPR 2022) spans a
plane through three images x1, x2, x3:

    a      = (x2 - x1) / ||x2 - x1||
    b      = x3 - x1
    b_perp = (b - (a.b) a) / ||b - (a.b) a||

so that the images sit at the plane coordinates (0, 0), (||x2 - x1||, 0), (a.b, b_perp.b), and a
grid point (u, v) is the image x1 + u a + v b_perp. The grid covers the bounding box of the three
anchors, extended on each side by ``margin`` times its extent (0.1 for scores, 0.5 for pictures);
the two axes have different lengths, so grid cells are not square. Inputs are not clamped.

Prediction images are indexed ``[..., v_index, u_index]``: rows follow v, columns follow u, so
``imshow(..., origin="lower")`` draws u horizontally and v vertically.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from ddlib.core.checks import check_positive_int
from ddlib.core.device import pick_device


@dataclass(frozen=True)
class PlaneBatch:
    """P planes through image triplets, each with an R x R grid.

    origin, a, b_perp: [P, *image_shape] (x1 and the two orthonormal in-plane directions);
    anchors: [P, 3, 2] plane coordinates (u, v) of x1, x2, x3; u, v: [P, R] grid coordinates.
    """

    origin: Tensor
    a: Tensor
    b_perp: Tensor
    anchors: Tensor
    u: Tensor
    v: Tensor

    def __len__(self) -> int:
        return self.origin.shape[0]

    @property
    def resolution(self) -> int:
        return self.u.shape[1]

    @property
    def image_shape(self) -> tuple[int, ...]:
        return tuple(self.origin.shape[1:])

    @property
    def extent(self) -> Tensor:
        """[P, 4] (u_min, u_max, v_min, v_max) of each grid, for ``imshow(extent=...)``."""
        return torch.stack([self.u[:, 0], self.u[:, -1], self.v[:, 0], self.v[:, -1]], dim=1)

    def to(self, device: torch.device | str) -> PlaneBatch:
        return PlaneBatch(*(field.to(device) for field in self._fields()))

    def _fields(self) -> tuple[Tensor, ...]:
        return (self.origin, self.a, self.b_perp, self.anchors, self.u, self.v)

    def points_at(self, plane_index: Tensor, u: Tensor, v: Tensor) -> Tensor:
        """Images x1 + u a + v b_perp of the planes ``plane_index`` ([K] each) -> [K, *image_shape]."""
        view = (-1,) + (1,) * len(self.image_shape)
        return (
            self.origin[plane_index]
            + u.view(view) * self.a[plane_index]
            + v.view(view) * self.b_perp[plane_index]
        )

    def grid_points(self, flat_index: Tensor) -> Tensor:
        """Images of grid points given by flat indices into [P, R(v), R(u)] -> [K, *image_shape]."""
        per_plane = self.resolution * self.resolution
        plane_index = flat_index // per_plane
        row = (flat_index % per_plane) // self.resolution
        col = flat_index % self.resolution
        return self.points_at(plane_index, self.u[plane_index, col], self.v[plane_index, row])

    def anchor_pixels(self) -> Tensor:
        """[P, 3, 2] (row, col) of the grid cell nearest to each anchor (row follows v, col u)."""
        col = (self.anchors[:, :, 0:1] - self.u[:, None, :]).abs().argmin(dim=2)
        row = (self.anchors[:, :, 1:2] - self.v[:, None, :]).abs().argmin(dim=2)
        return torch.stack([row, col], dim=2)


def planes_through_triplets(
    images: Tensor, triplets: Tensor, *, resolution: int = 50, margin: float = 0.1
) -> PlaneBatch:
    """Planes through ``images[triplets]`` (Somepalli et al., Sec. 3), batched over triplets.

    images: [N, *image_shape]; triplets: [P, 3] indices into images. ``margin`` extends the
    anchors' bounding box by that fraction of its extent on each side; ``resolution`` points per
    axis. Raises ValueError for a degenerate triplet (x2 = x1, or x3 on the line through them).
    """
    check_positive_int("resolution", resolution)
    if resolution < 2:
        raise ValueError(f"resolution must be at least 2, got {resolution}")
    if not (margin >= 0.0):
        raise ValueError(f"margin must be a non-negative fraction, got {margin!r}")
    if triplets.ndim != 2 or triplets.shape[1] != 3:
        raise ValueError(f"triplets must have shape [P, 3], got {tuple(triplets.shape)}")
    x1, x2, x3 = (images[triplets[:, k]].to(torch.float32) for k in range(3))
    flat = (x1.flatten(1), x2.flatten(1), x3.flatten(1))
    along = flat[1] - flat[0]
    length = along.norm(dim=1)
    if bool((length == 0).any()):
        raise ValueError("triplets contain x2 == x1: the plane is undefined")
    a = along / length[:, None]
    b = flat[2] - flat[0]
    a_dot_b = (a * b).sum(dim=1)
    residual = b - a_dot_b[:, None] * a
    height = residual.norm(dim=1)
    if bool((height == 0).any()):
        raise ValueError(
            "triplets contain x3 on the line through x1 and x2: the plane is undefined"
        )
    b_perp = residual / height[:, None]
    zero = torch.zeros_like(length)
    anchors = torch.stack(
        [
            torch.stack([zero, zero], 1),
            torch.stack([length, zero], 1),
            torch.stack([a_dot_b, height], 1),
        ],
        dim=1,
    )
    low, high = anchors.min(dim=1).values, anchors.max(dim=1).values
    pad = margin * (high - low)
    low, high = low - pad, high + pad
    steps = torch.linspace(0.0, 1.0, resolution, dtype=torch.float32, device=images.device)
    grid = low[:, :, None] + (high - low)[:, :, None] * steps  # [P, 2, R]
    shape = x1.shape
    return PlaneBatch(
        origin=x1,
        a=a.view(shape),
        b_perp=b_perp.view(shape),
        anchors=anchors,
        u=grid[:, 0],
        v=grid[:, 1],
    )


def sample_triplets(labels: Tensor, n_triplets: int, seed: int) -> Tensor:
    """[n_triplets, 3] indices of images of three distinct classes, drawn uniformly (seeded).

    Each triplet draws three distinct classes among those present, then one image per class.
    """
    check_positive_int("n_triplets", n_triplets)
    labels = labels.cpu().long()
    classes, counts = labels.unique(return_counts=True)
    if classes.numel() < 3:
        raise ValueError(f"labels must contain at least 3 classes, got {classes.numel()}")
    generator = torch.Generator().manual_seed(seed)
    order = labels.argsort(stable=True)
    starts = torch.cumsum(counts, 0) - counts
    chosen = torch.rand(n_triplets, classes.numel(), generator=generator).argsort(dim=1)[:, :3]
    offset = (torch.rand(n_triplets, 3, generator=generator) * counts[chosen]).long()
    return order[starts[chosen] + offset]


@torch.no_grad()
def predict_planes(
    models: Sequence[nn.Module],
    planes: PlaneBatch,
    *,
    chunk_size: int = 128,
    block_size: int = 8192,
    device: str | torch.device = "auto",
) -> Tensor:
    """Argmax class of every model at every grid point: int64 tensor [M, P, R, R] on the CPU.

    Grid points of all planes are built ``block_size`` at a time (across plane boundaries, once for
    all models); each model then predicts the block in batches of ``chunk_size`` points (small
    batches keep activations in the CPU cache; on a GPU use large ones). Models are put in eval
    mode on ``device`` and restored to their previous mode afterwards.
    """
    check_positive_int("chunk_size", chunk_size)
    check_positive_int("block_size", block_size)
    if len(models) == 0:
        raise ValueError("models must contain at least one model")
    target = pick_device(device) if isinstance(device, str) else device
    planes = planes.to(target)
    total = len(planes) * planes.resolution**2
    predictions = torch.empty(len(models), total, dtype=torch.int64)
    was_training = [model.training for model in models]
    for model in models:
        model.to(target).eval()
    try:
        for start in range(0, total, block_size):
            stop = min(start + block_size, total)
            points = planes.grid_points(torch.arange(start, stop, device=target))
            for m, model in enumerate(models):
                labels = [model(batch).argmax(dim=1) for batch in points.split(chunk_size)]
                predictions[m, start:stop] = torch.cat(labels).cpu()
    finally:
        for model, training in zip(models, was_training, strict=True):
            model.train(training)
    return predictions.view(len(models), len(planes), planes.resolution, planes.resolution)
