"""The run store: every run is a folder named by the hash of its full configuration.

Layout of ``<runs_root>/<id[:2]>/<id>/``::

    config.json       the configuration that was hashed
    resume.pt         latest resume point: {"epoch", "state", "metrics"} (overwritten)
    ckpt_<epoch>.pt   requested checkpoints (model state only)
    metrics.json      rows logged so far
    final.pt          final model state
    result.json       written last: summary, versions, device, and the SHA-256 of every file the
                      result needs (metrics.json, final.pt, the kept checkpoints)
    <name>.json       derived results cached by :meth:`Run.cached`

Every write goes to a temporary file in the same folder and is renamed into place, so a killed
process never leaves a half-written file under a final name. A run is complete only when
``result.json`` parses and every file it lists is present with the recorded checksum
(:meth:`Run.damage`); otherwise :meth:`Run.is_trained` prints one line naming the run and the file,
clears the run (derived results too) and the trainer recomputes it. A derived result that fails to
load is recomputed. One lock file per run lets concurrent workers (Slurm arrays, Ray) share a store.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pandas as pd
import torch

from ddlib.core.paths import runs_root


class CorruptRunError(RuntimeError):
    """A run file exists but cannot be read."""


def config_hash(config: Mapping[str, Any]) -> str:
    """First 16 hex digits of the SHA-256 of the canonical JSON of ``config``."""
    text = json.dumps(config, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file and a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def atomic_write_json(path: Path, obj: Any) -> None:
    """Write ``obj`` as indented JSON, atomically."""
    atomic_write_bytes(path, json.dumps(obj, indent=1, sort_keys=True, default=str).encode())


def atomic_torch_save(path: Path, obj: Any) -> None:
    """``torch.save`` to ``path``, atomically."""
    import io

    buffer = io.BytesIO()
    torch.save(obj, buffer)
    atomic_write_bytes(path, buffer.getvalue())


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _digest_of(result: Mapping[str, Any]) -> str:
    """SHA-256 of a result's canonical JSON without its own ``digest`` entry."""
    body = {k: v for k, v in result.items() if k != "digest"}
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()


def _sealed(result: Mapping[str, Any]) -> dict[str, Any]:
    """``result`` with the digest of its own content, so that an altered result.json is caught."""
    return {**result, "digest": _digest_of(result)}


def process_alive(pid: int) -> bool:
    """Whether process ``pid`` of this machine exists and is not a zombie."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    return state not in ("Z", "X")


def _read_json(path: Path) -> Any | None:
    """The JSON in ``path``, or None when it is missing or unreadable."""
    try:
        return json.loads(path.read_text())
    except (FileNotFoundError, json.JSONDecodeError, UnicodeDecodeError):
        return None


class Run:
    """One configuration's folder in the store."""

    def __init__(self, root: Path, config: Mapping[str, Any]):
        self.config = json.loads(json.dumps(dict(config), default=str))
        self.id = config_hash(self.config)
        self.dir = root / self.id[:2] / self.id
        self.dir.mkdir(parents=True, exist_ok=True)
        if _read_json(self.dir / "config.json") != self.config:
            atomic_write_json(self.dir / "config.json", self.config)

    def __repr__(self) -> str:
        return f"Run({self.id}, complete={self.is_complete()})"

    # --- completion -------------------------------------------------------------------------
    def is_complete(self) -> bool:
        """Whether ``result.json`` exists and parses (the run finished)."""
        return _read_json(self.dir / "result.json") is not None

    def damage(self) -> str | None:
        """The first file of a finished run that is missing or damaged (``None`` when all are
        sound): every file listed in ``result.json`` must exist with its recorded SHA-256. Runs
        finished before checksums were recorded are checked by loading their files (metrics,
        final weights, the checkpoints their config keeps) and then get their checksums recorded."""
        result = _read_json(self.dir / "result.json")
        if not isinstance(result, dict):
            return "result.json (missing or unreadable)"
        recorded = result.get("files")
        if "digest" in result and result["digest"] != _digest_of(result):
            return "result.json (checksum mismatch: altered)"
        if recorded is not None:
            for name, digest in recorded.items():
                path = self.dir / name
                if not path.exists():
                    return f"{name} (missing)"
                if _sha256(path) != digest:
                    return f"{name} (checksum mismatch: truncated or altered)"
            return None
        problem = self._legacy_damage()
        if problem is None:
            atomic_write_json(self.dir / "result.json", _sealed({**result, "files": self._checksums()}))
        return problem

    def _legacy_damage(self) -> str | None:
        rows = _read_json(self.dir / "metrics.json")
        if not isinstance(rows, list) or not rows:
            return "metrics.json (missing, unreadable or empty)"
        kept = self.config.get("checkpoint_epochs", self.config.get("checkpoint_steps", []))
        for name in ["final.pt", *(f"ckpt_{k}.pt" for k in kept)]:
            try:
                torch.load(self.dir / name, map_location="cpu", weights_only=True)["model"]
            except FileNotFoundError:
                return f"{name} (missing)"
            except Exception:
                return f"{name} (unreadable)"
        return None

    def _checksums(self) -> dict[str, str]:
        names = ["metrics.json", "final.pt", *(p.name for p in sorted(self.dir.glob("ckpt_*.pt")))]
        return {name: _sha256(self.dir / name) for name in names if (self.dir / name).exists()}

    def is_trained(self) -> bool:
        """Finished with every file sound. A damaged finished run is cleared (one printed line
        names the run and the file) so that the caller retrains it."""
        if not self.is_complete():
            if (self.dir / "result.json").exists() or (self.dir / "final.pt").exists():
                state = "unreadable" if (self.dir / "result.json").exists() else "missing"
                print(f"run {self.id}: result.json ({state}); recomputing the run")
                self.invalidate()
            return False
        problem = self.damage()
        if problem is None:
            return True
        print(f"run {self.id}: {problem}; recomputing the run")
        self.invalidate()
        return False

    def result(self) -> dict:
        """The summary written by :meth:`finish`, with library versions, device and seed."""
        result = _read_json(self.dir / "result.json")
        if result is None:
            raise CorruptRunError(f"run {self.id} has no readable result.json (not finished?)")
        return result

    def metrics(self) -> pd.DataFrame:
        """Metric rows logged so far (all of them once the run is complete); a finished run whose
        metrics are missing or unreadable raises instead of returning fewer rows."""
        rows = _read_json(self.dir / "metrics.json")
        if not rows and self.is_complete():
            raise CorruptRunError(f"run {self.id}: metrics.json is missing or unreadable; "
                                  "train the run again (ddlib.training.train recomputes it)")
        return pd.DataFrame(rows or [])

    def finish(self, metrics: list[dict], summary: Mapping[str, Any],
               state: dict | None = None) -> None:
        """Store final metrics, the final state and the summary; result.json marks completion.

        ``state`` (a dict with a ``"model"`` entry) is written to ``final.pt``.
        """
        from ddlib.core.device import environment_info

        if state is not None:
            atomic_torch_save(self.dir / "final.pt", state)
        atomic_write_json(self.dir / "metrics.json", metrics)
        result = {"summary": dict(summary), "environment": environment_info(),
                  "seed": self.config.get("seed"), "files": self._checksums()}
        atomic_write_json(self.dir / "result.json", _sealed(result))
        with contextlib.suppress(FileNotFoundError):
            (self.dir / "resume.pt").unlink()

    # --- checkpoints ------------------------------------------------------------------------
    def save_checkpoint(self, epoch: int, state: dict, metrics: list[dict], keep: bool) -> None:
        """Save a resume point (and, when ``keep``, the requested checkpoint ``ckpt_<epoch>.pt``).

        ``state`` is whatever the trainer needs to resume (model and optimiser state); only its
        ``"model"`` entry is kept in requested checkpoints.
        """
        if keep:
            atomic_torch_save(self.dir / f"ckpt_{epoch}.pt", {"model": state["model"]})
        atomic_write_json(self.dir / "metrics.json", metrics)
        atomic_torch_save(self.dir / "resume.pt",
                          {"epoch": epoch, "state": state, "metrics": metrics})

    def resume_point(self) -> tuple[int, dict, list[dict]] | None:
        """The latest valid resume point, or None (a corrupt file is removed and ignored)."""
        path = self.dir / "resume.pt"
        if not path.exists():
            return None
        try:
            saved = torch.load(path, map_location="cpu", weights_only=True)
            return int(saved["epoch"]), saved["state"], list(saved["metrics"])
        except Exception:
            path.unlink(missing_ok=True)
            return None

    def checkpoints(self) -> list[int]:
        """Kept checkpoints on disk: epochs of a classifier run, steps of an LC-logged run."""
        return sorted(int(p.stem.split("_")[1]) for p in self.dir.glob("ckpt_*.pt"))

    def load_checkpoint(self, epoch: int | None = None) -> dict:
        """Model state at ``epoch`` (a requested checkpoint), or the final state when None."""
        path = self.dir / ("final.pt" if epoch is None else f"ckpt_{epoch}.pt")
        try:
            saved = torch.load(path, map_location="cpu", weights_only=True)
        except FileNotFoundError:
            raise CorruptRunError(f"run {self.id} has no checkpoint {path.name}") from None
        except Exception as error:
            raise CorruptRunError(f"run {self.id}: {path.name} is unreadable ({error})") from error
        return saved["model"]

    def clear_temporaries(self) -> None:
        """Remove temporary files a killed writer left behind (call under :meth:`lock`, before
        training an unfinished run). Only ``config.json`` is written without the lock (by every
        process that opens the run), so its temporaries are removed only once a minute old."""
        now = time.time()
        for path in self.dir.glob(".*.tmp"):
            with contextlib.suppress(FileNotFoundError):
                if not path.name.startswith(".config.json.") or now - path.stat().st_mtime > 60:
                    path.unlink()

    def invalidate(self) -> None:
        """Clear a damaged run so that it is recomputed from scratch: the completion marker first
        (an interruption here leaves an incomplete run), then every file derived from its
        weights; the config, the lock and an in-progress resume point stay."""
        (self.dir / "result.json").unlink(missing_ok=True)
        for path in self.dir.iterdir():
            if path.name not in ("config.json", ".lock", "resume.pt") and path.is_file():
                path.unlink(missing_ok=True)

    # --- derived results --------------------------------------------------------------------
    def cached(self, name: str, compute: Callable[[], pd.DataFrame]) -> pd.DataFrame:
        """A derived table stored as ``<name>.json`` in the run folder, computed once."""
        path = self.dir / f"{name}.json"
        rows = _read_json(path)
        if rows is not None:
            return pd.DataFrame(rows)
        table = compute()
        atomic_write_json(path, table.to_dict(orient="records"))
        return table

    LOCK_HEARTBEAT_SECONDS = 15.0  # how often a holder shows it is alive (rewrites its lease)
    LOCK_STALE_SECONDS = 180.0     # a lease unchanged this long (seen by a waiter) is abandoned

    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        """Exclusive lock on this run across processes and machines (one writer at a time).

        Two layers, so that a store on a shared filesystem does not rely on ``flock`` alone:

        1. ``flock`` on ``.lock``: immediate between processes of one machine and released by
           the kernel when its holder dies (on Linux NFS clients it becomes a POSIX lock, which
           is shared between clients only where the mount has working locking: not with
           ``nolock`` or ``local_lock=...``, nor on some Lustre / BeeGFS set-ups);
        2. a lease that needs only atomic ``mkdir`` (exclusive on local filesystems and on NFS)
           and atomic rename within a folder: the folder ``.lock.d`` is created by the holder,
           which writes ``owner.json`` (machine, process, token) and rewrites it every
           ``LOCK_HEARTBEAT_SECONDS``. A waiter removes the lease when its owner is a dead
           process of this machine, or when it has seen the lease unchanged for
           ``LOCK_STALE_SECONDS`` (its holder's machine died or lost the filesystem). No clock
           is compared between machines.
        """
        with open(self.dir / ".lock", "w") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                import threading

                token = self._take_lease()
                stop = threading.Event()
                beat = threading.Thread(target=self._keep_lease, args=(token, stop), daemon=True,
                                        name=f"lease-{self.id}")
                beat.start()
                try:
                    yield
                finally:
                    stop.set()
                    beat.join()
                    self._drop_lease(token)
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    @staticmethod
    def _machine() -> str:
        """This machine, as a lease names it: host name and kernel boot id."""
        import socket

        try:
            boot = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
        except OSError:
            boot = ""
        return f"{socket.gethostname()}/{boot}"

    def _lease_text(self, folder: Path) -> str:
        """The content of ``folder/owner.json`` ('' when missing or unreadable)."""
        try:
            return (folder / "owner.json").read_text()
        except (OSError, UnicodeDecodeError):
            return ""

    def _lease_abandoned(self, text: str) -> bool:
        """Whether the lease ``text`` belongs to a dead process of this machine."""
        try:
            owner = json.loads(text)
            return owner["machine"] == self._machine() and not process_alive(int(owner["pid"]))
        except (ValueError, KeyError, TypeError):
            return False

    def _take_lease(self) -> str:
        """Create the lease folder (waiting while another holder keeps it); returns its token."""
        import uuid

        folder, token = self.dir / ".lock.d", uuid.uuid4().hex
        seen, since, delay = None, time.monotonic(), 0.05
        while True:
            try:
                os.mkdir(folder)
            except FileExistsError:
                text = self._lease_text(folder)
                if text != seen:
                    seen, since = text, time.monotonic()
                stale = time.monotonic() - since > self.LOCK_STALE_SECONDS
                if stale or self._lease_abandoned(text):
                    if stale:
                        print(f"run {self.id}: its lock was not renewed for "
                              f"{self.LOCK_STALE_SECONDS:.0f} s ({text.strip() or 'no owner'}); "
                              "taking it over")
                    self._break_lease(folder, text)
                    seen, since = None, time.monotonic()
                    continue
                time.sleep(delay)
                delay = min(1.0, delay * 2)
                continue
            self._write_lease(folder, token, 0)
            return token

    def _write_lease(self, folder: Path, token: str, beat: int) -> None:
        owner = {"machine": self._machine(), "pid": os.getpid(), "token": token, "beat": beat}
        atomic_write_json(folder / "owner.json", owner)

    def _keep_lease(self, token: str, stop: Any) -> None:
        """Heartbeat thread: rewrite the lease until ``stop`` is set or the lease is not ours."""
        folder, beat = self.dir / ".lock.d", 0
        while not stop.wait(self.LOCK_HEARTBEAT_SECONDS):
            beat += 1
            if f'"{token}"' not in self._lease_text(folder):
                return
            with contextlib.suppress(OSError):
                self._write_lease(folder, token, beat)

    def _break_lease(self, folder: Path, text: str) -> None:
        """Remove the lease whose content was ``text``: renamed away first (atomic, so that two
        waiters cannot both remove it), put back if it turned out to be a newer one."""
        import shutil
        import uuid

        victim = folder.with_name(f"{folder.name}.stale.{uuid.uuid4().hex}")
        try:
            os.rename(folder, victim)
        except OSError:
            return
        if self._lease_text(victim) != text:
            with contextlib.suppress(OSError):
                os.rename(victim, folder)
                return
        shutil.rmtree(victim, ignore_errors=True)

    def _drop_lease(self, token: str) -> None:
        """Release the lease if it is still ours (a waiter may have judged it stale)."""
        import shutil
        import uuid

        folder = self.dir / ".lock.d"
        if f'"{token}"' not in self._lease_text(folder):
            return
        victim = folder.with_name(f"{folder.name}.released.{uuid.uuid4().hex}")
        with contextlib.suppress(OSError):
            os.rename(folder, victim)
            shutil.rmtree(victim, ignore_errors=True)


class RunStore:
    """A folder of runs addressed by configuration hash."""

    def __init__(self, root: Path | str | None = None):
        self.root = Path(root) if root is not None else runs_root()

    def run(self, config: Mapping[str, Any]) -> Run:
        """The run of ``config`` (its folder is created if new)."""
        return Run(self.root, config)
