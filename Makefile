# Every target bootstraps .venv from requirements.lock first, so a fresh clone needs only
# Python 3.11+, git and make.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
PIP_VERSION := 24.3.1
# Ports of `make demo` / `make dev` (also read from the environment; 0 = any free port):
# SIMULATOR_PORT (default 8765) and UI_PORT (default 3000).
PORT_ARGS = $(if $(SIMULATOR_PORT),--simulator-port $(SIMULATOR_PORT)) $(if $(UI_PORT),--ui-port $(UI_PORT))

.PHONY: install test demo dev run dg bench lock clean

install: $(INSTALLED)

$(INSTALLED): requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check pip==$(PIP_VERSION)
	$(BIN)/pip install -q --disable-pip-version-check -r requirements.lock
	$(BIN)/pip install -q --disable-pip-version-check --no-deps --no-build-isolation -e .
	touch $@

# Parallel test processes (pytest-xdist): most of the suite waits on HTTP, retries and Dagster
# processes rather than the CPU, so more workers than cores pay off; PYTEST_WORKERS=0 runs serially.
PYTEST_WORKERS ?= 4

test: install
	$(BIN)/python -m pytest -q -n $(PYTEST_WORKERS) $(PYTEST_ARGS)

demo: install
	$(BIN)/python -m incident_assets.local demo $(PORT_ARGS) $(DEMO_ARGS)

dev: install
	$(BIN)/python -m incident_assets.local dev $(PORT_ARGS) $(DEMO_ARGS)

# headless, against the API configured in the environment (see README, "Against the real API")
run: install
	$(BIN)/python -m incident_assets.local run

# Dagster's `dg` CLI on the project's instance and as-of rule, e.g.
# make dg ARGS="launch --assets reliability/mttx_monthly"
dg: install
	$(BIN)/python -m incident_assets.local dg $(ARGS)

bench: install
	$(BIN)/python -m benchmarks $(BENCH_ARGS)

# Re-resolve the pins after changing pyproject.toml's dependencies.
lock:
	rm -rf .lock-venv && $(PYTHON) -m venv .lock-venv
	.lock-venv/bin/python -m pip install -q pip==$(PIP_VERSION)
	.lock-venv/bin/pip install -q -e '.[test]'
	.lock-venv/bin/pip freeze --all --exclude-editable | grep -v -E '^pip==' > requirements.lock
	rm -rf .lock-venv

clean:
	rm -rf $(VENV) data .dagster_home
