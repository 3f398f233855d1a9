"""Sharpness kernels of notebook 02 against exact answers (Gamba et al., Eq. 2, 5, 6-7)."""

import math

import pytest
import torch
from torch.nn import functional as F

from ddlib.metrics.colour_jitter import apply_colour_jitter, draw_jitter_factors
from ddlib.metrics.geodesic import geodesic_volume_means, segment_lengths
from ddlib.metrics.sharpness import (
    SharpnessSettings,
    cross_entropy_of,
    geodesic_sharpness,
    jacobian_norm,
    normalise,
    pointwise_jacobian_norm,
    tangent_hessian_norm,
)
from ddlib.metrics.svd_paths import erasure_masks, svd_erasure_anchors


@pytest.fixture(autouse=True)
def double_precision():
    """Exact comparisons in float64; the default dtype is restored for other test modules."""
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(previous)


class LinearSoftmax(torch.nn.Module):
    """Logits ``W vec(x) + b``."""

    def __init__(self, in_features: int, num_classes: int, seed: int = 0):
        super().__init__()
        generator = torch.Generator().manual_seed(seed)
        self.weight = torch.nn.Parameter(torch.randn(num_classes, in_features, generator=generator))
        self.bias = torch.nn.Parameter(torch.randn(num_classes, generator=generator))

    def forward(self, x):
        return x.flatten(1) @ self.weight.T + self.bias


def linear_softmax_gradient(model, x, y):
    """Closed form d CE / dx = W^T (softmax(W x + b) - onehot(y))."""
    residual = torch.softmax(model(x), dim=1) - F.one_hot(y, model.weight.shape[0])
    return residual @ model.weight.detach()


def test_jacobian_norm_of_linear_softmax_matches_closed_form():
    model = LinearSoftmax(2 * 4 * 4, 5)
    x = torch.randn(7, 2, 4, 4)
    y = torch.randint(0, 5, (7,))
    expected = linear_softmax_gradient(model, x, y).norm(dim=1).detach()
    torch.testing.assert_close(jacobian_norm(cross_entropy_of(model), x, y), expected)
    torch.testing.assert_close(pointwise_jacobian_norm(model, x, y, batch_size=3), expected)


def test_tangent_hessian_of_quadratic_loss_is_exact():
    a = torch.randn(6, 6)
    a = a @ a.T
    loss = lambda x, y: 0.5 * torch.einsum("ni,ij,nj->n", x, a, x)  # noqa: E731
    x = torch.randn(4, 6)
    directions = torch.randn(3, 4, 6)
    perturbed = x + directions
    y = torch.zeros(4, dtype=torch.long)
    moved = (directions @ a).norm(dim=-1)  # ||A u_m||, A symmetric
    expected_fixed = (moved.square().mean(dim=0)).sqrt() / 0.1
    torch.testing.assert_close(tangent_hessian_norm(loss, x, y, perturbed, 0.1), expected_fixed)
    expected_step = (moved / directions.norm(dim=-1)).square().mean(dim=0).sqrt()
    torch.testing.assert_close(tangent_hessian_norm(loss, x, y, perturbed, "step"), expected_step)
    with pytest.raises(ValueError, match="delta"):
        tangent_hessian_norm(loss, x, y, perturbed, -1.0)


def test_erasure_windows_are_shifted_blocks_of_the_smallest_singular_values():
    masks = erasure_masks([1, 3], num_paths=2, num_singular=6)
    assert masks[0, 0].tolist() == [False] * 5 + [True]
    assert masks[1, 1].tolist() == [False, False, True, True, True, False]
    with pytest.raises(ValueError, match="strengths"):
        erasure_masks([3, 5], num_paths=3, num_singular=6)


def test_erasing_singular_values_moves_each_channel_by_their_norm():
    images = torch.rand(5, 3, 8, 8)
    strengths, num_paths = [2, 4, 5], 3
    anchors = svd_erasure_anchors(images, strengths, num_paths)
    singular = torch.linalg.svdvals(images)  # [N, C, S] decreasing
    masks = erasure_masks(strengths, num_paths, 8)
    expected = (singular.square() * masks[:, :, None, None, :]).sum(-1).sqrt()
    moved = (anchors - images).flatten(-2).norm(dim=-1)  # [P, K, N, C]
    torch.testing.assert_close(moved, expected)
    erased_rank = torch.linalg.matrix_rank(anchors[0, 0, 0, 0])
    assert int(erased_rank) == 8 - strengths[0]


def test_geodesic_integral_of_linear_function_is_its_mean_along_the_polyline():
    generator = torch.Generator().manual_seed(1)
    anchors = torch.randn(2, 5, 3, 4, generator=generator)  # P=2 paths, 4 segments, N=3 points
    anchors[1, 0] = anchors[0, 0]  # every path starts at the point itself
    slope, offset = torch.randn(4, generator=generator), 0.7
    values = anchors @ slope + offset  # [P, K + 1, N]
    lengths = segment_lengths(anchors)
    # Independent answer: dense uniform samples by arc length along each path.
    t = (torch.arange(20000) + 0.5) / 20000
    segments_start, segments_end = anchors[:, :-1], anchors[:, 1:]
    points = segments_start.unsqueeze(-2) + t[:, None] * (segments_end - segments_start).unsqueeze(
        -2
    )
    per_segment_mean = (points @ slope + offset).mean(-1)  # [P, K, N]
    for volume in (1, 2, 4):
        weights = lengths[:, :volume]
        arc_mean = (per_segment_mean[:, :volume] * weights).sum(1) / weights.sum(1)
        got = geodesic_volume_means(values, lengths)[volume]
        torch.testing.assert_close(got, arc_mean.mean(0), atol=1e-6, rtol=1e-6)
    torch.testing.assert_close(geodesic_volume_means(values, lengths)[0], values[0, 0])


def test_zero_length_path_takes_the_value_at_the_image():
    values = torch.tensor([[[2.0], [5.0]]])
    assert geodesic_volume_means(values, torch.zeros(1, 1, 1))[1].item() == 2.0


def test_colour_jitter_identity_and_brightness():
    images = torch.rand(4, 3, 5, 5) * 0.5
    assert torch.equal(apply_colour_jitter(images, torch.ones(4, 3)), images)
    brighter = apply_colour_jitter(images, torch.tensor([1.01, 1.0, 1.0]).expand(4, 3))
    torch.testing.assert_close(brighter, images * 1.01)
    gray = torch.rand(2, 1, 4, 4)
    saturated = apply_colour_jitter(gray, torch.tensor([1.0, 1.0, 1.5]).expand(2, 3))
    torch.testing.assert_close(saturated, gray)
    factors = draw_jitter_factors((100, 3), 0.01, seed=0)
    assert factors.shape == (100, 3, 3) and (factors - 1).abs().max() <= 0.01


def tiny_problem(num_points=6):
    generator = torch.Generator().manual_seed(3)
    images = torch.rand(num_points, 3, 8, 8, generator=generator)
    labels = torch.randint(0, 4, (num_points,), generator=generator)
    model = LinearSoftmax(3 * 8 * 8, 4)
    mean, std = (0.5, 0.4, 0.3), (0.2, 0.25, 0.3)
    settings = SharpnessSettings(strengths=(1, 2, 4), num_paths=2, num_jitters=3, batch_size=17)
    return model, images, labels, mean, std, settings


def test_geodesic_sharpness_volume_zero_matches_pointwise_kernels():
    model, images, labels, mean, std, settings = tiny_problem()
    table = geodesic_sharpness(model, images, labels, mean, std, settings, points_per_chunk=4)
    at_image = table[table.volume == 0].sort_values("point")
    x = normalise(images, mean, std)
    expected_jacobian = linear_softmax_gradient(model, x, labels).norm(dim=1).detach()
    torch.testing.assert_close(torch.tensor(at_image.jacobian_norm.values), expected_jacobian)
    ce = F.cross_entropy(model(x), labels, reduction="none").detach()
    torch.testing.assert_close(torch.tensor(at_image.cross_entropy.values), ce)
    # Hessian at the image: the jitter factors of anchor 0 are the first slice of the draw.
    factors = settings.jitter_factors(len(images))[:, 0]
    jittered = normalise(apply_colour_jitter(images.unsqueeze(0), factors), mean, std)
    hessian = tangent_hessian_norm(cross_entropy_of(model), x, labels, jittered, 0.1)
    torch.testing.assert_close(
        torch.tensor(at_image.hessian_norm.values), hessian.detach(), rtol=1e-5, atol=1e-7
    )


def test_geodesic_sharpness_does_not_depend_on_chunking_or_point_count():
    model, images, labels, mean, std, settings = tiny_problem(num_points=7)
    whole = geodesic_sharpness(model, images, labels, mean, std, settings, points_per_chunk=7)
    pieces = geodesic_sharpness(model, images, labels, mean, std, settings, points_per_chunk=3)
    assert len(whole) == 7 * 4
    for column in ("accuracy", "cross_entropy", "jacobian_norm", "hessian_norm"):
        assert whole[column].values == pytest.approx(pieces[column].values, rel=1e-9)
    assert whole.accuracy.between(0, 1).all()
    first = geodesic_sharpness(model, images[:3], labels[:3], mean, std, settings)
    assert first.hessian_norm.values == pytest.approx(whole[whole.point < 3].hessian_norm.values)
    assert math.isfinite(whole.hessian_norm.sum())


def test_clean_noisy_column_matches_the_noise_indices():
    model, images, labels, mean, std, settings = tiny_problem()
    noisy_mask = torch.tensor([True, False, False, True, False, False])
    table = geodesic_sharpness(model, images, labels, mean, std, settings, noisy_mask=noisy_mask)
    assert sorted(table[table.noisy].point.unique()) == [0, 3]
    assert sorted(table[~table.noisy].point.unique()) == [1, 2, 4, 5]
