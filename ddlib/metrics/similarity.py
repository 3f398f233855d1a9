"""Region similarity and fragmentation of decision regions on planes (Somepalli et al. 2022).

Both act on argmax images of planes (see ``ddlib.metrics.decision_planes.predict_planes``):

- region similarity of two models (Sec. 4): the fraction of grid points where their predicted
  classes agree, averaged over planes (triplets);
- fragmentation (Sec. 5): the number of connected components of each class present in a plane's
  argmax image (8-connectivity), summed over classes; reported per plane and averaged.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
import torch
from scipy import ndimage
from torch import Tensor

CONNECTIVITIES = (4, 8)


def region_similarity_per_plane(pred_a: Tensor, pred_b: Tensor) -> Tensor:
    """Fraction of agreeing grid points per plane: [..., P, R, R] x2 -> float64 [..., P]."""
    if pred_a.shape != pred_b.shape:
        raise ValueError(
            f"pred_a and pred_b must have the same shape, got {tuple(pred_a.shape)} "
            f"and {tuple(pred_b.shape)}"
        )
    return (pred_a == pred_b).flatten(-2).double().mean(dim=-1)


def region_similarity(pred_a: Tensor, pred_b: Tensor) -> float:
    """Region similarity of two models: agreement fraction averaged over planes (Sec. 4)."""
    return float(region_similarity_per_plane(pred_a, pred_b).mean())


def group_similarity_per_plane(group_a: Sequence[Tensor], group_b: Sequence[Tensor] | None = None,
                               ) -> Tensor | None:
    """Region similarity per plane between two groups of models, averaged over model pairs: [P].

    With ``group_b`` every pair (model of A, model of B); without it the pairs of distinct models
    of ``group_a`` (seed-to-seed similarity: the reproducibility of one architecture). None when
    there is no pair (a single model and no ``group_b``). All models are on the same planes.
    """
    if group_b is None:
        pairs = list(itertools.combinations(group_a, 2))
    else:
        pairs = list(itertools.product(group_a, group_b))
    if not pairs:
        return None
    return torch.stack([region_similarity_per_plane(p, q) for p, q in pairs]).mean(dim=0)


def similarity_pairs_per_plane(predictions: Mapping[str, Sequence[Tensor]]) -> pd.DataFrame:
    """Region similarity per plane for every pair of groups (e.g. architectures x seeds).

    ``predictions[name]`` holds one argmax tensor [P, R, R] per seed, all on the same planes. One
    row per pair (first, second) with ``first`` not after ``second`` in the order of
    ``predictions`` (the diagonal rows first == second compare distinct seeds of one group, NaN for
    a single seed), one column per plane: the units of a bootstrap over planes, paired across
    pairs. Row means are the entries of :func:`similarity_matrix`.
    """
    names = list(predictions)
    if not names:
        raise ValueError("predictions must contain at least one group")
    rows, index = [], []
    for i, j in itertools.combinations_with_replacement(range(len(names)), 2):
        group_a = predictions[names[i]]
        values = group_similarity_per_plane(group_a, None if i == j else predictions[names[j]])
        planes = len(group_a[0])
        rows.append(np.full(planes, np.nan) if values is None else values.numpy())
        index.append((names[i], names[j]))
    return pd.DataFrame(np.stack(rows), index=pd.MultiIndex.from_tuples(index, names=["first",
                                                                                      "second"]))


def similarity_matrix(predictions: Mapping[str, Sequence[Tensor]]) -> pd.DataFrame:
    """Mean region similarity between groups of models (e.g. architectures x seeds).

    ``predictions[name]`` holds one argmax tensor [P, R, R] per seed, all on the same planes.
    Off-diagonal entries average over every pair (seed of A, seed of B); a diagonal entry averages
    over pairs of distinct seeds of the same group (NaN for a group with a single seed), which is
    the reproducibility of that architecture (Fig. 2 of Somepalli et al.). The plane means of
    :func:`similarity_pairs_per_plane`.
    """
    return matrix_of_pairs(similarity_pairs_per_plane(predictions))


def matrix_of_pairs(pairs: pd.DataFrame) -> pd.DataFrame:
    """The symmetric similarity matrix of the plane means of :func:`similarity_pairs_per_plane`."""
    names = list(dict.fromkeys(pairs.index.get_level_values("first")))
    matrix = pd.DataFrame(np.nan, index=names, columns=names, dtype=float)
    for (first, second), value in pairs.mean(axis=1).items():
        matrix.loc[first, second] = matrix.loc[second, first] = float(value)
    return matrix


def pairwise_similarity_per_plane(predictions: Sequence[Tensor]) -> Tensor:
    """Seed-to-seed similarity per plane of one group, averaged over its pairs of models: [P]."""
    values = group_similarity_per_plane(predictions)
    if values is None:
        raise ValueError("predictions must hold at least two models to form a pair")
    return values


def pairwise_similarity(predictions: Sequence[Tensor]) -> float:
    """Mean similarity over all pairs of distinct models of one group (seed-to-seed similarity)."""
    return float(pairwise_similarity_per_plane(predictions).mean())


def fragmentation(label_images: Tensor, connectivity: int = 8) -> Tensor:
    """Connected components per class, summed over classes, for each plane: [P, R, R] -> [P].

    Components are counted within a plane only (planes never connect to each other); 8-connectivity
    joins diagonal neighbours, as in the paper, 4-connectivity only edge neighbours.
    """
    if connectivity not in CONNECTIVITIES:
        raise ValueError(f"connectivity must be one of {CONNECTIVITIES}, got {connectivity!r}")
    if label_images.ndim != 3:
        raise ValueError(f"label_images must have shape [P, R, R], got {tuple(label_images.shape)}")
    images = label_images.cpu().numpy()
    in_plane = ndimage.generate_binary_structure(2, 1 if connectivity == 4 else 2)
    structure = np.zeros((3, 3, 3), dtype=bool)
    structure[1] = in_plane  # no links between neighbouring planes
    pixels_per_plane = images.shape[1] * images.shape[2]
    counts = np.zeros(images.shape[0], dtype=np.int64)
    for label in np.unique(images):
        components, _ = ndimage.label(images == label, structure=structure)
        ids, first_pixel = np.unique(components.ravel(), return_index=True)
        plane_of_component = first_pixel[ids > 0] // pixels_per_plane
        counts += np.bincount(plane_of_component, minlength=images.shape[0])
    return torch.from_numpy(counts)
