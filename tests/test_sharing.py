"""A helper process trains runs of another process's sweep (ddlib.execution.sharing), the way a
free lane of run_all.sh helps the notebooks still running: every run is trained once, by one of
the two, and ends bit-identical to the same run trained alone (one torch thread on both sides)."""

from __future__ import annotations

import copy
import os
import subprocess
import sys
import time
from pathlib import Path

import torch

from ddlib.core.store import RunStore
from ddlib.execution import run_sweep
from ddlib.execution.sharing import published
from ddlib.training import train

ROOT = Path(__file__).resolve().parents[1]
CONFIG = {
    "kind": "classifier",
    "model": {"name": "mlp", "in_features": 64, "num_classes": 10, "depth": 1, "width": 8},
    "data": {"name": "digits", "train_size": 120, "test_size": 60, "label_noise": 0.1},
    "optimizer": {"name": "sgd", "lr": 0.05, "momentum": 0.9},
    "loss": "ce",
    "epochs": 400,
    "batch_size": 40,
    "seed": 0,
    "data_seed": 0,
    "eval_epochs": [400],
}


def sweep(seeds: range) -> list[dict]:
    return [dict(copy.deepcopy(CONFIG), seed=seed) for seed in seeds]


def test_a_helper_trains_part_of_a_published_sweep_to_the_same_weights(tmp_path, monkeypatch):
    board, store = tmp_path / "board", RunStore(tmp_path / "store")
    board.mkdir()
    monkeypatch.setenv("DDLIB_SWEEP_BOARD", str(board))
    helper = subprocess.Popen([sys.executable, "-m", "ddlib.execution", "share", str(board), "1"],
                              cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        time.sleep(3)  # the helper is up (imports done) before the sweep is published
        configs = sweep(range(6))
        runs = run_sweep(configs, store, device="cpu", progress=False)
    finally:
        (board / "stop").touch()
        output, _ = helper.communicate(timeout=120)
        torch.set_num_threads(threads)
    assert helper.returncode == 0, output
    assert not list(board.glob("*-*.json")), "the sweep is still published after it returned"
    helped = {path.name for path in (board / "helped").iterdir()}
    assert helped and helped < {run.id for run in runs}, output  # both sides trained some
    assert f"trained {len(helped)} run(s)" in output
    reference = RunStore(tmp_path / "alone")
    torch.set_num_threads(1)
    try:
        for config, run in zip(configs, runs):
            assert run.is_trained()
            alone = train(copy.deepcopy(config), reference, device="cpu", progress=False)
            ours, theirs = run.load_checkpoint(None), alone.load_checkpoint(None)
            assert all(torch.equal(ours[name], theirs[name]) for name in theirs), run.id
    finally:
        torch.set_num_threads(threads)


def test_without_a_board_nothing_is_published(tmp_path, monkeypatch):
    monkeypatch.delenv("DDLIB_SWEEP_BOARD", raising=False)
    with published(sweep(range(2)), RunStore(tmp_path / "store"), "cpu"):
        assert list(tmp_path.iterdir()) == []
    board = tmp_path / "board"
    board.mkdir()
    monkeypatch.setenv("DDLIB_SWEEP_BOARD", str(board))
    with published(sweep(range(2)), RunStore(tmp_path / "store"), "cpu"):
        [path] = board.glob("*-*.json")
    assert not path.exists()


def test_sweeps_announced_for_later_come_after_those_trained_now_and_go_at_exit(tmp_path):
    from ddlib.execution.sharing import _sweeps

    board = tmp_path / "board"
    board.mkdir()
    script = ("import sys, time; from ddlib.core.store import RunStore; "
              "from ddlib.execution.sharing import announce, published; "
              f"configs = {sweep(range(2))!r}; "
              f"announce(configs[:1], RunStore({str(tmp_path / 'store')!r}), 'cpu'); "
              "print('announced', flush=True); time.sleep(1)")
    child = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT, text=True,
                             stdout=subprocess.PIPE, env={**os.environ, "DDLIB_SWEEP_BOARD": str(board)})
    assert child.stdout.readline().strip() == "announced"
    with_later = list(board.glob("*-later-*.json"))
    os.environ["DDLIB_SWEEP_BOARD"] = str(board)
    try:
        with published(sweep(range(2, 4)), RunStore(tmp_path / "store"), "cpu"):
            seeds = [[c["seed"] for c in s["configs"]] for s in _sweeps(board)]
    finally:
        del os.environ["DDLIB_SWEEP_BOARD"]
    child.wait(timeout=60)
    assert len(with_later) == 1 and seeds == [[2, 3], [0]]
    assert not list(board.iterdir()), "an announced sweep outlived its process"


def test_a_sweep_left_on_the_board_by_a_dead_process_is_not_trained(tmp_path):
    from ddlib.execution.sharing import _sweeps

    board = tmp_path / "board"
    board.mkdir()
    dead = subprocess.Popen(["true"])
    dead.wait()
    (board / f"{dead.pid}-0.json").write_text('{"store": "x", "device": "cpu", "configs": []}')
    assert _sweeps(board) == [] and not list(board.iterdir())
