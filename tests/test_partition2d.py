"""Exact 2D partition against independent counts, areas, a grid and the regioncam oracle."""

import itertools

import numpy as np
import pytest
import torch

from ddlib.metrics.partition2d import (
    exact_partition,
    plane_through,
    regioncam_partition,
)
from ddlib.models.mlp import MLP


def _model(in_features, depth, width, seed, activation="relu", num_classes=4, init_scale=1.0):
    torch.manual_seed(seed)
    return MLP(in_features, num_classes, depth, width, activation, init_scale, dtype=torch.float64)


def _box_area(plane):
    u0, u1, v0, v1 = plane.box
    return (u1 - u0) * (v1 - v0)


def test_plane_through_three_points():
    points = np.array([[0.0, 0, 0], [2, 0, 0], [0, 1, 0]])
    plane = plane_through(points, margin=0.0)
    np.testing.assert_allclose(plane.basis @ plane.basis.T, np.eye(2), atol=1e-15)
    np.testing.assert_allclose(plane.to_input(plane.anchors), points, atol=1e-15)
    assert _box_area(plane) == pytest.approx(2.0)
    with pytest.raises(ValueError, match="collinear"):
        plane_through(np.array([[0.0, 0], [1, 1], [2, 2]]))


@pytest.mark.parametrize("activation", ["relu", "leaky_relu"])
def test_region_areas_sum_to_the_slice(activation):
    model = _model(6, depth=3, width=25, seed=0, activation=activation)
    plane = plane_through(np.random.default_rng(0).normal(size=(3, 6)))
    partition = exact_partition(model, plane)
    areas = partition.areas()
    assert (areas > 0).all()
    assert areas.sum() == pytest.approx(_box_area(plane), rel=1e-12)
    assert partition.num_regions > 50


def test_one_hidden_layer_count_equals_the_line_arrangement():
    """Regions of n lines in a convex box = 1 + (lines meeting it) + (crossings inside it)."""
    model = _model(5, depth=1, width=30, seed=1)
    plane = plane_through(np.random.default_rng(1).normal(size=(3, 5)), margin=0.5)
    weight = model.hidden[0].weight.detach().numpy()
    bias = model.hidden[0].bias.detach().numpy()
    normals = plane.basis @ weight.T  # [2, n]: line j is normals[:, j] . (u, v) + offsets[j] = 0
    offsets = plane.origin @ weight.T + bias
    corners = plane.box_polygon()
    corner_values = corners @ normals + offsets
    meets = (corner_values.max(axis=0) > 0) & (corner_values.min(axis=0) < 0)
    u0, u1, v0, v1 = plane.box
    crossings = 0
    for i, j in itertools.combinations(np.nonzero(meets)[0], 2):
        u, v = np.linalg.solve(np.stack([normals[:, i], normals[:, j]]), -offsets[[i, j]])
        crossings += (u0 < u < u1) and (v0 < v < v1)
    expected = 1 + meets.sum() + crossings
    assert exact_partition(model, plane).num_regions == expected
    assert expected > 30


def test_patterns_and_logits_match_the_network_inside_each_region():
    model = _model(7, depth=2, width=15, seed=3, activation="leaky_relu")
    plane = plane_through(np.random.default_rng(3).normal(size=(3, 7)))
    partition = exact_partition(model, plane)
    inside = partition.centroids()
    x = torch.as_tensor(plane.to_input(inside))
    with torch.no_grad():
        z1 = model.hidden[0](x)
        z2 = model.hidden[1](model.activations[0](z1))
        logits = model(x).numpy()
    np.testing.assert_array_equal(partition.patterns[0], (z1 > 0).numpy())
    np.testing.assert_array_equal(partition.patterns[1], (z2 > 0).numpy())
    affine = np.einsum("rk,rkc->rc", np.c_[inside, np.ones(len(inside))], partition.output_maps)
    np.testing.assert_allclose(affine, logits, rtol=1e-9, atol=1e-9)


def test_decision_boundary_segments_are_ties_of_the_top_two_logits():
    model = _model(2, depth=2, width=12, seed=0, num_classes=3, init_scale=3.0)
    plane = plane_through(np.array([[-3.0, -3.0], [3.0, -3.0], [0.0, 3.0]]))
    partition = exact_partition(model, plane)
    segments = partition.boundary
    assert len(segments) > 0
    for fraction in (0.1, 0.5, 0.9):
        points = segments[:, 0] + fraction * (segments[:, 1] - segments[:, 0])
        with torch.no_grad():
            logits = np.sort(model(torch.as_tensor(plane.to_input(points))).numpy(), axis=1)
        np.testing.assert_allclose(logits[:, -1], logits[:, -2], atol=1e-9)
    # every grid edge along which the predicted class changes crosses a boundary segment
    uv, axes = plane.grid(60)
    with torch.no_grad():
        labels = model(torch.as_tensor(plane.to_input(uv))).argmax(1).numpy().reshape(60, 60)
    changes = np.nonzero(labels[:, 1:] != labels[:, :-1])
    assert len(changes[0]) > 0
    for row, col in zip(*changes):
        v, (ua, ub) = axes[1][row], axes[0][col : col + 2]
        a, b = segments[:, 0], segments[:, 1]
        t = (v - a[:, 1]) / np.where(b[:, 1] != a[:, 1], b[:, 1] - a[:, 1], np.nan)
        u = a[:, 0] + t * (b[:, 0] - a[:, 0])
        assert np.any((t >= 0) & (t <= 1) & (u >= ua) & (u <= ub))


@pytest.mark.parametrize("activation", ["relu", "leaky_relu"])
def test_same_region_count_as_regioncam(activation):
    model = _model(50, depth=3, width=40, seed=5, activation=activation)
    plane = plane_through(np.random.default_rng(5).uniform(size=(3, 50)))
    assert exact_partition(model, plane).num_regions == regioncam_partition(model, plane).num_faces


def test_gelu_is_refused():
    with pytest.raises(ValueError, match="activation"):
        exact_partition(_model(3, 1, 4, 0, activation="gelu"), plane_through(np.eye(3)))


def test_anchor_triples_take_three_classes():
    from ddlib.metrics.partition2d import anchor_triples

    labels = np.array([3, 1, 0, 2, 1, 0, 4, 3])
    triples = anchor_triples(labels, 2)
    assert triples == [[2, 1, 3], [0, 6, 2]]
    assert all(len(set(labels[t])) == 3 for t in triples)


def test_regions_near_points_and_boundary_against_brute_force():
    from ddlib.metrics.partition2d import regions_near_boundary, regions_near_points

    model = _model(2, depth=2, width=12, seed=0, num_classes=3, init_scale=3.0)
    plane = plane_through(np.array([[-3.0, -3.0], [3.0, -3.0], [0.0, 3.0]]))
    partition = exact_partition(model, plane)
    centres = partition.centroids()
    radius = 0.8
    brute = sum(np.min(np.linalg.norm(plane.anchors - c, axis=1)) <= radius for c in centres)
    assert regions_near_points(partition, plane.anchors, radius) == brute
    samples = np.linspace(0, 1, 101)[:, None, None]
    start, end = partition.boundary[None, :, 0], partition.boundary[None, :, 1]
    dense = (start + samples * (end - start)).reshape(-1, 2)
    distance = np.linalg.norm(centres[:, None] - dense[None], axis=2).min(axis=1)
    near = regions_near_boundary(partition, radius)
    assert (distance <= radius - 0.05).sum() <= near <= (distance <= radius + 0.05).sum()
    assert 0 < near < partition.num_regions



@pytest.mark.parametrize("slope", [0.0, 0.01])
@pytest.mark.parametrize("path_threshold", [1.0, 0.0], ids=["sparse", "dense"])
@pytest.mark.parametrize("pieces_per_region", [1, 3, 40])
def test_next_layer_maps_equal_the_direct_product(monkeypatch, slope, path_threshold,
                                                  pieces_per_region):
    """Parent-shared maps plus sparse corrections equal W D_c z_p + b for every piece, on the
    sparse path and on the dense one (``DENSE_CORRECTIONS`` forces the choice)."""
    from ddlib.metrics import partition2d

    monkeypatch.setattr(partition2d, "DENSE_CORRECTIONS", path_threshold)
    rng = np.random.default_rng(pieces_per_region)
    regions, n_in, n_out = 7, 30, 11
    maps = rng.normal(size=(regions, 3, n_in))
    weight, bias = rng.normal(size=(n_out, n_in)), rng.normal(size=n_out)
    parents = rng.permutation(np.repeat(np.arange(regions), pieces_per_region))
    # pieces share their parent's pattern except for a few flipped neurons
    pattern = (rng.random((regions, n_in)) < 0.5)[parents] ^ (rng.random((len(parents), n_in)) < 0.1)
    expected = np.einsum("rkj,oj->rko", maps[parents] * np.where(pattern, 1.0, slope)[:, None],
                         weight)
    expected[:, 2] += bias
    result = partition2d._next_layer_maps(maps, parents, pattern, weight, bias, slope)
    np.testing.assert_allclose(result, expected, rtol=1e-12, atol=1e-12)
