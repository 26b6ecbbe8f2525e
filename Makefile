# The two commands a newcomer needs: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
PYTEST_ARGS ?=

.PHONY: help install prereqs run test lint format unit contract integration e2e bench schemas \
        infra-up infra-down infra-status migrate clean

help:
	@echo "make run         start Kafka + PostgreSQL and every service; Ctrl-C stops all"
	@echo "make test        install, lint, start infrastructure, run the whole test suite"
	@echo "make bench       run the benchmarks, results in bench/results/"
	@echo "make infra-up    start Kafka + PostgreSQL only (idempotent); make infra-down stops"
	@echo "make migrate     apply schema migrations (crm migrate); make run and make test do it"
	@echo "make lint        ruff + mypy + import contracts;  make schemas  regenerate contracts/schemas"

$(STAMP): pyproject.toml constraints.txt
	@command -v $(PYTHON) >/dev/null || { echo "python3 not found: install Python 3.11+"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

prereqs:
	@bash deploy/local/install-prereqs.sh

infra-up: install prereqs
	$(BIN)/python -m deploy.local up

# Versioned schema migrations, before any process starts (processes never run DDL).
migrate: install
	$(BIN)/crm migrate

infra-down:
	@if [ -x $(BIN)/python ]; then $(BIN)/python -m deploy.local down; \
	 else $(PYTHON) -m deploy.local down; fi

infra-status: install
	$(BIN)/python -m deploy.local status

run: install prereqs
	$(BIN)/python -m deploy.local.run

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy contracts services projections deploy
	$(BIN)/lint-imports

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

test: lint infra-up
	$(BIN)/crm migrate
	$(BIN)/pytest $(PYTEST_ARGS)

unit: install
	$(BIN)/pytest tests/unit tests/contract $(PYTEST_ARGS)

integration: infra-up
	$(BIN)/pytest tests/integration $(PYTEST_ARGS)

e2e: infra-up
	$(BIN)/pytest tests/e2e $(PYTEST_ARGS)

bench: infra-up
	$(BIN)/python -m bench

schemas: install
	$(BIN)/python -m contracts.schema_files
	$(BIN)/python -m deploy.http_contracts

clean: infra-down
	rm -rf .local $(VENV) .pytest_cache .mypy_cache .ruff_cache
