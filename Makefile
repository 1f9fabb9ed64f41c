# unionstat: `make run` sets everything up and refreshes offline; `make test` runs lint, types and tests.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.DEFAULT_GOAL := help

.PHONY: help install run refresh-live serve dq bench test lint types pytest clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

# uv installs the lock's 176 pinned packages in about 25 s from its cache (pip took 70 s even with its own). It
# compiles them to bytecode as pip does: without that, every new Python process (the tests start many) compiles
# Prefect, dbt and Great Expectations again until a cache is written: about 3.5 min more CPU in a test run.
UV_VERSION := 0.13.8
UV_PIP := $(BIN)/uv pip install --quiet --compile-bytecode --python $(BIN)/python

$(STAMP): requirements.lock pyproject.toml
	@echo "make install: creating $(VENV) and installing the pinned packages of requirements.lock (Prefect, dbt, Great"
	@echo "  Expectations, DuckDB, ...) with uv $(UV_VERSION): under a minute from uv's cache, a few minutes the first time."
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)
	$(UV_PIP) -r requirements.lock
	$(UV_PIP) --no-deps -e .
	touch $(STAMP)
	@echo "make install: done ($(VENV)/bin/unionstat)"

install: $(STAMP) ## create .venv from the pinned requirements.lock

run: install ## refresh offline from the embedded reference snapshot; prints where the outputs are
	$(BIN)/unionstat refresh

refresh-live: install ## refresh from the publishers (needs internet)
	$(BIN)/unionstat refresh --live

serve: install ## local Prefect server + worker with prefect.yaml's deployments (schedules fire); Ctrl-C stops
	$(BIN)/unionstat serve

dq: install ## data-quality summary of the latest run (exit 1 on a critical failure)
	$(BIN)/unionstat dq

BENCH_ROWS ?= 1000000
bench: install ## stage timings, rows/s and peak memory vs DuckDB's read_csv (BENCH_ROWS=10000000 for 10M)
	$(BIN)/python -m bench.run --rows $(BENCH_ROWS)

lint: install ## ruff (lint + import order) and sqlfluff on the dbt models
	$(BIN)/ruff check unionstat scrapers flows bench tests
	$(BIN)/ruff format --check unionstat scrapers flows bench tests
	$(BIN)/sqlfluff lint --processes 2 dbt_project/models

# mypy's cache lives outside the checkout (as pip's and uv's do), so a fresh clone is checked in seconds after the first
# time on a machine (about 80 s without it: most of it is reading the stubs of pandas, dbt and Prefect).
MYPY_CACHE ?= $(HOME)/.cache/unionstat/mypy
types: install ## mypy
	$(BIN)/mypy --cache-dir $(MYPY_CACHE)

# One worker per core, each test file on one worker (`--dist loadfile`): a file's module-scoped fixtures (a PostgreSQL
# server, a browser, a stand-in publisher whose cells the fault matrix counts) start once. (`loadgroup` would be
# finer, but pytest-xdist 3.8 cannot tag the node ids of pytest 9: its groups are silently ignored.)
PYTEST_WORKERS ?= auto
pytest: install ## the test suite, one worker per core (PYTEST_WORKERS=0: in this process)
	$(BIN)/pytest -q -n $(PYTEST_WORKERS) --dist loadfile

# Lint and types side by side (sqlfluff on both cores for about 25 s; mypy from its cache), then the tests.
test: install ## lint + types + tests (what CI runs)
	$(MAKE) --no-print-directory -j2 lint types
	$(MAKE) --no-print-directory pytest

clean: ## remove generated files (keeps the reference snapshot)
	rm -rf warehouse/build warehouse/snapshots warehouse/gx warehouse/reports warehouse/unionstat.duckdb warehouse/runs.jsonl warehouse/cache
