"""The report of one profile: every notebook's last good results, never shrunk by a partial or
failed run.

``run_all.sh`` executes each notebook as an *attempt*: papermill writes the executed notebook, its
log and HTML into ``reports/<profile>/.attempts/<attempt>/`` and the notebook's figures into
``<figures root>/<profile>/.attempts/<attempt>/``. When the attempt ends, :func:`finish_attempt`,
holding the report's lock, either

- **publishes** it (it succeeded): the figure set replaces ``<figures root>/<profile>/<notebook>/``
  whole, the executed notebook, HTML and log are renamed into ``reports/<profile>/``, and the
  notebook's claims table becomes its rows in the report; or
- **keeps the last good results** (it failed): the attempt's notebook and log are renamed to
  ``<notebook>.failed.ipynb`` / ``.failed.log`` beside the last good ones, its figures are dropped
  and the report says when the last attempt failed.

``reports/<profile>/attempts.json`` holds, per notebook, its last successful attempt (time,
commit, parameter overrides, seconds, claims rows) and its last attempt. ``claims.csv`` and
``claims.md`` are rendered from it after every attempt, so several ``run_all.sh`` at once (with
different ``--only`` sets) never lose each other's rows. Every file is written atomically.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from ddlib.core.claims import COLUMNS, markdown_rows
from ddlib.core.paths import figures_root, project_root, reports_dir
from ddlib.core.store import atomic_write_bytes, atomic_write_json, process_alive

PROVENANCE = ["run_at", "commit", "overrides", "older_commit"]  # columns the report adds
ATTEMPTS = ".attempts"
COMMIT_FILE = ".commit"  # in an attempt's report folder: the commit read when it began


def figures_staging_root(profile: str) -> Path:
    """Where attempts stage their figure sets: on the figures' filesystem, so a rename publishes."""
    return figures_root() / profile / ATTEMPTS


def begin_attempt(profile: str, notebook: str, owner_pid: int) -> tuple[Path, Path]:
    """Create the folders of one attempt; returns (its report folder, its figures root).

    The figures root is what ``DDLIB_FIGURES`` is set to while the notebook runs, so the notebook
    writes its figures to ``<figures root>/<profile>/<notebook>/`` inside the attempt.
    ``owner_pid`` is the process on this machine that runs the attempt: folders of this machine's
    attempts whose owner died (``run_all.sh`` killed) are removed first; other machines' folders on
    a shared filesystem are left alone. The checkout's commit is recorded now, when the code the
    notebook runs is read, not when it ends.
    """
    name = f"{notebook}.{_host()}.{owner_pid}.{secrets.token_hex(3)}"
    for staging in (reports_dir(profile) / ATTEMPTS, figures_staging_root(profile)):
        _remove_abandoned(staging)
        (staging / name).mkdir(parents=True)
    attempt = reports_dir(profile) / ATTEMPTS / name
    (attempt / COMMIT_FILE).write_text(current_commit())
    return attempt, figures_staging_root(profile) / name


def _host() -> str:
    return socket.gethostname().replace(".", "-") or "localhost"


def _remove_abandoned(staging: Path) -> None:
    """Remove this machine's attempt folders whose owner (the pid in their name) is not alive."""
    if not staging.is_dir():
        return
    for folder in staging.iterdir():
        parts = folder.name.split(".")
        if (len(parts) == 4 and parts[1] == _host() and parts[2].isdigit()
                and not process_alive(int(parts[2]))):
            shutil.rmtree(folder, ignore_errors=True)


@contextlib.contextmanager
def report_lock(profile: str) -> Iterator[None]:
    """Exclusive lock on one profile's report (its read-merge-write and its figure swaps)."""
    folder = reports_dir(profile)
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / ".lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def current_commit() -> str:
    """The checkout's commit (12 hex digits), ``+dirty`` with uncommitted changes to tracked files;
    ``unknown`` outside a git checkout."""
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=project_root(), capture_output=True, text=True,
                              check=True).stdout.strip()
    try:
        commit = git("rev-parse", "--short=12", "HEAD")
        return commit + ("+dirty" if git("status", "--porcelain", "--untracked-files=no") else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")


def _now() -> str:
    return _stamp(datetime.now(UTC))


def finish_attempt(profile: str, notebook: str, attempt: Path, figures_attempt: Path, *,
                   succeeded: bool, seconds: int, overrides: Sequence[str] = ()) -> dict:
    """Publish a successful attempt, or keep the last good results beside a failed one (module
    docstring); then re-render the report. Returns the notebook's record in ``attempts.json``."""
    out = reports_dir(profile)
    staged = figures_attempt / profile / notebook
    commit_file = attempt / COMMIT_FILE
    commit = commit_file.read_text() if commit_file.exists() else current_commit()
    if succeeded and not (staged / "claims.csv").exists():
        succeeded = False  # nothing to publish: keep the last good results
        with open(attempt / f"{notebook}.log", "a") as log:
            log.write(f"\nreport: the notebook wrote no claims table under profile {profile!r} "
                      f"({staged / 'claims.csv'} is missing); the attempt counts as failed\n")
    with report_lock(profile):
        _restore_interrupted_swap(figures_root() / profile / notebook)
        state = _read_state(profile)
        record = state["notebooks"].setdefault(notebook, {})
        when = _now()
        if succeeded:
            _replace_folder(staged, figures_root() / profile / notebook)
            for suffix in (".ipynb", ".html", ".log"):
                _move_or_remove(attempt / f"{notebook}{suffix}", out / f"{notebook}{suffix}")
            for suffix in (".failed.ipynb", ".failed.log"):
                (out / f"{notebook}{suffix}").unlink(missing_ok=True)
            record["last_success"] = {
                "run_at": when, "commit": commit, "seconds": seconds,
                "overrides": list(overrides),
                "rows": _claims_rows(figures_root() / profile / notebook / "claims.csv"),
            }
            record["last_attempt"] = {"status": "ok", "at": when}
        else:
            _move_or_remove(attempt / f"{notebook}.ipynb", out / f"{notebook}.failed.ipynb")
            _move_or_remove(attempt / f"{notebook}.log", out / f"{notebook}.failed.log")
            record["last_attempt"] = {"status": "failed", "at": when, "seconds": seconds,
                                      "overrides": list(overrides),
                                      "log": str(out / f"{notebook}.failed.log")}
        shutil.rmtree(attempt, ignore_errors=True)
        shutil.rmtree(figures_attempt, ignore_errors=True)
        atomic_write_json(out / "attempts.json", state)
        render(profile, state)
    return record


def _replace_folder(new: Path, final: Path) -> None:
    """Put ``new`` at ``final``, replacing what was there whole: the old set or the new one, never
    a mixture. Two renames; if the process dies between them, :func:`_restore_interrupted_swap`
    puts the old set back before the next attempt of this notebook is published or kept."""
    final.parent.mkdir(parents=True, exist_ok=True)
    old = final.parent / f".{final.name}.old-{secrets.token_hex(3)}"
    if final.exists():
        os.replace(final, old)
    os.replace(new, final)
    shutil.rmtree(old, ignore_errors=True)


def _restore_interrupted_swap(final: Path) -> None:
    """After a swap killed between its two renames ``final`` is missing and the last good set sits
    in ``.<name>.old-*``: rename it back. Leftovers beside a present ``final`` are removed."""
    leftovers = sorted(final.parent.glob(f".{final.name}.old-*"), key=lambda p: p.stat().st_mtime)
    if leftovers and not final.exists():
        os.replace(leftovers.pop(), final)
    for leftover in leftovers:
        shutil.rmtree(leftover, ignore_errors=True)


def _move_or_remove(source: Path, target: Path) -> None:
    """Rename ``source`` onto ``target``; without a ``source`` the stale ``target`` goes too (an
    HTML export that failed must not leave the previous notebook's HTML beside the new one)."""
    if source.exists():
        os.replace(source, target)
    else:
        target.unlink(missing_ok=True)


def _claims_rows(path: Path) -> list[dict]:
    if not path.exists():
        return []
    table = pd.read_csv(path, dtype=str, keep_default_na=False).reindex(columns=COLUMNS, fill_value="")
    table["holds"] = table["holds"].map(lambda v: str(v).strip().lower() in ("true", "1"))
    return table.to_dict("records")


def _read_state(profile: str) -> dict:
    """``attempts.json``; a report gathered before it existed is taken over with its rows (time
    from the file, commit unknown), so upgrading does not shrink the report either."""
    out = reports_dir(profile)
    path = out / "attempts.json"
    if path.exists():
        return json.loads(path.read_text())
    state: dict[str, Any] = {"profile": profile, "notebooks": {}}
    if (out / "claims.csv").exists():
        when = _stamp(datetime.fromtimestamp((out / "claims.csv").stat().st_mtime, UTC))
        for notebook, rows in _claims_by_notebook(out / "claims.csv").items():
            state["notebooks"][notebook] = {
                "last_success": {"run_at": when, "commit": "unknown", "seconds": None,
                                 "overrides": [], "rows": rows},
                "last_attempt": {"status": "ok", "at": when}}
    return state


def _claims_by_notebook(path: Path) -> dict[str, list[dict]]:
    rows = _claims_rows(path)
    grouped: dict[str, list[dict]] = {}
    for row in rows:
        grouped.setdefault(str(row["notebook"]), []).append(row)
    return grouped


def merged_table(state: Mapping[str, Any]) -> pd.DataFrame:
    """Every notebook's last successful claims rows with their provenance; ``older_commit`` marks
    rows from a commit other than that of the most recent successful notebook."""
    successes = {name: record["last_success"] for name, record in state["notebooks"].items()
                 if "last_success" in record}
    newest = max(successes.values(), key=lambda s: s["run_at"])["commit"] if successes else ""
    rows = []
    for name in sorted(successes):
        success = successes[name]
        older = _older_commit(success["commit"], newest)
        for row in success["rows"]:
            rows.append({**row, "run_at": success["run_at"], "commit": success["commit"],
                         "overrides": "; ".join(success["overrides"]), "older_commit": older})
    return pd.DataFrame(rows, columns=COLUMNS + PROVENANCE)


def _older_commit(commit: str, newest: str) -> bool:
    """Whether ``commit`` is older than ``newest`` (an ancestor of it; ``+dirty`` ignored). A commit
    git cannot place (``unknown``, another history) counts as older: it is not the newest."""
    mine, theirs = commit.removesuffix("+dirty"), newest.removesuffix("+dirty")
    if mine == theirs:
        return False
    try:
        subprocess.run(["git", "merge-base", "--is-ancestor", theirs, mine], cwd=project_root(),
                       capture_output=True, check=True)
        return False  # the newest run's commit is an ancestor: this one is newer, not older
    except (OSError, subprocess.CalledProcessError):
        return True


def render(profile: str, state: Mapping[str, Any]) -> pd.DataFrame:
    """Write ``claims.csv`` and ``claims.md`` of ``profile`` from ``state``; returns the table."""
    out = reports_dir(profile)
    table = merged_table(state)
    atomic_write_bytes(out / "claims.csv", table.to_csv(index=False).encode())
    atomic_write_bytes(out / "claims.md", _markdown(profile, state, table).encode())
    return table


def _tally(table: pd.DataFrame) -> tuple[int, int, int, int, int, int]:
    holds = table["holds"].astype(bool)
    checks, headline = table["role"] == "implementation check", table["role"] == "headline"
    return (int(holds[headline].sum()), int(headline.sum()), int(holds[~checks].sum()),
            int((~checks).sum()), int(holds[checks].sum()), int(checks.sum()))


def counts(table: pd.DataFrame) -> str:
    """How many headline claims and claims hold, and how many implementation checks pass (those
    are no claim of a paper and are counted apart)."""
    head, heads, held, claims, passed, checks = _tally(table)
    return (f"{head} of {heads} headline claims hold; {held} of {claims} claims hold in all; "
            f"{passed} of {checks} implementation checks pass")


def _short_counts(table: pd.DataFrame) -> str:
    head, heads, held, claims, passed, checks = _tally(table)
    return f"headline {head}/{heads}, all {held}/{claims}" + (
        f", checks {passed}/{checks}" if checks else "")


def _markdown(profile: str, state: Mapping[str, Any], table: pd.DataFrame) -> str:
    lines = [f"# Claims report, profile `{profile}`", "",
             f"{counts(table)}. Each notebook's rows come from its last successful run, listed "
             "below with its commit and parameter overrides.", "",
             "| notebook | last successful run | commit | overrides | claims | last attempt |",
             "|---|---|---|---|---|---|"]
    notebooks = sorted({path.stem for path in (project_root() / "notebooks").glob("[0-9][0-9]_*.ipynb")}
                       | set(state["notebooks"]))
    for name in notebooks:
        record = state["notebooks"].get(name, {})
        success, last = record.get("last_success"), record.get("last_attempt")
        if success:
            rows = table[table["notebook"] == name]
            older = " (**older commit** than the newest run)" if rows["older_commit"].any() else ""
            took = f" ({success['seconds']} s)" if success.get("seconds") is not None else ""
            cells = [success["run_at"] + took, f"`{success['commit']}`{older}",
                     "; ".join(success["overrides"]) or "none", _short_counts(rows)]
        else:
            cells = ["never", "", "", ""]
        if last is None:
            attempt = "not run under this profile"
        elif last["status"] == "failed":
            attempt = f"**failed** {last['at']}, log: `{Path(last['log']).name}`"
        else:
            attempt = f"ok {last['at']}"
        lines.append(f"| {name} | " + " | ".join(cells + [attempt]) + " |")
    lines.append("")
    for name, rows in table.groupby("notebook", sort=True):
        failed = state["notebooks"][name].get("last_attempt", {}).get("status") == "failed"
        note = " (the last attempt failed; these rows are from the last successful run)" if failed else ""
        lines += [f"## {name}{note}", "", *markdown_rows(rows.to_dict("records")), ""]
    return "\n".join(lines)


def summary(profile: str) -> str:
    """One line per failed notebook and the count of claims that hold, for ``run_all.sh``."""
    out = reports_dir(profile)
    if not (out / "attempts.json").exists():
        return f"claims: no notebook has run under profile {profile}"
    state = json.loads((out / "attempts.json").read_text())
    table = merged_table(state)
    lines = [f"claims: {counts(table)} -> {out / 'claims.md'}"]
    for name, record in sorted(state["notebooks"].items()):
        last = record.get("last_attempt", {})
        if last.get("status") == "failed":
            kept = "its last good results are kept" if "last_success" in record else "no good results yet"
            lines.append(f"  {name}: last attempt failed at {last['at']} ({kept}); log: {last['log']}")
    return "\n".join(lines)


def _main(argv: list[str]) -> int:
    """CLI for ``run_all.sh``:

    ``begin PROFILE NOTEBOOK OWNER_PID``: prints the attempt's report folder and figures root (tab-separated);
    ``finish PROFILE NOTEBOOK ATTEMPT FIGURES ok|failed SECONDS [OVERRIDE ...]``;
    ``summary PROFILE``.
    """
    command, *args = argv
    if command == "begin":
        profile, notebook, owner = args
        attempt, figures = begin_attempt(profile, notebook, int(owner))
        print(f"{attempt}\t{figures}")
    elif command == "finish":
        profile, notebook, attempt, figures, status, seconds, *overrides = args
        if status not in ("ok", "failed"):
            raise SystemExit(f"report finish: status {status!r} is not allowed; use ok or failed")
        finish_attempt(profile, notebook, Path(attempt), Path(figures), succeeded=status == "ok",
                       seconds=int(seconds), overrides=overrides)
    elif command == "summary":
        print(summary(*args))
    else:
        raise SystemExit(f"report: unknown command {command!r}; allowed: begin, finish, summary")
    return 0


if __name__ == "__main__":
    raise SystemExit(_main(sys.argv[1:]))
