"""ConvNet and PreActResNet18 of notebook 02: exact parameter counts, shapes, bad parameters."""

import pytest
import torch

from ddlib.models.convnet import ConvNet
from ddlib.models.resnet import PreActResNet18


def parameter_count(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


@pytest.mark.parametrize("width", [1, 2, 3, 7, 16, 64])
def test_convnet_parameter_count_matches_closed_form(width):
    assert parameter_count(ConvNet(width)) == 378 * width**2 + 122 * width + 10


def test_convnet_layers_follow_the_recipe():
    model = ConvNet(3, num_classes=7, in_channels=1)
    convolutions = [m for m in model.modules() if isinstance(m, torch.nn.Conv2d)]
    assert [(c.in_channels, c.out_channels) for c in convolutions] == [
        (1, 3),
        (3, 6),
        (6, 12),
        (12, 24),
    ]
    assert all(c.kernel_size == (3, 3) and c.padding == (1, 1) for c in convolutions)
    pools = [m.kernel_size for m in model.modules() if isinstance(m, torch.nn.MaxPool2d)]
    assert pools == [2, 2, 2, 4]
    assert model(torch.randn(5, 1, 32, 32)).shape == (5, 7)


def test_convnet_batch_norm_adds_one_norm_per_convolution():
    model = ConvNet(4, batch_norm=True)
    norms = [m for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    assert [n.num_features for n in norms] == [4, 8, 16, 32]
    assert parameter_count(model) == 378 * 16 + 122 * 4 + 10 + 2 * (4 + 8 + 16 + 32)


def test_convnet_rejects_other_image_sizes_and_bad_width():
    with pytest.raises(ValueError, match="32x32"):
        ConvNet(2, in_channels=1)(torch.randn(1, 1, 28, 28))
    with pytest.raises(ValueError, match="width"):
        ConvNet(0)


def test_preact_resnet18_standard_width_has_known_size():
    # 11,171,146 for the common CIFAR PreActResNet18 plus the final norm (2 x 512).
    assert parameter_count(PreActResNet18(64)) == 11_172_170
    model = PreActResNet18(2, num_classes=100, batch_norm=False)
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in model.modules())
    assert model(torch.randn(3, 3, 32, 32)).shape == (3, 100)
    with pytest.raises(ValueError, match="num_classes"):
        PreActResNet18(4, num_classes=0)
