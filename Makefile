# SafeGround. On a fresh Debian 12 machine: `make demo` runs it, `make test` tests it.
# Both install what is missing (scripts/bootstrap.sh) and use a private PostGIS cluster under var/
# (scripts/pgcluster.sh) — or, when SAFEGROUND_DATABASE_URL is set, that database instead.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PORT ?= 8000
SCALE ?= national
PYTEST_ARGS ?=
BENCH_ARGS ?=

VENV := .venv
CLUSTER := scripts/pgcluster.sh
# Shell snippets, expanded inside recipes:
# the database to use: $SAFEGROUND_DATABASE_URL if set, else the private cluster's;
DB_URL := $${SAFEGROUND_DATABASE_URL:-$$($(CLUSTER) url)}
# start the private cluster, unless an external database was given.
START_DB := if [ -n "$${SAFEGROUND_DATABASE_URL:-}" ]; then \
	  echo "safeground: using SAFEGROUND_DATABASE_URL (no private cluster)"; \
	else $(CLUSTER) start; fi

.PHONY: help install install-test db demo lint lock test bench screenshots status psql stop clean

help: ## list the targets
	@echo "SafeGround — make TARGET [PORT=8000] [SCALE=national] [PYTEST_ARGS=...]"
	@grep -E '^[a-z-]+:.*## ' $(firstword $(MAKEFILE_LIST)) | \
	  awk -F':.*## ' '{ printf "  %-13s %s\n", $$1, $$2 }'
	@echo "Set SAFEGROUND_DATABASE_URL=postgresql+psycopg://... to use an existing PostGIS instead."

install: ## install system packages (apt) and the Python environment (.venv)
	@scripts/bootstrap.sh

install-test: ## the same, plus chromium for the browser tests
	@scripts/bootstrap.sh --browser

db: install ## start the private PostGIS cluster in var/pg
	@$(START_DB)

demo: db ## migrate, load the demo data (SCALE=…), serve http://127.0.0.1:PORT
	SAFEGROUND_DATABASE_URL="$(DB_URL)" $(VENV)/bin/safeground db upgrade
	SAFEGROUND_DATABASE_URL="$(DB_URL)" $(VENV)/bin/safeground demo load --scale $(SCALE)
	SAFEGROUND_DATABASE_URL="$(DB_URL)" $(VENV)/bin/safeground map overview --offline \
	  --out artifacts/maps/safeground-overview.html
	@echo "safeground: the command line is .venv/bin/safeground (try: .venv/bin/safeground --help, or"
	@echo "safeground:   'source .venv/bin/activate' and then 'safeground layers'); inside this checkout it"
	@echo "safeground:   finds this private database by itself, no SAFEGROUND_DATABASE_URL needed"
	@echo "safeground: serving on http://127.0.0.1:$(PORT)/ (Ctrl-C to stop)"
	@echo "safeground: maps on http://127.0.0.1:$(PORT)/maps; offline: artifacts/maps/safeground-overview.html"
	SAFEGROUND_DATABASE_URL="$(DB_URL)" exec $(VENV)/bin/safeground serve --host 127.0.0.1 --port $(PORT)

lint: install-test ## ruff (lint + format check), mypy, and the api -> layers -> gis import contract
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

lock: ## remake requirements.lock and requirements-runtime.lock (versions + hashes) from pyproject.toml
	$(VENV)/bin/pip install --quiet --disable-pip-version-check uv==0.13.9
	@# The build backend (pyproject's [build-system], pinned) is locked too: the image installs it
	@# from the lock and builds the package without isolation, so no unpinned setuptools gets in.
	$(VENV)/bin/python -c "import tomllib; print(*tomllib.load(open('pyproject.toml', 'rb'))['build-system']['requires'], sep='\n')" \
	  > $(VENV)/build-requires.txt
	$(VENV)/bin/uv pip compile pyproject.toml $(VENV)/build-requires.txt --extra test --generate-hashes \
	  --python-version 3.11 --python-platform x86_64-manylinux_2_36 --quiet -o requirements.lock
	@# The image's lock: no test extras, every shared version taken from requirements.lock.
	$(VENV)/bin/uv pip compile pyproject.toml $(VENV)/build-requires.txt --generate-hashes \
	  --constraint requirements.lock \
	  --python-version 3.11 --python-platform x86_64-manylinux_2_36 --quiet -o requirements-runtime.lock

# The tests make and drop their own throw-away database on SAFEGROUND_TEST_SERVER_URL's server.
# A private cluster that was stopped before the tests is stopped again after them, so that CI runs
# and fresh-clone checks do not leave servers behind.
test: install-test ## run the tests (PYTEST_ARGS=…) against a private PostGIS
	@if [ -n "$${SAFEGROUND_DATABASE_URL:-}" ]; then \
	  echo "safeground: testing on the server of SAFEGROUND_DATABASE_URL (no private cluster)"; \
	  server=$$SAFEGROUND_DATABASE_URL; \
	else \
	  if ! $(CLUSTER) status >/dev/null 2>&1; then trap '$(CLUSTER) stop' EXIT; fi; \
	  $(CLUSTER) start; \
	  server=$$($(CLUSTER) url postgres); \
	fi; \
	echo "SAFEGROUND_TEST_SERVER_URL=$$server $(VENV)/bin/python -m pytest $(PYTEST_ARGS)"; \
	SAFEGROUND_TEST_SERVER_URL=$$server $(VENV)/bin/python -m pytest $(PYTEST_ARGS)

bench: install-test db ## run python -m bench (BENCH_ARGS=…; --imports: the import bench vs ogr2ogr)
	SAFEGROUND_DATABASE_URL="$(DB_URL)" $(VENV)/bin/python -m bench $(BENCH_ARGS)

screenshots: install-test db ## the README's map screenshots (desktop and phone) into docs/screenshots/
	SAFEGROUND_DATABASE_URL="$(DB_URL)" $(VENV)/bin/safeground db upgrade
	SAFEGROUND_DATABASE_URL="$(DB_URL)" $(VENV)/bin/safeground demo load
	SAFEGROUND_DATABASE_URL="$(DB_URL)" PYTHONPATH=. $(VENV)/bin/python scripts/screenshots.py

status: ## is the private cluster running, and its URL
	@$(CLUSTER) status || true

psql: ## a psql shell on the private cluster's safeground database
	@$(CLUSTER) psql

stop: ## stop the private PostGIS cluster
	@$(CLUSTER) stop

clean: ## stop the cluster, delete var/ (the private database!) and .venv
	@if [ -f var/pg/data/PG_VERSION ]; then $(CLUSTER) stop; fi
	rm -rf var $(VENV)
