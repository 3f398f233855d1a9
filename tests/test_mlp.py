"""MLP of Humayun et al.: architecture, init scaling, dtype and parameter checks."""

import pytest
import torch

from ddlib.models.mlp import MLP


def test_layer_sizes_and_flattening():
    model = MLP(in_features=12, num_classes=3, depth=4, width=7)
    assert [layer.weight.shape for layer in model.linear_layers()] == [
        (7, 12),
        (7, 7),
        (7, 7),
        (7, 7),
        (3, 7),
    ]
    assert model(torch.zeros(5, 3, 2, 2)).shape == (5, 3)
    assert len(model.activations) == 4


def test_init_scale_multiplies_weights_and_biases_exactly():
    torch.manual_seed(3)
    plain = MLP(6, 2, depth=2, width=5)
    torch.manual_seed(3)
    scaled = MLP(6, 2, depth=2, width=5, init_scale=8.0)
    for a, b in zip(plain.parameters(), scaled.parameters()):
        torch.testing.assert_close(8.0 * a, b, rtol=0, atol=0)


@pytest.mark.parametrize(
    ("activation", "expected"),
    [("relu", torch.nn.ReLU), ("leaky_relu", torch.nn.LeakyReLU), ("gelu", torch.nn.GELU)],
)
def test_activation_modules(activation, expected):
    model = MLP(4, 2, depth=2, width=3, activation=activation, dtype=torch.float64)
    assert all(isinstance(m, expected) for m in model.activations)
    assert all(p.dtype == torch.float64 for p in model.parameters())


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"depth": 0}, "depth"),
        ({"width": 0}, "width"),
        ({"activation": "tanh"}, "activation"),
        ({"init_scale": 0.0}, "init_scale"),
        ({"dtype": torch.float16}, "dtype"),
        ({"in_features": 0}, "in_features"),
    ],
)
def test_bad_parameters_name_themselves(kwargs, name):
    arguments = {"in_features": 4, "num_classes": 2, "depth": 2, "width": 3} | kwargs
    with pytest.raises(ValueError, match=name):
        MLP(**arguments)


def test_per_layer_widths_give_somepalli_fully_connected_net():
    model = MLP(3072, 10, depth=4, width=[1024, 512, 256, 64])
    sizes = [(layer.in_features, layer.out_features) for layer in model.linear_layers()]
    assert sizes == [(3072, 1024), (1024, 512), (512, 256), (256, 64), (64, 10)]
    assert model(torch.zeros(2, 3, 32, 32)).shape == (2, 10)
    with pytest.raises(ValueError, match="width"):
        MLP(10, 2, depth=2, width=[4])
