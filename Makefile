# ocpp16 — every target sets up what it needs; `make test` works on a fresh machine.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: install generate check-generated lint test bench demo clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

generate: $(STAMP)
	$(PY) -m codegen

check-generated: $(STAMP)
	$(PY) -m codegen --check

lint: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy

test: check-generated lint
	$(PY) -m pytest

bench: $(STAMP)
	$(PY) -m bench

demo: $(STAMP)
	$(PY) -m ocpp16_cli.demo

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
