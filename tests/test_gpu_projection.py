"""The GPU projection script (``benchmarks/gpu_projection.py``): step counts, counted FLOP and a
CPU run of the whole script on the smoke profile."""

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from ddlib.studies import resolve
from ddlib.studies.convnet_sharpness.experiment import sweep_configs
from ddlib.training import EXAMPLE_CONFIGS

SCRIPT = Path(__file__).resolve().parent.parent / "benchmarks" / "gpu_projection.py"
spec = importlib.util.spec_from_file_location("gpu_projection", SCRIPT)
projection = importlib.util.module_from_spec(spec)
spec.loader.exec_module(projection)


def test_paper_convnet_run_has_4000_epochs_of_391_steps():
    config = sweep_configs(resolve("02", "paper"))[0]
    assert projection.data_shape(config) == (50_000, 3, 32, 10)
    assert projection.steps_and_batch(config) == (4000 * 391, 128)  # ceil(50,000 / 128) = 391


def test_flop_of_an_mlp_step_is_the_matmuls():
    """One hidden layer of h units on 8x8 digits, batch B: forward 2B(64h + 10h); backward the
    weight gradients (as many again) and the input gradient of the second layer only, 2B*10h
    (the first layer's input needs none)."""
    config = json.loads(json.dumps(EXAMPLE_CONFIGS["lc_training"]))
    config["model"] |= {"in_features": 64, "depth": 1, "width": 16}
    config["data"] = {"name": "digits", "train_size": 100, "test_size": 100}
    config["batch_size"] = 40
    batch, hidden = 40, 16
    assert projection.step_flop(config) == (4 * batch * (64 * hidden + 10 * hidden)
                                            + 2 * batch * 10 * hidden)
    assert projection.step_seconds([config], torch.device("cpu"), steps=1, warmup=0) > 0


def test_pool_dataset_sizes():
    config = {"data": {"name": "mnist5k", "test_size": 1000}, "batch_size": 200,
              "kind": "lc_training", "steps": 7}
    assert projection.data_shape(config) == (4000, 1, 28, 10)
    assert projection.steps_and_batch(config) == (7, 200)


@pytest.mark.parametrize("notebook", ["02", "03", "04"])
def test_script_runs_on_the_cpu_for_the_smoke_profile(notebook):
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--device", "cpu", "--profile", "smoke", "--notebooks",
         notebook, "--steps", "1", "--warmup", "0"], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert f"notebook {notebook}: " in result.stdout and "projected training hours" in result.stdout
