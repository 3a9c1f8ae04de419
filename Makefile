# MathLens: two commands do everything on a fresh Debian machine with Python 3.11.
#   make serve   install and serve the app on http://127.0.0.1:8000/
#   make test    install and run every test (ruff, compute, API, fuzz, browser)
PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: serve test install install-dev bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

install: $(BIN)/python
	$(BIN)/pip install --quiet -e .

install-dev: $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev,jax]'

serve: install
	$(BIN)/mathlens serve

test: install-dev
	VENV=$(VENV) bash scripts/test.sh

bench: install-dev
	for f in bench/bench_*.py; do echo "== $$f"; $(BIN)/python $$f || exit 1; done

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
