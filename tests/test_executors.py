"""Runs dispatched to Slurm (submitit) and Ray, against real local clusters (tests/clusters.py):

- a smoke sweep of 6 runs through each executor ends with the same final weights and metrics as
  the same configs trained here;
- a job killed mid-run (SIGKILL to its Slurm task or Ray worker) is resubmitted and resumes
  from its resume point to the weights of an uninterrupted run; a Slurm job preempted (SIGUSR2,
  what Slurm sends before preemption or the time limit) is requeued under the same job id by
  submitit's checkpointing and resumes;
- a sweep whose client is killed after submission is attached to by the next invocation: no job
  submitted again, no run started twice;
- a run that fails every time is resubmitted once, then reported with its log (not dropped);
- without submitit / ray, the executor fails before any compute, naming the extra to install;
  bad executor names and options are refused with the allowed values;
- the run lock's lease (for shared filesystems where flock is not shared between machines).

Every run is tiny (an MLP on scikit-learn's digits); the remote workers and the local references
use one torch thread, so that their results are bit-identical.
"""

from __future__ import annotations

import copy
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import torch

from ddlib.core.store import Run, RunStore
from ddlib.execution import (
    ExecutorError,
    MissingExtraError,
    dispatch,
    run_sweep,
    validate_executor,
)
from ddlib.execution.__main__ import main as executor_cli
from ddlib.execution.records import load_record, load_worker_status, record_path
from ddlib.execution.worker import resume_epoch
from ddlib.studies import resolve
from ddlib.training import train
from tests.clusters import ray_cluster, slurm_cluster  # noqa: F401  (session fixtures)

ROOT = Path(__file__).resolve().parents[1]
FAST = {
    "kind": "classifier",
    "model": {"name": "mlp", "in_features": 64, "num_classes": 10, "depth": 1, "width": 8},
    "data": {"name": "digits", "train_size": 120, "test_size": 60, "label_noise": 0.1},
    "optimizer": {"name": "sgd", "lr": 0.05, "momentum": 0.9},
    "loss": "ce",
    "epochs": 3,
    "batch_size": 40,
    "seed": 0,
    "data_seed": 0,
    "eval_epochs": [1, 3],
}
SLOW_EPOCHS = 2000  # about 6 s of training in a job (startup aside): long enough to be killed mid-run
QUICK = {"poll_seconds": 0.3, "grace_seconds": 1.0}


def fast(seed: int, **changes) -> dict:
    return dict(copy.deepcopy(FAST), seed=seed, **changes)


def slow(seed: int = 0) -> dict:
    return fast(seed, epochs=SLOW_EPOCHS, eval_epochs=[SLOW_EPOCHS])


def broken() -> dict:
    """Valid as a config, but the model does not fit the data: raises inside the worker."""
    config = fast(0)
    config["model"]["in_features"] = 10
    return config


@pytest.fixture(scope="module")
def local(tmp_path_factory):
    """``local(config)``: the run of ``config`` trained in this process, one torch thread."""
    store = RunStore(tmp_path_factory.mktemp("local"))

    def trained(config: dict) -> Run:
        threads = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            return train(copy.deepcopy(config), store, device="cpu", progress=False)
        finally:
            torch.set_num_threads(threads)

    return trained


@pytest.fixture(params=["slurm", "ray"])
def cluster(request):
    """``(executor, options)`` of a running local cluster of each kind."""
    if request.param == "slurm":
        request.getfixturevalue("slurm_cluster")
        return "slurm", dict(QUICK)
    return "ray", dict(QUICK, address=request.getfixturevalue("ray_cluster"))


def assert_same_run(run: Run, reference: Run) -> None:
    ours, theirs = run.load_checkpoint(None), reference.load_checkpoint(None)
    assert ours.keys() == theirs.keys()
    for name, tensor in ours.items():
        assert torch.equal(tensor, theirs[name]), f"run {run.id}: {name} differs"
    columns = [c for c in reference.metrics().columns if c != "seconds"]
    assert run.metrics()[columns].equals(reference.metrics()[columns])


class Background:
    """Run a call in a thread (the dispatcher waits there while the test acts on its jobs)."""

    def __init__(self, function, *args, **kwargs):
        self.error: BaseException | None = None

        def target():
            try:
                function(*args, **kwargs)
            except BaseException as error:  # handed to the test by join()
                self.error = error

        self.thread = threading.Thread(target=target, daemon=True)
        self.thread.start()

    def join(self, timeout: float = 180.0) -> None:
        self.thread.join(timeout)
        assert not self.thread.is_alive(), f"the dispatcher did not return within {timeout} s"
        if self.error is not None:
            raise self.error


def wait_for(condition, what: str, timeout: float = 90.0, every: float = 0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(every)
    pytest.fail(f"timed out after {timeout} s waiting for {what}")


def training_mid_run(store: RunStore, executor: str, run: Run, min_epoch: int = 15):
    """Wait until the run's current job trains it and has a resume point at ``min_epoch`` or
    later; returns its job record and worker status."""

    def ready():
        record = load_record(store.root, executor, run.id)
        status = load_worker_status(store.root, executor, run.id)
        if run.is_complete():
            pytest.fail(f"run {run.id} finished before it could be killed; make it slower")
        epoch = resume_epoch(run.dir)
        mine = record is not None and status.get("token") == record.token
        if mine and status.get("state") == "running" and epoch is not None and epoch >= min_epoch:
            return record, status
        return None

    return wait_for(ready, f"run {run.id} training past epoch {min_epoch}")


def squeue_state(job_id: str) -> str:
    out = subprocess.run(["squeue", "--noheader", "--array", "--states=all", "--format=%i|%T",
                          "--jobs", job_id.split("_")[0]], capture_output=True, text=True)
    states = dict(line.split("|", 1) for line in out.stdout.split())
    return states.get(job_id, "")


# --- the four scenarios, on each engine ------------------------------------------------------


def test_a_smoke_sweep_matches_the_local_executor(cluster, tmp_path, local, capsys):
    executor, options = cluster
    configs = [fast(seed) for seed in range(6)]
    store = RunStore(tmp_path / "store")
    dispatch(configs, store.root, executor, options, device="cpu")
    for config in configs:
        run = store.run(config)
        assert run.is_trained()
        assert_same_run(run, local(config))
        assert load_worker_status(store.root, executor, run.id)["state"] == "done"
    records = {c["seed"]: load_record(store.root, executor, store.run(c).id) for c in configs}
    capsys.readouterr()
    dispatch(configs, store.root, executor, options, device="cpu")  # all finished: nothing to do
    assert "6 finished, 0 in flight (attached), 0 to submit" in capsys.readouterr().out
    assert {c["seed"]: load_record(store.root, executor, store.run(c).id) for c in configs} == records


def test_a_killed_job_is_resubmitted_and_resumes_to_the_same_weights(cluster, tmp_path, local,
                                                                     capsys):
    executor, options = cluster
    config, store = slow(), RunStore(tmp_path / "store")
    run = store.run(config)
    waiting = Background(dispatch, [config], store.root, executor,
                         dict(options, resume_every_seconds=0.2), device="cpu")
    record, status = training_mid_run(store, executor, run)
    # SIGKILL to the worker process of the run's job (the Slurm task, or the Ray actor), as the
    # out-of-memory killer or a crashing node would: a plain scancel sends SIGTERM, which
    # submitit's worker ignores, and in this container the SIGKILL that Slurm sends after
    # KillWait does not reach the task (its run just finishes), so the kill is sent directly
    os.kill(status["pid"], signal.SIGKILL)
    waiting.join()
    printed = capsys.readouterr().out
    again = load_record(store.root, executor, run.id)
    assert again.token != record.token and again.attempt == 2
    assert [h["job_id"] for h in again.history] == [record.job_id]
    assert f"log: {', '.join(record.logs)}; resubmitting (attempt 2 of 2)" in printed, printed
    starts = load_worker_status(store.root, executor, run.id)["starts"]
    assert len(starts) == 2 and starts[1]["token"] == again.token
    assert starts[1]["resumed_from"] is not None and starts[1]["resumed_from"] >= 15
    assert any(f"resuming from its resume point at epoch {starts[1]['resumed_from']}" in
               Path(log).read_text() for log in again.logs if Path(log).exists())
    assert_same_run(run, local(config))


def test_a_preempted_slurm_job_is_requeued_by_submitit_and_resumes(slurm_cluster, tmp_path,  # noqa: F811
                                                                   local):
    config, store = slow(1), RunStore(tmp_path / "store")
    run = store.run(config)
    waiting = Background(dispatch, [config], store.root, "slurm",
                         dict(QUICK, resume_every_seconds=0.2), device="cpu")
    record, _ = training_mid_run(store, "slurm", run)
    # what Slurm sends before a preemption or the time limit (--signal=USR2@...)
    subprocess.run(["scancel", "--signal=USR2", record.job_id], check=True)
    wait_for(lambda: load_worker_status(store.root, "slurm", run.id)["state"] == "interrupted",
             "the job to checkpoint")
    wait_for(lambda: squeue_state(record.job_id) == "PENDING", "the job to be requeued")
    # Slurm holds a requeued job for two minutes before it may start again; release it now
    subprocess.run(["scontrol", "update", f"JobId={record.job_id}", "StartTime=now"], check=True)
    waiting.join()
    again = load_record(store.root, "slurm", run.id)
    assert again == record  # requeued under the same job id, not resubmitted by the dispatcher
    starts = load_worker_status(store.root, "slurm", run.id)["starts"]
    assert [s["job_id"] for s in starts] == [record.job_id] * 2
    assert starts[1]["resumed_from"] is not None and starts[1]["resumed_from"] >= 15
    assert "requeued, it resumes from its last resume point" in Path(record.logs[0]).read_text()
    assert_same_run(run, local(config))


DRIVER = """
import json, sys
from ddlib.execution import dispatch
spec = json.load(open(sys.argv[1]))
dispatch(spec["configs"], spec["store"], spec["executor"], spec["options"], device="cpu")
"""


def test_a_second_invocation_attaches_to_jobs_in_flight(cluster, tmp_path, capsys):
    executor, options = cluster
    configs = [fast(seed, epochs=100, eval_epochs=[100]) for seed in (10, 11, 12)]
    store = RunStore(tmp_path / "store")
    ids = [store.run(c).id for c in configs]
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps({"configs": configs, "store": str(store.root),
                                "executor": executor, "options": options}))
    client = subprocess.Popen([sys.executable, "-c", DRIVER, str(spec)], cwd=ROOT)
    try:
        wait_for(lambda: all(record_path(store.root, executor, cid).exists() for cid in ids),
                 "the first client to submit", timeout=120)
    finally:
        client.kill()  # the client dies; its jobs go on
        client.wait()
    submitted = {cid: load_record(store.root, executor, cid) for cid in ids}
    in_flight = sum(not store.run(c).is_complete() for c in configs)
    assert in_flight > 0, "every run finished before the second invocation; make them slower"
    capsys.readouterr()
    dispatch(configs, store.root, executor, options, device="cpu")
    printed = capsys.readouterr().out
    assert re.search(r"\d+ finished, \d+ in flight \(attached\), 0 to submit", printed), printed
    assert {cid: load_record(store.root, executor, cid) for cid in ids} == submitted
    for config, cid in zip(configs, ids):
        assert store.run(config).is_trained()
        starts = load_worker_status(store.root, executor, cid)["starts"]
        assert [s["token"] for s in starts] == [submitted[cid].token], "a run started twice"


def test_a_run_that_always_fails_is_reported_with_its_log(cluster, tmp_path):
    executor, options = cluster
    good, bad, store = fast(20), broken(), RunStore(tmp_path / "store")
    with pytest.raises(ExecutorError) as caught:
        dispatch([good, bad], store.root, executor, options, device="cpu")
    [failure] = caught.value.failures
    assert failure.config_id == store.run(bad).id and failure.attempts == 2
    assert "mat1 and mat2 shapes cannot be multiplied" in failure.reason
    assert all(log in str(caught.value) for log in failure.logs)
    logs = [Path(log).read_text() for log in failure.logs if Path(log).exists()]
    assert any("mat1 and mat2 shapes cannot be multiplied" in text for text in logs)
    record = load_record(store.root, executor, failure.config_id)
    assert len(record.history) == 1 and record.history[0]["outcome"] == "failed"  # resubmitted once
    assert store.run(good).is_trained()  # the other run of the sweep is not held back


# --- refused before any compute ---------------------------------------------------------------


@pytest.mark.parametrize("executor, module", [("slurm", "submitit"), ("ray", "ray")])
def test_a_missing_engine_fails_before_any_compute_naming_the_extra(executor, module, tmp_path,
                                                                    monkeypatch):
    monkeypatch.setitem(sys.modules, module, None)  # import fails as if not installed
    extra = re.escape(f"pip install -e '.[{executor}]'")
    with pytest.raises(MissingExtraError, match=extra):
        validate_executor(executor, {})
    with pytest.raises(ImportError, match=extra):
        dispatch([fast(0)], tmp_path / "store", executor, {})
    assert not (tmp_path / "store").exists()
    assert executor_cli(["options", executor]) == 2


@pytest.mark.parametrize("executor, options, message", [
    ("sge", {}, "executor='sge' is unknown; allowed: ['local', 'slurm', 'ray']"),
    ("local", {"partition": "gpu"}, "executor 'local' takes no options"),
    ("slurm", {"partiton": "gpu"}, "(did you mean 'partition'?)"),
    ("slurm", {"cpus_per_task": 0}, "cpus_per_task=0 is not allowed; use a positive integer"),
    ("slurm", {"timeout_min": 1.5}, "timeout_min=1.5 is not allowed"),
    ("slurm", {"gpus": -1}, "gpus=-1 is not allowed; use an integer >= 0"),
    ("slurm", {"gpus": 1, "gpus_per_task": 1}, "the same option; give one"),
    ("slurm", {"mem_gb": "lots"}, "mem_gb='lots' is not allowed"),
    ("slurm", {"setup": "module load cuda"}, "use a list of shell lines"),
    ("ray", {"num_gpus": float("nan")}, "num_gpus=nan is not allowed"),
    ("ray", {"num_cpus": True}, "num_cpus=True is not allowed"),
    ("ray", ["address"], "use a mapping of option names to values"),
])
def test_bad_executor_choices_are_refused_naming_what_is_allowed(executor, options, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        validate_executor(executor, options)


def test_the_command_line_prints_the_options_as_yaml(capsys):
    pytest.importorskip("ray", reason="ray is not installed: pip install -e '.[ray]' (.ci/run does)")
    assert executor_cli(["options", "local"]) == 0
    assert executor_cli(["options", "ray", "num_cpus=2", "address=127.0.0.1:6379"]) == 0
    assert capsys.readouterr().out.split("\n")[:2] == ["{}", "{address: '127.0.0.1:6379', num_cpus: 2}"]
    assert executor_cli(["options", "ray", "num_cpus"]) == 2
    assert "use KEY=VALUE" in capsys.readouterr().err
    assert executor_cli(["options", "ray", "num_cpu=2"]) == 2
    assert "did you mean 'num_cpus'" in capsys.readouterr().err


# --- a notebook's executor parameters ---------------------------------------------------------


@pytest.mark.parametrize("given, message", [
    ({"executor": "slurmm"}, "executor='slurmm' is unknown"),
    ({"executor": "slurm", "executor_options": {"partiton": "gpu"}}, "did you mean 'partition'?"),
    ({"executor": "local", "executor_options": {"num_cpus": 2}}, "takes no options"),
])
def test_a_notebooks_executor_parameters_are_checked_when_it_resolves(given, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        resolve("03", "smoke", namespace=dict(given))


def test_a_notebook_resolved_with_executor_ray_trains_its_sweeps_on_ray(ray_cluster, tmp_path,  # noqa: F811
                                                                        local):
    params = resolve("03", "smoke", namespace={"executor": "ray",
                                               "executor_options": dict(QUICK, address=ray_cluster)})
    assert (params.executor, params.executor_options) == ("ray", dict(QUICK, address=ray_cluster))
    store = RunStore(tmp_path / "store")
    [run] = run_sweep([fast(30)], store, device="cpu", progress=False, executor=params.executor,
                      executor_options=params.executor_options)
    assert load_worker_status(store.root, "ray", run.id)["state"] == "done"  # trained by a Ray actor
    assert_same_run(run, local(fast(30)))
    params = resolve("03", "smoke", namespace={})  # a notebook that names no executor trains here
    assert (params.executor, params.executor_options) == ("local", {})


@pytest.mark.parametrize("args, message", [
    (["--executor", "sge"], "--executor 'sge' is unknown; allowed: local, slurm, ray"),
    (["--executor", "slurm", "--executor-opt", "partition"], "--executor-opt 'partition' is not KEY=VALUE"),
    (["--executor-opt", "partition=gpu"], "--executor-opt needs --executor slurm or ray"),
])
def test_run_all_refuses_a_bad_executor_flag_before_anything_runs(args, message):
    out = subprocess.run(["bash", str(ROOT / "run_all.sh"), *args], capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 2 and message in out.stdout + out.stderr, out.stdout + out.stderr


# --- the run lock on a shared filesystem ------------------------------------------------------


def _lease(run: Run, machine: str, pid: int) -> None:
    (run.dir / ".lock.d").mkdir()
    (run.dir / ".lock.d" / "owner.json").write_text(json.dumps(
        {"machine": machine, "pid": pid, "token": "someone", "beat": 0}))


def test_a_lease_left_by_a_dead_process_of_this_machine_is_taken_at_once(tmp_path):
    run = RunStore(tmp_path).run({"kind": "lock-test", "seed": 1})
    dead = subprocess.Popen(["true"])
    dead.wait()
    _lease(run, Run._machine(), dead.pid)
    started = time.monotonic()
    with run.lock():
        assert json.loads((run.dir / ".lock.d" / "owner.json").read_text())["pid"] == os.getpid()
    assert time.monotonic() - started < 5
    assert not (run.dir / ".lock.d").exists()


def test_a_lease_of_another_machine_is_taken_only_once_it_is_not_renewed(tmp_path, monkeypatch,
                                                                         capsys):
    monkeypatch.setattr(Run, "LOCK_STALE_SECONDS", 1.0)
    run = RunStore(tmp_path).run({"kind": "lock-test", "seed": 2})
    _lease(run, "elsewhere/boot", os.getpid())
    started = time.monotonic()
    with run.lock():
        waited = time.monotonic() - started
    assert 1.0 <= waited < 10
    assert f"run {run.id}: its lock was not renewed for 1 s" in capsys.readouterr().out


def test_a_renewed_lease_keeps_a_waiter_out_until_it_is_released(tmp_path, monkeypatch):
    """Without flock between them (as on a mount where flock is local), two holders meet only at
    the lease: a waiter stays out while the holder renews it, however long."""
    monkeypatch.setattr(Run, "LOCK_HEARTBEAT_SECONDS", 0.1)
    monkeypatch.setattr(Run, "LOCK_STALE_SECONDS", 0.5)
    run = RunStore(tmp_path).run({"kind": "lock-test", "seed": 3})
    token = run._take_lease()
    stop = threading.Event()
    beat = threading.Thread(target=run._keep_lease, args=(token, stop), daemon=True)
    beat.start()
    taken = threading.Event()
    waiter = threading.Thread(target=lambda: (run._take_lease(), taken.set()), daemon=True)
    waiter.start()
    assert not taken.wait(2.0), "the waiter took a lease that was being renewed"
    stop.set()
    beat.join()
    run._drop_lease(token)
    assert taken.wait(5.0)
