"""Weak colour jitter: the tangent directions of Gamba et al.'s tangent Hessian (Eq. 5).

Images live in ``[0, 1]``. A jitter multiplies brightness, contrast and saturation by factors
drawn uniformly from ``[1 - strength, 1 + strength]`` (hue untouched), in that fixed order, and
clamps to ``[0, 1]`` after each step, like torchvision's ``ColorJitter`` (which shuffles the order
per call; a fixed order keeps the draw reproducible). Factors are drawn per image from a seeded
generator, so a result does not depend on how the images are batched (the reference code draws one
set of factors per batch).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

LUMA_WEIGHTS = (0.299, 0.587, 0.114)


def draw_jitter_factors(shape: Sequence[int], strength: float, seed: int) -> torch.Tensor:
    """Factors ``[*shape, 3]`` (brightness, contrast, saturation) uniform in ``1 +- strength``."""
    if not 0.0 <= strength < 1.0:
        raise ValueError(f"strength={strength!r} is not allowed; use a value in [0, 1)")
    generator = torch.Generator().manual_seed(seed)
    unit = torch.rand((*shape, 3), generator=generator, dtype=torch.float64)
    return (1.0 + strength * (2.0 * unit - 1.0)).float()


def grayscale(images: torch.Tensor) -> torch.Tensor:
    """Luma ``[..., 1, H, W]`` of RGB images (ITU-R 601 weights); a 1-channel image is its own."""
    if images.shape[-3] == 1:
        return images
    weights = images.new_tensor(LUMA_WEIGHTS).view(3, 1, 1)
    return (images * weights).sum(dim=-3, keepdim=True)


def _blend(images: torch.Tensor, other: torch.Tensor, factor: torch.Tensor) -> torch.Tensor:
    return (factor * images + (1.0 - factor) * other).clamp(0.0, 1.0)


def apply_colour_jitter(images: torch.Tensor, factors: torch.Tensor) -> torch.Tensor:
    """Jitter ``images [..., C, H, W]`` in ``[0, 1]`` by ``factors [..., 3]`` (broadcast)."""
    if images.shape[-3] not in (1, 3):
        raise ValueError(f"images with {images.shape[-3]} channels are not allowed; use 1 or 3")
    brightness, contrast, saturation = (factors[..., i, None, None, None] for i in range(3))
    out = (images * brightness).clamp(0.0, 1.0)
    mean_luma = grayscale(out).mean(dim=(-3, -2, -1), keepdim=True)
    out = _blend(out, mean_luma, contrast)
    return _blend(out, grayscale(out), saturation)
