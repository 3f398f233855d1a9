"""Pre-activation ResNet18 of base width ``w`` (He et al. 2016), as in Nakkiran et al. / Gamba et al.

Four stages of two pre-activation basic blocks with widths ``[w, 2w, 4w, 8w]`` and strides
``[1, 2, 2, 2]``; a 3x3 stem convolution; final norm-ReLU, global average pooling and a linear
classifier. ``w = 64`` is the standard ResNet18. ``batch_norm=False`` replaces every batch norm by
the identity (Gamba et al.'s practical setting uses batch norm). On CUDA the inputs are made
channels-last (cuDNN then runs the convolutions in that layout); on the CPU the default layout is
kept: torch 2.14.1's CPU backward of this network in channels-last crashed the process (a heap
corruption / segfault at width 4, one thread, reproduced outside the notebooks).
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from ddlib.core.checks import check_positive_ints
from ddlib.models.layers import norm2d


class PreActBlock(nn.Module):
    """norm-ReLU-conv3x3, (dropout), norm-ReLU-conv3x3, plus a (1x1 convolution) shortcut.

    Also the wide basic block of WideResNet (Zagoruyko and Komodakis 2016), with ``dropout``.
    """

    def __init__(self, in_channels: int, out_channels: int, stride: int, batch_norm: bool,
                 dropout: float = 0.0):
        super().__init__()
        self.norm1 = norm2d(in_channels, batch_norm)
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride, padding=1, bias=False)
        self.norm2 = norm2d(out_channels, batch_norm)
        self.dropout = nn.Dropout(dropout)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, 1, padding=1, bias=False)
        needs_projection = stride != 1 or in_channels != out_channels
        self.shortcut = (
            nn.Conv2d(in_channels, out_channels, 1, stride, bias=False)
            if needs_projection
            else None
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        activated = F.relu(self.norm1(x))
        shortcut = self.shortcut(activated) if self.shortcut is not None else x
        out = self.conv2(self.dropout(F.relu(self.norm2(self.conv1(activated)))))
        return out + shortcut


class PreActResNet18(nn.Module):
    """Pre-activation ResNet18 with stage widths ``[w, 2w, 4w, 8w]``."""

    def __init__(
        self, width: int = 64, num_classes: int = 10, in_channels: int = 3, batch_norm: bool = True
    ):
        super().__init__()
        check_positive_ints(width=width, num_classes=num_classes, in_channels=in_channels)
        self.width = width
        self.stem = nn.Conv2d(in_channels, width, 3, 1, padding=1, bias=False)
        blocks: list[nn.Module] = []
        channels = width
        for stage, stride in enumerate((1, 2, 2, 2)):
            out_channels = width * 2**stage
            blocks.append(PreActBlock(channels, out_channels, stride, batch_norm))
            blocks.append(PreActBlock(out_channels, out_channels, 1, batch_norm))
            channels = out_channels
        self.blocks = nn.Sequential(*blocks)
        self.final_norm = norm2d(channels, batch_norm)
        self.classifier = nn.Linear(channels, num_classes)
        self.channels_last = True  # on CUDA only; switched off where vmap forbids it (stacking)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.channels_last and x.is_cuda:
            x = x.contiguous(memory_format=torch.channels_last)
        out = self.blocks(self.stem(x))
        out = F.relu(self.final_norm(out))
        return self.classifier(F.adaptive_avg_pool2d(out, 1).flatten(1))
