# What a person wants to do, by name. Each target installs what is missing first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint format typecheck bench package docs reset clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

## run: the whole helpdesk on emulated AWS (HTTP :8000, SMTP :2525); Ctrl-C stops it
run: $(STAMP)
	$(BIN)/python -m local_stack

## reset: forget the local state, then run
reset: $(STAMP)
	$(BIN)/python -m local_stack --reset

## test: lint, type-check, then every test suite
test: $(STAMP) lint typecheck
	$(BIN)/python -m pytest -n 2

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

typecheck: $(STAMP)
	$(BIN)/mypy

## bench: every benchmark in bench/, one table of figures
bench: $(STAMP)
	$(BIN)/python -m bench

## package: one deployable CloudFormation template + code bundle per service under build/
package: $(STAMP)
	$(BIN)/python -m infra.package build

## docs: regenerate the OpenAPI document and the event catalogue
docs: $(STAMP)
	$(BIN)/python -m infra.openapi docs/openapi.json
	$(BIN)/python -m shared.events.catalogue docs

clean:
	rm -rf build infra/build .pytest_cache .ruff_cache .mypy_cache
