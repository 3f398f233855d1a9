"""Imports run one way: ``ddlib.execution`` calls ``ddlib.training``, never the reverse.

Every module of ``ddlib/training`` is read with :mod:`ast` (imports at module level, inside
functions, under ``if TYPE_CHECKING:`` and in ``try`` blocks alike, relative imports resolved, and
``importlib.import_module`` / ``__import__`` with a constant name); none may name
``ddlib.execution``. A fresh interpreter that imports every training module must not load
``ddlib.execution`` either (which would catch a detour through another package). And
``ddlib.studies`` reaches each study's ``params`` module by an import statement, not by a name
built at run time.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TRAINING = ROOT / "ddlib" / "training"
FORBIDDEN = "ddlib.execution"


def _module_name(path: Path, root: Path = ROOT) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imported(path: Path, root: Path = ROOT) -> Iterator[tuple[int, str]]:
    """(line, module) of every import in the file, relative ones made absolute."""
    package = _module_name(path, root).split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join([*package[: len(package) - node.level + 1], *filter(None, [base])])
            for alias in node.names:
                yield node.lineno, f"{base}.{alias.name}"
        elif isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
            name = getattr(node.func, "attr", getattr(node.func, "id", None))
            if name in ("import_module", "__import__") and isinstance(node.args[0].value, str):
                yield node.lineno, node.args[0].value


def _names(module: str, target: str) -> bool:
    return module == target or module.startswith(target + ".")


def test_the_helper_resolves_every_import_form(tmp_path):
    package = tmp_path / "ddlib" / "training"
    package.mkdir(parents=True)
    source = ("import ddlib.execution\n"
              "from ddlib import execution\n"
              "from .. import execution\n"
              "def f():\n"
              "    from ..execution.sharing import published\n"
              "    importlib.import_module('ddlib.execution')\n")
    (package / "x.py").write_text(source)
    found = [module for _, module in _imported(package / "x.py", tmp_path)]
    assert all(_names(module, FORBIDDEN) for module in found) and len(found) == 5


def test_training_never_imports_execution():
    files = sorted(TRAINING.rglob("*.py"))
    assert files, f"no modules under {TRAINING}"
    violations = [f"{path.relative_to(ROOT)}:{line}: imports {module}"
                  for path in files for line, module in _imported(path)
                  if _names(module, FORBIDDEN)]
    assert not violations, "ddlib.training imports ddlib.execution:\n" + "\n".join(violations)


def test_importing_training_loads_no_execution_module():
    modules = [_module_name(path) for path in sorted(TRAINING.rglob("*.py"))]
    script = (f"import importlib, sys\nfor m in {modules!r}:\n    importlib.import_module(m)\n"
              f"print([m for m in sys.modules if m == {FORBIDDEN!r} or "
              f"m.startswith({FORBIDDEN + '.'!r})])")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            cwd=ROOT, check=True)
    assert result.stdout.strip() == "[]", result.stdout + result.stderr


def test_studies_import_each_params_module_by_name():
    from ddlib import studies

    path = ROOT / "ddlib" / "studies" / "__init__.py"
    imported = {module for _, module in _imported(path)}
    for key, folder in studies.NOTEBOOKS.items():
        assert f"ddlib.studies.{folder}.params" in imported, folder
        assert studies.profile_module(key).__name__ == f"ddlib.studies.{folder}.params"
    assert "importlib" not in imported
