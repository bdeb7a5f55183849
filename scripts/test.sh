#!/usr/bin/env bash
# The whole suite: on the embedded SQLite database always, and on PostgreSQL (with Redis for the
# job queue) when CI=true or TEST_POSTGRES=1. Extra arguments go to pytest. The suite runs on
# every core (pytest-xdist; TEST_WORKERS=0 runs it in one process), each worker with its own
# data directory and Redis database (custodia.testing.xdist_isolation).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
export CUSTODIA_DATA_DIR="${CUSTODIA_DATA_DIR:-$PWD/var/test}"
mkdir -p "$CUSTODIA_DATA_DIR"

WORKERS=(-n "${TEST_WORKERS:-auto}")

# The whole suite: everything but the browser tests on every core, then the browser tests alone
# (Chromium and a live server beside another busy worker made their timeouts flaky). With
# arguments, one pytest run with those arguments.
suite() {
  if [ $# -gt 0 ]; then
    $PY -m pytest "${WORKERS[@]}" "$@"
    return
  fi
  $PY -m pytest "${WORKERS[@]}" -m "not browser"
  $PY -m pytest -m browser
}

echo "== test suite on SQLite"
(unset DATABASE_URL REDIS_URL; suite "$@")

if [ "${CI:-}" = "true" ] || [ "${TEST_POSTGRES:-}" = "1" ]; then
  echo "== test suite on PostgreSQL (+ Redis job queue)"
  (export DATABASE_URL="${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/custodia}"
   export REDIS_URL="${TEST_REDIS_URL:-redis://127.0.0.1:6379/15}"
   suite "$@")
fi
