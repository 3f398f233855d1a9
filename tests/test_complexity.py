"""Local complexity against exact counts (Humayun et al., appendix validation cases)."""

import pytest
import torch
from torch import nn

from ddlib.metrics.local_complexity import cross_polytope, local_complexity, orthonormal_frame
from ddlib.models.mlp import MLP


def test_frame_is_orthonormal_seeded_and_leaves_global_rng_alone():
    state = torch.get_rng_state()
    frame = orthonormal_frame(30, 7, seed=4, dtype=torch.float64)
    assert torch.equal(torch.get_rng_state(), state)
    torch.testing.assert_close(frame @ frame.T, torch.eye(7, dtype=torch.float64))
    assert torch.equal(frame, orthonormal_frame(30, 7, seed=4, dtype=torch.float64))
    assert not torch.equal(frame, orthonormal_frame(30, 7, seed=5, dtype=torch.float64))


def test_cross_polytope_vertices():
    x = torch.tensor([[1.0, 2.0, 3.0]])
    vertices = cross_polytope(x, torch.eye(3)[:2], radius=0.5)
    expected = [[1.5, 2, 3], [1, 2.5, 3], [0.5, 2, 3], [1, 1.5, 3]]
    torch.testing.assert_close(vertices[0], torch.tensor(expected))


@pytest.mark.parametrize("radius", [1e-3, 1.0, 1e3])
@pytest.mark.parametrize("num_directions", [2, 5])
def test_zero_bias_deep_linear_network_recovers_every_hyperplane(radius, num_directions):
    """Appendix case (a): at the origin every neuron's hyperplane passes through the point."""
    torch.manual_seed(0)
    width, depth = 400, 50
    layers = []
    for _ in range(depth):
        layers += [nn.Linear(width, width, bias=False, dtype=torch.float64), nn.LeakyReLU(1.0)]
    model = nn.Sequential(*layers)  # LeakyReLU(1) is the identity: a deep linear network
    lc = local_complexity(
        model, torch.zeros(1, width, dtype=torch.float64), radius, num_directions, seed=1
    )
    assert lc.per_layer.tolist() == [[width] * depth]


@pytest.mark.parametrize("first_layer_by_linearity", [True, False])
def test_one_hidden_layer_counts_hyperplanes_crossing_the_cross_polytope(first_layer_by_linearity):
    """w.x + b = 0 meets conv{x +- r v_p} iff |w.x + b| < r max_p |w.v_p| (independent count)."""
    torch.manual_seed(1)
    model = MLP(20, 3, depth=1, width=64, dtype=torch.float64)
    x = torch.randn(300, 20, dtype=torch.float64)
    radius, frame = 0.4, orthonormal_frame(20, 6, seed=2, dtype=torch.float64)
    lc = local_complexity(
        model,
        x,
        radius,
        directions=frame,
        vertices_per_batch=100,
        first_layer_by_linearity=first_layer_by_linearity,
    )
    weight, bias = model.hidden[0].weight, model.hidden[0].bias
    reach = radius * (frame @ weight.T).abs().max(dim=0).values
    expected = ((x @ weight.T + bias).abs() < reach).sum(dim=1)
    assert torch.equal(lc.total, expected)
    assert lc.mean() == pytest.approx(expected.double().mean().item())


def test_batching_and_linearity_do_not_change_counts():
    torch.manual_seed(2)
    model = MLP(30, 4, depth=3, width=40, dtype=torch.float64)
    x = torch.rand(50, 30, dtype=torch.float64)
    reference = local_complexity(
        model, x, 0.3, 8, vertices_per_batch=16, first_layer_by_linearity=False
    )
    fast = local_complexity(model, x, 0.3, 8, vertices_per_batch=10_000)
    assert torch.equal(reference.per_layer, fast.per_layer)
    assert reference.layer_names == ["activations.0", "activations.1", "activations.2"]
    with_output = local_complexity(model, x, 0.3, 8, include_output=True)
    assert with_output.layer_names[-1] == "output"
    assert torch.equal(with_output.per_layer[:, :3], fast.per_layer)


def test_conv_net_counts_every_channel_pixel():
    torch.manual_seed(3)
    conv = nn.Conv2d(2, 3, 3, padding=1, dtype=torch.float64)
    model = nn.Sequential(
        conv, nn.ReLU(), nn.Flatten(), nn.Linear(3 * 5 * 5, 2, dtype=torch.float64)
    )
    x = torch.randn(7, 2, 5, 5, dtype=torch.float64)
    frame = orthonormal_frame(50, 4, seed=0, dtype=torch.float64)
    lc = local_complexity(model, x, 0.2, directions=frame)
    vertices = cross_polytope(x, frame, 0.2)  # [7, 8, 2, 5, 5]
    with torch.no_grad():
        positive = conv(vertices.flatten(0, 1)).reshape(7, 8, -1) > 0
    expected = (positive.any(dim=1) & ~positive.all(dim=1)).sum(dim=1)
    assert torch.equal(lc.total, expected)
    assert expected.sum() > 0


def test_model_mode_is_restored_and_bad_parameters_raise():
    model = MLP(5, 2, depth=1, width=4)
    model.train()
    local_complexity(model, torch.rand(3, 5), 0.1, num_directions=2)
    assert model.training
    with pytest.raises(ValueError, match="radius"):
        local_complexity(model, torch.rand(3, 5), 0.0)
    with pytest.raises(ValueError, match="num_directions"):
        local_complexity(model, torch.rand(3, 5), 0.1, num_directions=6)
    with pytest.raises(ValueError, match="layers"):
        local_complexity(nn.Linear(5, 2), torch.rand(3, 5), 0.1, num_directions=2)


class _FunctionalReluNet(nn.Module):
    """Pre-activation exposed only as the output of an identity 'norm' (like PreActResNet18)."""

    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(6, 9, dtype=torch.float64)
        self.norm1 = nn.Identity()
        self.head = nn.Linear(9, 2, dtype=torch.float64)

    def forward(self, x):
        return self.head(torch.relu(self.norm1(self.linear(x))))


def test_layer_outputs_hook_functional_relu_networks():
    from ddlib.metrics.local_complexity import modules_named

    torch.manual_seed(4)
    functional = _FunctionalReluNet()
    modular = nn.Sequential(functional.linear, nn.ReLU(), functional.head)
    x = torch.randn(40, 6, dtype=torch.float64)
    expected = local_complexity(modular, x, 0.5, 3, seed=1)
    layers = modules_named(functional, ("norm1",))
    found = local_complexity(functional, x, 0.5, 3, seed=1, layers=layers, layer_outputs=True)
    assert torch.equal(found.per_layer, expected.per_layer)
    assert found.layer_names == ["norm1"]
