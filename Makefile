# rdcn — the two set-up commands are `make book` and `make test` (see README.md).
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DELETE_ON_ERROR:
PYTHON ?= python3
VENV := $(if $(VIRTUAL_ENV),$(VIRTUAL_ENV),.venv)
BIN := $(VENV)/bin
STAMP := $(VENV)/.rdcn-installed
KERNEL := rdcn

# A run's parameters. They reach Python through the environment (make exports them without a shell), never pasted
# into a shell line, so a folder name may hold quotes or any other character.
PROFILE ?= book
DEVICE ?= cpu
DATA_DIR ?=
SEED ?= 0
SIZES ?=
CHAPTER ?=
export RDCN_PROFILE := $(value PROFILE)
export RDCN_DEVICE := $(value DEVICE)
export RDCN_DATA_DIR := $(value DATA_DIR)
export RDCN_SEED := $(value SEED)
export RDCN_SIZES := $(value SIZES)
export RDCN_CHAPTER := $(value CHAPTER)
export MPLBACKEND := Agg
export PYDEVD_DISABLE_FILE_VALIDATION := 1

.PHONY: install name runs compare book notebooks chapter test test-fast lint unit smoke claims rehearsal reruns clean

## install: the virtualenv (.venv, or the active one), pinned requirements, the rdcn kernel, Debian's packages
install: $(STAMP)
$(STAMP): requirements.txt pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m ipykernel install --sys-prefix --name $(KERNEL) --display-name "Python (rdcn)" >/dev/null
	@if [ ! -d /usr/share/datasets/fashion-mnist ]; then \
	  if [ "$$(id -u)" = 0 ]; then apt=(apt-get); elif command -v sudo >/dev/null; then apt=(sudo apt-get); \
	  else echo "Fashion-MNIST is missing: run 'sudo apt-get install dataset-fashion-mnist' as root" >&2; exit 1; fi; \
	  "$${apt[@]}" update -qq && DEBIAN_FRONTEND=noninteractive "$${apt[@]}" install -y -qq dataset-fashion-mnist >/dev/null; fi
	@touch $@

## book: execute every notebook of the run (default: the book profile) and build its HTML book
book: install
	$(BIN)/python -m rdcn.book build

## name: print the name of the run the parameters define (its folders: results/NAME/, _build/runs/NAME/)
name: install
	@$(BIN)/python -m rdcn.book name

## runs: list the runs whose results are present; compare: two runs' verdicts (make compare A=book B=book-seed1)
A ?= book
B ?= book-seed1
export RDCN_A := $(value A)
export RDCN_B := $(value B)
runs: install
	@$(BIN)/python -m rdcn.book runs
compare: install
	@$(BIN)/python -m rdcn.book compare "$$RDCN_A" "$$RDCN_B"

## notebooks: execute the run's notebooks only (those whose source, code or parameters changed)
notebooks: install
	$(BIN)/python -m rdcn.book execute

## chapter: execute one chapter (CHAPTER=03 or its name) at the run's parameters
chapter: install
	$(BIN)/python -m rdcn.book execute --chapter "$$RDCN_CHAPTER"

## lint: ruff on the package, the tests and the benchmarks
lint: install
	$(BIN)/ruff check src tests benchmarks

# The unit tests: everything but the tests of a built run (claims, reruns, browser) and of a running engine.
UNIT := not (claims or reruns or browser or distributed)
## unit: the unit tests, once with one torch thread and once with two (a thread-count dependence shows)
unit: install
	OMP_NUM_THREADS=1 $(BIN)/python -m pytest -q -p no:cacheprovider tests -m "$(UNIT)"
	OMP_NUM_THREADS=2 $(BIN)/python -m pytest -q -p no:cacheprovider tests -m "$(UNIT)"

## smoke: every notebook at the smoke profile under nbval
smoke: install
	@rm -rf _build/smoke
	$(BIN)/python -m rdcn.book prepare --profile smoke --device cpu --data-dir "" --sizes "" --out _build/smoke
	RDCN_RESULTS_DIR=$(CURDIR)/_build/smoke/results $(BIN)/python -m pytest -q -p no:cacheprovider --nbval-lax \
	  --nbval-kernel-name $(KERNEL) --nbval-cell-timeout 600 _build/smoke/[0-9]*.ipynb _build/smoke/ledger.ipynb

## claims: check the run's claims (every registered claim present and decided; designed ones hold)
claims: install
	RDCN_REQUIRE_RESULTS=1 $(BIN)/python -m pytest -q -p no:cacheprovider tests -m claims

## rehearsal: the README's paper command, run on generated stand-ins for ImageNet, CIFAR-10 and torchvision's
## weights (tests/rehearsal.py) with every size shrunk to seconds (tests/rehearsal_sizes.json); claims computed
REHEARSAL := $(CURDIR)/_build/rehearsal
rehearsal: install
	$(BIN)/python tests/rehearsal.py $(REHEARSAL)
	TORCH_HOME=$(REHEARSAL)/torch_home RDCN_UNVERIFIED_WEIGHTS=1 $(MAKE) book PROFILE=paper DEVICE=cpu \
	  DATA_DIR=$(REHEARSAL)/data SIZES=$(CURDIR)/tests/rehearsal_sizes.json SEED=0

## reruns: after `make book`, another run (smoke, seed 1) and a notebook run by hand leave the book untouched
reruns: install
	$(BIN)/python -m pytest -q -p no:cacheprovider tests/test_reruns.py -m reruns

## test: the whole suite: lint, unit tests, smoke notebooks, the book at the book profile (-W), its claims
test: install
	$(MAKE) lint
	$(MAKE) unit
	$(MAKE) smoke
	$(MAKE) book PROFILE=book DEVICE=cpu DATA_DIR= SEED=0 SIZES=
	$(MAKE) claims PROFILE=book DEVICE=cpu DATA_DIR= SEED=0 SIZES=

## test-fast: lint, unit tests and smoke notebooks (a few minutes)
test-fast: install
	$(MAKE) lint
	$(MAKE) unit
	$(MAKE) smoke

## clean: build outputs only (the model cache data/cache is shared by every run and stays)
clean:
	rm -rf _build book/chapters results
