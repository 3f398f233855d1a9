"""Architectures of Somepalli et al.'s architecture study (docs/papers.md §4), in two sizes.

Constructor defaults are the paper's CIFAR-10 models: VGG19, DenseNet121 (growth 32),
WideResNet-28-10, ViT (patch 4, dim 512, depth 6, 8 heads) and MLPMixer (patch 4, dim 512,
depth 12). ``zoo_specs("small", ...)`` gives laptop-sized variants of the same families, plus the
MLP, ConvNet and PreAct-ResNet18 of the other modules, as ``build_model`` specs.

All models take N x C x H x W images. Convolutional models end in global average pooling, so
28 x 28 and 32 x 32 inputs both work; ViT and MLPMixer need ``image_size`` divisible by the patch.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from ddlib.core.checks import check_positive_ints
from ddlib.models.layers import norm2d
from ddlib.models.resnet import PreActBlock

SIZES = ("small", "paper")
VGG19_STAGES = (2, 2, 4, 4, 4)
DENSENET121_BLOCKS = (6, 12, 24, 16)


class VGG(nn.Module):
    """VGG (Simonyan & Zisserman 2015) for 32 x 32 inputs: five stages of 3x3 conv-norm-ReLU, each
    followed by 2x2 max pooling, widths ``[w, 2w, 4w, 8w, 8w]``, then a linear classifier.
    ``stages=(2, 2, 4, 4, 4)`` with ``width=64`` is VGG19, ``(1, 1, 2, 2, 2)`` VGG11."""

    def __init__(
        self,
        stages: tuple[int, ...] = VGG19_STAGES,
        width: int = 64,
        num_classes: int = 10,
        in_channels: int = 3,
        batch_norm: bool = True,
    ):
        super().__init__()
        check_positive_ints(width=width, num_classes=num_classes, in_channels=in_channels)
        if len(stages) != 5 or any(not isinstance(n, int) or n < 1 for n in stages):
            raise ValueError(
                f"stages must be 5 positive conv counts (VGG19: {VGG19_STAGES}), got {stages!r}"
            )
        layers: list[nn.Module] = []
        channels = in_channels
        for stage, convs in enumerate(stages):
            out_channels = width * 2 ** min(stage, 3)
            for _ in range(convs):
                layers += [
                    nn.Conv2d(channels, out_channels, 3, padding=1, bias=not batch_norm),
                    norm2d(out_channels, batch_norm),
                    nn.ReLU(inplace=True),
                ]
                channels = out_channels
            layers.append(nn.MaxPool2d(2, ceil_mode=True))
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Linear(channels, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(F.adaptive_avg_pool2d(self.features(x), 1).flatten(1))


class _DenseLayer(nn.Module):
    """Bottleneck layer of DenseNet-BC: norm-ReLU-conv1x1 (4k), norm-ReLU-conv3x3 (k), concatenated."""

    def __init__(self, in_channels: int, growth: int):
        super().__init__()
        self.block = nn.Sequential(
            nn.BatchNorm2d(in_channels),
            nn.ReLU(inplace=True),
            nn.Conv2d(in_channels, 4 * growth, 1, bias=False),
            nn.BatchNorm2d(4 * growth),
            nn.ReLU(inplace=True),
            nn.Conv2d(4 * growth, growth, 3, padding=1, bias=False),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([x, self.block(x)], dim=1)


class DenseNet(nn.Module):
    """DenseNet-BC (Huang et al. 2017) for CIFAR: 3x3 stem of 2k channels, dense blocks of
    ``blocks[i]`` bottleneck layers of growth k, transitions (norm-ReLU-conv1x1 compressing by
    ``reduction``, 2x2 average pooling), final norm-ReLU, global pooling, linear.
    ``blocks=(6, 12, 24, 16), growth=32`` is DenseNet121."""

    def __init__(
        self,
        blocks: tuple[int, ...] = DENSENET121_BLOCKS,
        growth: int = 32,
        reduction: float = 0.5,
        num_classes: int = 10,
        in_channels: int = 3,
    ):
        super().__init__()
        check_positive_ints(growth=growth, num_classes=num_classes, in_channels=in_channels)
        if not blocks or any(not isinstance(n, int) or n < 1 for n in blocks):
            raise ValueError(
                f"blocks must be positive layer counts (DenseNet121: {DENSENET121_BLOCKS})"
            )
        if not 0 < reduction <= 1:
            raise ValueError(f"reduction must lie in (0, 1], got {reduction!r}")
        channels = 2 * growth
        layers: list[nn.Module] = [nn.Conv2d(in_channels, channels, 3, padding=1, bias=False)]
        for index, depth in enumerate(blocks):
            for _ in range(depth):
                layers.append(_DenseLayer(channels, growth))
                channels += growth
            if index < len(blocks) - 1:
                out_channels = int(channels * reduction)
                layers += [
                    nn.BatchNorm2d(channels),
                    nn.ReLU(inplace=True),
                    nn.Conv2d(channels, out_channels, 1, bias=False),
                    nn.AvgPool2d(2),
                ]
                channels = out_channels
        layers += [nn.BatchNorm2d(channels), nn.ReLU(inplace=True)]
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Linear(channels, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(F.adaptive_avg_pool2d(self.features(x), 1).flatten(1))


class WideResNet(nn.Module):
    """WideResNet-depth-widen (Zagoruyko & Komodakis 2016): a 3x3 stem of ``base`` channels, then
    three groups of (depth - 4) / 6 wide blocks with ``[base k, 2 base k, 4 base k]`` channels and
    strides 1, 2, 2, final norm-ReLU, global pooling, linear. ``base=16`` is the paper's network."""

    def __init__(
        self,
        depth: int = 28,
        widen: int = 10,
        num_classes: int = 10,
        in_channels: int = 3,
        base: int = 16,
        dropout: float = 0.0,
    ):
        super().__init__()
        check_positive_ints(widen=widen, num_classes=num_classes, in_channels=in_channels, base=base)
        if not isinstance(depth, int) or depth < 10 or (depth - 4) % 6:
            raise ValueError(
                f"depth must be 6n + 4 with n >= 1 (10, 16, 22, 28, ...), got {depth!r}"
            )
        if not 0 <= dropout < 1:
            raise ValueError(f"dropout must lie in [0, 1), got {dropout!r}")
        per_group = (depth - 4) // 6
        layers: list[nn.Module] = [nn.Conv2d(in_channels, base, 3, padding=1, bias=False)]
        channels = base
        for group, stride in enumerate((1, 2, 2)):
            out_channels = base * widen * 2**group
            for index in range(per_group):
                layers.append(
                    PreActBlock(channels, out_channels, stride if index == 0 else 1,
                                batch_norm=True, dropout=dropout)
                )
                channels = out_channels
        layers += [nn.BatchNorm2d(channels), nn.ReLU(inplace=True)]
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Linear(channels, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(F.adaptive_avg_pool2d(self.features(x), 1).flatten(1))


class _PatchEmbedding(nn.Module):
    """Non-overlapping patches of ``patch_size`` pixels, each projected linearly to ``dim``."""

    def __init__(self, image_size: int, patch_size: int, in_channels: int, dim: int):
        super().__init__()
        check_positive_ints(
            image_size=image_size, patch_size=patch_size, in_channels=in_channels, dim=dim
        )
        if image_size % patch_size:
            raise ValueError(
                f"image_size={image_size} must be divisible by patch_size={patch_size}"
            )
        self.image_size = image_size
        self.num_patches = (image_size // patch_size) ** 2
        self.project = nn.Conv2d(in_channels, dim, patch_size, stride=patch_size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[-2:] != (self.image_size, self.image_size):
            raise ValueError(
                f"expected {self.image_size}x{self.image_size} images, got {tuple(x.shape[-2:])}"
            )
        return self.project(x).flatten(2).transpose(1, 2)  # [N, patches, dim]


class _FeedForward(nn.Sequential):
    def __init__(self, dim: int, hidden: int, dropout: float):
        super().__init__(
            nn.Linear(dim, hidden),
            nn.GELU(),
            nn.Dropout(dropout),
            nn.Linear(hidden, dim),
            nn.Dropout(dropout),
        )


class _SelfAttention(nn.Module):
    """Multi-head scaled dot-product self-attention (Vaswani et al. 2017, Eq. 1)."""

    def __init__(self, dim: int, heads: int, dropout: float):
        super().__init__()
        self.heads, self.dropout = heads, dropout
        self.qkv = nn.Linear(dim, 3 * dim)
        self.out = nn.Linear(dim, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        batch, tokens, dim = x.shape
        q, k, v = (
            self.qkv(x).view(batch, tokens, 3, self.heads, dim // self.heads).permute(2, 0, 3, 1, 4)
        )
        attended = F.scaled_dot_product_attention(
            q, k, v, dropout_p=self.dropout if self.training else 0.0
        )
        return self.out(attended.transpose(1, 2).reshape(batch, tokens, dim))


class _TransformerBlock(nn.Module):
    """Pre-norm encoder block: x + attention(LN x), then x + MLP(LN x)."""

    def __init__(self, dim: int, heads: int, mlp_dim: int, dropout: float):
        super().__init__()
        self.norm1, self.attention = nn.LayerNorm(dim), _SelfAttention(dim, heads, dropout)
        self.norm2, self.mlp = nn.LayerNorm(dim), _FeedForward(dim, mlp_dim, dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attention(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class ViT(nn.Module):
    """Vision Transformer (Dosovitskiy et al. 2021) for small images: patch embedding, a class token,
    learned position embeddings, ``depth`` pre-norm encoder blocks, final LN, linear head on the
    class token. Defaults: the paper's CIFAR ViT (patch 4, dim 512, depth 6, 8 heads, MLP 512)."""

    def __init__(
        self,
        image_size: int = 32,
        patch_size: int = 4,
        dim: int = 512,
        depth: int = 6,
        heads: int = 8,
        mlp_dim: int = 512,
        num_classes: int = 10,
        in_channels: int = 3,
        dropout: float = 0.0,
    ):
        super().__init__()
        check_positive_ints(depth=depth, heads=heads, mlp_dim=mlp_dim, num_classes=num_classes)
        if dim % heads:
            raise ValueError(f"dim={dim} must be divisible by heads={heads}")
        if not 0 <= dropout < 1:
            raise ValueError(f"dropout must lie in [0, 1), got {dropout!r}")
        self.patches = _PatchEmbedding(image_size, patch_size, in_channels, dim)
        self.class_token = nn.Parameter(torch.zeros(1, 1, dim))
        self.position = nn.Parameter(torch.randn(1, self.patches.num_patches + 1, dim) * 0.02)
        self.blocks = nn.Sequential(
            *(_TransformerBlock(dim, heads, mlp_dim, dropout) for _ in range(depth))
        )
        self.norm = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        tokens = self.patches(x)
        tokens = torch.cat([self.class_token.expand(tokens.shape[0], -1, -1), tokens], dim=1)
        tokens = self.blocks(tokens + self.position)
        return self.head(self.norm(tokens[:, 0]))


class _MixerBlock(nn.Module):
    """Token mixing (MLP across patches) then channel mixing (MLP across features), pre-norm."""

    def __init__(
        self, num_patches: int, dim: int, token_dim: int, channel_dim: int, dropout: float
    ):
        super().__init__()
        self.norm1, self.token_mlp = (
            nn.LayerNorm(dim),
            _FeedForward(num_patches, token_dim, dropout),
        )
        self.norm2, self.channel_mlp = nn.LayerNorm(dim), _FeedForward(dim, channel_dim, dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.token_mlp(self.norm1(x).transpose(1, 2)).transpose(1, 2)
        return x + self.channel_mlp(self.norm2(x))


class MLPMixer(nn.Module):
    """MLP-Mixer (Tolstikhin et al. 2021): patch embedding, ``depth`` mixer blocks, final LN, mean
    over patches, linear head. Defaults: patch 4, dim 512, depth 12 (as in the paper), token and
    channel MLP widths 256 and 2048 (Mixer-S ratios; the paper does not state them)."""

    def __init__(
        self,
        image_size: int = 32,
        patch_size: int = 4,
        dim: int = 512,
        depth: int = 12,
        token_dim: int = 256,
        channel_dim: int = 2048,
        num_classes: int = 10,
        in_channels: int = 3,
        dropout: float = 0.0,
    ):
        super().__init__()
        check_positive_ints(
            depth=depth, token_dim=token_dim, channel_dim=channel_dim, num_classes=num_classes
        )
        if not 0 <= dropout < 1:
            raise ValueError(f"dropout must lie in [0, 1), got {dropout!r}")
        self.patches = _PatchEmbedding(image_size, patch_size, in_channels, dim)
        num_patches = self.patches.num_patches
        self.blocks = nn.Sequential(
            *(_MixerBlock(num_patches, dim, token_dim, channel_dim, dropout) for _ in range(depth))
        )
        self.norm = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.norm(self.blocks(self.patches(x))).mean(dim=1))


def zoo_specs(
    size: str, *, in_channels: int = 3, image_size: int = 32, num_classes: int = 10
) -> dict[str, dict[str, Any]]:
    """``build_model`` specs of every architecture family, keyed by a display label.

    ``"paper"``: the networks of Somepalli et al. (the fully connected net is the MLP of
    ``ddlib.models.mlp`` with hidden widths 1024-512-256-64). ``"small"``: laptop variants of the same
    families (10k to 400k parameters) that train on a CPU in seconds per epoch.
    """
    if size not in SIZES:
        raise ValueError(f"size must be one of {SIZES}, got {size!r}")
    check_positive_ints(in_channels=in_channels, image_size=image_size, num_classes=num_classes)
    common = {"in_channels": in_channels, "num_classes": num_classes}
    image = {"image_size": image_size, "patch_size": 4}
    features = in_channels * image_size**2
    if size == "paper":
        specs = {
            "MLP": {
                "name": "mlp",
                "in_features": features,
                "num_classes": num_classes,
                "depth": 4,
                "width": [1024, 512, 256, 64],
            },
            "ConvNet": {"name": "convnet", "width": 64, **common},
            "ResNet18": {"name": "preact_resnet18", "width": 64, **common},
            "WideRN10": {"name": "wide_resnet", "depth": 28, "widen": 10, **common},
            "WideRN20": {"name": "wide_resnet", "depth": 28, "widen": 20, **common},
            "WideRN30": {"name": "wide_resnet", "depth": 28, "widen": 30, **common},
            "DenseNet": {"name": "densenet", **common},
            "VGG": {"name": "vgg", **common},
            "ViT": {"name": "vit", **image, **common},
            "MLPMixer": {"name": "mlp_mixer", **image, **common},
        }
    else:
        specs = {
            "MLP": {
                "name": "mlp",
                "in_features": features,
                "num_classes": num_classes,
                "depth": 2,
                "width": 128,
            },
            "ConvNet": {"name": "convnet", "width": 8, **common},
            "ResNet18": {"name": "preact_resnet18", "width": 4, **common},
            "WideRN": {"name": "wide_resnet", "depth": 10, "widen": 2, "base": 4, **common},
            "DenseNet": {"name": "densenet", "blocks": [1, 1, 1], "growth": 6, **common},
            "VGG": {"name": "vgg", "stages": [1, 1, 1, 1, 1], "width": 8, **common},
            "ViT": {
                "name": "vit",
                **image,
                "dim": 32,
                "depth": 2,
                "heads": 2,
                "mlp_dim": 64,
                **common,
            },
            "MLPMixer": {
                "name": "mlp_mixer",
                **image,
                "dim": 32,
                "depth": 2,
                "token_dim": 32,
                "channel_dim": 64,
                **common,
            },
        }
    return specs
