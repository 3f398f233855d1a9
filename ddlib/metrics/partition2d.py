"""Exact partition of a ReLU / leaky-ReLU MLP restricted to a 2D plane (Humayun et al., Sec. 5).

On the plane x(u, v) = origin + u e_1 + v e_2 through three input points, every pre-activation of
the first layer is affine in (u, v). Splitting the slice's box by the line {z_j = 0} of each
neuron gives the convex regions of layer 1; on each region the next layer's pre-activations are
again affine (compose the maps, zeroing or scaling the inactive neurons), and the regions are
split by their lines, layer by layer. The result is the exact polygonal subdivision that
SplineCAM and regioncam compute; the decision boundary is where the argmax of the (affine)
logits changes inside a region.

Polygons are stored as a dense array [R, W, 2] in counter-clockwise order, each padded to the
width W by repeating its last vertex (the extra edges have zero length). All splitting is
batched over polygons; the only Python loops run over layers and over the k-th cutting line of
every region at once (Sutherland-Hodgman clipping, one step per line rank).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse
import torch

from ddlib.models.mlp import LEAKY_RELU_SLOPE, MLP

DEFAULT_TOLERANCE = 1e-10
DEFAULT_MARGIN = 0.1
# Above this fraction of (piece, neuron) pairs whose activation differs from the parent's first
# piece, the next layer's maps are one dense product (scipy's sparse product is slower there).
DENSE_CORRECTIONS = 0.05


@dataclass
class Plane:
    """The slice x(u, v) = origin + [u, v] @ basis, with its box [u0, u1] x [v0, v1]."""

    origin: np.ndarray  # [D]
    basis: np.ndarray  # [2, D], orthonormal rows
    anchors: np.ndarray  # [3, 2], (u, v) of the three points
    box: tuple[float, float, float, float]  # u_min, u_max, v_min, v_max

    def to_input(self, uv: np.ndarray) -> np.ndarray:
        """Input-space points [M, D] of plane coordinates [M, 2]."""
        return self.origin + np.asarray(uv, dtype=np.float64) @ self.basis

    def box_polygon(self) -> np.ndarray:
        """The box as a counter-clockwise quadrilateral [4, 2]."""
        u0, u1, v0, v1 = self.box
        return np.array([[u0, v0], [u1, v0], [u1, v1], [u0, v1]], dtype=np.float64)

    def grid(self, resolution: int) -> tuple[np.ndarray, np.ndarray]:
        """Plane coordinates [resolution^2, 2] of a regular grid over the box, and the grid's axes."""
        u0, u1, v0, v1 = self.box
        us = np.linspace(u0, u1, resolution)
        vs = np.linspace(v0, v1, resolution)
        uu, vv = np.meshgrid(us, vs)
        return np.stack([uu.ravel(), vv.ravel()], axis=1), np.stack([us, vs])


def plane_through(points: np.ndarray | torch.Tensor, margin: float = DEFAULT_MARGIN) -> Plane:
    """Plane through three points (Gram-Schmidt of b - a, c - a, origin at their centroid).

    The box is the bounding box of the three points' plane coordinates, enlarged by ``margin``
    times its side on every side.
    """
    points = np.asarray(points, dtype=np.float64).reshape(3, -1)
    if margin < 0:
        raise ValueError(f"margin must be >= 0, got {margin!r}")
    origin = points.mean(axis=0)
    first = points[1] - points[0]
    second = points[2] - points[0]
    e1 = first / np.linalg.norm(first)
    second = second - (second @ e1) * e1
    norm = np.linalg.norm(second)
    if norm < 1e-12 * np.linalg.norm(first):
        raise ValueError("points must not be collinear (they span no plane)")
    basis = np.stack([e1, second / norm])
    anchors = (points - origin) @ basis.T
    low, high = anchors.min(axis=0), anchors.max(axis=0)
    pad = margin * (high - low)
    box = (low[0] - pad[0], high[0] + pad[0], low[1] - pad[1], high[1] + pad[1])
    return Plane(origin=origin, basis=basis, anchors=anchors, box=tuple(float(b) for b in box))


@dataclass
class Partition2D:
    """Regions of the slice: padded CCW polygons, activation patterns and affine logits."""

    plane: Plane
    vertices: np.ndarray  # [R, W, 2] padded by repeating the last vertex
    patterns: list[np.ndarray]  # per hidden layer, [R, width] bool (pre-activation > 0)
    output_maps: np.ndarray  # [R, 3, K]: logits at (u, v) of region r = [u, v, 1] @ output_maps[r]
    boundary: np.ndarray  # [S, 2, 2] decision-boundary segments (endpoints in plane coordinates)

    @property
    def num_regions(self) -> int:
        return int(self.vertices.shape[0])

    def areas(self) -> np.ndarray:
        """Area of every region (shoelace formula; padded edges add nothing)."""
        x, y = self.vertices[..., 0], self.vertices[..., 1]
        return 0.5 * (x * np.roll(y, -1, axis=1) - np.roll(x, -1, axis=1) * y).sum(axis=1)

    def centroids(self) -> np.ndarray:
        """An interior point of every region (vertex mean), [R, 2]."""
        return self.vertices.mean(axis=1)

    def predicted_class(self) -> np.ndarray:
        """Argmax of the logits at each region's interior point, [R]."""
        return np.argmax(_evaluate(self.centroids()[:, None], self.output_maps)[:, 0], axis=1)

    def polygons(self) -> list[np.ndarray]:
        """Regions as a list of [n_i, 2] vertex arrays without the padding."""
        return [_unpad(polygon) for polygon in self.vertices]


def _unpad(polygon: np.ndarray) -> np.ndarray:
    keep = np.ones(len(polygon), dtype=bool)
    keep[1:] = np.any(polygon[1:] != polygon[:-1], axis=1)
    return polygon[keep]


def _evaluate(uv: np.ndarray, maps: np.ndarray) -> np.ndarray:
    """Affine maps at points: uv [C, W, 2], maps [C, 3, n] -> [C, W, n].

    Written out rather than as a batched matmul, which numpy runs slowly for 2-term products.
    """
    return uv[..., :1] * maps[:, None, 0] + uv[..., 1:] * maps[:, None, 1] + maps[:, None, 2]


def _pad_to(vertices: np.ndarray, width: int) -> np.ndarray:
    if vertices.shape[1] >= width:
        return vertices
    tail = np.repeat(vertices[:, -1:], width - vertices.shape[1], axis=1)
    return np.concatenate([vertices, tail], axis=1)


def _concat(parts: list[np.ndarray]) -> np.ndarray:
    width = max(p.shape[1] for p in parts)
    return np.concatenate([_pad_to(p, width) for p in parts])


def _compact(candidates: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """Row-wise keep the marked candidates [C, M, 2] in order; pad by repeating the last."""
    order = np.argsort(~keep, axis=1, kind="stable")
    counts = keep.sum(axis=1)
    width = int(counts.max())
    index = np.minimum(np.arange(width)[None], counts[:, None] - 1)
    index = np.take_along_axis(order, index, axis=1)
    return np.take_along_axis(candidates, index[..., None], axis=1)


def _split(vertices: np.ndarray, values: np.ndarray, side: np.ndarray) -> tuple:
    """Split convex polygons by the zero line of affine values at their vertices.

    ``side`` in {-1, 0, +1} classifies each vertex (0: on the line within tolerance). Returns the
    positive and the negative pieces (Sutherland-Hodgman clipping, both halves at once).
    """
    next_vertices = np.roll(vertices, -1, axis=1)
    next_values = np.roll(values, -1, axis=1)
    crossing = side * np.roll(side, -1, axis=1) == -1
    with np.errstate(divide="ignore", invalid="ignore"):
        fraction = np.where(crossing, values / (values - next_values), 0.0)
    intersections = vertices + fraction[..., None] * (next_vertices - vertices)
    duplicate = np.zeros_like(crossing)
    duplicate[:, 1:] = np.all(vertices[:, 1:] == vertices[:, :-1], axis=2)
    candidates = np.stack([vertices, intersections], axis=2).reshape(len(vertices), -1, 2)
    pieces = []
    for keep_vertex in (side >= 0, side <= 0):
        keep = np.stack([keep_vertex & ~duplicate, crossing], axis=2).reshape(len(vertices), -1)
        pieces.append(_compact(candidates, keep))
    return pieces[0], pieces[1]


def _cutting_lines(vertices: np.ndarray, maps: np.ndarray, tolerance: np.ndarray) -> tuple:
    """(region, neuron) pairs whose line {z = 0} crosses the region's interior.

    A bounding-disc test (|z(centre)| > |grad z| * radius: no cut) prunes most pairs before
    the exact test on the region's vertices.
    """
    centre = vertices.mean(axis=1)
    radius = np.sqrt(((vertices - centre[:, None]) ** 2).sum(axis=2).max(axis=1))
    regions, neurons = [], []
    for start in range(0, len(vertices), 4096):
        block = slice(start, start + 4096)
        z_centre = _evaluate(centre[block, None], maps[block])[:, 0]
        gradient = np.sqrt(maps[block, 0] ** 2 + maps[block, 1] ** 2)
        candidate = np.abs(z_centre) <= gradient * radius[block, None] + tolerance[block]
        region, neuron = np.nonzero(candidate)
        region = region + start
        coefficients = maps[region, :, neuron]
        z = vertices[region] @ coefficients[:, :2, None] + coefficients[:, None, 2:3]
        z, tol = z[..., 0], tolerance[region, neuron][:, None]
        cuts = (z > tol).any(axis=1) & (z < -tol).any(axis=1)
        regions.append(region[cuts])
        neurons.append(neuron[cuts])
    return np.concatenate(regions), np.concatenate(neurons)


def _line_tolerance(maps: np.ndarray, scale: float, tolerance: float) -> np.ndarray:
    """Absolute tolerance on z per (region, neuron): relative to the size of z over the box."""
    return tolerance * (
        np.abs(maps[:, 0]) * scale + np.abs(maps[:, 1]) * scale + np.abs(maps[:, 2])
    )


def _split_layer(vertices: np.ndarray, maps: np.ndarray, scale: float, tolerance: float):
    """Split every region by the lines of its cutting neurons. Returns (cells, parent index)."""
    line_tolerance = _line_tolerance(maps, scale, tolerance)
    regions, neurons = _cutting_lines(vertices, maps, line_tolerance)
    num_lines = np.bincount(regions, minlength=len(vertices))
    first_line = np.concatenate([[0], np.cumsum(num_lines)[:-1]])
    line_maps = maps[regions, :, neurons]  # [Q, 3]
    line_tol = line_tolerance[regions, neurons]
    done_cells = [vertices[num_lines == 0]]
    done_parents = [np.nonzero(num_lines == 0)[0]]
    parents = np.nonzero(num_lines > 0)[0]
    cells = vertices[parents]
    rank = 0
    while len(parents):
        line = first_line[parents] + rank
        values = cells @ line_maps[line, :2, None] + line_maps[line, None, 2:3]
        values = values[..., 0]
        tol = line_tol[line][:, None]
        side = (values > tol).astype(np.int8) - (values < -tol)
        cut = (side > 0).any(axis=1) & (side < 0).any(axis=1)
        positive, negative = _split(cells[cut], values[cut], side[cut])
        cells = _concat([cells[~cut], positive, negative])
        parents = np.concatenate([parents[~cut], parents[cut], parents[cut]])
        rank += 1
        finished = num_lines[parents] == rank
        done_cells.append(cells[finished])
        done_parents.append(parents[finished])
        cells, parents = cells[~finished], parents[~finished]
    return _concat(done_cells), np.concatenate(done_parents)


def _next_layer_maps(maps: np.ndarray, parents: np.ndarray, pattern: np.ndarray,
                     weight: np.ndarray, bias: np.ndarray, slope: float) -> np.ndarray:
    """Affine maps [R, 3, n_out] of the next layer's pre-activations on the R split regions.

    Region c, a piece of region p = ``parents[c]`` whose pre-activation maps are z_p = ``maps[p]``
    [3, n_in], has z_next = W D_c z_p + b with D_c = diag(1 where ``pattern[c]``, else ``slope``).
    The pieces of one region differ in D only for the few neurons whose lines cut it, so
    W D_base z_p is computed once per parent (D_base: the pattern of its first piece) and each
    piece adds the rank-one terms (d_c - d_base)_j z_p[:, j] W[:, j]^T of the neurons where its
    pattern differs, as one sparse x dense product: parents x 3 n_in n_out + differing pairs x
    3 n_out multiply-adds instead of pieces x 3 n_in n_out (about 3x less from the second layer on).
    Where more than :data:`DENSE_CORRECTIONS` of the pairs differ, one dense product is cheaper.
    """
    num_pieces, n_in = pattern.shape
    _, first_piece = np.unique(parents, return_index=True)  # every region keeps >= 1 piece
    base_pattern = pattern[first_piece]
    differs = pattern != base_pattern[parents]
    if differs.mean() > DENSE_CORRECTIONS:  # e.g. the first layer: one box cut by every neuron
        factor = np.where(pattern, 1.0, slope)[:, None, :]
        result = (maps[parents] * factor).reshape(-1, n_in) @ weight.T
        result = result.reshape(num_pieces, 3, -1)
        result[:, 2] += bias
        return result
    piece, neuron = np.nonzero(differs)
    change = np.where(pattern[piece, neuron], 1.0 - slope, slope - 1.0)
    terms = maps[parents[piece], :, neuron] * change[:, None]  # [Q, 3]
    base = (maps * np.where(base_pattern, 1.0, slope)[:, None, :]).reshape(-1, n_in) @ weight.T
    rows = (3 * piece[:, None] + np.arange(3)).ravel()
    corrections = scipy.sparse.csr_matrix(
        (terms.ravel(), (rows, np.repeat(neuron, 3))), shape=(3 * num_pieces, n_in))
    result = base.reshape(len(maps), 3, -1)[parents] + (corrections @ weight.T).reshape(
        num_pieces, 3, -1)
    result[:, 2] += bias
    return result


def _mlp_layers(model: MLP) -> tuple[list[tuple[np.ndarray, np.ndarray]], float]:
    if not isinstance(model, MLP):
        raise ValueError(f"model must be a ddlib.models.mlp.MLP, got {type(model).__name__}")
    slopes = {"relu": 0.0, "leaky_relu": LEAKY_RELU_SLOPE}
    if model.activation_name not in slopes:
        raise ValueError(
            f"activation must be one of {tuple(slopes)} for an exact partition, "
            f"got {model.activation_name!r}"
        )
    layers = [
        (layer.weight.detach().double().cpu().numpy(), layer.bias.detach().double().cpu().numpy())
        for layer in model.linear_layers()
    ]
    return layers, slopes[model.activation_name]


def exact_partition(
    model: MLP, plane: Plane, tolerance: float = DEFAULT_TOLERANCE, boundary: bool = True
) -> Partition2D:
    """Exact linear regions of ``model`` on ``plane``'s box, with the decision boundary.

    Computed in float64. A neuron splits a region only where its pre-activation exceeds
    ``tolerance`` times its magnitude over the box on both sides (no slivers from round-off).
    """
    layers, slope = _mlp_layers(model)
    (first_weight, first_bias), *rest = layers
    scale = float(np.max(np.abs(plane.box)))
    maps = np.concatenate(
        [plane.basis @ first_weight.T, (plane.origin @ first_weight.T + first_bias)[None]]
    )[None]
    vertices = plane.box_polygon()[None]
    parents_per_layer, patterns_per_layer = [], []
    for weight, bias in rest:
        vertices, parents = _split_layer(vertices, maps, scale, tolerance)
        centre = vertices.mean(axis=1)
        pattern = (centre[:, :1] * maps[parents, 0] + centre[:, 1:] * maps[parents, 1]
                   + maps[parents, 2]) > 0
        parents_per_layer.append(parents)
        patterns_per_layer.append(pattern)
        maps = _next_layer_maps(maps, parents, pattern, weight, bias, slope)
    patterns = []
    for layer, pattern in enumerate(patterns_per_layer):
        for parents in parents_per_layer[layer + 1 :]:
            pattern = pattern[parents]
        patterns.append(pattern)
    segments = decision_boundary(vertices, maps, tolerance) if boundary else np.zeros((0, 2, 2))
    return Partition2D(
        plane=plane, vertices=vertices, patterns=patterns, output_maps=maps, boundary=segments
    )


def decision_boundary(
    vertices: np.ndarray, maps: np.ndarray, tolerance: float = DEFAULT_TOLERANCE
) -> np.ndarray:
    """Segments [S, 2, 2] where the argmax of affine logits changes inside each region.

    A region holds a piece of boundary iff the class that wins at its first vertex does not win
    at every vertex. There, for each class pair (k, j), the line z_k = z_j is clipped to the
    region (its edges' half-planes) and to where k and j beat every other class: an interval of
    the line's parameter, exact since every constraint is affine along the line.
    """
    num_classes = maps.shape[2]
    logits = _evaluate(vertices, maps)
    winner = logits[:, 0].argmax(axis=1)
    margin = np.take_along_axis(logits, winner[:, None, None], axis=2) - logits
    scale = np.abs(logits).max(axis=(1, 2))
    mixed = np.nonzero(margin.min(axis=(1, 2)) < -tolerance * scale)[0]
    if len(mixed) == 0 or num_classes < 2:
        return np.zeros((0, 2, 2))
    polygon, region_maps = vertices[mixed], maps[mixed]
    first, second = np.triu_indices(num_classes, k=1)
    difference = region_maps[:, :, first] - region_maps[:, :, second]  # [M, 3, pairs]
    normal = difference[:, :2]
    norm2 = (normal**2).sum(axis=1)
    safe = np.where(norm2 > 0, norm2, 1.0)
    foot = -difference[:, 2:3] * normal / safe[:, None]  # [M, 2, pairs]
    direction = np.stack([-normal[:, 1], normal[:, 0]], axis=1) / np.sqrt(safe)[:, None]
    # region edges: cross(edge, p - start) >= 0 on the left of a counter-clockwise edge
    edges = np.roll(polygon, -1, axis=1) - polygon  # [M, W, 2]

    def cross(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return a[..., 0] * b[..., 1] - a[..., 1] * b[..., 0]

    foot_t, direction_t = foot.transpose(0, 2, 1), direction.transpose(0, 2, 1)  # [M, pairs, 2]
    offset = cross(edges[:, None], foot_t[:, :, None] - polygon[:, None])  # [M, pairs, W]
    slope = cross(edges[:, None], np.broadcast_to(direction_t[:, :, None], offset.shape + (2,)))
    # other classes: z_first - z_m >= 0 along the line
    beat = region_maps[:, :, first, None] - region_maps[:, :, None, :]  # [M, 3, pairs, K]
    class_offset = (beat[:, :2] * foot[:, :, :, None]).sum(axis=1) + beat[:, 2]
    class_slope = (beat[:, :2] * direction[:, :, :, None]).sum(axis=1)
    offset = np.concatenate([offset, class_offset], axis=2)
    slope = np.concatenate([slope, class_slope], axis=2)
    small = np.abs(slope) <= 1e-14 * (np.abs(offset) + 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        root = -offset / slope
    lower = np.where(slope > 0, root, -np.inf)
    lower = np.where(small, -np.inf, lower).max(axis=2)
    upper = np.where(slope < 0, root, np.inf)
    upper = np.where(small, np.inf, upper).min(axis=2)
    blocked = (small & (offset < -tolerance * (np.abs(offset).max() + 1.0))).any(axis=2)
    extent = np.abs(polygon).max(axis=(1, 2))[:, None]
    valid = (norm2 > 0) & ~blocked & (upper - lower > tolerance * extent)
    region, pair = np.nonzero(valid)
    start = foot_t[region, pair] + lower[region, pair, None] * direction_t[region, pair]
    end = foot_t[region, pair] + upper[region, pair, None] * direction_t[region, pair]
    return np.stack([start, end], axis=1)


def regioncam_partition(model: MLP, plane: Plane):
    """The same slice computed by ``regioncam`` (float32, Rust): the independent oracle.

    regioncam starts from the square [-1, 1]^2; a first linear layer maps it onto the box in
    input space, then the MLP's layers follow. Returns the ``regioncam.Regioncam`` object.
    """
    import regioncam

    layers, slope = _mlp_layers(model)
    u0, u1, v0, v1 = plane.box
    half = np.array([(u1 - u0) / 2, (v1 - v0) / 2])
    centre = np.array([(u1 + u0) / 2, (v1 + v0) / 2])
    camera = regioncam.Regioncam(1.0)
    camera.linear(
        (half[:, None] * plane.basis).astype(np.float32),
        (plane.origin + centre @ plane.basis).astype(np.float32),
    )
    for index, (weight, bias) in enumerate(layers):
        camera.linear(weight.T.astype(np.float32), bias.astype(np.float32))
        if index < len(layers) - 1:
            camera.relu() if slope == 0.0 else camera.leaky_relu(slope)
    return camera


def anchor_triples(labels: torch.Tensor | np.ndarray, num_slices: int) -> list[list[int]]:
    """Indices of three training points of three different classes per slice.

    Slice s takes the first point of classes 3s, 3s + 1, 3s + 2 (mod the number of classes), so
    that the decision boundary crosses the slice.
    """
    labels = np.asarray(labels)
    classes = np.unique(labels)
    if len(classes) < 3:
        raise ValueError(f"labels must hold at least 3 classes, got {len(classes)}")
    first = {int(c): int(np.nonzero(labels == c)[0][0]) for c in classes}
    return [
        [first[int(classes[(3 * s + k) % len(classes)])] for k in range(3)]
        for s in range(num_slices)
    ]


def regions_near_points(partition: Partition2D, points: np.ndarray, radius: float) -> int:
    """Regions whose interior point (vertex mean) lies within ``radius`` of any of ``points``."""
    centres = partition.centroids()
    distance = np.linalg.norm(centres[:, None] - np.asarray(points)[None], axis=2).min(axis=1)
    return int((distance <= radius).sum())


def regions_near_boundary(partition: Partition2D, radius: float, block: int = 4096) -> int:
    """Regions whose interior point lies within ``radius`` of a decision-boundary segment."""
    if len(partition.boundary) == 0:
        return 0
    start, end = partition.boundary[:, 0], partition.boundary[:, 1]
    direction = end - start
    length2 = np.maximum((direction**2).sum(axis=1), 1e-300)
    near = 0
    for centres in np.array_split(partition.centroids(), max(1, partition.num_regions // block)):
        offset = centres[:, None] - start[None]
        t = np.clip((offset * direction[None]).sum(axis=2) / length2, 0.0, 1.0)
        closest = start[None] + t[..., None] * direction[None]
        distance = np.linalg.norm(centres[:, None] - closest, axis=2).min(axis=1)
        near += int((distance <= radius).sum())
    return near
