"""The architecture zoo: every family builds through build_model, and paper sizes match known counts."""

from __future__ import annotations

import pytest
import torch

from ddlib.models import build_model, parameter_count
from ddlib.models.zoo import VGG, MLPMixer, ViT, WideResNet, zoo_specs

FAMILIES = {
    "mlp",
    "convnet",
    "preact_resnet18",
    "wide_resnet",
    "densenet",
    "vgg",
    "vit",
    "mlp_mixer",
}


@pytest.mark.parametrize("in_channels", [1, 3])
def test_small_zoo_builds_and_classifies(in_channels):
    specs = zoo_specs("small", in_channels=in_channels, image_size=32, num_classes=7)
    assert {spec["name"] for spec in specs.values()} == FAMILIES
    x = torch.randn(3, in_channels, 32, 32)
    for label, spec in specs.items():
        model = build_model(spec)
        logits = model(x)
        assert logits.shape == (3, 7), label
        assert bool(torch.isfinite(logits).all()), label
        assert parameter_count(model) < 500_000, label


def test_paper_sizes_have_the_published_parameter_counts():
    specs = zoo_specs("paper")
    counts = {
        label: parameter_count(build_model(spec))
        for label, spec in specs.items()
        if label in ("DenseNet", "WideRN10", "VGG")
    }
    assert counts["DenseNet"] == 6_956_298  # DenseNet121 (growth 32) for CIFAR-10
    assert counts["WideRN10"] == 36_479_194  # WRN-28-10
    # VGG19 with batch norm is 20,040,522 with conv biases; ours are bias-free before batch norm
    assert counts["VGG"] == 20_040_522 - (2 * 64 + 2 * 128 + 4 * 256 + 8 * 512)


def test_vit_and_mixer_parameter_counts_follow_their_formulas():
    dim, depth, mlp, patches, patch_pixels = 512, 6, 512, 64, 3 * 16
    block = 4 * dim + (3 * dim * dim + 3 * dim) + (dim * dim + dim) + (2 * dim * mlp + mlp + dim)
    vit = (
        (patch_pixels * dim + dim)
        + dim
        + (patches + 1) * dim
        + depth * block
        + 2 * dim
        + (dim * 10 + 10)
    )
    assert parameter_count(ViT()) == vit
    token, channel, depth = 256, 2048, 12
    mixer_block = (
        4 * dim + (2 * patches * token + token + patches) + (2 * dim * channel + channel + dim)
    )
    mixer = (patch_pixels * dim + dim) + depth * mixer_block + 2 * dim + (dim * 10 + 10)
    assert parameter_count(MLPMixer()) == mixer


def test_convolutional_models_accept_28_by_28_inputs():
    x = torch.randn(2, 1, 28, 28)
    assert VGG(stages=(1, 1, 1, 1, 1), width=4, in_channels=1)(x).shape == (2, 10)
    assert WideResNet(depth=10, widen=1, base=4, in_channels=1)(x).shape == (2, 10)


def test_attention_is_permutation_equivariant_without_position_embedding():
    torch.manual_seed(0)
    model = ViT(
        image_size=8, patch_size=4, dim=8, depth=1, heads=2, mlp_dim=8, in_channels=1
    ).eval()
    tokens = torch.randn(2, 5, 8)
    order = torch.tensor([3, 0, 4, 1, 2])
    block = model.blocks[0]
    torch.testing.assert_close(block(tokens[:, order]), block(tokens)[:, order])


def test_bad_parameters_raise():
    with pytest.raises(ValueError, match="size"):
        zoo_specs("huge")
    with pytest.raises(ValueError, match="depth"):
        WideResNet(depth=12)
    with pytest.raises(ValueError, match="divisible by heads"):
        ViT(dim=30, heads=8)
    with pytest.raises(ValueError, match="patch_size"):
        MLPMixer(image_size=30, patch_size=4)
    with pytest.raises(ValueError, match="stages"):
        VGG(stages=(1, 1))
    with pytest.raises(ValueError, match="expected 32x32"):
        ViT(dim=16, depth=1, heads=2, mlp_dim=8)(torch.randn(1, 3, 28, 28))
    with pytest.raises(ValueError, match="width"):
        build_model({"name": "vgg", "width": 0})


def test_the_small_resnet_trains_on_one_cpu_thread_without_crashing_the_process():
    """torch 2.14.1's CPU backward of PreActResNet18 (width 4) in channels-last corrupted the heap
    (notebook 04's kernel died); on the CPU the model keeps the default layout."""
    import subprocess
    import sys

    script = ("import torch; torch.set_num_threads(1); torch.manual_seed(0)\n"
              "from ddlib.models import build_model\n"
              "m = build_model({'name': 'preact_resnet18', 'width': 4, 'in_channels': 3, 'num_classes': 10})\n"
              "x, y = torch.randn(128, 3, 32, 32), torch.randint(0, 10, (128,))\n"
              "for _ in range(30):\n"
              "    torch.nn.functional.cross_entropy(m(x), y).backward()\n"
              "assert all(p.is_contiguous() for p in m.parameters())\n"
              "print('trained')\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0 and done.stdout.strip() == "trained", done.stderr[-2000:]
