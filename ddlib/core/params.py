"""Parameter sets and the rules that check them.

A study's parameters (``ddlib.studies.<study>.params``) are plain dicts per profile with a table of
rules (``RULES``: one :class:`Rule` per parameter). Resolving a profile (``ddlib.studies.resolve``)
applies overrides, checks every value with its rule, then the study's cross-field ``validate``,
and returns :class:`Params`, all before any data is loaded.
"""

from __future__ import annotations

import difflib
import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any


class Params(dict):
    """A dict of parameters with attribute access (``P.widths``) and a readable table.

    Besides the study's parameters (the dict's items), resolving sets ``profile``, the
    ``descriptions`` of the items, and ``executor`` / ``executor_options``: where the study's
    sweeps train (:func:`ddlib.execution.run_sweep`)."""

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(f"no parameter named {name!r}; known: {sorted(self)}") from None

    def table(self) -> Any:
        import pandas as pd

        rows = [{"parameter": k, "value": repr(v), "meaning [unit]": self.descriptions.get(k, "")}
                for k, v in self.items()]
        return pd.DataFrame(rows).set_index("parameter")

    def _repr_html_(self) -> str:
        return self.table().to_html()

    descriptions: Mapping[str, str] = {}
    profile: str = ""
    executor: str = "local"
    executor_options: Mapping[str, Any] = {}


# --------------------------------------------------------------------------------------------
# Rules: every parameter of every profile is checked by one when the profile is resolved, before
# any data is loaded. A rule returns the value it accepts (ints become floats for a Real, tuples
# become lists) and raises a ValueError naming the parameter and what is allowed.
# --------------------------------------------------------------------------------------------
class Rule:
    """A check of one parameter value; ``describe()`` says what is allowed, in words."""

    def check(self, name: str, value: Any) -> Any:
        raise NotImplementedError

    def describe(self) -> str:
        raise NotImplementedError

    def fail(self, name: str, value: Any) -> None:
        raise ValueError(f"{name}={value!r} is not allowed; use {self.describe()}")


def _interval(low: float | None, high: float | None, low_open: bool = False,
              high_open: bool = False) -> str:
    if low is None and high is None:
        return ""
    left = "-inf" if low is None else f"{low:g}"
    right = "inf" if high is None else f"{high:g}"
    return f" in {'(' if low_open or low is None else '['}{left}, {right}{')' if high_open or high is None else ']'}"


@dataclass(frozen=True)
class Integer(Rule):
    """An int (a bool is not one) in ``[low, high]``."""

    low: int | None = None
    high: int | None = None

    def check(self, name: str, value: Any) -> int:
        if (not isinstance(value, int) or isinstance(value, bool)
                or (self.low is not None and value < self.low)
                or (self.high is not None and value > self.high)):
            self.fail(name, value)
        return value

    def describe(self) -> str:
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
        if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value):
            self.fail(name, value)
        if self.low is not None and (value <= self.low if self.low_open else value < self.low):
            self.fail(name, value)
        if self.high is not None and (value >= self.high if self.high_open else value > self.high):
            self.fail(name, value)
        return float(value) if self.as_float else value

    def describe(self) -> str:
        return "a finite number" + _interval(self.low, self.high, self.low_open, self.high_open)


@dataclass(frozen=True)
class Flag(Rule):
    """True or False."""

    def check(self, name: str, value: Any) -> bool:
        if not isinstance(value, bool):
            self.fail(name, value)
        return value

    def describe(self) -> str:
        return "True or False"


@dataclass(frozen=True)
class Choice(Rule):
    """One of a fixed set of values (compared by equality; bools never match ints)."""

    options: tuple

    def check(self, name: str, value: Any) -> Any:
        if not any(value == option and type(value) is type(option) for option in self.options):
            close = difflib.get_close_matches(str(value), [str(o) for o in self.options], n=1)
            hint = f" (did you mean {close[0]!r}?)" if close and isinstance(value, str) else ""
            raise ValueError(f"{name}={value!r} is not allowed; use {self.describe()}{hint}")
        return value

    def describe(self) -> str:
        return "one of " + ", ".join(repr(option) for option in self.options)


@dataclass(frozen=True)
class Text(Rule):
    """A non-empty string."""

    def check(self, name: str, value: Any) -> str:
        if not isinstance(value, str) or not value:
            self.fail(name, value)
        return value

    def describe(self) -> str:
        return "a non-empty string"


@dataclass(frozen=True)
class Maybe(Rule):
    """None, or a value accepted by ``rule``."""

    rule: Rule

    def check(self, name: str, value: Any) -> Any:
        if value is None:
            return None
        try:
            return self.rule.check(name, value)
        except ValueError:
            if isinstance(self.rule, (Record, ListOf, MapOf)):
                raise  # a nested error already names the offending entry
            self.fail(name, value)

    def describe(self) -> str:
        return f"None or {self.rule.describe()}"


@dataclass(frozen=True)
class ListOf(Rule):
    """A list (or tuple) of ``min_length``..``max_length`` items, each accepted by ``item``;
    with ``distinct`` no item may repeat."""

    item: Rule
    min_length: int = 1
    max_length: int | None = None
    distinct: bool = False

    def check(self, name: str, value: Any) -> list:
        if not isinstance(value, (list, tuple)):
            self.fail(name, value)
        if len(value) < self.min_length or (self.max_length is not None and len(value) > self.max_length):
            self.fail(name, value)
        items = [self.item.check(f"{name}[{i}]", v) for i, v in enumerate(value)]
        if self.distinct and len({json.dumps(v, sort_keys=True) for v in items}) < len(items):
            raise ValueError(f"{name}={value!r} is not allowed; use {self.describe()} (no repeats)")
        return items

    def describe(self) -> str:
        size = (f"at least {self.min_length}" if self.max_length is None
                else f"{self.min_length} to {self.max_length}")
        return f"a list of {size} items{', all different' if self.distinct else ''}, each {self.item.describe()}"


@dataclass(frozen=True)
class Record(Rule):
    """A dict with known keys: every key of ``fields`` is required unless listed in ``optional``;
    an unknown key is an error naming the closest known one."""

    fields: Mapping[str, Rule]
    optional: tuple[str, ...] = ()

    def check(self, name: str, value: Any) -> dict:
        if not isinstance(value, Mapping):
            self.fail(name, value)
        unknown = [key for key in value if key not in self.fields]
        if unknown:
            close = difflib.get_close_matches(str(unknown[0]), list(self.fields), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ValueError(f"{name} has unknown key {unknown[0]!r}{hint}; "
                             f"allowed keys: {list(self.fields)}")
        missing = [key for key in self.fields if key not in value and key not in self.optional]
        if missing:
            raise ValueError(f"{name}={dict(value)!r} lacks {missing}; required keys: "
                             f"{[k for k in self.fields if k not in self.optional]}")
        return {key: self.fields[key].check(f"{name}.{key}", v) for key, v in value.items()}

    def describe(self) -> str:
        return "a dict with keys " + ", ".join(
            f"{key}{'?' if key in self.optional else ''}" for key in self.fields)


@dataclass(frozen=True)
class MapOf(Rule):
    """A dict of at least ``min_length`` entries whose keys and values follow the rules given."""

    key: Rule
    value: Rule
    min_length: int = 1

    def check(self, name: str, value: Any) -> dict:
        if not isinstance(value, Mapping) or len(value) < self.min_length:
            self.fail(name, value)
        return {self.key.check(f"{name} key", k): self.value.check(f"{name}[{k!r}]", v)
                for k, v in value.items()}

    def describe(self) -> str:
        return (f"a dict of at least {self.min_length} entries, keys {self.key.describe()}, "
                f"values {self.value.describe()}")


def closest_name(name: str, known: Iterable[str]) -> str:
    """``" (did you mean 'widths'?)"`` for the known name closest to ``name``, or ``""``."""
    close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""
