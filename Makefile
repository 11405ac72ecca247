# sync-apis developer entry points. `make run` is the one command a newcomer needs.
.DEFAULT_GOAL := help

PYTHON ?= python3.11
VENV := .venv
VENV_PY := $(VENV)/bin/python
# The stamp lives inside .venv so deleting the venv also forgets that it was installed.
VENV_STAMP := $(VENV)/.installed-requirements
REQUIREMENTS := requirements.txt requirements-dev.txt
PYTEST_ARGS ?=

# dlt and py-spy for the benchmarks, in their own venv (bench/README.md): the suite runs every
# benchmark's quick mode, dlt and the profile included.
bench-venv: venv
	@$(VENV_PY) -m bench --setup >/dev/null

.PHONY: help venv bench-venv run stop status shell airflow psql test test-distributed lint bench clean

help: ## Show this help
	@echo "sync-apis - make targets:"
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "}; {printf "  make %-8s %s\n", $$1, $$2}'
	@echo ""
	@echo "Start here: make run   (local Airflow + embedded Postgres + sandbox APIs, no credentials)"
	@echo "Then, in another terminal: make shell, make airflow ARGS=\"...\", make psql, or"
	@echo "  eval \"\$$(.venv/bin/python scripts/devstack.py env)\"   (the stack's environment in your own shell)"

venv: $(VENV_STAMP) ## Create .venv (Python 3.11) and install requirements (only when they change)

$(VENV_STAMP): $(REQUIREMENTS)
	@command -v $(PYTHON) >/dev/null 2>&1 || { \
		echo "error: $(PYTHON) not found. Install Python 3.11 (e.g. 'apt-get install python3.11 python3.11-venv'," \
		     "pyenv or uv) or pass PYTHON=/path/to/python3.11"; exit 1; }
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' || { \
		echo "error: $(PYTHON) is Python $$($(PYTHON) -c 'import platform; print(platform.python_version())'); 3.11+ is required"; exit 1; }
	@test -x $(VENV_PY) || $(PYTHON) -m venv $(VENV)
	@echo "installing the pinned packages into $(VENV) (the first time takes a few minutes) ..."
	$(VENV_PY) -m pip install --quiet --progress-bar off -r requirements.txt -r requirements-dev.txt
	@touch $@

run: venv ## Start the local stack: Airflow UI, scheduler, embedded Postgres, sandbox APIs (Ctrl+C stops)
	$(VENV_PY) scripts/devstack.py run

stop: ## Stop a stack started by `make run` (from another terminal)
	@if [ -x $(VENV_PY) ]; then $(VENV_PY) scripts/devstack.py stop; else echo "nothing to stop (no .venv)"; fi

status: ## Show which local stack processes are running
	@if [ -x $(VENV_PY) ]; then $(VENV_PY) scripts/devstack.py status; else echo "not running (no .venv)"; fi

# The ways into the running stack (another terminal while `make run` runs). ARGS goes to the shell
# as typed: quote inside it as on a command line. $(value ARGS) keeps make from expanding `$` in it.
NEEDS_VENV = @[ -x $(VENV_PY) ] || { echo "no .venv yet: start the stack with 'make run' first" >&2; exit 1; }

shell: ## A shell wired to the running stack: airflow, psql (the warehouse), its AIRFLOW_* settings
	$(NEEDS_VENV)
	@$(VENV_PY) scripts/devstack.py shell

airflow: ## One Airflow CLI command against the running stack: make airflow ARGS="dags list"
	$(NEEDS_VENV)
	@$(VENV_PY) scripts/devstack.py airflow $(value ARGS)

psql: ## psql on the running stack's warehouse: make psql ARGS="-c 'SELECT 1'"
	$(NEEDS_VENV)
	@$(VENV_PY) scripts/devstack.py psql $(value ARGS)

# Three workers (pytest-xdist) on a 2-core machine: with two, a core was idle a quarter of the
# time (tests waiting on schedulers, sandboxes, rate budgets); a third fills it. Measured on the
# same commit (3506254): 9 min 34 s with three, 10 min 58 s with two.
# loadfile: a worker takes a whole module at a time (its module fixtures start once), in the
# order tests/conftest.py gives them, the longest modules first (--no-loadscope-reorder keeps
# that order instead of xdist's "most tests first"), so no worker ends the run alone on a test
# of minutes that was collected last.
PYTEST_WORKERS ?= 3
test: venv bench-venv ## Run the test suite (extra flags: make test PYTEST_ARGS="-m 'not slow' -x"; PYTEST_WORKERS=0 for one process)
	$(VENV)/bin/pytest -n $(PYTEST_WORKERS) $(if $(filter 0,$(PYTEST_WORKERS)),,--dist loadfile --no-loadscope-reorder) $(PYTEST_ARGS)

# Not part of `make test` (its file is not named test_*.py): CeleryExecutor, Redis broker, named
# workers; a 7-day backfill of both DAGs on one worker and on two (figures in
# test-artifacts/distributed/), a 30-day backfill reprocessed, a worker killed mid-task.
# tests/distributed/celery_backfill.py says what each shows.
test-distributed: venv ## Both DAGs on CeleryExecutor with Celery workers and a shared Auvo budget (~21 min on 2 quiet cores)
	$(VENV)/bin/pytest -n 0 -p no:cacheprovider -m distributed tests/distributed/celery_backfill.py $(PYTEST_ARGS)

lint: venv ## ruff check, ruff format --check, mypy
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

bench: venv ## Run the benchmarks
	$(VENV_PY) -m bench

clean: stop ## Stop the stack and delete local state (.local/: database, logs, generated password)
	rm -rf .local
