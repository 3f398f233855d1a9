"""Parameters of a study: one declaration per parameter, profiles as deltas, resolved values.

A study's ``params`` module declares ``PARAMETERS``: one :class:`Param` per name, holding its
``laptop`` value, its rule (:mod:`ddlib.core.checks`) and its meaning with its unit. The
``smoke`` and ``paper`` profiles are the laptop values plus the keys that differ
(:func:`profiles`). Resolving a profile (``ddlib.studies.resolve``) applies overrides, checks
every value with its rule, then the study's cross-field ``validate``, and returns :class:`Params`,
all before any data is loaded.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ddlib.core.checks import Rule


@dataclass(frozen=True)
class Param:
    """One parameter: its ``laptop`` value, the rule every value must pass, what it means [unit]."""

    value: Any
    rule: Rule
    meaning: str


def profiles(parameters: Mapping[str, Param], **deltas: Mapping[str, Any]) -> dict[str, dict]:
    """``{"smoke": ..., "laptop": ..., "paper": ...}``: the declared (laptop) values, and for
    each other profile those values with its ``deltas`` (only the keys that differ)."""
    laptop = {name: parameter.value for name, parameter in parameters.items()}
    for profile, delta in deltas.items():
        wrong = [k for k, v in delta.items() if k not in laptop or repr(v) == repr(laptop[k])]
        if wrong:
            raise KeyError(f"profile {profile!r}: {wrong} are no parameters or repeat laptop's value")
    return {"smoke": {**laptop, **deltas["smoke"]}, "laptop": laptop,
            "paper": {**laptop, **deltas["paper"]}}


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
