# Everything runs from the project's own virtual environment, made on first use.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: help install lock audit test lint run sandbox migrate locales bench reliability clean

help:
	@echo "make sandbox   the whole bot on this machine, nothing to configure"
	@echo "make test      the test suite"
	@echo "make lint      ruff, mypy, import contracts"
	@echo "make lock      re-lock requirements/*.txt (LOCK_ARGS=--upgrade: newest releases)"
	@echo "make audit     known vulnerabilities in the locked set, offline"
	@echo "make run       the bot with settings from the environment / .env"
	@echo "make migrate   apply database migrations"
	@echo "make locales   extract, update and compile translations"
	@echo "make bench     benchmarks against bare aiogram: bench/results.json (BENCH_SIZE=smoke: seconds)"
	@echo "make reliability  the reliability proofs at full size (tens of minutes)"

# Every dependency from the lock (requirements/dev.txt: the product's, the tests' and the lint
# tools', each with its hashes), then the product and the sandbox (its own distribution,
# sandbox/pyproject.toml), both editable and without resolving anything again.
$(STAMP): pyproject.toml sandbox/pyproject.toml requirements/dev.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --require-hashes --no-deps -r requirements/dev.txt
	$(BIN)/python -m pip install --quiet --no-deps -e . -e ./sandbox
	@touch $(STAMP)

install: $(STAMP)

# The lock files (docs/DEPLOY.md, "Dependencies"): requirements/product.txt is what the image
# installs, requirements/dev.txt adds the tests' and lint tools' (the product's pins are the
# same in both). `make lock` after a change to pyproject.toml keeps every other pin;
# `make lock LOCK_ARGS=--upgrade` moves everything to the newest releases,
# `LOCK_ARGS="--upgrade-package aiohttp"` one. Then `make install audit test`.
LOCK_DIR ?= requirements
LOCK_ARGS ?=
LOCK_FLAGS := --quiet --generate-hashes --universal --python-version 3.11 \
	--custom-compile-command "make lock"
lock: $(STAMP)
	$(BIN)/uv pip compile pyproject.toml $(LOCK_FLAGS) $(LOCK_ARGS) -o $(LOCK_DIR)/product.txt
	$(BIN)/uv pip compile pyproject.toml --extra dev $(LOCK_FLAGS) $(LOCK_ARGS) \
		-c $(LOCK_DIR)/product.txt -o $(LOCK_DIR)/dev.txt

# Known vulnerabilities in the locked set, from the advisory database of the safety-db package:
# no network (tools/audit.py).
audit: $(STAMP)
	$(BIN)/python tools/audit.py requirements/product.txt requirements/dev.txt

# The suite in TEST_WORKERS processes (pytest-xdist; TEST_WORKERS=0 runs it in this one): its
# tests wait on bots, sandboxes and subprocesses more than they compute, so 3 on 2 cores is about
# twice as fast as 1. Every test has its own database, Redis prefix and ports, so any number works.
TEST_WORKERS ?= 3
test: $(STAMP)
	$(BIN)/python -m pytest -n $(TEST_WORKERS) $(PYTEST_ARGS)

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
RELIABILITY_SIZES ?= RELIABILITY_KILLS=200 HOSTILE_UPDATES=10000 STORM=200 RACERS=16 \
	RELIABILITY_INSTANCE_PEOPLE=500
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
