"""Kill, race and interrupt the run store for real, and count what held.

    .venv/bin/python scripts/reliability_check.py [--trials 20] [--notebook]

1. kill -9: a small sweep (classifier runs with kept checkpoints, distillation from a teacher,
   and an LC-logged run) is trained in a child process that is killed with SIGKILL, half of the
   trials at a random moment and half in the middle of an atomic write (after the temporary file
   is written, before the rename: the child kills itself there); the sweep is then trained again
   to the end. It holds when every run's final weights and metrics equal an uninterrupted
   reference and no temporary file is left.
2. Two processes train the same sweep into one store at the same time: one result per run,
   equal to the reference, nothing corrupt.
3. (--notebook) Ctrl-C (SIGINT) to papermill running notebook 02 under ``smoke``: afterwards no
   temporary file is left and every file in the store and the figures folder reads back.

Every process uses the same thread count, so CPU results are bit-repeatable.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
THREADS = "2"

CHILD = r"""
import os, sys
import torch
torch.set_num_threads(int(os.environ["CHECK_THREADS"]))
kill_at = int(os.environ.get("CHECK_KILL_AT_WRITE", "0"))
from ddlib.core import store
original, count = os.replace, [0]
def replace_then_maybe_die(src, dst):
    count[0] += 1
    if count[0] == kill_at:
        os.kill(os.getpid(), 9)  # temporary file written, final name not yet in place
    original(src, dst)
store.os.replace = replace_then_maybe_die  # the store's atomic writes all end in os.replace
import json
from ddlib.core.store import RunStore
from ddlib.training import train
for config in json.loads(os.environ["CHECK_CONFIGS"]):
    train(config, RunStore(sys.argv[1]), "cpu", False, resume_every_seconds=0.0)
print(count[0])
"""


def sweep() -> list[dict]:
    """Six runs: three seeds with kept checkpoints, a distilled student (and its teacher), and
    an LC-logged MLP."""
    classifier = {
        "kind": "classifier",
        "model": {"name": "mlp", "in_features": 64, "num_classes": 10, "depth": 2, "width": 32},
        "data": {"name": "digits", "train_size": 600, "test_size": 300, "label_noise": 0.2},
        "optimizer": {"name": "sgd", "lr": 0.05, "momentum": 0.9},
        "loss": "ce", "epochs": 12, "batch_size": 32, "seed": 0, "data_seed": 0,
        "checkpoint_epochs": [3, 6], "eval_epochs": [3, 6, 12],
    }
    seeds = [dict(classifier, seed=s, data_seed=s) for s in range(3)]
    student = dict(classifier, seed=7, loss="distill_mse", teacher=seeds[0])
    lc = {
        "kind": "lc_training",
        "model": {"name": "mlp", "in_features": 64, "num_classes": 10, "depth": 2, "width": 32,
                  "activation": "relu", "init_scale": 1.0, "dtype": "float32"},
        "data": {"name": "digits", "train_size": 400, "test_size": 200, "split_seed": 0,
                 "label_noise": 0.0, "noise_seed": 0, "normalize": False, "flatten": True},
        "optimizer": {"lr": 1e-3, "weight_decay": 0.01}, "loss": "mse_onehot", "steps": 150,
        "batch_size": 50, "seed": 0, "data_seed": 0, "log_steps": [0, 10, 50, 150],
        "checkpoint_steps": [50],
        "lc": {"radii": {"fine": 0.05}, "num_directions": 4, "frame_seed": 0,
               "points": {"train": 50, "test": 50, "random": 50}, "random_seed": 0,
               "layers": "activations", "include_output": False},
    }
    return [*seeds, student, lc]


def child(store: Path, configs: list[dict], kill_at_write: int = 0) -> subprocess.Popen:
    env = dict(os.environ, CHECK_THREADS=THREADS, CHECK_CONFIGS=json.dumps(configs),
               CHECK_KILL_AT_WRITE=str(kill_at_write), TQDM_DISABLE="1", PYTHONPATH=str(ROOT))
    return subprocess.Popen([PYTHON, "-c", CHILD, str(store)], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def fingerprint(store: Path, configs: list[dict]) -> dict:
    """Final weights and metrics (without timings) of every run, and leftover temporary files."""
    import torch

    from ddlib.core.store import RunStore
    from ddlib.training import load_model

    prints = {}
    for config in configs:
        run = RunStore(store).run(config)
        assert run.is_trained(), f"run {run.id} is not finished"
        state = load_model(run).state_dict()
        metrics = run.metrics().drop(columns="seconds", errors="ignore")
        prints[run.id] = (torch.cat([v.flatten().double() for v in state.values()]),
                          metrics.to_json())
    leftovers = [str(p) for p in store.rglob("*.tmp")]
    return {"runs": prints, "leftovers": leftovers}


def same(a: dict, b: dict) -> bool:
    import torch

    return a["runs"].keys() == b["runs"].keys() and all(
        torch.equal(a["runs"][k][0], b["runs"][k][0]) and a["runs"][k][1] == b["runs"][k][1]
        for k in a["runs"])


def kill_trials(trials: int, configs: list[dict], reference: dict, work: Path) -> tuple[int, int]:
    rng = random.Random(0)
    started = time.monotonic()
    proc = child(work / "timing", configs)
    writes = int(proc.communicate()[0].split()[-1])  # atomic writes of a whole sweep
    full = time.monotonic() - started
    held = 0
    for trial in range(trials):
        store = work / f"kill{trial}"
        if trial % 2 == 0:
            proc = child(store, configs)
            time.sleep(rng.uniform(0.5, 0.8 * full))
            proc.send_signal(signal.SIGKILL)
            how = "random moment"
        else:
            proc = child(store, configs, kill_at_write=rng.randint(1, max(writes, 2)))
            how = "inside an atomic write"
        proc.communicate()
        killed = proc.returncode == -signal.SIGKILL
        finish = child(store, configs)
        finish.communicate()
        ok = finish.returncode == 0 and same(fingerprint(store, configs), reference)
        ok = ok and not fingerprint(store, configs)["leftovers"]
        held += ok
        print(f"  kill -9 trial {trial + 1:2d} ({how}, killed={killed}): {'held' if ok else 'FAILED'}")
    return trials, held


def race_trial(configs: list[dict], reference: dict, work: Path) -> bool:
    store = work / "race"
    first, second = child(store, configs), child(store, configs)
    codes = first.communicate() and first.returncode, second.communicate() and second.returncode
    prints = fingerprint(store, configs)
    ok = codes == (0, 0) and same(prints, reference) and not prints["leftovers"]
    print(f"  two processes, one store: exit codes {codes}: {'held' if ok else 'FAILED'}")
    return ok


def notebook_interrupt(work: Path) -> bool:
    import torch

    env = dict(os.environ, DDLIB_RUNS=str(work / "nb-runs"), DDLIB_FIGURES=str(work / "nb-figs"),
               TQDM_DISABLE="1", MPLBACKEND="Agg")
    command = [PYTHON, "-m", "papermill", str(ROOT / "notebooks/02_convnet_sharpness.ipynb"),
               str(work / "out.ipynb"), "-p", "profile", "smoke", "-k", "ddlib", "--cwd",
               str(ROOT / "notebooks")]
    proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(25)  # kernel started, training under way
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=120)
    except subprocess.TimeoutExpired:
        proc.kill()
    files = [p for folder in ("nb-runs", "nb-figs") for p in (work / folder).rglob("*") if p.is_file()]
    bad = [str(p) for p in files if p.name.endswith(".tmp")]
    for path in files:
        try:
            if path.suffix == ".json":
                json.loads(path.read_text())
            elif path.suffix == ".pt":
                torch.load(path, weights_only=True)
        except Exception:
            bad.append(str(path))
    print(f"  Ctrl-C during notebook 02 (smoke): {len(files)} files, {len(bad)} half-written "
          f"or unreadable: {'held' if not bad else 'FAILED ' + str(bad)}")
    return not bad


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--notebook", action="store_true", help="also interrupt notebook 02")
    args = parser.parse_args()
    configs = sweep()
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        proc = child(work / "reference", configs)
        _, errors = proc.communicate()
        if proc.returncode != 0:
            print(errors)
            return 1
        reference = fingerprint(work / "reference", configs)
        tried, held = kill_trials(args.trials, configs, reference, work)
        race = all([race_trial(configs, reference, work / f"race{i}") for i in range(3)])
        interrupt = notebook_interrupt(work) if args.notebook else True
    print(f"kill -9: {held} of {tried} held; two writers (3 trials): {'held' if race else 'FAILED'}; "
          f"Ctrl-C: {'held' if interrupt else 'FAILED'}{'' if args.notebook else ' (not tried)'}")
    return 0 if held == tried and race and interrupt else 1


if __name__ == "__main__":
    raise SystemExit(main())
