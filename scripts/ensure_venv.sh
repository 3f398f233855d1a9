#!/usr/bin/env bash
# Create .venv from requirements.txt when it is missing or the requirements changed, install ddlib
# in editable mode and register the "ddlib" Jupyter kernel. Sourced by run_all.sh and run_tests.sh.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$root/.venv"
stamp="$venv/.requirements.sha256"
wanted="$(cat "$root/requirements.txt" "$root/pyproject.toml" | sha256sum | cut -d' ' -f1)"  # contents only: a moved clone keeps its .venv
if [ ! -x "$venv/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$wanted" ]; then
  python="${PYTHON:-$(command -v python3.11 || command -v python3 || true)}"
  [ -n "$python" ] || { echo "ensure_venv.sh: no python3 found; install Python 3.11 or set PYTHON" >&2; exit 1; }
  echo "setting up $venv with $("$python" --version) (one-off, a few minutes) ..."
  "$python" -m venv --clear "$venv"
  "$venv/bin/python" -m pip install --quiet --upgrade pip
  "$venv/bin/python" -m pip install --quiet -r "$root/requirements.txt"
  "$venv/bin/python" -m pip install --quiet --no-deps -e "$root"
  "$venv/bin/python" -m ipykernel install --sys-prefix --name ddlib --display-name "ddlib (.venv)" >/dev/null
  echo "$wanted" > "$stamp"
fi
