# What a person wants to do, by name. Each target installs what is missing first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint format typecheck bench package deploy destroy docs reset clean console screenshots

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	# SAM's translator (deploying to the emulator, which has no SAM transform) pins an older
	# pydantic than the functions run; it only rewrites templates, so its pins are left out.
	$(BIN)/python -m pip install --quiet --no-deps "aws-sam-translator==1.115.0"
	touch $(STAMP)

## console: build the agent console (console/) when it is missing or stale
console: $(STAMP)
	$(BIN)/python -m infra.console_build

## run: the whole helpdesk on emulated AWS (console and API :8000, SMTP :2525); Ctrl-C stops it
run: $(STAMP) console
	$(BIN)/python -m local_stack

## reset: forget the local state, then run
reset: $(STAMP) console
	$(BIN)/python -m local_stack --reset

## test: lint, type-check, then every test suite
test: $(STAMP) lint typecheck console
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

## screenshots: the browser tests again, saving the README's screenshots in docs/screenshots
screenshots: $(STAMP) console
	HELPDESK_SCREENSHOTS=docs/screenshots $(BIN)/python -m pytest -n 2 tests/console

## package: one deployable CloudFormation template + code bundle per service under build/
package: $(STAMP)
	$(BIN)/python -m infra.package build

## deploy: every stack (or SERVICE=tickets, SERVICE=console) of STAGE on the AWS account of your
## credentials, then the console's files; settings come from HELPDESK_* variables (docs/operating.md)
deploy: $(STAMP) console
	@test -n "$(STAGE)" || (echo "usage: make deploy STAGE=prod [SERVICE=tickets|console]"; exit 2)
	$(BIN)/python -m infra.deploy deploy --stage $(STAGE) $(if $(SERVICE),--service $(SERVICE))

## destroy: remove SERVICE's stack of STAGE (its tables stay); without SERVICE, every stack
destroy: $(STAMP)
	@test -n "$(STAGE)" || (echo "usage: make destroy STAGE=prod [SERVICE=tickets]"; exit 2)
	$(BIN)/python -m infra.deploy destroy --stage $(STAGE) $(if $(SERVICE),--service $(SERVICE))

## docs: regenerate the OpenAPI document and the event catalogue
docs: $(STAMP)
	$(BIN)/python -m infra.openapi docs/openapi.json
	$(BIN)/python -m shared.events.catalogue docs

clean:
	rm -rf build infra/build .pytest_cache .ruff_cache .mypy_cache console/dist console/node_modules
