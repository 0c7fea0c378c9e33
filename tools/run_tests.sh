#!/usr/bin/env bash
# Installs everything the tests need (cached after the first run) and runs the test suite.
#   bash tools/run_tests.sh [pytest args...]
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
PY=$(bash tools/install.sh --tests | tail -n 1)
exec "$PY" -m pytest tests "$@"
