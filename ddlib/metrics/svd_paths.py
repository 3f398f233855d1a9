"""Weak-augmentation paths by SVD erasure (Gamba et al., Sec. 3.2, geodesic paths of Eq. 6).

Each channel of an image ``x`` in ``[0, 1]`` is factorised ``x_c = U diag(s) V^T`` with singular
values sorted in decreasing order (``S = min(H, W)`` of them). Strength ``k`` of path ``p`` erases
the window of indices ``[S - k - p, S - p)``: the ``k`` smallest singular values, shifted ``p``
places towards the larger ones. Every channel moves by exactly ``sqrt(sum of erased s_i^2)``
(Frobenius norm). A path starts at the image itself (anchor 0) and visits the strengths in
increasing order, so its anchors erase nested windows. Anchors are not clamped to ``[0, 1]``
(as in the reference code).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch


def validate_paths(strengths: Sequence[int], num_paths: int, num_singular: int) -> None:
    """Raise ValueError unless strengths increase within ``1..S`` and every window fits."""
    if num_paths < 1:
        raise ValueError(f"num_paths={num_paths!r} is not allowed; use a positive integer")
    ks = list(strengths)
    if not ks or ks[0] < 1 or any(b <= a for a, b in zip(ks, ks[1:], strict=False)):
        raise ValueError(f"strengths={ks!r} is not allowed; use increasing positive integers")
    if ks[-1] + num_paths - 1 > num_singular:
        raise ValueError(
            f"strengths={ks!r} with num_paths={num_paths} need "
            f"{ks[-1] + num_paths - 1} singular values; the images have "
            f"{num_singular}: lower max(strengths) or num_paths"
        )


def erasure_masks(strengths: Sequence[int], num_paths: int, num_singular: int) -> torch.Tensor:
    """Boolean ``[P, K, S]``: which singular values path ``p`` erases at strength ``k``."""
    validate_paths(strengths, num_paths, num_singular)
    index = torch.arange(num_singular)
    shift = torch.arange(num_paths).view(-1, 1, 1)
    k = torch.as_tensor(list(strengths)).view(1, -1, 1)
    return (index >= num_singular - k - shift) & (index < num_singular - shift)


def svd_erasure_anchors(
    images: torch.Tensor, strengths: Sequence[int], num_paths: int
) -> torch.Tensor:
    """Anchors ``[P, K, N, C, H, W]`` of the erasure paths of ``images [N, C, H, W]``."""
    u, s, vh = torch.linalg.svd(images.double(), full_matrices=False)
    masks = erasure_masks(strengths, num_paths, s.shape[-1]).to(s.dtype)
    erased = torch.einsum("nchs,pks,ncs,ncsw->pknchw", u, masks, s, vh)
    return (images.double() - erased).to(images.dtype)
