"""Every notebook executes headless under the smoke profile, and the pipeline's CLI checks hold."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_is_clean_and_parameterised(notebook):
    cells = json.loads(notebook.read_text())["cells"]
    assert all(not c.get("outputs") for c in cells if c["cell_type"] == "code"), "outputs committed"
    tagged = [c for c in cells if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(tagged) == 1 and "profile = " in "".join(tagged[0]["source"])
    assert all("id" in c for c in cells)


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_calls_its_study_through_one_entry(notebook):
    """Every study offers ``experiment.run(P, device)``, and its notebook calls it once."""
    import importlib
    import inspect

    from ddlib.studies import NOTEBOOKS as STUDIES

    experiment = importlib.import_module(f"ddlib.studies.{STUDIES[notebook.stem[:2]]}.experiment")
    assert list(inspect.signature(experiment.run).parameters) == ["params", "device"]
    cells = json.loads(notebook.read_text())["cells"]
    sources = ["".join(c["source"]) for c in cells if c["cell_type"] == "code"]
    assert sum(s.count("experiment.run(P, device)") for s in sources) == 1
    assert sum("result = experiment.run(P, device)" in s for s in sources) == 1


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_under_smoke(notebook, tmp_path):
    import papermill

    output = tmp_path / notebook.name
    finished_before = finished_run_ids()
    papermill.execute_notebook(
        str(notebook),
        str(output),
        parameters={"profile": "smoke"},
        kernel_name="ddlib",
        cwd=str(ROOT / "notebooks"),
        progress_bar=False,
    )
    figures = Path(os.environ["DDLIB_FIGURES"]) / "smoke" / notebook.stem
    assert (figures / "claims.csv").exists(), "the notebook did not write its claims table"
    assert any(figures.glob("*.png"))
    # the study's training_configs (what the GPU projection counts) are exactly what it trains
    expected = projected_run_ids(notebook.stem[:2], tmp_path / "ids")
    assert finished_run_ids() - finished_before <= expected <= finished_run_ids()


def finished_run_ids() -> set[str]:
    return {path.parent.name for path in Path(os.environ["DDLIB_RUNS"]).glob("*/*/result.json")}


def projected_run_ids(key: str, scratch: Path) -> set[str]:
    """Run ids of the smoke profile's ``training_configs`` (an empty set for notebook 01)."""
    from ddlib.core.data import load_data
    from ddlib.core.store import RunStore
    from ddlib.models.zoo import zoo_specs
    from ddlib.studies import resolve
    from ddlib.studies.convnet_sharpness import experiment as e02
    from ddlib.studies.decision_regions import experiment as e04
    from ddlib.studies.local_complexity import experiment as e03

    params = resolve(key, "smoke")
    if key == "01":
        return set()
    if key == "02":
        configs = e02.training_configs(params)
    elif key == "03":
        configs = e03.training_configs(params)
    else:
        data = load_data(params["data"])
        shape = {"in_channels": data.x_test.shape[1], "image_size": data.x_test.shape[-1],
                 "num_classes": data.num_classes}
        configs = e04.training_configs(params, zoo_specs(params["zoo_size"], **shape), **shape)
    return {RunStore(scratch).run(config).id for config in configs}


def run_all(*args):
    return subprocess.run(
        ["bash", str(ROOT / "run_all.sh"), *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHON": sys.executable},
    )


def test_run_all_rejects_unknown_profile_and_parameter():
    result = run_all("--profile", "huge")
    assert result.returncode == 2 and "smoke, laptop, paper" in result.stdout
    result = run_all("--profile", "smoke", "--only", "01", "-p", "no_such_parameter", "1")
    assert result.returncode == 2 and "no_such_parameter" in result.stdout


def test_run_all_executes_and_gathers_claims():
    result = run_all("--profile", "smoke", "--only", "01", "-p", "repeats", "3")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "01_linear_double_descent" in result.stdout and "ok" in result.stdout
    report = Path(os.environ["DDLIB_REPORTS"]) / "smoke"
    assert (report / "claims.md").exists() and (report / "01_linear_double_descent.html").exists()
    assert "repeats = 3" in (report / "01_linear_double_descent.ipynb").read_text()


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_never_assigns_a_parameter_name(notebook):
    """resolve() reads overrides from globals(): a notebook variable named like a parameter would
    silently override it when the notebook is run twice in one kernel."""
    import ast

    from ddlib.studies import parameter_names

    names = set(parameter_names(notebook.stem[:2]))
    cells = json.loads(notebook.read_text())["cells"]
    assigned = set()
    for cell in cells:
        if cell["cell_type"] != "code":
            continue
        for node in ast.parse("".join(cell["source"])).body:
            targets = {
                ast.Assign: lambda n: n.targets, ast.AugAssign: lambda n: [n.target],
                ast.AnnAssign: lambda n: [n.target], ast.For: lambda n: [n.target],
            }.get(type(node), lambda n: [])(node)
            assigned |= {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)}
    assert not assigned & names
    # and a second run in the same kernel does not take the notebook's own variables for
    # misspelled parameters: only papermill's injected cell counts
    from ddlib.studies import resolve

    sources = ["".join(cell["source"]) for cell in cells if cell["cell_type"] == "code"]
    namespace = {"In": ["", *sources], "profile": "smoke", **dict.fromkeys(assigned - names, 0)}
    namespace.update(device="auto", executor="local", executor_options={},
                     rehearse=False)  # the parameters cell's
    resolve(notebook.stem[:2], "smoke", namespace=namespace)
    namespace["In"].append("# Parameters\nwidht = 4\n")
    with pytest.raises(ValueError, match="unknown parameter 'widht'"):
        resolve(notebook.stem[:2], "smoke", namespace=namespace)
