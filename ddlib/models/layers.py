"""Layer helpers shared by the model families: optional batch norm and dtype names."""

from __future__ import annotations

import torch
from torch import nn

DTYPES = {"float32": torch.float32, "float64": torch.float64}  # JSON-friendly dtype names


def norm2d(channels: int, batch_norm: bool) -> nn.Module:
    """``BatchNorm2d(channels)``, or the identity when ``batch_norm`` is False."""
    return nn.BatchNorm2d(channels) if batch_norm else nn.Identity()
