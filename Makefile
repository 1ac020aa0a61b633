# backmice: `make run` and `make test` each set up .venv when it is missing or stale.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp

.PHONY: setup run demo test lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)

## The main job. Until the web app lands it is a demonstration assessment in the terminal.
run: setup demo

demo: setup
	$(VENV)/bin/backmice kb check
	$(VENV)/bin/backmice assess examples/back_mouse.json
	$(VENV)/bin/backmice assess examples/red_flag_lump.json --format markdown

lint: setup
	$(VENV)/bin/ruff check src tests bench
	$(VENV)/bin/lint-imports

## Every test: lint, layer contracts, the test suite (warnings are errors).
test: lint
	$(PY) -m pytest -q

bench: setup
	$(PY) bench/run.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis
