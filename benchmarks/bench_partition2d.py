"""Exact partition of a 2D slice of a random depth-4 width-200 MLP (784 inputs): ddlib vs regioncam.

The slice passes through three random points of [0, 1]^784 (box: their bounding box + 10%).
ddlib's polygon splitting (numpy, float64) and regioncam (Rust, float32) must find the same
number of regions. Target for ddlib: under 2 s on 2 CPU cores.

Run: ``python benchmarks/bench_partition2d.py``.
"""

from __future__ import annotations

import time

import numpy as np
import torch

from ddlib.metrics.partition2d import exact_partition, plane_through, regioncam_partition
from ddlib.models.mlp import MLP


def main() -> None:
    for depth in (3, 4):
        torch.manual_seed(0)
        model = MLP(784, 10, depth=depth, width=200)
        plane = plane_through(np.random.default_rng(0).uniform(size=(3, 784)))
        start = time.perf_counter()
        partition = exact_partition(model, plane)
        ours = time.perf_counter() - start
        start = time.perf_counter()
        camera = regioncam_partition(model, plane)
        theirs = time.perf_counter() - start
        u0, u1, v0, v1 = plane.box
        area_error = abs(partition.areas().sum() / ((u1 - u0) * (v1 - v0)) - 1)
        print(
            f"depth {depth} width 200: ddlib {partition.num_regions} regions in {ours:.2f} s | "
            f"regioncam {camera.num_faces} regions in {theirs:.2f} s | ratio x{theirs / ours:.2f}"
            f" | relative area error {area_error:.1e} | boundary segments "
            f"{len(partition.boundary)}"
        )
        assert partition.num_regions == camera.num_faces, "region counts differ from regioncam"


if __name__ == "__main__":
    print(f"torch threads: {torch.get_num_threads()} (set OMP_NUM_THREADS to change)")
    main()
