"""The one vocabulary of value checks of ddlib, and the cost check.

A :class:`Rule` checks one value: ``rule.check(name, value)`` returns the value it accepts (a
``Real`` turns ints into floats unless ``as_float=False``, lists and tuples become lists) or raises
a ValueError naming the parameter and what is allowed (``describe()``, or the rule's ``say``). The
studies' parameters (``ddlib.core.params.Param``), the training configs, the executor options and
the models all check with these rules, before any compute.
"""

from __future__ import annotations

import contextlib
import difflib
import json
import math
import os
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any


def closest_name(name: str, known: Iterable[str]) -> str:
    """``" (did you mean 'widths'?)"`` for the known name closest to ``name``, or ``""``."""
    close = difflib.get_close_matches(str(name), [str(k) for k in known], n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _interval(low: float | None, high: float | None, low_open: bool = False,
              high_open: bool = False) -> str:
    if low is None and high is None:
        return ""
    left = "-inf" if low is None else f"{low:g}"
    right = "inf" if high is None else f"{high:g}"
    return f" in {'(' if low_open or low is None else '['}{left}, {right}{')' if high_open or high is None else ']'}"


def _within(value: float, low: float | None, high: float | None, low_open: bool = False,
            high_open: bool = False) -> bool:
    return ((low is None or (value > low if low_open else value >= low))
            and (high is None or (value < high if high_open else value <= high)))


@dataclass(frozen=True)
class Rule:
    """A check of one value; ``describe()`` says what is allowed, in words (``say`` replaces
    those words where a caller's message reads better, e.g. "a positive integer")."""

    say: str | None = field(default=None, kw_only=True)

    def check(self, name: str, value: Any) -> Any:
        if not self.accepts(value):
            self.fail(name, value)
        return value

    def accepts(self, value: Any) -> bool:
        raise NotImplementedError

    def words(self) -> str:
        raise NotImplementedError

    def describe(self) -> str:
        return self.say or self.words()

    def fail(self, name: str, value: Any, hint: str = "") -> None:
        raise ValueError(f"{name}={value!r} is not allowed; use {self.describe()}{hint}")


@dataclass(frozen=True)
class Integer(Rule):
    """An int (a bool is not one) in ``[low, high]``."""

    low: int | None = None
    high: int | None = None

    def accepts(self, value: Any) -> bool:
        return (isinstance(value, int) and not isinstance(value, bool)
                and _within(value, self.low, self.high))

    def words(self) -> str:
        return "an integer" + _interval(self.low, self.high)


@dataclass(frozen=True)
class Real(Rule):
    """A finite number in the interval given; ints are accepted and become floats unless
    ``as_float`` is False (for parameters whose profile values are ints: run hashes depend on the
    JSON of the values, and ``1`` and ``1.0`` differ there)."""

    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False
    as_float: bool = True

    def check(self, name: str, value: Any) -> float:
        if not (isinstance(value, (int, float)) and not isinstance(value, bool)
                and math.isfinite(value)
                and _within(value, self.low, self.high, self.low_open, self.high_open)):
            self.fail(name, value)
        return float(value) if self.as_float else value

    def words(self) -> str:
        return "a finite number" + _interval(self.low, self.high, self.low_open, self.high_open)


@dataclass(frozen=True)
class Flag(Rule):
    """True or False."""

    def accepts(self, value: Any) -> bool:
        return isinstance(value, bool)

    def words(self) -> str:
        return "True or False"


@dataclass(frozen=True)
class Text(Rule):
    """A string that is not blank."""

    def accepts(self, value: Any) -> bool:
        return isinstance(value, str) and bool(value.strip())

    def words(self) -> str:
        return "a non-empty string"


@dataclass(frozen=True)
class Choice(Rule):
    """One of a fixed set of values (compared by equality; bools never match ints)."""

    options: tuple = ()

    def check(self, name: str, value: Any) -> Any:
        if not any(value == option and type(value) is type(option) for option in self.options):
            self.fail(name, value, closest_name(value, self.options) if isinstance(value, str) else "")
        return value

    def words(self) -> str:
        return "one of " + ", ".join(repr(option) for option in self.options)


@dataclass(frozen=True)
class Maybe(Rule):
    """None, or a value accepted by ``rule``."""

    rule: Rule = Rule()

    def check(self, name: str, value: Any) -> Any:
        if value is None:
            return None
        try:
            return self.rule.check(name, value)
        except ValueError:
            if isinstance(self.rule, (Record, ListOf, MapOf)):
                raise  # a nested error already names the offending entry
            self.fail(name, value)

    def words(self) -> str:
        return f"None or {self.rule.describe()}"


@dataclass(frozen=True)
class ListOf(Rule):
    """A list (or tuple) of ``min_length``..``max_length`` items, each accepted by ``item``;
    with ``distinct`` no item may repeat."""

    item: Rule = Rule()
    min_length: int = 1
    max_length: int | None = None
    distinct: bool = False

    def check(self, name: str, value: Any) -> list:
        if not isinstance(value, (list, tuple)) or not _within(len(value), self.min_length,
                                                               self.max_length):
            self.fail(name, value)
        items = [self.item.check(f"{name}[{i}]", v) for i, v in enumerate(value)]
        if self.distinct and len({json.dumps(v, sort_keys=True) for v in items}) < len(items):
            self.fail(name, value, " (no repeats)")
        return items

    def words(self) -> str:
        size = (f"at least {self.min_length}" if self.max_length is None
                else f"{self.min_length} to {self.max_length}")
        return f"a list of {size} items{', all different' if self.distinct else ''}, each {self.item.describe()}"


@dataclass(frozen=True)
class Record(Rule):
    """A dict with known keys: every key of ``fields`` is required unless listed in ``optional``;
    an unknown key is an error naming the closest known one."""

    fields: Mapping[str, Rule] = field(default_factory=dict)
    optional: tuple[str, ...] = ()

    def check(self, name: str, value: Any) -> dict:
        if not isinstance(value, Mapping):
            self.fail(name, value)
        unknown = [key for key in value if key not in self.fields]
        if unknown:
            raise ValueError(f"{name} has unknown key {unknown[0]!r}"
                             f"{closest_name(unknown[0], self.fields)}; allowed keys: {list(self.fields)}")
        missing = [key for key in self.fields if key not in value and key not in self.optional]
        if missing:
            raise ValueError(f"{name}={dict(value)!r} lacks {missing}; required keys: "
                             f"{[k for k in self.fields if k not in self.optional]}")
        return {key: self.fields[key].check(f"{name}.{key}", v) for key, v in value.items()}

    def words(self) -> str:
        return "a dict with keys " + ", ".join(
            f"{key}{'?' if key in self.optional else ''}" for key in self.fields)


@dataclass(frozen=True)
class MapOf(Rule):
    """A dict of at least ``min_length`` entries whose keys and values follow the rules given."""

    key: Rule = Rule()
    value: Rule = Rule()
    min_length: int = 1

    def check(self, name: str, value: Any) -> dict:
        if not isinstance(value, Mapping) or len(value) < self.min_length:
            self.fail(name, value)
        return {self.key.check(f"{name} key", k): self.value.check(f"{name}[{k!r}]", v)
                for k, v in value.items()}

    def words(self) -> str:
        return (f"a dict of at least {self.min_length} entries, keys {self.key.describe()}, "
                f"values {self.value.describe()}")


def check_positive_int(name: str, value: Any, minimum: int = 1) -> int:
    """``value`` must be an int (a bool is not) of at least ``minimum``."""
    return Integer(minimum, say=f"an integer >= {minimum}").check(name, value)


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


@dataclass(frozen=True)
class CostEstimate:
    """One estimate priced by :func:`check_cost`: a study's checks price disjoint parts of its
    work for FLOP (so they add up) and its largest runs for memory (so the peak is their max)."""

    what: str
    memory_bytes: float
    flop: float


_RECORDERS: list[list[CostEstimate]] = []


@contextlib.contextmanager
def recorded_costs() -> Iterator[list[CostEstimate]]:
    """Collect every estimate :func:`check_cost` makes inside the block (how a paper run's cost
    table is built from the same numbers that validate it)."""
    estimates: list[CostEstimate] = []
    _RECORDERS.append(estimates)
    try:
        yield estimates
    finally:
        _RECORDERS.remove(estimates)


def check_cost(what: str, *, memory_bytes: float, flop: float) -> None:
    """Refuse work that cannot fit: more memory than this machine has, or more compute than
    :data:`TIME_LIMIT_SECONDS` of one GPU. The message gives the estimates and the limit. Inside
    :func:`recorded_costs` the estimate is also recorded."""
    for recorder in _RECORDERS:
        recorder.append(CostEstimate(what, float(memory_bytes), float(flop)))
    memory, limit = float(memory_bytes), machine_memory_bytes()
    if memory > limit:
        raise ValueError(f"{what} needs about {memory / 2**30:,.1f} GiB of memory; this machine "
                         f"has {limit / 2**30:,.1f} GiB")
    if flop / GPU_FLOP_RATE > TIME_LIMIT_SECONDS:
        raise ValueError(f"{what} needs about {flop:.2g} FLOP: {_human_seconds(flop / GPU_FLOP_RATE)} "
                         f"of one GPU ({_human_seconds(flop / CPU_FLOP_RATE)} of a CPU); the limit "
                         f"is {_human_seconds(TIME_LIMIT_SECONDS)} of one GPU")
