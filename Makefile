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
# The tested versions (docs/install.md): every install is `pip install -c` these; `make upgrade` refreshes them.
CONSTRAINTS := requirements/constraints.txt
WIRE_CONSTRAINTS := requirements/constraints-wire.txt
# jobflow-remote (extra `remote`) needs pymongo < 4.11, the project pins 4.16: it gets its own venv with
# constraints.txt minus its pymongo pin plus constraints-remote.txt (tests marked `remote` run jobs in it)
REMOTE_VENV := .venv-remote
REMOTE_CONSTRAINTS := requirements/constraints-remote.txt
EXTRAS := test,cpu-trainer,docs

.PHONY: install wire-venv remote-venv lint test test-all demo docs clean upgrade install-dft install-slurm install-system

install: $(VENV)/.installed

# The stamp depends on the constraints: changing them re-runs pip, which moves every package to its pin.
$(VENV)/.installed: pyproject.toml $(CONSTRAINTS)
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 10))' || { echo "Python >= 3.10 needed (PYTHON=$(PYTHON))"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q -c $(CONSTRAINTS) --upgrade pip
	$(BIN)/pip install -q -c $(CONSTRAINTS) "$(TORCH_SPEC)"
	$(BIN)/pip install -q -c $(CONSTRAINTS) -e ".[$(EXTRAS)]"
	touch $@

wire-venv: $(WIRE_VENV)/.installed

$(WIRE_VENV)/.installed: $(WIRE_CONSTRAINTS)
	@test -n "$(WIRE_PYTHON)" || { echo "Python 3.13 not found (needed for the test wire server)"; exit 1; }
	$(WIRE_PYTHON) -m venv $(WIRE_VENV)
	$(WIRE_VENV)/bin/pip install -q -c $(WIRE_CONSTRAINTS) "mongoeco[wire]"
	touch $@

remote-venv: $(REMOTE_VENV)/.installed

$(REMOTE_VENV)/.installed: pyproject.toml $(CONSTRAINTS) $(REMOTE_CONSTRAINTS)
	$(PYTHON) -m venv $(REMOTE_VENV)
	grep -v '^pymongo==' $(CONSTRAINTS) > $(REMOTE_VENV)/constraints.txt
	$(REMOTE_VENV)/bin/pip install -q -c $(REMOTE_VENV)/constraints.txt -c $(REMOTE_CONSTRAINTS) --upgrade pip
	$(REMOTE_VENV)/bin/pip install -q -c $(REMOTE_VENV)/constraints.txt -c $(REMOTE_CONSTRAINTS) -e ".[remote]"
	touch $@

# Re-resolve to the newest versions in separate venvs (.venv-upgrade, .venv-upgrade-mongo), run the fast
# suite there, and rewrite the constraints only if it passes (requirements/upgrade.sh).
upgrade:
	@test -n "$(WIRE_PYTHON)" || { echo "Python 3.13 not found (needed for the test wire server)"; exit 1; }
	PYTHON="$(PYTHON)" WIRE_PYTHON="$(WIRE_PYTHON)" TORCH_SPEC="$(TORCH_SPEC)" EXTRAS="$(EXTRAS)" \
		bash requirements/upgrade.sh

lint: install
	$(BIN)/ruff check mlip_glass
	$(BIN)/mypy

test: install wire-venv remote-venv lint
	$(BIN)/pytest -q

test-all: install wire-venv remote-venv
	$(BIN)/pytest -q -m "slow or not slow"

# Optional engines from Debian's packages (root, or sudo): CP2K for real DFT labels (the `dft` preset and
# the tests marked `dft`), SLURM + munge for a single-node cluster (tests marked `slurm`). CI runs both.
APT_GET := $(shell [ "$$(id -u)" = 0 ] && echo apt-get || echo sudo apt-get)
DFT_DEBS := cp2k cp2k-data openmpi-bin
SLURM_DEBS := slurm-wlm munge

install-dft:
	$(APT_GET) update -q
	DEBIAN_FRONTEND=noninteractive $(APT_GET) install -y -q $(DFT_DEBS)

install-slurm:
	$(APT_GET) update -q
	DEBIAN_FRONTEND=noninteractive $(APT_GET) install -y -q $(SLURM_DEBS)

install-system:
	$(APT_GET) update -q
	DEBIAN_FRONTEND=noninteractive $(APT_GET) install -y -q $(DFT_DEBS) $(SLURM_DEBS)

demo: install
	$(BIN)/mlip-glass demo

docs: install
	$(BIN)/mkdocs build --strict

clean:
	rm -rf $(VENV) $(WIRE_VENV) $(REMOTE_VENV) mlip_glass_data site
