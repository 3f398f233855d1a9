"""Study layer: one folder per notebook, the same four modules in each.

``ddlib.studies.<study>.params`` (``PARAMETERS``: one ``ddlib.core.params.Param`` per name with its
laptop value, rule, meaning and unit; ``PROFILES``: the ``smoke``, ``laptop`` and ``paper`` values
built from them and each profile's deltas; and ``validate(params)``), ``experiment`` (configs -> runs -> tables), ``claims`` (the paper's claims
as unit-tested rules) and ``figures``. A notebook's parameters cell sets ``profile``; papermill's
``-p name value`` injects further globals, which :func:`resolve` picks up by name.

Studies may import every other layer; no other layer imports a study. This registry imports each
study's ``params`` module by name (:data:`PARAMS_MODULES`).
"""

from __future__ import annotations

import ast
import copy
import os
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import ModuleType
from typing import Any

from ddlib.core import data
from ddlib.core.checks import closest_name
from ddlib.core.data_sources import CIFAR10_CANDIDATES, CIFAR10_OR_FALLBACK, choose_cifar10
from ddlib.core.params import Params
from ddlib.core.paths import REHEARSAL_OUTPUT, rehearsal_runs_root, rehearsing, runs_root
from ddlib.core.standins import prepare_data_folder
from ddlib.execution import validate_executor
from ddlib.studies.convnet_sharpness import params as convnet_sharpness_params
from ddlib.studies.decision_regions import params as decision_regions_params
from ddlib.studies.linear_double_descent import params as linear_double_descent_params
from ddlib.studies.local_complexity import params as local_complexity_params

PROFILE_NAMES = ("smoke", "laptop", "paper")
NOTEBOOKS = {  # notebook number -> study folder (named like the notebook)
    "01": "linear_double_descent",
    "02": "convnet_sharpness",
    "03": "local_complexity",
    "04": "decision_regions",
}
PARAMS_MODULES = {  # notebook number -> the study's params module
    "01": linear_double_descent_params,
    "02": convnet_sharpness_params,
    "03": local_complexity_params,
    "04": decision_regions_params,
}


def notebook_key(notebook: str) -> str:
    """``"02"`` or ``"02_convnet_sharpness"`` -> ``"02"``; anything else is an error."""
    key = str(notebook)[:2]
    if key not in NOTEBOOKS:
        raise ValueError(f"notebook={notebook!r} is unknown; known notebooks: {sorted(NOTEBOOKS)}")
    return key


def profile_module(notebook: str) -> ModuleType:
    return PARAMS_MODULES[notebook_key(notebook)]


def parameter_names(notebook: str) -> list[str]:
    return list(profile_module(notebook).PROFILES["smoke"])


ALWAYS_ALLOWED = ("profile", "device", "executor", "executor_options", "rehearse")
EXECUTOR_NAMES = ("executor", "executor_options")
REHEARSE_NAME = "rehearse"
STAND_IN_FOLDER = "stand-in-data"  # in the rehearsal's run store: each process's data folder
NOTEBOOK_NAMES = ("In", "Out", "exit", "quit", "get_ipython")  # IPython's own globals


def validate_names(notebook: str, names: Iterable[str]) -> None:
    """Raise if any name is not a parameter of ``notebook`` (``profile``, ``device``,
    ``executor`` and ``executor_options`` are always allowed), naming the closest known
    parameter."""
    known = [*parameter_names(notebook), *ALWAYS_ALLOWED]
    unknown = [name for name in names if name not in known]
    if unknown:
        raise ValueError(
            f"unknown parameter {unknown[0]!r}{closest_name(unknown[0], known)} for notebook "
            f"{notebook_key(notebook)}; allowed: {sorted(known)}"
        )


PAPERMILL_HEADER = "# Parameters"  # first line of the cell papermill injects for -p / -y


def _assigned(source: str) -> list[str]:
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    return [target.id for node in tree.body if isinstance(node, ast.Assign)
            for target in node.targets if isinstance(target, ast.Name)]


def injected_names(namespace: Mapping[str, Any]) -> list[str]:
    """The names a notebook was given from outside, to be checked against the parameters.

    In a kernel, IPython's history ``In`` holds the source of every executed cell, and the cell
    papermill injects starts with ``# Parameters``: its assignments are exactly the names given
    by ``papermill -p`` (so a misspelled ``widht`` is caught, and the notebook's own variables of
    an earlier run in the same kernel are not). A plain mapping without that history (a test, a
    script) is taken as given: each of its non-private plain values counts as injected.
    """
    history = namespace.get("In")
    if isinstance(history, list):
        return [name for source in history
                if isinstance(source, str) and source.lstrip().startswith(PAPERMILL_HEADER)
                for name in _assigned(source)]
    plain = (bool, int, float, str, list, tuple, dict, type(None))
    return [name for name, value in namespace.items()
            if not name.startswith("_") and name not in NOTEBOOK_NAMES and isinstance(value, plain)]


def resolve(notebook: str, profile: str, namespace: Mapping[str, Any] | None = None,
            **overrides: Any) -> Params:
    """The parameters of ``notebook`` under ``profile``, with overrides from ``namespace`` and kwargs.

    ``namespace`` is the notebook's ``globals()``: a global named like a parameter overrides it
    (which is how ``papermill -p widths "[1, 2]"`` reaches the notebook), and an injected name
    that is no parameter is an error naming the closest one (see :func:`injected_names`). Every
    value is then checked by its rule (``PARAMETERS`` of the study's params module) and the study's
    cross-field ``validate``, all before any data is loaded.

    The globals (or kwargs) ``executor`` and ``executor_options`` choose where the notebook's
    sweeps train (``"local"``, ``"slurm"``, ``"ray"``; see :mod:`ddlib.execution`): they are
    checked here, with the engine looked for, and returned as ``P.executor`` and
    ``P.executor_options``, which the study passes to :func:`ddlib.execution.run_sweep`.

    The global (or kwarg) ``rehearse=True``, with ``profile="paper"``, rehearses the paper profile:
    see :func:`rehearsal_values`.
    """
    if profile not in PROFILE_NAMES:
        raise ValueError(f"profile={profile!r} is unknown; allowed profiles: {list(PROFILE_NAMES)}")
    module = profile_module(notebook)
    defaults = module.PROFILES[profile]
    rehearse = overrides.get(REHEARSE_NAME, (namespace or {}).get(REHEARSE_NAME, False))
    if not isinstance(rehearse, bool):
        raise ValueError(f"rehearse={rehearse!r} is not allowed; use True or False")
    if rehearse and profile != "paper":
        raise ValueError(f"rehearse=True rehearses the paper profile; profile={profile!r} is not "
                         "allowed with it (use profile='paper')")
    chosen = rehearsal_values(notebook) if rehearse else dict(defaults)
    if namespace is not None:
        validate_names(notebook, injected_names(namespace))
        chosen.update({k: namespace[k] for k in defaults if k in namespace})
    validate_names(notebook, overrides)
    chosen.update({k: v for k, v in overrides.items() if k in defaults})
    given = {**{k: namespace[k] for k in EXECUTOR_NAMES if namespace and k in namespace},
             **{k: overrides[k] for k in EXECUTOR_NAMES if k in overrides}}
    executor, executor_options = given.get("executor", "local"), given.get("executor_options") or {}
    validate_executor(executor, executor_options)
    declared = module.PARAMETERS
    params = Params({name: declared[name].rule.check(name, value) for name, value in chosen.items()})
    if _get(params, getattr(module, "DATASET_KEY", ())) == CIFAR10_OR_FALLBACK:
        params = _choose_dataset(module, params)
    params.descriptions = {name: parameter.meaning for name, parameter in declared.items()}
    params.profile = REHEARSAL_OUTPUT if rehearse else profile
    params.rehearsal = rehearse
    params.executor, params.executor_options = executor, copy.deepcopy(dict(executor_options))
    module.validate(params)
    if rehearse:
        if executor != "local":
            raise ValueError(f"executor={executor!r} is not allowed with rehearse=True: a "
                             "rehearsal's stand-in data lives in this process; use 'local'")
        _prepare_rehearsal(module)
    return params


def rehearsal_values(notebook: str) -> dict[str, Any]:
    """The parameters of a rehearsal of ``notebook``'s paper profile: the paper values with only
    the sizes the study's ``REHEARSAL`` names shrunk (fewer widths, epochs, images, points), so that
    every experiment, architecture, dataset loader, figure and claims row of the paper profile
    runs in minutes on a CPU. Prints what it shrank."""
    module = profile_module(notebook)
    paper = module.PROFILES["paper"]
    shrunk = getattr(module, "REHEARSAL", None)
    if shrunk is None:
        raise ValueError(f"notebook {notebook_key(notebook)} declares no REHEARSAL sizes yet; it "
                         "cannot be rehearsed")
    unknown = sorted(set(shrunk) - set(paper))
    if unknown:
        raise ValueError(f"REHEARSAL of notebook {notebook_key(notebook)} names {unknown}, which "
                         "are not parameters")
    print(f"rehearsal of notebook {notebook_key(notebook)}'s paper profile; shrunk:", flush=True)
    for name, value in shrunk.items():
        print(f"  {name}: {paper[name]!r} -> {value!r}", flush=True)
    return {**paper, **copy.deepcopy(shrunk)}


def _prepare_rehearsal(module: ModuleType) -> None:
    """Point this process (and the workers it starts) at the rehearsal's own run store, so that no
    rehearsal run can be mistaken for, or mixed with, a real one, and at a fresh data folder (in that store)
    holding the real files of the study's paper datasets where they are on disk and synthetic
    stand-ins (:mod:`ddlib.core.standins`, announced) of the others, read with torchvision's md5
    checks off. Each call prepares the data of its own study (a second study rehearsed in the same
    process gets its own folder)."""
    store = runs_root() if rehearsing() else rehearsal_runs_root()
    (store / STAND_IN_FOLDER).mkdir(parents=True, exist_ok=True)  # cleared with the store
    folder = Path(tempfile.mkdtemp(prefix="data-", dir=store / STAND_IN_FOLDER))
    prepare_data_folder(folder, module.PAPER_DATASETS)
    os.environ["DDLIB_RUNS"] = str(store)
    os.environ["DDLIB_DATA"] = str(folder)
    data.VERIFY_INTEGRITY = False


def _get(params: Mapping[str, Any], path: tuple[str, ...]) -> Any:
    """``params[path[0]][path[1]]...`` (None for an empty path or a missing entry)."""
    value: Any = params if path else None
    for key in path:
        value = value.get(key) if isinstance(value, Mapping) else None
    return value


def _with(params: Mapping[str, Any], path: tuple[str, ...], value: Any) -> Params:
    """A copy of ``params`` with the entry at ``path`` set to ``value``."""
    copy = Params(params)
    if len(path) == 1:
        copy[path[0]] = value
    else:
        copy[path[0]] = dict(_with(params[path[0]], path[1:], value))
    return copy


def _choose_dataset(module: ModuleType, params: Params) -> Params:
    """Replace ``"cifar10-or-mnist5k"`` (at the study's ``DATASET_KEY``) by the dataset that
    :func:`ddlib.core.data_sources.choose_cifar10` finds, printing its notice. Every possible
    outcome is validated first, so bad parameters fail before anything is looked up or
    downloaded."""
    for candidate in CIFAR10_CANDIDATES:
        module.validate(_with(params, module.DATASET_KEY, candidate))
    allowed = bool(_get(params, module.DOWNLOAD_KEY))
    choice = choose_cifar10(allowed, fallback=CIFAR10_CANDIDATES[-1])
    if choice.notice:
        print(choice.notice, flush=True)
    return _with(params, module.DATASET_KEY, choice.name)


def _main(argv: list[str]) -> int:
    """``python -m ddlib.studies check NN name [name ...]`` (are these parameters of notebook NN?)
    and ``python -m ddlib.studies cost PROFILE [NN ...]`` (the profile's cost table): used by run_all.sh
    before any compute."""
    if len(argv) >= 2 and argv[0] == "cost":
        from ddlib.studies.cost_table import cost_text

        print(cost_text(argv[1], argv[2:] or tuple(NOTEBOOKS)))
        return 0
    if len(argv) < 2 or argv[0] != "check":
        print("usage: python -m ddlib.studies check NN [name ...] | cost PROFILE [NN ...]")
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
