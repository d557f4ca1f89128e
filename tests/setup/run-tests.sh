#!/usr/bin/env bash
# Run the whole suite twice, on SQLite and on a private PostgreSQL server that the test session
# starts and stops itself (tests/pg.py). The two runs go side by side (one per core): each writes its
# log and is shown whole when it ends. Exits non-zero if the lint or either run fails.
# PIAZZA_TEST_SERIAL=1 runs them one after the other, with live output.
set -uo pipefail
cd "$(dirname "$0")/../.."
PY=.venv/bin/python
status=0
echo "=================== lint (ruff: pyflakes, bugbear) ==================="
.venv/bin/ruff check --no-cache --select F,E9,B --ignore B905 --line-length 120 app tests config.py wsgi.py migrations || status=1
logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT

run_engine() {
  local engine=$1 start rc
  start=$(date +%s)
  PIAZZA_TEST_DB=$engine "$PY" -m pytest -p no:cacheprovider --basetemp="$logs/tmp-$engine" ${PYTEST_ARGS:-}
  rc=$?
  echo "=== ${engine}: exit ${rc} in $(( $(date +%s) - start ))s"
  return $rc
}

if [[ "${PIAZZA_TEST_SERIAL:-}" == 1 ]]; then
  for engine in sqlite postgresql; do
    echo; echo "=================== test suite on ${engine} ==================="
    run_engine "$engine" || status=1
  done
  exit $status
fi

start=$(date +%s)
declare -A pids
for engine in sqlite postgresql; do
  run_engine "$engine" > "$logs/$engine.log" 2>&1 &
  pids[$engine]=$!
done
echo "the suite runs on SQLite and on PostgreSQL side by side; each log follows when its run ends"
for engine in sqlite postgresql; do
  wait "${pids[$engine]}"
  rc=$?
  echo; echo "=================== test suite on ${engine} ==================="
  cat "$logs/$engine.log"
  [[ $rc -eq 0 ]] || status=1
done
echo; echo "=== both engines in $(( $(date +%s) - start ))s"
exit $status
