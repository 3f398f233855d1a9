"""Parameter sets: a dict with attribute access, a table of meanings and units, and type coercion.

A study's parameters (``ddlib.studies.<study>.params``) are plain dicts per profile; resolving them
(``ddlib.studies.resolve``) applies overrides through :func:`coerce` and returns :class:`Params`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class Params(dict):
    """A dict of parameters with attribute access (``P.widths``) and a readable table."""

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


def coerce(name: str, value: Any, default: Any) -> Any:
    """Accept ints where floats are expected and tuples where lists are; reject other type changes."""
    if default is None or value is None:
        return value
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise ValueError(f"parameter {name!r} must be True or False, got {value!r}")
        return value
    if isinstance(default, float) and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if isinstance(default, list) and isinstance(value, tuple):
        return list(value)
    if isinstance(default, (int, float, str, list, dict)) and not isinstance(value, type(default)):
        raise ValueError(
            f"parameter {name!r} must be a {type(default).__name__} like {default!r}, got {value!r}"
        )
    return value
