# The two commands of the README: `make run` and `make test`. Everything else is a helper.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
FLASK := $(BIN)/flask --app callback_module

.PHONY: run test lint bench install clean translations screenshots

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

# The German catalog: extract the sources' text, merge it into the .po (new text comes in empty
# for a translator to fill in; tests/test_i18n.py fails until it is), and compile the .mo.
# _l is lazy_gettext; NP_ marks a singular and plural pair in the modules without Flask (i18n.py).
TRANSLATIONS := callback_module/translations
BABEL_KEYWORDS := -k _l -k NP_:1,2

translations: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg $(BABEL_KEYWORDS) --add-location=file --sort-output \
		--project=Callback --no-wrap -o $(TRANSLATIONS)/messages.pot .
	$(BIN)/pybabel update -i $(TRANSLATIONS)/messages.pot -d $(TRANSLATIONS) -l de \
		--no-fuzzy-matching --ignore-obsolete --no-wrap
	rm $(TRANSLATIONS)/messages.pot
	$(BIN)/pybabel compile -d $(TRANSLATIONS) --statistics

clean:
	rm -rf $(VENV) build dist *.egg-info

screenshots: $(STAMP)
	$(BIN)/python docs/screenshots.py
