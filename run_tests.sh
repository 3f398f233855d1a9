#!/usr/bin/env bash
# The test command: creates .venv if missing, then runs pytest (slow tests are skipped unless
# you pass -m slow or another marker expression). Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")"
source scripts/ensure_venv.sh
export TQDM_DISABLE=1 MPLBACKEND=Agg
status=0
.venv/bin/python -m pytest -m "not slow" -q "$@" || status=$?
if [ "$status" -eq 5 ]; then
  echo "run_tests.sh: pytest collected no tests for this selection (exit code 5)." >&2
  exit 0
fi
exit "$status"
