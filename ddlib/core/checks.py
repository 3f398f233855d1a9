"""Parameter checks shared by every layer: each raises a ValueError naming the parameter and what
is allowed, before any compute."""

from __future__ import annotations

import math
from typing import Any


def check_positive_int(name: str, value: Any, minimum: int = 1) -> None:
    """``value`` must be an int (a bool is not) of at least ``minimum``."""
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise ValueError(f"{name}={value!r} is not allowed; use an integer >= {minimum}")


def check_positive_ints(**values: Any) -> None:
    """:func:`check_positive_int` for every keyword argument, in order."""
    for name, value in values.items():
        check_positive_int(name, value)


def check_finite(name: str, value: Any, *, low: float = -math.inf, high: float = math.inf,
                 low_inclusive: bool = True) -> None:
    """``value`` must be a finite real number (a bool is not) in ``[low, high]`` (``(low, high]``
    when ``low_inclusive`` is False)."""
    is_number = isinstance(value, (int, float)) and not isinstance(value, bool)
    if not is_number or not math.isfinite(value):
        raise ValueError(f"{name}={value!r} is not allowed; use a finite number")
    above = value >= low if low_inclusive else value > low
    if not (above and value <= high):
        bracket = "[" if low_inclusive else "("
        raise ValueError(f"{name}={value!r} is not allowed; use a number in {bracket}{low:g}, {high:g}]")
