"""Study layer: one folder per notebook, the same four modules in each.

``ddlib.studies.<study>.params`` (the profiles: ``PROFILES`` with ``smoke``, ``laptop``, ``paper``
dicts of identical keys, ``DESCRIPTIONS`` with the meaning and unit of each key, and
``validate(params)``), ``experiment`` (configs -> runs -> tables), ``claims`` (the paper's claims
as unit-tested rules) and ``figures``. A notebook's parameters cell sets ``profile``; papermill's
``-p name value`` injects further globals, which :func:`resolve` picks up by name.

Studies may import every other layer; no other layer imports a study.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Mapping
from types import ModuleType
from typing import Any

from ddlib.core.params import Params, coerce

PROFILE_NAMES = ("smoke", "laptop", "paper")
NOTEBOOKS = {  # notebook number -> study folder (named like the notebook)
    "01": "linear_double_descent",
    "02": "convnet_sharpness",
    "03": "local_complexity",
    "04": "decision_regions",
}


def notebook_key(notebook: str) -> str:
    """``"02"`` or ``"02_convnet_sharpness"`` -> ``"02"``; anything else is an error."""
    key = str(notebook)[:2]
    if key not in NOTEBOOKS:
        raise ValueError(f"notebook={notebook!r} is unknown; known notebooks: {sorted(NOTEBOOKS)}")
    return key


def profile_module(notebook: str) -> ModuleType:
    return importlib.import_module(f"ddlib.studies.{NOTEBOOKS[notebook_key(notebook)]}.params")


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
    params = Params({k: coerce(k, v, defaults[k]) for k, v in chosen.items()})
    params.descriptions = getattr(module, "DESCRIPTIONS", {})
    params.profile = profile
    validate = getattr(module, "validate", None)
    if validate is not None:
        validate(params)
    return params


def _main(argv: list[str]) -> int:
    """``python -m ddlib.studies check NN name [name ...]``: used by run_all.sh before any compute."""
    if len(argv) < 2 or argv[0] != "check":
        print("usage: python -m ddlib.studies check NN [name ...]")
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
