# resonator: two commands from a fresh clone.
#   make render   set up .venv, install, render the default recipe into renders/
#   make test     set up .venv with test extras, run the test suite
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
TSTAMP := $(VENV)/.installed-test

.PHONY: render test bench clean install portaudio compiler

$(BIN)/python:
	$(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# resonator play needs the PortAudio library (Debian: libportaudio2): installed when missing
# and make runs as root with apt-get, else a hint (everything else works without it)
portaudio:
	@ldconfig -p 2>/dev/null | grep -q libportaudio.so.2 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libportaudio2 >/dev/null 2>&1 || \
	    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libportaudio2 >/dev/null; }; \
	  else echo "note: resonator play needs PortAudio: sudo apt install libportaudio2"; fi; }

# the render kernels (src/resonator/_kernels.c) are compiled by pip install: a C compiler and
# the Python headers are installed when missing and make runs as root with apt-get, else one line
# says what is missing
compiler: | $(BIN)/python
	@command -v "$${CC:-cc}" >/dev/null 2>&1 && [ -f "$$($(BIN)/python -c 'import sysconfig; print(sysconfig.get_paths()["include"])')/Python.h" ] || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gcc python3-dev >/dev/null; \
	  else echo "resonator needs a C compiler and the Python headers to build its kernels: sudo apt install gcc python3-dev" >&2; exit 2; fi; }

$(STAMP): pyproject.toml setup.py src/resonator/_kernels.c | $(BIN)/python portaudio compiler
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(TSTAMP): pyproject.toml setup.py src/resonator/_kernels.c | $(BIN)/python portaudio compiler
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
