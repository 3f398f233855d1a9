#!/usr/bin/env bash
# Create .venv from requirements.txt when it is missing or the requirements changed, install ddlib
# in editable mode and register the "ddlib" Jupyter kernel. Sourced by run_all.sh and run_tests.sh.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$root/.venv"
stamp="$venv/.requirements.sha256"
digest() { if command -v sha256sum >/dev/null; then sha256sum; else shasum -a 256; fi; }  # macOS has shasum
wanted="$(cat "$root/requirements.txt" "$root/pyproject.toml" | digest | cut -d' ' -f1)"  # contents only: a moved clone keeps its .venv
if [ ! -x "$venv/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$wanted" ]; then
  # the pins (numpy, pandas) need Python >= 3.11: take the first such interpreter, or $PYTHON
  python="${PYTHON:-}"
  if [ -z "$python" ]; then
    for candidate in python3.11 python3.12 python3.13 python3; do
      found="$(command -v "$candidate" || true)"
      if [ -n "$found" ] && "$found" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
        python="$found"; break
      fi
    done
  fi
  [ -n "$python" ] || { echo "ensure_venv.sh: no Python >= 3.11 found (the pinned numpy and pandas need it); install one or set PYTHON=/path/to/python3.11" >&2; exit 1; }
  "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "ensure_venv.sh: PYTHON=$python is $("$python" --version 2>&1); the pinned numpy and pandas need Python >= 3.11" >&2; exit 1; }
  echo "setting up $venv with $("$python" --version) (one-off, a few minutes) ..."
  "$python" -m venv --clear "$venv"
  "$venv/bin/python" -m pip install --quiet --upgrade pip
  "$venv/bin/python" -m pip install --quiet -r "$root/requirements.txt"
  "$venv/bin/python" -m pip install --quiet --no-deps -e "$root"
  "$venv/bin/python" -m ipykernel install --sys-prefix --name ddlib --display-name "ddlib (.venv)" >/dev/null
  echo "$wanted" > "$stamp"
fi
