# Everything runs from the project's own virtual environment, made on first use.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: help install test lint run sandbox migrate locales bench reliability clean

help:
	@echo "make sandbox   the whole bot on this machine, nothing to configure"
	@echo "make test      the test suite"
	@echo "make lint      ruff, mypy, import contracts"
	@echo "make run       the bot with settings from the environment / .env"
	@echo "make migrate   apply database migrations"
	@echo "make locales   extract, update and compile translations"
	@echo "make bench     benchmarks against bare aiogram: bench/results.json (BENCH_SIZE=smoke: seconds)"
	@echo "make reliability  the reliability proofs at full size (tens of minutes)"

# The product and the sandbox (its own distribution, sandbox/pyproject.toml), both editable.
$(STAMP): pyproject.toml sandbox/pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]' -e ./sandbox
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

# The proofs of docs/RELIABILITY.md at full size; `make test` runs the same tests at short sizes.
RELIABILITY_SIZES ?= RELIABILITY_KILLS=200 HOSTILE_UPDATES=10000 STORM=200 RACERS=16
RELIABILITY_TESTS ?= tests/reliability tests/core/flows/test_storms.py tests/web/test_login_storm.py \
	tests/web/test_oauth_attacks.py tests/web/test_signin_state.py tests/web/test_provider_keys.py \
	tests/conversation/test_flood.py tests/conversation/test_outage.py

reliability: $(STAMP)
	CI=true $(RELIABILITY_SIZES) $(BIN)/python -m pytest -p no:cacheprovider -q -rA \
		--junitxml=artifacts/reliability.xml $(RELIABILITY_TESTS) $(PYTEST_ARGS)

# docs/PERFORMANCE.md's figures; needs PostgreSQL and Redis (BENCH_PG, BENCH_REDIS_URL). `make test`
# runs the smoke size (tests/bench); BENCH_ARGS passes more, e.g. BENCH_ARGS="--only dispatch".
BENCH_SIZE ?= full
BENCH_ARGS ?=
$(VENV)/.bench-installed: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	@touch $@

bench: $(VENV)/.bench-installed
	$(BIN)/python -m bench --size $(BENCH_SIZE) --out bench/results.json --plot bench/latency.png $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
