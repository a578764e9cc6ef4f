# Two commands on a fresh machine: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
export UV_PROJECT_ENVIRONMENT := $(VENV)
export UV_PYTHON_DOWNLOADS := never
export UV_PYTHON := $(PYTHON)
# Bytecode made at install, not at each start: where PYTHONDONTWRITEBYTECODE is set (as on this
# machine and in many container images) Python never writes it, so every start, and the
# migration process each `phoneauth serve` runs first, compiled ~700 modules again (first start
# 7.9 s -> 3.5 s here). uv compiles the installed packages; `compileall` our own editable
# sources (a stale file is recompiled by Python, never used).
export UV_COMPILE_BYTECODE := 1
COMPILE_SOURCES := $(VENV)/bin/python -m compileall -q src > /dev/null
RUN := $(UV) run --frozen --no-sync

.PHONY: browser services install install-runtime run test check bench format lock clean

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet "uv==0.13.9"

# `make run` installs the service alone; `make test` and `make check` add the dev tools.
# `--inexact`: the runtime install adds what the service needs and removes nothing, so the
# test tools that `make test` installed stay while `make run` starts in another terminal (uv's
# default exact sync would uninstall them mid-run). On a fresh clone it installs only the
# service's packages, as before.
install-runtime: $(UV)
	$(UV) sync --frozen --no-dev --inexact
	$(COMPILE_SOURCES)

install: $(UV)
	$(UV) sync --frozen --all-groups
	$(COMPILE_SOURCES)

lock: $(UV)
	$(UV) lock

run: install-runtime
	$(RUN) phoneauth serve

# Browser tests drive Debian's Chromium; install it when it is missing (root, as on CI).
browser:
	@command -v chromium >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium)

# PostgreSQL and Redis on 127.0.0.1, started when installed but down (scripts/start-services.sh).
services:
	@bash scripts/start-services.sh

# One worker per core: the suite is mostly CPU-bound (~23 min in one process on a slow day). One
# more worker filled some of the time tests wait on servers, browsers and subprocesses (12 min 52 s
# against 13 min 22 s, the same CPU), but under that contention the enumeration-timing test failed
# once (a registered number's median answer 63 ms against 26 ms; quiet, both 2-5 ms): not worth 30
# seconds. Whole files go to one worker, so module-scoped servers start once. The schemathesis
# module runs in a pytest of its own (under xdist its generated cases are not reported back, so a
# failure there could go unseen), started beside the main one: alone afterwards it kept one core
# idle for a minute and a half of CI. It runs without coverage: on Python 3.11 a trace function
# slows every line of Python, measured or not (a no-op one: 4x on stdlib code), and schemathesis and
# hypothesis are Python through and through (a sample of 20 cases: 32 s of CPU without coverage, 71
# s with it); coverage is the main run's. Its output is shown once it is done; `make test` fails if
# either run, or coverage, did. Bytecode is written for this run (PYTHONDONTWRITEBYTECODE cleared):
# collecting the main run took 19 s of CPU per process without pytest's rewritten test modules on
# disk and 8 s with them, so a second run in the same checkout, and test modules that subprocesses
# import, are not rewritten again (on a clean clone the processes start together and each still
# rewrites its own). The main run lists its 25 slowest tests: CI's budget is 15 minutes, and
# machines' speed varies.
test: export PYTHONDONTWRITEBYTECODE :=
test: install browser services
	rm -rf .coverage .coverage.* .fuzz-output.txt
	status=0; \
	$(RUN) pytest tests/e2e/test_openapi_fuzz.py > .fuzz-output.txt 2>&1 & fuzz=$$!; \
	$(RUN) pytest -n auto --dist loadfile --cov --cov-report= --durations=25 --ignore=tests/e2e/test_openapi_fuzz.py || status=$$?; \
	wait $$fuzz || status=$$?; \
	cat .fuzz-output.txt; \
	$(RUN) coverage report || status=$$?; \
	exit $$status

check: install
	$(RUN) ruff format --check src tests bench
	$(RUN) ruff check src tests bench
	$(RUN) mypy
	$(RUN) lint-imports

format: install
	$(RUN) ruff format src tests bench
	$(RUN) ruff check --fix src tests bench

# The service benchmark drives the servers with wrk (Debian's package; root, as here and on CI),
# on SQLite and on PostgreSQL (BENCH_POSTGRES_URL, default postgres@127.0.0.1:5432/test: a fresh
# schema, dropped afterwards). About 10 minutes; exits 1 when a target is missed.
bench: install services
	@command -v wrk >/dev/null || apt-get install -y -qq wrk || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk)
	$(RUN) python -m bench

clean:
	rm -rf $(VENV) $(TOOLS) .pytest_cache .mypy_cache .ruff_cache .coverage .fuzz-output.txt
