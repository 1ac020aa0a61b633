# backmice: `make run` and `make test` each set up .venv when it is missing or stale.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp

.PHONY: setup run demo test lint bench bench-medspacy-env clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)

## The main job: the web app on http://127.0.0.1:8000 (SQLite in ./data, created on first start).
run: setup
	$(VENV)/bin/backmice serve --host 127.0.0.1 --port 8000

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
	$(PY) bench/storage.py
	$(PY) bench/records.py
	$(PY) bench/web_load.py
	$(PY) bench/web_path.py
	$(PY) bench/notes.py
	$(PY) bench/mixed_writes.py

## medspaCy for bench/notes.py, in its own environment (it needs numpy < 2 on Python 3.11).
bench-medspacy-env:
	$(PYTHON) -m venv .venv-medspacy
	.venv-medspacy/bin/python -m pip install --quiet medspacy==1.3.1 pyyaml==6.0.4

clean:
	rm -rf $(VENV) .venv-medspacy .pytest_cache .ruff_cache .hypothesis
