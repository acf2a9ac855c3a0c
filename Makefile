# Stairwell (楼道通). Two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip install --quiet --disable-pip-version-check
# Reproducible installs: exact versions and hashes from the lock files, then the project itself.
LOCK      := requirements.lock
TEST_LOCK := requirements-test.lock
COMPILE   := $(VENV)/bin/uv pip compile pyproject.toml --universal --python-version 3.11 --generate-hashes --quiet

# Two pytest-xdist workers per core (at least 2): on PostgreSQL a worker spends much of its time waiting
# for the server on the same cores (CI on a 2-core machine: 26 min of CPU in 20 min with one worker per
# core); an idle worker takes tests from a busy one.
PYTEST_WORKERS ?= $(shell n=$$(nproc 2>/dev/null || echo 1); echo $$(( n * 2 )))
PYTEST_ARGS ?= -n $(PYTEST_WORKERS) --dist worksteal

.PHONY: run test typecheck install install-test lock bench clean

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)

# Stamps: re-install when the lock files or pyproject.toml change.
$(VENV)/.installed: pyproject.toml $(LOCK) | $(VENV)/bin/python
	$(PIP) --require-hashes -r $(LOCK)
	$(PIP) --no-deps -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml $(TEST_LOCK) | $(VENV)/bin/python
	$(PIP) --require-hashes -r $(TEST_LOCK)
	$(PIP) --no-deps -e .
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

PACKAGES := bot handlers nlp storage schedules domain common

run: $(VENV)/.installed  ## the bot with the local web chat on http://127.0.0.1:8080
	@# compiled once, as a wheel's install would (PYTHONDONTWRITEBYTECODE would recompile them at every start)
	$(PY) -m compileall -q $(PACKAGES) > /dev/null
	$(PY) -m bot run

test: $(VENV)/.installed-test  ## lint (pyflakes + bugbear), type-check the packages, then the whole test suite
	$(PY) -m ruff check .
	$(PY) -m mypy
	$(PY) -m pytest $(PYTEST_ARGS)

typecheck: $(VENV)/.installed-test  ## mypy alone
	$(PY) -m mypy

lock: | $(VENV)/bin/python  ## after changing dependencies in pyproject.toml: re-resolve both lock files
	$(PIP) uv
	$(COMPILE) -o $(LOCK)
	$(COMPILE) --extra test -o $(TEST_LOCK)

bench: $(VENV)/.installed-test  ## benchmarks (by hand, not in CI)
	$(PY) bench/router.py
	$(PY) bench/pipeline.py

clean:
	rm -rf $(VENV) .venv-3.13 data/*.db data/*.db-* .pytest_cache .mypy_cache
