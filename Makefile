# Piazza — two commands: `make run` and `make test`. See README.md.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
export FLASK_APP := wsgi.py
export PIAZZA_ENV ?= development

.PHONY: run test test-sqlite test-postgres setup setup-dev system-deps translations extract-messages db demo clean vendor bench

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt $(VENV)/.installed
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

setup: $(VENV)/.installed translations vendor

setup-dev: $(VENV)/.installed-dev translations system-deps vendor

## Leaflet, leaflet.markercluster, Leaflet-Geoman and Swagger UI (the API docs page) from npm into app/static/vendor (for LEAFLET_LOCAL=1),
## again whenever a package is missing. Without npm the map still works from the CDN: a warning, not an error.
VENDOR_DIR := app/static/vendor
vendor:
	@if [ -f $(VENDOR_DIR)/node_modules/leaflet/dist/leaflet.js ] \
	   && [ -f $(VENDOR_DIR)/node_modules/@geoman-io/leaflet-geoman-free/dist/leaflet-geoman.min.js ] \
	   && [ -f $(VENDOR_DIR)/node_modules/swagger-ui-dist/swagger-ui-bundle.js ] \
	   && [ -f $(VENDOR_DIR)/node_modules/axe-core/axe.min.js ]; then :; \
	elif command -v npm >/dev/null 2>&1; then npm ci --prefix $(VENDOR_DIR) --no-audit --no-fund; \
	else echo "npm not found: Leaflet will load from the CDN; LEAFLET_LOCAL=1 and the browser tests need 'make vendor' with npm." >&2; fi

## Compile the translation catalogues (.po -> .mo).
translations: $(VENV)/.installed
	@$(BIN)/pybabel compile --use-fuzzy -d app/translations -D messages --statistics 2>&1 | grep -v "^$$" || true

## Re-extract translatable strings and merge them into the catalogues (for developers).
extract-messages: $(VENV)/.installed
	$(BIN)/pybabel extract -F app/translations/babel.cfg -k _l -k lazy_gettext -k lazy_pgettext:1c,2 --no-location --sort-output \
	  --ignore-dirs ".* __pycache__ .venv" \
	  --project Piazza --copyright-holder "Piazza contributors" -o app/translations/messages.pot .
	$(BIN)/pybabel update -i app/translations/messages.pot -d app/translations --ignore-obsolete

## Packages the tests need from Debian (PostgreSQL server, Chromium), installed when missing.
system-deps:
	@bash tests/setup/system-deps.sh

db: setup
	@mkdir -p instance
	$(BIN)/flask db upgrade

demo: db
	@if [ ! -f instance/.demo-seeded ]; then $(BIN)/flask seed demo && touch instance/.demo-seeded; fi

## Set everything up and serve the demo on http://127.0.0.1:$(PORT)
run: demo
	$(BIN)/flask run --host 127.0.0.1 --port $(PORT)

## Set everything up and run the whole suite on SQLite, then on PostgreSQL.
test: setup-dev
	@bash tests/setup/run-tests.sh

test-sqlite: setup-dev
	PIAZZA_TEST_DB=sqlite $(BIN)/python -m pytest $(PYTEST_ARGS)

test-postgres: setup-dev
	PIAZZA_TEST_DB=postgresql $(BIN)/python -m pytest $(PYTEST_ARGS)

## Time the map endpoint (mapFeatures) on 100,000 reports, SQLite then PostgreSQL; see bench/README.md.
## Not part of `make test`. BENCH_ARGS="--engine sqlite --reports 20000" narrows the run.
BENCH_ARGS ?= --engine both --reports 100000
bench: setup
	$(BIN)/python -m bench.map_features $(BENCH_ARGS)

clean:
	rm -rf $(VENV) instance/.demo-seeded .pytest_cache
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
	find app/translations -name '*.mo' -delete
