"""Profiles: one parameter set per notebook and per profile, overridable one parameter at a time.

Each notebook ``NN`` has a module ``ddlib.profiles.nbNN`` holding ``PROFILES`` (``smoke``,
``laptop``, ``paper``: dicts with identical keys), ``DESCRIPTIONS`` (meaning and unit of each key)
and optionally ``validate(params)``. A notebook's parameters cell sets ``profile``; papermill's
``-p name value`` injects further globals, which :func:`resolve` picks up by name.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Mapping
from types import ModuleType
from typing import Any

PROFILE_NAMES = ("smoke", "laptop", "paper")
NOTEBOOKS = {
    "01": "nb01",
    "02": "nb02",
    "03": "nb03",
    "04": "nb04",
}


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


def notebook_key(notebook: str) -> str:
    """``"02"`` or ``"02_convnet_sharpness"`` -> ``"02"``; anything else is an error."""
    key = str(notebook)[:2]
    if key not in NOTEBOOKS:
        raise ValueError(f"notebook={notebook!r} is unknown; known notebooks: {sorted(NOTEBOOKS)}")
    return key


def profile_module(notebook: str) -> ModuleType:
    return importlib.import_module(f"ddlib.profiles.{NOTEBOOKS[notebook_key(notebook)]}")


def parameter_names(notebook: str) -> list[str]:
    return list(profile_module(notebook).PROFILES["smoke"])


def validate_names(notebook: str, names: Iterable[str]) -> None:
    """Raise if any name is not a parameter of ``notebook`` (``profile`` and ``device`` are always allowed)."""
    known = set(parameter_names(notebook)) | {"profile", "device"}
    unknown = [name for name in names if name not in known]
    if unknown:
        raise ValueError(
            f"unknown parameter(s) {unknown} for notebook {notebook_key(notebook)}; "
            f"allowed: {sorted(known)}"
        )


def _coerce(name: str, value: Any, default: Any) -> Any:
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


def resolve(notebook: str, profile: str, namespace: Mapping[str, Any] | None = None,
            **overrides: Any) -> Params:
    """The parameters of ``notebook`` under ``profile``, with overrides from ``namespace`` and kwargs.

    ``namespace`` is the notebook's ``globals()``: any global named like a parameter overrides it,
    which is how ``papermill -p width_max 32`` reaches the notebook.
    """
    if profile not in PROFILE_NAMES:
        raise ValueError(f"profile={profile!r} is unknown; allowed profiles: {list(PROFILE_NAMES)}")
    module = profile_module(notebook)
    defaults = module.PROFILES[profile]
    validate_names(notebook, overrides)
    chosen = dict(defaults)
    if namespace is not None:
        chosen.update({k: namespace[k] for k in defaults if k in namespace})
    chosen.update(overrides)
    params = Params({k: _coerce(k, v, defaults[k]) for k, v in chosen.items()})
    params.descriptions = getattr(module, "DESCRIPTIONS", {})
    params.profile = profile
    validate = getattr(module, "validate", None)
    if validate is not None:
        validate(params)
    return params


def _main(argv: list[str]) -> int:
    """``python -m ddlib.profiles check NN name [name ...]``: used by run_all.sh before any compute."""
    if len(argv) < 2 or argv[0] != "check":
        print("usage: python -m ddlib.profiles check NN [name ...]")
        return 2
    try:
        validate_names(argv[1], argv[2:])
    except ValueError as error:
        print(f"error: {error}")
        return 1
    return 0


if __name__ == "__main__":
    import sys

    raise SystemExit(_main(sys.argv[1:]))
