# digigov: `make run` serves the platform with demo data; `make test` runs every check.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PG_URL ?= postgresql://postgres@127.0.0.1:5432/test

.PHONY: run test check lint typecheck layers pytest-sqlite pytest-postgres bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[dev]'
	touch $@ $(VENV)/.installed

run: $(VENV)/.installed
	$(BIN)/digigov up

test: $(VENV)/.installed-dev lint typecheck layers pytest-sqlite pytest-postgres

check: lint typecheck layers

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check digigov tests bench
	$(BIN)/ruff format --check digigov tests bench

typecheck: $(VENV)/.installed-dev
	$(BIN)/mypy

layers: $(VENV)/.installed-dev
	$(BIN)/lint-imports

pytest-sqlite: $(VENV)/.installed-dev
	$(BIN)/pytest --db sqlite

pytest-postgres: $(VENV)/.installed-dev
	DIGIGOV_TEST_POSTGRES_URL=$${DIGIGOV_TEST_POSTGRES_URL:-$(PG_URL)} $(BIN)/pytest --db postgresql

bench: $(VENV)/.installed-dev
	$(BIN)/python bench/audit_chain.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
