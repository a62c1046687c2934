# Everything runs from the project's own virtual environment, made on first use.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: help install test lint run sandbox migrate locales bench clean

help:
	@echo "make sandbox   the whole bot on this machine, nothing to configure"
	@echo "make test      the test suite"
	@echo "make lint      ruff, mypy, import contracts"
	@echo "make run       the bot with settings from the environment / .env"
	@echo "make migrate   apply database migrations"
	@echo "make locales   extract, update and compile translations"
	@echo "make bench     benchmarks"

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy core bot web sandbox accountbot
	$(BIN)/lint-imports

run: $(STAMP)
	$(BIN)/accountbot run

sandbox: $(STAMP)
	$(BIN)/accountbot sandbox $(SANDBOX_ARGS)

migrate: $(STAMP)
	$(BIN)/accountbot migrate

locales: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg -k _ -k __ -k N_ -k gettext -k ngettext:1,2 -o locales/messages.pot .
	$(BIN)/pybabel update -i locales/messages.pot -d locales -D messages --no-fuzzy-matching
	$(BIN)/pybabel compile -d locales -D messages --statistics

bench: $(STAMP)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
