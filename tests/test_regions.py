"""Planes, triplets, batched prediction, region similarity and fragmentation against exact cases."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from ddlib.metrics.decision_planes import (
    PlaneBatch,
    planes_through_triplets,
    predict_planes,
    sample_triplets,
)
from ddlib.metrics.similarity import (
    fragmentation,
    pairwise_similarity,
    region_similarity,
    similarity_matrix,
)


class NearestImage(nn.Module):
    """Classifies a point as the index of the nearest of its prototype images."""

    def __init__(self, prototypes: torch.Tensor):
        super().__init__()
        self.register_buffer("prototypes", prototypes.flatten(1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return -((x.flatten(1)[:, None, :] - self.prototypes[None]) ** 2).sum(dim=2)


class Constant(nn.Module):
    def __init__(self, label: int, num_classes: int = 10):
        super().__init__()
        self.label, self.num_classes = label, num_classes

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        logits = torch.zeros(x.shape[0], self.num_classes)
        logits[:, self.label] = 1.0
        return logits


@pytest.fixture
def images() -> torch.Tensor:
    return torch.randn(12, 3, 4, 4, generator=torch.Generator().manual_seed(0))


def test_plane_coordinates_match_the_recipe(images):
    triplets = torch.tensor([[0, 1, 2], [5, 3, 7]])
    planes = planes_through_triplets(images, triplets, resolution=11, margin=0.1)
    for p, (i, j, k) in enumerate(triplets.tolist()):
        x1, x2, x3 = images[i].flatten(), images[j].flatten(), images[k].flatten()
        a = (x2 - x1) / (x2 - x1).norm()
        b = x3 - x1
        b_perp = (b - (a @ b) * a) / (b - (a @ b) * a).norm()
        expected = torch.tensor([[0.0, 0.0], [(x2 - x1).norm(), 0.0], [a @ b, b_perp @ b]])
        torch.testing.assert_close(planes.anchors[p], expected)
        torch.testing.assert_close(
            planes.a[p].flatten() @ planes.b_perp[p].flatten(), torch.tensor(0.0)
        )
        u_low, u_high = expected[:, 0].min(), expected[:, 0].max()
        v_high = expected[2, 1]
        torch.testing.assert_close(planes.u[p, 0], u_low - 0.1 * (u_high - u_low))
        torch.testing.assert_close(planes.u[p, -1], u_high + 0.1 * (u_high - u_low))
        torch.testing.assert_close(planes.v[p, 0], -0.1 * v_high)
        torch.testing.assert_close(planes.v[p, -1], 1.1 * v_high)


def test_anchors_map_back_to_their_images(images):
    triplets = torch.tensor([[0, 1, 2], [4, 9, 11], [8, 6, 10]])
    planes = planes_through_triplets(images, triplets)
    for k in range(3):
        plane_index = torch.arange(len(planes))
        points = planes.points_at(plane_index, planes.anchors[:, k, 0], planes.anchors[:, k, 1])
        torch.testing.assert_close(points, images[triplets[:, k]], atol=1e-5, rtol=1e-5)


def test_model_predicts_anchor_labels_at_anchor_pixels(images):
    triplets = torch.tensor([[0, 1, 2], [4, 9, 11], [8, 6, 10], [3, 5, 7]])
    planes = planes_through_triplets(images, triplets, resolution=60)
    predictions = predict_planes([NearestImage(images)], planes, chunk_size=333, device="cpu")[0]
    pixels = planes.anchor_pixels()
    for p in range(len(planes)):
        for k in range(3):
            row, col = pixels[p, k].tolist()
            assert predictions[p, row, col] == triplets[p, k]
    # the nearest grid cell is at most half a cell away from the anchor on each axis
    du = planes.u[:, 1] - planes.u[:, 0]
    rows, cols = pixels[..., 0], pixels[..., 1]
    u_at = torch.gather(planes.u, 1, cols)
    assert bool(((u_at - planes.anchors[..., 0]).abs() <= du[:, None] / 2 + 1e-6).all())
    assert rows.min() >= 0 and rows.max() < 60


def test_batched_prediction_equals_per_point_loop(images):
    triplets = sample_triplets(torch.arange(12) % 4, 5, seed=3)
    planes = planes_through_triplets(images, triplets, resolution=7, margin=0.5)
    models = [NearestImage(images), NearestImage(images[:6]), Constant(2)]
    batched = predict_planes(models, planes, chunk_size=10, block_size=64, device="cpu")
    assert batched.shape == (3, 5, 7, 7)
    for p in range(5):
        for row in range(7):
            for col in range(7):
                point = (
                    planes.origin[p]
                    + planes.u[p, col] * planes.a[p]
                    + planes.v[p, row] * planes.b_perp[p]
                )
                for m, model in enumerate(models):
                    assert batched[m, p, row, col] == model(point[None]).argmax()
    assert torch.equal(
        batched, predict_planes(models, planes, chunk_size=1000, block_size=7, device="cpu")
    )


def test_predict_restores_training_mode(images):
    model = nn.Sequential(nn.Flatten(), nn.Linear(48, 3), nn.Dropout(0.5))
    planes = planes_through_triplets(images, torch.tensor([[0, 1, 2]]), resolution=4)
    predict_planes([model], planes, device="cpu")
    assert model.training


def test_triplets_have_distinct_classes_and_are_seeded():
    labels = torch.arange(300) % 10
    triplets = sample_triplets(labels, 500, seed=7)
    assert triplets.shape == (500, 3)
    classes = labels[triplets]
    assert bool((classes[:, 0] != classes[:, 1]).all() and (classes[:, 1] != classes[:, 2]).all())
    assert bool((classes[:, 0] != classes[:, 2]).all())
    assert torch.equal(triplets, sample_triplets(labels, 500, seed=7))
    assert not torch.equal(triplets, sample_triplets(labels, 500, seed=8))
    assert set(classes.flatten().tolist()) == set(range(10))
    assert triplets.unique().numel() > 200  # images are drawn within classes, not fixed


def test_identical_models_have_similarity_one(images):
    planes = planes_through_triplets(images, torch.tensor([[0, 1, 2], [3, 4, 5]]), resolution=9)
    pred = predict_planes([NearestImage(images), NearestImage(images)], planes, device="cpu")
    assert region_similarity(pred[0], pred[1]) == 1.0


def test_similarity_counts_disagreeing_pixels():
    a = torch.zeros(2, 10, 10, dtype=torch.int64)
    b = a.clone()
    b[0, :3, :] = 1  # 30 of 100 pixels differ on plane 0, none on plane 1
    assert region_similarity(a, b) == pytest.approx((0.7 + 1.0) / 2)


def test_similarity_matrix_diagonal_uses_distinct_seeds():
    zeros = torch.zeros(1, 4, 4, dtype=torch.int64)
    half = zeros.clone()
    half[0, :2] = 1
    matrix = similarity_matrix({"A": [zeros, zeros], "B": [zeros, half], "C": [half]})
    assert matrix.loc["A", "A"] == 1.0
    assert matrix.loc["B", "B"] == 0.5
    assert matrix.loc["A", "B"] == matrix.loc["B", "A"] == pytest.approx(0.75)
    assert matrix.loc["A", "C"] == 0.5
    assert matrix.loc["C", "C"] != matrix.loc["C", "C"]  # NaN: one seed only
    assert pairwise_similarity([zeros, zeros, half]) == pytest.approx((1 + 0.5 + 0.5) / 3)


def test_constant_predictor_has_fragmentation_one(images):
    planes = planes_through_triplets(
        images, torch.tensor([[0, 1, 2], [3, 4, 5], [6, 7, 8]]), resolution=20
    )
    pred = predict_planes([Constant(4)], planes, device="cpu")[0]
    assert fragmentation(pred).tolist() == [1, 1, 1]


def test_checkerboard_component_counts():
    rows, cols = torch.meshgrid(torch.arange(8), torch.arange(8), indexing="ij")
    board = ((rows + cols) % 2)[None]
    assert fragmentation(board, connectivity=8).tolist() == [2]  # diagonals join each colour
    assert fragmentation(board, connectivity=4).tolist() == [64]  # every square on its own
    blocks = (((rows // 2) + (cols // 2)) % 2)[None]  # 4 x 4 board of 2 x 2 squares
    assert fragmentation(blocks, connectivity=4).tolist() == [16]
    assert fragmentation(blocks, connectivity=8).tolist() == [2]


def test_fragmentation_counts_per_plane_and_class():
    image = torch.zeros(3, 9, 9, dtype=torch.int64)
    image[0, 1, 1] = image[0, 1, 5] = image[0, 5, 1] = 3  # three isolated dots of class 3
    image[0, 7, 7] = 2  # one dot of class 2
    image[1, :, 4] = 1  # a stripe splits class 0 into two components
    image[2] = 5
    assert fragmentation(image).tolist() == [1 + 3 + 1, 2 + 1, 1]


def test_bad_parameters_raise(images):
    triplets = torch.tensor([[0, 1, 2]])
    with pytest.raises(ValueError, match="resolution"):
        planes_through_triplets(images, triplets, resolution=1)
    with pytest.raises(ValueError, match="margin"):
        planes_through_triplets(images, triplets, margin=-0.1)
    with pytest.raises(ValueError, match="x2 == x1"):
        planes_through_triplets(images, torch.tensor([[0, 0, 2]]))
    with pytest.raises(ValueError, match="connectivity"):
        fragmentation(torch.zeros(1, 3, 3, dtype=torch.int64), connectivity=6)
    with pytest.raises(ValueError, match="at least 3 classes"):
        sample_triplets(torch.tensor([0, 1, 0, 1]), 4, seed=0)
    with pytest.raises(ValueError, match="chunk_size"):
        predict_planes([Constant(0)], planes_through_triplets(images, triplets), chunk_size=0)
    with pytest.raises(ValueError, match="block_size"):
        predict_planes([Constant(0)], planes_through_triplets(images, triplets), block_size=0)
    assert isinstance(planes_through_triplets(images, triplets), PlaneBatch)


# --- study helpers (ddlib.studies.decision_regions.experiment) and the notebook's profiles -------------------------------


def test_plane_predictions_are_cached_and_corrupt_caches_recomputed(tmp_path, images):
    from ddlib.core.store import RunStore
    from ddlib.models import build_model
    from ddlib.studies.decision_regions.experiment import run_predictions

    spec = {"name": "mlp", "in_features": 48, "num_classes": 5, "depth": 1, "width": 4}
    torch.manual_seed(0)
    model = build_model(spec)
    run = RunStore(tmp_path).run({"kind": "classifier", "model": spec})
    run.finish([], {"test_error": 0.0}, state={"model": model.state_dict()})
    planes = planes_through_triplets(images, torch.tensor([[0, 1, 2], [3, 4, 5]]), resolution=6)
    plane_spec = {"n_triplets": 2, "resolution": 6}
    first = run_predictions([run], planes, plane_spec, device="cpu")
    assert torch.equal(first[0], predict_planes([model], planes, device="cpu")[0])
    cache = next(run.dir.glob("planes_*.pt"))
    cache.write_bytes(b"not a tensor")
    assert torch.equal(run_predictions([run], planes, plane_spec, device="cpu"), first)
    assert torch.load(cache, weights_only=True).dtype == torch.uint8


def test_profiles_share_keys_and_validate():
    from ddlib.studies import resolve
    from ddlib.studies.decision_regions.params import PARAMETERS, PROFILES

    keys = [set(profile) for profile in PROFILES.values()]
    assert all(k == keys[0] for k in keys) and keys[0] == set(PARAMETERS)
    for name in PROFILES:
        resolve("04", name)
    with pytest.raises(ValueError, match="architectures"):
        resolve("04", "smoke", architectures=["Transformer"])
    with pytest.raises(ValueError, match="seeds"):
        resolve("04", "smoke", seeds=[0])
    with pytest.raises(ValueError, match="students"):
        resolve("04", "smoke", students=["VGG"])
