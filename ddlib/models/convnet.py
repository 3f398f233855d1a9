"""Nakkiran et al.'s four-stage ConvNet ("mcnn") of width ``w``, as trained by Gamba et al.

Layers (padding 1, bias on)::

    conv3x3(C_in -> w)  ReLU
    conv3x3(w  -> 2w)   ReLU  MaxPool2
    conv3x3(2w -> 4w)   ReLU  MaxPool2
    conv3x3(4w -> 8w)   ReLU  MaxPool2
    MaxPool4  Linear(8w -> num_classes)

Gamba et al. train it without batch norm ("without confounders"); Nakkiran's original has batch
norm after every convolution, available with ``batch_norm=True``. With 3 input channels and 10
classes it has ``378 w^2 + 122 w + 10`` parameters (without batch norm). It expects 32x32 inputs:
smaller images (MNIST) are zero-padded by the data loader (``load_classification(pad_to=32)``).

Weights and activations use the channels-last memory layout, measured 1.3-2.2x faster for a
training step on CPU (widths 12 down to 1; ``benchmarks/bench_sharpness.py``); values and
initialisation are those of the default layout.
"""

from __future__ import annotations

import torch
from torch import nn

from ddlib.core.checks import check_positive_ints

INPUT_SIZE = 32


def _stage(in_channels: int, out_channels: int, batch_norm: bool, pool: bool) -> list[nn.Module]:
    layers: list[nn.Module] = [nn.Conv2d(in_channels, out_channels, 3, padding=1)]
    if batch_norm:
        layers.append(nn.BatchNorm2d(out_channels))
    layers.append(nn.ReLU())
    if pool:
        layers.append(nn.MaxPool2d(2))
    return layers


class ConvNet(nn.Module):
    """Four convolutional stages of widths ``w, 2w, 4w, 8w`` and a linear classifier."""

    def __init__(
        self, width: int, num_classes: int = 10, in_channels: int = 3, batch_norm: bool = False
    ):
        super().__init__()
        check_positive_ints(width=width, num_classes=num_classes, in_channels=in_channels)
        self.width = width
        channels = [in_channels, width, 2 * width, 4 * width, 8 * width]
        layers: list[nn.Module] = []
        for stage in range(4):
            layers += _stage(channels[stage], channels[stage + 1], batch_norm, pool=stage > 0)
        self.features = nn.Sequential(*layers, nn.MaxPool2d(4), nn.Flatten())
        self.classifier = nn.Linear(8 * width, num_classes)
        self.to(memory_format=torch.channels_last)
        self.channels_last = True  # inputs too; switched off where vmap forbids it (stacking)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[-2:] != (INPUT_SIZE, INPUT_SIZE):
            raise ValueError(
                f"ConvNet expects {INPUT_SIZE}x{INPUT_SIZE} inputs, got "
                f"{tuple(x.shape[-2:])}; pad or resize them (load_classification(pad_to=32))"
            )
        if self.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        return self.classifier(self.features(x))
