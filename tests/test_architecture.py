"""The layer structure of ddlib, checked statically (no ddlib module is imported to find imports).

Layers, from the bottom: ``ddlib.core`` -> ``ddlib.models`` -> ``ddlib.metrics`` /
``ddlib.analysis`` -> ``ddlib.training`` / ``ddlib.plotting`` -> ``ddlib.studies.<study>``.
Every ``import`` in every ``ddlib/**/*.py`` file is read with :mod:`ast` (module level, inside
functions, classes, ``if TYPE_CHECKING:`` and ``try`` blocks alike), resolved to the module it
names (``from ddlib.metrics import partition2d`` -> ``ddlib.metrics.partition2d``, relative
imports against their package) and checked against the rules in :data:`FORBIDDEN`. Each test
reports every violation it finds in a single assertion message.

Further rules: every package folder has an ``__init__.py``; notebooks define no functions or
classes and import only modules that exist; nothing mentions the unshipped "RECIPES" document;
and the shared helpers listed in :data:`SINGLE_DEFINITIONS` are defined exactly once.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import json
import re
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "ddlib"
NOTEBOOKS = ROOT / "notebooks"

# layer -> layers it must not import (a layer is the second component of a ddlib module name,
# "root" for ``ddlib`` itself). ``ddlib.studies`` is further restricted by _study_violation.
FORBIDDEN: dict[str, frozenset[str]] = {
    "core": frozenset({"models", "metrics", "training", "analysis", "plotting", "studies",
                       "execution"}),
    "models": frozenset({"metrics", "training", "analysis", "plotting", "studies", "root"}),
    "metrics": frozenset({"training", "plotting", "studies"}),
    "analysis": frozenset({"training", "plotting", "studies", "metrics"}),
    "training": frozenset({"plotting", "studies", "execution"}),
    "plotting": frozenset({"studies", "training", "execution"}),
    # where runs train (here, Slurm, Ray): needs the store and the training entry point only
    "execution": frozenset({"models", "metrics", "analysis", "plotting", "studies"}),
    "root": frozenset({"studies"}),
}
# Layers that no module outside ddlib.studies may import.
STUDIES_ONLY = "studies"

# Names of shared helpers that must have exactly one module-level definition in ddlib.
SINGLE_DEFINITIONS = (
    "interpolation_threshold",
    "peak_near_threshold",
    "load_model",
    "evaluate",
    "validate_config",
    "log_spaced_steps",
    "log_spaced_integers",
    "seed_bands",
    "check_positive_int",
)
EXAMPLE_CONFIG_NAMES = ("EXAMPLE_CONFIG", "EXAMPLE_CONFIGS")
EXAMPLE_CONFIG_HOME = "ddlib/training/config.py"

REMOVED_DOCUMENT = "RECIPES"
SCANNED_FOR_REMOVED_DOCUMENT = ("ddlib", "notebooks", "benchmarks")
REFERENCE_DOCUMENT = ROOT / "docs" / "papers.md"


# ---------------------------------------------------------------------------------------------
# Helpers


def _relative(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def _python_files() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts)


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_package(path: Path) -> bool:
    return path.name == "__init__.py"


def _known_modules() -> set[str]:
    """Every module and package of the ddlib tree (from the files, without importing any)."""
    modules = {_module_name(p) for p in _python_files()}
    for module in list(modules):  # namespace folders count as packages too
        parts = module.split(".")
        modules.update(".".join(parts[:i]) for i in range(1, len(parts)))
    return modules


def _parse(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _resolve_relative(module: str | None, level: int, importer: str, is_package: bool) -> str:
    """The absolute module of ``from <level dots><module> import ...`` inside ``importer``."""
    if level == 0:
        return module or ""
    package = importer.split(".") if is_package else importer.split(".")[:-1]
    base = package[: len(package) - (level - 1)] if level > 1 else package
    return ".".join([*base, module] if module else base)


def imported_modules(
    tree: ast.AST, importer: str, is_package: bool, known: set[str]
) -> Iterator[tuple[int, str]]:
    """(line, module) of every import in ``tree``, at any depth.

    ``from X import name`` yields ``X.name`` when that is a module of the tree, else ``X``;
    ``importlib.import_module("...")`` and ``__import__("...")`` with a constant string count too.
    """
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            base = _resolve_relative(node.module, node.level, importer, is_package)
            for alias in node.names:
                candidate = f"{base}.{alias.name}" if base else alias.name
                yield node.lineno, candidate if candidate in known else base
        elif isinstance(node, ast.Call) and node.args:
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
            first = node.args[0]
            if (
                name in ("import_module", "__import__")
                and isinstance(first, ast.Constant)
                and isinstance(first.value, str)
            ):
                yield node.lineno, first.value


def layer_of(module: str) -> str | None:
    """``"core"``, ``"models"``, ... for a ddlib module, ``"root"`` for ``ddlib``; None otherwise."""
    parts = module.split(".")
    if parts[0] != "ddlib":
        return None
    return parts[1] if len(parts) > 1 else "root"


def _study_of(module: str) -> str | None:
    """The study folder of a ``ddlib.studies.<study>...`` module (None for ``ddlib.studies`` and
    its own modules such as ``ddlib.studies.__main__``)."""
    parts = module.split(".")
    if len(parts) < 3 or parts[:2] != ["ddlib", "studies"]:
        return None
    return parts[2] if (PACKAGE / "studies" / parts[2]).is_dir() else None


def _violation(importer: str, target: str) -> str | None:
    """Why ``importer`` may not import ``target``, or None when it may."""
    source_layer, target_layer = layer_of(importer), layer_of(target)
    if target_layer is None or source_layer is None:
        return None
    if target_layer == STUDIES_ONLY and source_layer != STUDIES_ONLY:
        return "only ddlib.studies may import ddlib.studies"
    if source_layer == "models" and target_layer not in ("core", "models"):
        return "ddlib.models may import only ddlib.core and ddlib.models"
    if target_layer in FORBIDDEN.get(source_layer, frozenset()):
        return f"ddlib.{source_layer} must not import ddlib.{target_layer}"
    if source_layer == STUDIES_ONLY:
        mine, theirs = _study_of(importer), _study_of(target)
        registry = importer == "ddlib.studies" and target == f"ddlib.studies.{theirs}.params"
        if theirs is not None and theirs != mine and not registry:
            where = f"study {mine!r}" if mine else importer
            return f"{where} must not import another study's package ({theirs!r})"
    return None


def _notebooks() -> list[Path]:
    return sorted(NOTEBOOKS.glob("*.ipynb"))


_MAGIC = re.compile(r"^\s*[%!?]")


def _code_cells(path: Path) -> Iterator[tuple[int, ast.Module]]:
    """(cell index, parsed source) of every code cell; IPython magics and shell lines are blanked."""
    notebook = json.loads(path.read_text(encoding="utf-8"))
    for index, cell in enumerate(notebook.get("cells", [])):
        if cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        text = "".join(source) if isinstance(source, list) else source
        lines = ["pass" if _MAGIC.match(line) else line for line in text.splitlines()]
        yield index, ast.parse("\n".join(lines), filename=f"{path.name}[cell {index}]")


def _module_level_statements(tree: ast.Module) -> Iterator[ast.stmt]:
    """Statements of the module body, including those inside module-level if / try blocks."""
    pending = list(tree.body)
    while pending:
        node = pending.pop(0)
        yield node
        if isinstance(node, ast.If):
            pending.extend(node.body + node.orelse)
        elif isinstance(node, ast.Try | ast.TryStar):
            pending.extend(node.body + node.orelse + node.finalbody)
            for handler in node.handlers:
                pending.extend(handler.body)


def _assigned_names(node: ast.stmt) -> list[str]:
    if isinstance(node, ast.Assign):
        targets = node.targets
    elif isinstance(node, ast.AnnAssign | ast.AugAssign):
        targets = [node.target]
    else:
        return []
    names = []
    for target in targets:
        for sub in ast.walk(target):
            if isinstance(sub, ast.Name):
                names.append(sub.id)
    return names


def _report(title: str, violations: list[str]) -> str:
    return f"{title} ({len(violations)}):\n  " + "\n  ".join(violations)


# ---------------------------------------------------------------------------------------------
# Import rules


def test_the_import_scanner_resolves_imported_submodules() -> None:
    known = {
        "ddlib",
        "ddlib.metrics",
        "ddlib.metrics.partition2d",
        "ddlib.core",
        "ddlib.core.store",
    }
    source = (
        "import ddlib.core.store\n"
        "from ddlib.metrics import partition2d, tools\n"
        "def f():\n"
        "    from . import store\n"
        "    from ..metrics.partition2d import plane_through\n"
    )
    found = list(imported_modules(ast.parse(source), "ddlib.core.x", False, known))
    assert found == [
        (1, "ddlib.core.store"),
        (2, "ddlib.metrics.partition2d"),
        (2, "ddlib.metrics"),
        (4, "ddlib.core.store"),
        (5, "ddlib.metrics.partition2d"),
    ]
    assert _violation("ddlib.core.x", "ddlib.metrics.partition2d")
    assert _violation("ddlib.plotting.style", "ddlib.studies")
    assert _violation("ddlib.studies.decision_regions.figures", "ddlib.studies.local_complexity")
    assert _violation("ddlib.studies.decision_regions.figures", "ddlib.studies") is None
    assert (
        _violation(
            "ddlib.studies.decision_regions.figures", "ddlib.studies.decision_regions.claims"
        )
        is None
    )
    assert _violation("ddlib.models.zoo", "ddlib.core.checks") is None


def test_ddlib_imports_follow_the_layer_rules() -> None:
    files = _python_files()
    assert files, f"no Python files under {PACKAGE}"
    known = _known_modules()
    violations = []
    for path in files:
        importer = _module_name(path)
        for line, target in imported_modules(_parse(path), importer, _is_package(path), known):
            reason = _violation(importer, target)
            if reason:
                violations.append(f"{_relative(path)}:{line}: imports {target} ({reason})")
    assert not violations, _report("layer rule violations", violations)


def test_every_package_folder_has_an_init() -> None:
    folders = {p.parent for p in _python_files()}
    for folder in list(folders):  # folders whose only Python files lie deeper
        folders.update(parent for parent in folder.parents if PACKAGE in (parent, *parent.parents))
    missing = sorted(_relative(f) for f in folders if not (f / "__init__.py").is_file())
    assert not missing, _report("package folders without __init__.py", missing)


# ---------------------------------------------------------------------------------------------
# Notebooks


def test_notebooks_define_no_functions_or_classes() -> None:
    notebooks = _notebooks()
    assert notebooks, f"no notebooks under {NOTEBOOKS}"
    violations = []
    for path in notebooks:
        for index, tree in _code_cells(path):
            for node in ast.walk(tree):
                kind = None
                if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                    kind, name = "def", node.name
                elif isinstance(node, ast.ClassDef):
                    kind, name = "class", node.name
                elif isinstance(node, ast.Assign | ast.AnnAssign) and isinstance(
                    node.value, ast.Lambda
                ):
                    kind, name = "lambda", ", ".join(_assigned_names(node))
                if kind:
                    violations.append(
                        f"{_relative(path)} cell {index} line {node.lineno}: {kind} {name} "
                        "(move it into ddlib)"
                    )
    assert not violations, _report("definitions in notebook code cells", violations)


def _missing_module(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is None
    except (ModuleNotFoundError, ValueError):  # a parent package is missing
        return True


def test_notebooks_import_only_existing_ddlib_modules() -> None:
    violations = []
    for path in _notebooks():
        for index, tree in _code_cells(path):
            for node in ast.walk(tree):
                where = f"{_relative(path)} cell {index} line {getattr(node, 'lineno', '?')}"
                if isinstance(node, ast.Import):
                    for alias in node.names:
                        if alias.name.split(".")[0] == "ddlib" and _missing_module(alias.name):
                            violations.append(f"{where}: import {alias.name} (no such module)")
                elif (
                    isinstance(node, ast.ImportFrom)
                    and (node.module or "").split(".")[0] == "ddlib"
                ):
                    if _missing_module(node.module):
                        violations.append(
                            f"{where}: from {node.module} import ... (no such module)"
                        )
                        continue
                    module = importlib.import_module(node.module)
                    for alias in node.names:
                        name = alias.name
                        if name == "*" or hasattr(module, name):
                            continue
                        if _missing_module(f"{node.module}.{name}"):
                            violations.append(
                                f"{where}: from {node.module} import {name} (neither an attribute "
                                "nor a submodule)"
                            )
    assert not violations, _report("notebook imports of missing ddlib names", violations)


# ---------------------------------------------------------------------------------------------
# Documents


def test_no_reference_to_the_removed_recipes_document() -> None:
    violations = []
    for folder in SCANNED_FOR_REMOVED_DOCUMENT:
        for path in sorted((ROOT / folder).rglob("*")):
            if (
                not path.is_file()
                or "__pycache__" in path.parts
                or ".ipynb_checkpoints" in path.parts
            ):
                continue
            try:
                text = path.read_text(encoding="utf-8")
            except UnicodeDecodeError:  # binary file
                continue
            for number, line in enumerate(text.splitlines(), start=1):
                if REMOVED_DOCUMENT in line:
                    violations.append(f"{_relative(path)}:{number}: {line.strip()[:120]}")
    assert not violations, _report(
        f"mentions of {REMOVED_DOCUMENT} (the document does not ship; cite docs/papers.md)",
        violations,
    )


def test_the_reference_document_exists() -> None:
    assert REFERENCE_DOCUMENT.is_file(), f"{_relative(REFERENCE_DOCUMENT)} is missing"


# ---------------------------------------------------------------------------------------------
# Single definitions


def _module_level_definitions() -> dict[str, list[str]]:
    """{name: ["file:line", ...]} of module-level functions, classes and assignments in ddlib."""
    definitions: dict[str, list[str]] = defaultdict(list)
    for path in _python_files():
        for node in _module_level_statements(_parse(path)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                names = [node.name]
            else:
                names = _assigned_names(node)
            for name in names:
                definitions[name].append(f"{_relative(path)}:{node.lineno}")
    return definitions


@pytest.fixture(scope="module")
def definitions() -> dict[str, list[str]]:
    return _module_level_definitions()


def test_shared_helpers_are_defined_exactly_once(definitions: dict[str, list[str]]) -> None:
    violations = []
    for name in SINGLE_DEFINITIONS:
        places = definitions.get(name, [])
        if len(places) != 1:
            found = ", ".join(places) if places else "nowhere"
            violations.append(f"{name}: {len(places)} module-level definitions ({found})")
    assert not violations, _report("helpers not defined exactly once in ddlib", violations)


def test_example_configs_live_only_in_training_config(definitions: dict[str, list[str]]) -> None:
    violations = [
        f"{name} defined at {place}"
        for name in EXAMPLE_CONFIG_NAMES
        for place in definitions.get(name, [])
        if not place.startswith(f"{EXAMPLE_CONFIG_HOME}:")
    ]
    assert not violations, _report(
        f"example configs defined outside {EXAMPLE_CONFIG_HOME}", violations
    )


def test_default_folders_are_at_the_repository_root(monkeypatch):
    """Moving ``paths`` into ``ddlib/core`` must not move the data, runs or figures folders."""
    from ddlib.core import paths

    for variable in ("DDLIB_DATA", "DDLIB_RUNS", "DDLIB_FIGURES", "DDLIB_REPORTS"):
        monkeypatch.delenv(variable, raising=False)
    root = paths.project_root()
    assert (root / "ddlib" / "__init__.py").is_file() and (root / "README.md").is_file()
    assert paths.data_root() == root / "data" and paths.runs_root() == root / "runs"
    assert paths.figures_dir("01_x", "smoke") == root / "figures" / "smoke" / "01_x"
    assert paths.reports_dir("smoke") == root / "reports" / "smoke"
