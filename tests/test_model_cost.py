"""The one cost model (``ddlib.models.cost``) against analytic counts."""

import pytest
import torch

from ddlib.models import build_model, parameter_count
from ddlib.models.cost import FlopCount, model_cost, width_costs


def test_linear_forward_is_two_flop_per_multiply_add():
    """MLP 64 -> h -> 10: forward 2 (64 h + 10 h) per example; training adds the weight gradients
    (as many again) and the input gradient of the second layer (2 * 10 h), none for the input."""
    h = 16
    cost = model_cost({"name": "mlp", "in_features": 64, "num_classes": 10, "depth": 1,
                       "width": h}, (64,))
    assert cost.forward_flop == 2 * (64 * h + 10 * h)
    assert cost.training_flop == 4 * (64 * h + 10 * h) + 2 * 10 * h
    assert cost.parameters == 65 * h + (h + 1) * 10
    assert cost.activations == 2 * h + 10  # hidden pre-activation, activation, logits
    assert cost.largest_activation == h


@pytest.mark.parametrize("w", [1, 2, 5, 16])
def test_convnet_counts(w):
    """378 w^2 + 122 w + 10 parameters (3 channels, 10 classes); forward 2 MACs of the 3 x 3
    convolutions at 32, 32, 16, 8 pixels (55,296 w^2 + 27,648 w) and the 8w -> 10 classifier;
    training about 3x the forward (less: the first convolution's input needs no gradient)."""
    cost = model_cost({"name": "convnet", "width": w}, (3, 32, 32))
    assert cost.parameters == 378 * w**2 + 122 * w + 10
    assert cost.forward_flop == 2 * (55_296 * w**2 + 27_648 * w + 80 * w)
    first_input_gradient = 2 * 9 * 3 * w * 32 * 32
    assert cost.training_flop == 3 * cost.forward_flop - first_input_gradient
    assert cost.largest_activation == 2 * w * 32 * 32


@pytest.mark.parametrize("spec", [
    {"name": "preact_resnet18", "width": 2},
    {"name": "vgg", "width": 2, "stages": (1, 1, 1, 1, 1)},
    {"name": "densenet", "blocks": (1, 1), "growth": 4},
])
def test_meta_counts_equal_real_counts(spec):
    """Parameters as on a real model; FLOP as counted on CPU tensors (the meta count drops the
    norms and activations, which no formula counts)."""
    cost = model_cost(spec, (3, 32, 32))
    model = build_model(spec)
    assert cost.parameters == parameter_count(model)
    with FlopCount() as counter:
        model(torch.zeros(2, 3, 32, 32)).sum().backward()
    assert cost.training_flop == counter.flop // 2


def test_vit_forward_counts_attention():
    """2 x 2 patches of 4 x 4 pixels and a class token (T = 5 tokens of d = 16): the patch
    projection, q k v, output and feed-forward layers, q k^T and attention-weighted v (2 T^2 d
    each) and the head. (On CPU tensors PyTorch's fused attention kernel has no FLOP formula.)"""
    T, d = 5, 16
    spec = {"name": "vit", "image_size": 8, "patch_size": 4, "dim": d, "depth": 1, "heads": 2,
            "mlp_dim": d}
    patches = 2 * 4 * d * (3 * 4 * 4)
    layers = 2 * T * (d * 3 * d + d * d + 2 * d * d)
    assert model_cost(spec, (3, 8, 8)).forward_flop == patches + layers + 4 * T * T * d + 2 * d * 10


def test_width_sweep_is_the_counts_of_each_width():
    widths = [1, 2, 3, 4, 6, 9, 16]
    base = {"name": "preact_resnet18", "num_classes": 100}
    sweep = width_costs(base, widths, (3, 32, 32))
    assert sweep[9] == model_cost({**base, "width": 9}, (3, 32, 32))
    mlp = {"name": "mlp", "in_features": 20, "num_classes": 10, "depth": 2}
    sweep = width_costs(mlp, [1, 2, 3, 5, 40], (20,))  # largest: the logits up to width 10
    assert all(sweep[w] == model_cost({**mlp, "width": w}, (20,)) for w in (5, 40))


def test_counts_are_cached_per_spec_and_shape():
    spec = {"name": "convnet", "width": 3}
    assert model_cost(spec, (3, 32, 32)) is model_cost(dict(spec), [3, 32, 32])
