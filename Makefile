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

$(STAMP): requirements.lock pyproject.toml
	@echo "make install: creating $(VENV) and installing the pinned packages of requirements.lock (Prefect, dbt, Great"
	@echo "  Expectations, DuckDB, ...): usually 2 to 4 minutes, even with pip's cache; pip prints nothing meanwhile."
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check pip==26.3
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps -e .
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
	$(BIN)/sqlfluff lint dbt_project/models

types: install ## mypy
	$(BIN)/mypy

# One worker per core, each test file on one worker (`--dist loadfile`): a file's module-scoped fixtures (a PostgreSQL
# server, a browser, a stand-in publisher whose cells the fault matrix counts) start once. (`loadgroup` would be
# finer, but pytest-xdist 3.8 cannot tag the node ids of pytest 9: its groups are silently ignored.)
PYTEST_WORKERS ?= auto
pytest: install ## the test suite, one worker per core (PYTEST_WORKERS=0: in this process)
	$(BIN)/pytest -q -n $(PYTEST_WORKERS) --dist loadfile

test: lint types pytest ## lint + types + tests (what CI runs)

clean: ## remove generated files (keeps the reference snapshot)
	rm -rf warehouse/build warehouse/snapshots warehouse/gx warehouse/reports warehouse/unionstat.duckdb warehouse/runs.jsonl warehouse/cache
