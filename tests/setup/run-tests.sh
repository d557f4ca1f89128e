#!/usr/bin/env bash
# Run the whole suite twice: on SQLite, then on a private PostgreSQL server that
# the test session starts and stops itself (tests/pg.py). Exits non-zero if either fails.
set -uo pipefail
cd "$(dirname "$0")/../.."
PY=.venv/bin/python
status=0
echo "=================== lint (ruff: pyflakes, bugbear) ==================="
.venv/bin/ruff check --no-cache --select F,E9,B --ignore B905 --line-length 120 app tests config.py wsgi.py migrations || status=1
for engine in sqlite postgresql; do
  echo
  echo "=================== test suite on ${engine} ==================="
  start=$(date +%s)
  PIAZZA_TEST_DB=$engine "$PY" -m pytest -p no:cacheprovider ${PYTEST_ARGS:-}
  rc=$?
  echo "=== ${engine}: exit ${rc} in $(( $(date +%s) - start ))s"
  [[ $rc -eq 0 ]] || status=1
done
exit $status
