"""Parameter checks shared by every layer: each raises a ValueError naming the parameter and what
is allowed, before any compute."""

from __future__ import annotations

import os
from typing import Any


def check_positive_int(name: str, value: Any, minimum: int = 1) -> None:
    """``value`` must be an int (a bool is not) of at least ``minimum``."""
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise ValueError(f"{name}={value!r} is not allowed; use an integer >= {minimum}")


def check_positive_ints(**values: Any) -> None:
    """:func:`check_positive_int` for every keyword argument, in order."""
    for name, value in values.items():
        check_positive_int(name, value)


CPU_FLOP_RATE = 5e10  # sustained float32 FLOP/s assumed for a CPU (a 2-core laptop reaches ~2e10)
GPU_FLOP_RATE = 2e14  # sustained FLOP/s assumed for one modern GPU (bf16)
TIME_LIMIT_SECONDS = 365 * 24 * 3600.0  # refuse work estimated at over a year of one GPU


def machine_memory_bytes() -> int:
    """Physical memory of this machine."""
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def _human_seconds(seconds: float) -> str:
    for unit, size in (("years", 365 * 86400), ("days", 86400), ("hours", 3600), ("minutes", 60)):
        if seconds >= size:
            return f"{seconds / size:,.1f} {unit}"
    return f"{seconds:.0f} s"


def check_cost(what: str, *, memory_bytes: float, flop: float) -> None:
    """Refuse work that cannot fit: more memory than this machine has, or more compute than
    :data:`TIME_LIMIT_SECONDS` of one GPU. The message gives the estimates and the limit."""
    memory, limit = float(memory_bytes), machine_memory_bytes()
    if memory > limit:
        raise ValueError(f"{what} needs about {memory / 2**30:,.1f} GiB of memory; this machine "
                         f"has {limit / 2**30:,.1f} GiB")
    if flop / GPU_FLOP_RATE > TIME_LIMIT_SECONDS:
        raise ValueError(f"{what} needs about {flop:.2g} FLOP: {_human_seconds(flop / GPU_FLOP_RATE)} "
                         f"of one GPU ({_human_seconds(flop / CPU_FLOP_RATE)} of a CPU); the limit "
                         f"is {_human_seconds(TIME_LIMIT_SECONDS)} of one GPU")
