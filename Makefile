# The two commands of the README: `make run` and `make test`. Everything else is a helper.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
FLASK := $(BIN)/flask --app callback_module

.PHONY: run test lint bench install clean screenshots

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python setup.cfg setup.py pyproject.toml
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(FLASK) db upgrade
	$(BIN)/python -m callback_module.serve

test: $(STAMP)
	$(BIN)/ruff check callback_module tests bench docs
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check callback_module tests bench docs

bench: $(STAMP)
	$(BIN)/python -m bench.run

clean:
	rm -rf $(VENV) build dist *.egg-info

screenshots: $(STAMP)
	$(BIN)/python docs/screenshots.py
