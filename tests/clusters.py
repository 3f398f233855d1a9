"""Real local clusters for the executor tests, started once per test session and stopped after.

- ``slurm_cluster``: munged, slurmctld and slurmd from Debian's packages, configured and started
  by ``scripts/local_slurm.sh`` in a temporary folder, listening on 127.0.0.1 only; the clients
  (sbatch, squeue, submitit) find it through ``SLURM_CONF``. Skipped, with the reason, when Slurm
  or submitit is not installed; a Slurm that is installed but does not start is a test error.
- ``ray_cluster``: ``ray start --head --block`` on 127.0.0.1 with 2 CPUs, in its own process
  group and temporary folder, so that stopping it ends exactly the processes it started (never
  ``ray stop``, which ends every Ray process of the machine). Yields the address.

``RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0`` makes Ray use the loopback address as the node address
(Ray otherwise replaces 127.0.0.1 by the machine's network address), for the cluster and for
every driver of the test session.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SLURM_TOOLS = ("munged", "slurmctld", "slurmd", "sbatch", "squeue", "scontrol", "srun")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="session")
def slurm_cluster():
    """SLURM_CONF of a running single-node cluster (set in the environment for the session)."""
    missing = [tool for tool in SLURM_TOOLS if shutil.which(tool) is None]
    if missing:
        pytest.skip(f"Slurm is not installed (no {', '.join(missing)}): apt-get install slurmctld "
                    "slurmd munge (.ci/run does)")
    if importlib.util.find_spec("submitit") is None:
        pytest.skip("submitit is not installed: pip install -e '.[slurm]' or pip install -r "
                    "requirements-cluster.txt (.ci/run does)")
    folder = Path(tempfile.mkdtemp(prefix="ddslurm-"))
    script = ROOT / "scripts" / "local_slurm.sh"
    started = subprocess.run(["bash", str(script), "start", str(folder), "2"],
                             capture_output=True, text=True, timeout=120)
    if started.returncode != 0:
        logs = "\n".join(f"--- {p.name}\n{p.read_text()[-2000:]}"
                         for p in sorted((folder / "log").glob("*.log")))
        subprocess.run(["bash", str(script), "stop", str(folder)], timeout=60)
        pytest.fail(f"the local Slurm cluster did not start:\n{started.stdout}\n{started.stderr}\n{logs}")
    conf = str(folder / "slurm.conf")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SLURM_CONF", conf)
        try:
            yield conf
        finally:
            subprocess.run(["bash", str(script), "stop", str(folder)], timeout=120)
            shutil.rmtree(folder, ignore_errors=True)


def _processes_mentioning(text: str) -> list[int]:
    """Ids of the processes whose command line contains ``text`` (our cluster's temp folder)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if text in (entry / "cmdline").read_bytes().decode(errors="replace"):
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def _ray_is_up(ray: Path, address: str, env: dict[str, str]) -> bool:
    status = subprocess.run([str(ray), "status", "--address", address], capture_output=True,
                            text=True, env=env, timeout=60)
    return status.returncode == 0 and " node_" in status.stdout


@pytest.fixture(scope="session")
def ray_cluster():
    """Address (127.0.0.1:port) of a running local Ray head with 2 CPUs."""
    if importlib.util.find_spec("ray") is None:
        pytest.skip("ray is not installed: pip install -e '.[ray]' or pip install -r "
                    "requirements-cluster.txt (.ci/run does)")
    import sys

    ray = Path(sys.executable).with_name("ray")
    folder = Path(tempfile.mkdtemp(prefix="ddray-", dir="/tmp"))  # short: unix socket paths
    port = _free_port()
    address = f"127.0.0.1:{port}"
    env = {**os.environ, "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0", "RAY_USAGE_STATS_ENABLED": "0"}
    log = open(folder / "ray-start.log", "w")
    head = subprocess.Popen(
        [str(ray), "start", "--head", "--block", "--port", str(port), "--node-ip-address",
         "127.0.0.1", "--num-cpus", "2", "--num-gpus", "0", "--include-dashboard=false",
         "--object-store-memory", str(100 * 1024 * 1024), "--temp-dir", str(folder),
         "--disable-usage-stats"],
        stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    try:
        deadline = time.monotonic() + 90
        while not _ray_is_up(ray, address, env):
            if head.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the local Ray head did not start:\n{(folder / 'ray-start.log').read_text()[-3000:]}")
            time.sleep(1)
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
            patch.setenv("RAY_USAGE_STATS_ENABLED", "0")
            yield address
    finally:
        for sig, wait in ((signal.SIGTERM, 3.0), (signal.SIGKILL, 10.0)):
            if head.poll() is None:
                os.killpg(head.pid, sig)
                try:
                    head.wait(timeout=wait)
                except subprocess.TimeoutExpired:
                    pass
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(head.pid, signal.SIGKILL)  # whatever of its group is left (raylet, gcs)
        for pid in _processes_mentioning(str(folder)):  # workers outside the group, if any
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
        log.close()
        shutil.rmtree(folder, ignore_errors=True)

