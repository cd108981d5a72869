# mlip_glass: the two set-up commands of the README are `make demo` and `make test`.
# Each creates what it needs on a fresh machine (Python >= 3.10; Python 3.13 for the test wire server).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
WIRE_VENV := .venv-mongo
# Python >= 3.13 for the mongoeco wire server used by the tests: pyenv's 3.13+, else python3.13 on PATH
# (each candidate is run once, so a pyenv shim without that version is skipped)
WIRE_PYTHON ?= $(shell for p in $$(ls -d $$(pyenv root 2>/dev/null)/versions/3.1[3-9]*/bin/python3 2>/dev/null) $$(command -v python3.13 python3.14 2>/dev/null); do "$$p" -c 'import sys; assert sys.version_info >= (3, 13)' 2>/dev/null && { echo "$$p"; break; }; done)
# torch first, from its CPU wheel, so that the CPU NEP trainer does not pull a CUDA build
TORCH_SPEC ?= torch==2.13.0

.PHONY: install wire-venv test test-all demo docs clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q "$(TORCH_SPEC)"
	$(BIN)/pip install -q -e ".[test,cpu-trainer,docs]"
	touch $@

wire-venv: $(WIRE_VENV)/.installed

$(WIRE_VENV)/.installed:
	@test -n "$(WIRE_PYTHON)" || { echo "Python 3.13 not found (needed for the test wire server)"; exit 1; }
	$(WIRE_PYTHON) -m venv $(WIRE_VENV)
	$(WIRE_VENV)/bin/pip install -q "mongoeco[wire]"
	touch $@

test: install wire-venv
	$(BIN)/pytest -q

test-all: install wire-venv
	$(BIN)/pytest -q -m "slow or not slow"

demo: install
	$(BIN)/mlip-glass demo

docs: install
	$(BIN)/mkdocs build --strict

clean:
	rm -rf $(VENV) $(WIRE_VENV) mlip_glass_data site
