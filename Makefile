# Stairwell (楼道通). Two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip install --quiet --disable-pip-version-check

.PHONY: run test install install-test bench clean

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)

# Stamps: re-install when pyproject.toml changes.
$(VENV)/.installed: pyproject.toml | $(VENV)/bin/python
	$(PIP) -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(VENV)/bin/python
	$(PIP) -e '.[test]'
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

run: $(VENV)/.installed  ## the bot with the local web chat on http://127.0.0.1:8080
	$(PY) -m bot run

test: $(VENV)/.installed-test  ## the whole test suite
	$(PY) -m pytest

bench: $(VENV)/.installed-test  ## benchmarks (by hand, not in CI)
	$(PY) bench/router.py
	$(PY) bench/pipeline.py

clean:
	rm -rf $(VENV) data/*.db data/*.db-* .pytest_cache
