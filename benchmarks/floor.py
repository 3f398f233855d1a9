"""Where a kernel's time goes and how far it is from this CPU's floor (shared by the benchmarks).

The floor of a computation is its floating-point work divided by the rate this CPU reaches on a
plain dense product at the same thread count: a float32/float64 matmul of 1024 x 1024 matrices,
or a 3 x 3 convolution of 128 images of 32 x 32 with 32 -> 32 channels. Work is counted by
ddlib's one counter (``ddlib.models.cost.FlopCount``: PyTorch's FLOP formulas of matmuls and
convolutions, forward and backward, applied to every operator a call dispatches; it also
counts ``torch.autograd.grad`` with respect to an input); elementwise operations are not
counted, so the floor is a lower bound.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import torch
from torch.nn import functional
from torch.profiler import ProfilerActivity, profile

from ddlib.models.cost import FlopCount


def best_seconds(function: Callable[[], Any], repeats: int = 3) -> float:
    """The fastest of ``repeats`` calls [s] (after one warm-up call)."""
    function()
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        best = min(best, time.perf_counter() - start)
    return best


def matmul_rate(dtype: torch.dtype = torch.float32, size: int = 1024) -> float:
    """FLOP/s of a plain ``size x size`` matmul at the current thread count."""
    generator = torch.Generator().manual_seed(0)
    a = torch.randn(size, size, generator=generator, dtype=dtype)
    b = torch.randn(size, size, generator=generator, dtype=dtype)
    return 2.0 * size**3 / best_seconds(lambda: a @ b)


def conv_rate(dtype: torch.dtype = torch.float32) -> float:
    """FLOP/s of a 3 x 3 convolution, 128 images 32 x 32, 32 -> 32 channels (forward)."""
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(128, 32, 32, 32, generator=generator, dtype=dtype)
    weight = torch.randn(32, 32, 3, 3, generator=generator, dtype=dtype)
    flop = 2.0 * 128 * 32 * 32 * 32 * 32 * 9
    with torch.no_grad():
        return flop / best_seconds(lambda: functional.conv2d(x, weight, padding=1))


def counted_flop(function: Callable[[], Any]) -> float:
    """Matmul and convolution FLOP of one call of ``function``."""
    with FlopCount() as counter:
        function()
    return float(counter.flop)


def print_floor(label: str, seconds: float, flop: float, rate: float, rate_name: str) -> None:
    """One line: measured time, counted work, the floor at ``rate`` and the fraction reached."""
    floor = flop / rate
    print(f"  {label}: {seconds:.3f} s for {flop / 1e9:.2f} GFLOP (matmul/conv only); floor at "
          f"{rate / 1e9:.0f} GFLOP/s ({rate_name}) {floor:.3f} s, i.e. {100 * floor / seconds:.0f}% "
          f"of that rate")


def print_profile(function: Callable[[], Any], rows: int = 8) -> None:
    """The operators that take the most CPU time in one call of ``function``."""
    with profile(activities=[ProfilerActivity.CPU]) as profiler:
        function()
    table = profiler.key_averages().table(sort_by="self_cpu_time_total", row_limit=rows)
    print("  where the time goes (torch profiler, self CPU time):")
    print("\n".join("    " + line for line in table.splitlines()))
