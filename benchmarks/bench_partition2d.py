"""Exact partition of a 2D slice of a default-init 784-200-...-10 MLP: ddlib vs regioncam.

The slice passes through three random points of [0, 1]^784 (box: their bounding box + 10%).
ddlib's polygon splitting (numpy, float64) and regioncam (Rust, float32) must find the same
number of regions. Target (issue 11, from regioncam's 1.1-1.4 s on this CPU): at most 0.5 s for
depth 3. Below the target, the time per stage (cProfile) and a floor are printed: the dense
products ddlib performs (one per parent region and layer, ``partition2d._next_layer_maps``) at
this CPU's float64 matmul rate.

Run: ``python benchmarks/bench_partition2d.py``.
"""

from __future__ import annotations

import cProfile
import pstats
import time

import numpy as np
import torch
from floor import matmul_rate

from ddlib.metrics import partition2d
from ddlib.metrics.partition2d import exact_partition, plane_through, regioncam_partition
from ddlib.models.mlp import MLP

TARGET_SECONDS = 0.5  # depth 3
STAGES = ("_split_layer", "_next_layer_maps", "decision_boundary")


def dense_product_flop(model: MLP, plane: partition2d.Plane) -> float:
    """FLOP of the per-parent map products of one ``exact_partition`` (recorded while it runs)."""
    original, flop = partition2d._next_layer_maps, []

    def recording(maps, parents, pattern, weight, bias, slope):
        flop.append(2.0 * maps.shape[0] * 3 * weight.shape[1] * weight.shape[0])
        return original(maps, parents, pattern, weight, bias, slope)

    partition2d._next_layer_maps = recording
    try:
        exact_partition(model, plane)
    finally:
        partition2d._next_layer_maps = original
    return sum(flop)


def print_stages(model: MLP, plane: partition2d.Plane) -> None:
    profiler = cProfile.Profile()
    profiler.runcall(exact_partition, model, plane)
    stats = pstats.Stats(profiler).stats
    total = max(entry[3] for entry in stats.values())
    parts = [f"{name} {entry[3]:.3f} s" for (_, _, name), entry in stats.items() if name in STAGES]
    print(f"  where the time goes (cProfile, cumulative of {total:.3f} s): {', '.join(parts)}")


def main() -> None:
    rate = matmul_rate(torch.float64)
    for depth in (3, 4):
        torch.manual_seed(0)
        model = MLP(784, 10, depth=depth, width=200)
        plane = plane_through(np.random.default_rng(0).uniform(size=(3, 784)))
        exact_partition(model, plane)  # warm-up: first allocations of the large arrays
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
        flop = dense_product_flop(model, plane)
        print(f"  dense map products {flop / 1e9:.2f} GFLOP: {flop / rate:.3f} s at this CPU's "
              f"float64 matmul rate ({rate / 1e9:.0f} GFLOP/s); the rest is moving per-region "
              f"maps (gathers, sparse corrections) and polygon clipping")
        if depth == 3:
            print(f"  target <= {TARGET_SECONDS} s: {'met' if ours <= TARGET_SECONDS else 'missed'}")
            if ours > TARGET_SECONDS:
                print_stages(model, plane)


if __name__ == "__main__":
    print(f"torch threads: {torch.get_num_threads()} (set OMP_NUM_THREADS to change)")
    main()
