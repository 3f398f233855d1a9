"""Local complexity of 1000 points (P = 25) on a 784-200-200-200-10 MLP: batched vs per point.

The reference forwards each point's 2P cross-polytope vertices separately and reads the hidden
pre-activations from the layers directly. ddlib's ``local_complexity`` forwards all points in a
few large batches (and the first layer by linearity). Counts must agree exactly in float64;
in float32 the first-layer-by-linearity shortcut may move a pre-activation across 0 by rounding,
so the number of differing points is printed. Target (issue 11, from the authors' code at about
0.45 s on this CPU): at most 0.1 s in float32. The floor line compares the counted matmul work
with this CPU's plain-matmul rate; below the target, the profile shows where the time goes.

Run: ``python benchmarks/bench_complexity.py`` (prints seconds and ratios).
"""

from __future__ import annotations

import time

import torch
from floor import counted_flop, matmul_rate, print_floor, print_profile

from ddlib.metrics.local_complexity import cross_polytope, local_complexity, orthonormal_frame
from ddlib.models.mlp import MLP

NUM_POINTS, NUM_DIRECTIONS, RADIUS = 1000, 25, 0.5
TARGET_SECONDS = 0.1  # float32


def per_point_reference(model: MLP, x: torch.Tensor, frame: torch.Tensor) -> torch.Tensor:
    """Straightforward LC: one forward of each point's vertices, layer by layer."""
    totals = []
    with torch.no_grad():
        for point in x:
            h = cross_polytope(point[None], frame, RADIUS)[0]
            count = 0
            for linear in model.hidden:
                z = linear(h)
                positive = z > 0
                count += int((positive.any(0) & ~positive.all(0)).sum())
                h = torch.relu(z)
            totals.append(count)
    return torch.tensor(totals)


def timed(function, repeats: int = 3) -> tuple[float, object]:
    best, result = float("inf"), None
    for _ in range(repeats):
        start = time.perf_counter()
        result = function()
        best = min(best, time.perf_counter() - start)
    return best, result


def compare(dtype: torch.dtype) -> None:
    torch.manual_seed(0)
    model = MLP(784, 10, depth=3, width=200, dtype=dtype)
    x = torch.rand(NUM_POINTS, 784, dtype=dtype)
    frame = orthonormal_frame(784, NUM_DIRECTIONS, seed=0, dtype=dtype)
    ref_s, reference = timed(lambda: per_point_reference(model, x, frame), repeats=1)
    plain_s, plain = timed(
        lambda: local_complexity(model, x, RADIUS, directions=frame, first_layer_by_linearity=False)
    )
    fast_s, fast = timed(lambda: local_complexity(model, x, RADIUS, directions=frame))
    assert torch.equal(plain.total, reference), "batched LC differs from the per-point loop"
    differing = int((fast.total != reference).sum())
    if dtype == torch.float64:
        assert differing == 0, "first layer by linearity changed counts in float64"
    name = str(dtype).removeprefix("torch.")
    print(
        f"[{name}] mean LC {reference.double().mean():.3f} | per-point loop {ref_s:.3f} s | "
        f"batched {plain_s:.3f} s (x{ref_s / plain_s:.1f}) | batched + linear first layer "
        f"{fast_s:.3f} s (x{ref_s / fast_s:.1f}); points differing: {differing}"
    )
    fast = lambda: local_complexity(model, x, RADIUS, directions=frame)  # noqa: E731
    print_floor("ddlib", fast_s, counted_flop(fast), matmul_rate(dtype), f"{name} matmul")
    if dtype == torch.float32:
        verdict = "met" if fast_s <= TARGET_SECONDS else "missed"
        print(f"  target <= {TARGET_SECONDS} s: {verdict}")
        if fast_s > TARGET_SECONDS:
            print_profile(fast)


def main() -> None:
    for dtype in (torch.float32, torch.float64):
        compare(dtype)


if __name__ == "__main__":
    print(f"torch threads: {torch.get_num_threads()} (set OMP_NUM_THREADS to change)")
    main()
