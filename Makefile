# resonator: two commands from a fresh clone.
#   make render   set up .venv, install, render the default recipe into renders/
#   make test     set up .venv with test extras, run the test suite
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
TSTAMP := $(VENV)/.installed-test

.PHONY: render test bench clean install

$(BIN)/python:
	$(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(TSTAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@ $(STAMP)

install: $(STAMP)

RECIPE ?= recipes/mettannealing.toml

render: $(STAMP)
	@if [ -f "$(RECIPE)" ] && [ -f src/resonator/commands/render.py ]; then \
		$(BIN)/resonator render "$(RECIPE)" --force; \
	else \
		echo "no recipe system yet: rendering the Python demo session"; \
		$(BIN)/python -m resonator.demo renders/demo.wav; \
	fi

test: $(TSTAMP)
	$(BIN)/python -m pytest -q

bench: $(TSTAMP)
	$(BIN)/python benchmarks/render_speed.py
	$(BIN)/python benchmarks/recipe_speed.py

clean:
	rm -rf $(VENV) build src/*.egg-info
