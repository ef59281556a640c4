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
# Chapter 2's trainings (make plan / make train): the engine, its worker processes (default: the CPUs) and the
# model cache every worker writes into (default data/cache; on a cluster, a shared folder).
ENGINE ?= local
WORKERS ?=
CACHE_DIR ?= $(RDCN_CACHE_DIR)
export RDCN_PROFILE := $(value PROFILE)
export RDCN_DEVICE := $(value DEVICE)
export RDCN_DATA_DIR := $(value DATA_DIR)
export RDCN_SEED := $(value SEED)
export RDCN_SIZES := $(value SIZES)
export RDCN_CHAPTER := $(value CHAPTER)
export RDCN_ENGINE := $(value ENGINE)
export RDCN_WORKERS := $(value WORKERS)
export RDCN_CACHE_DIR := $(CACHE_DIR)
export MPLBACKEND := Agg
export PYDEVD_DISABLE_FILE_VALIDATION := 1

.PHONY: install name runs compare book notebooks chapter plan train bench test test-fast lint unit smoke browser claims rehearsal reruns distributed clean

## install: the virtualenv (.venv, or the active one), pinned requirements, the rdcn kernel, Debian's packages
## (Fashion-MNIST; chromium and its driver for the browser test)
install: $(STAMP)
$(STAMP): requirements.txt pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m ipykernel install --sys-prefix --name $(KERNEL) --display-name "Python (rdcn)" >/dev/null
	@missing=(); [ -d /usr/share/datasets/fashion-mnist ] || missing+=(dataset-fashion-mnist); \
	[ -x /usr/bin/chromium ] || missing+=(chromium); [ -x /usr/bin/chromedriver ] || missing+=(chromium-driver); \
	if [ $${#missing[@]} -gt 0 ]; then \
	  if [ "$$(id -u)" = 0 ]; then apt=(apt-get); elif command -v sudo >/dev/null; then apt=(sudo apt-get); \
	  else echo "Debian packages missing: run 'apt-get install $${missing[*]}' as root" >&2; exit 1; fi; \
	  "$${apt[@]}" update -qq && DEBIAN_FRONTEND=noninteractive "$${apt[@]}" install -y -qq "$${missing[@]}" >/dev/null; fi
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

## plan: chapter 2's trainings at the run's parameters, without running them: cache key, steps, FLOPs per step,
## estimated GPU hours (from make bench DEVICE=cuda's results where present), the total and what N GPUs take
plan: install
	$(BIN)/python -m rdcn.he.training_plan plan

## train: train the plan's models the cache lacks (ENGINE=local WORKERS=N: N one-thread worker processes,
## dependencies first, each model written atomically into CACHE_DIR, resumed from its checkpoint if interrupted)
train: install
	$(BIN)/python -m rdcn.he.training_plan train

## bench: time the book's workloads (time per unit, useful GFLOP/s, fraction of the fp32 matmul peak measured in
## the same run, new path against old) into results/benchmarks.json; DEVICE=cuda for a GPU (via RDCN_DEVICE);
## no progress bars in its table (tqdm reads TQDM_DISABLE when it is imported)
bench: install
	TQDM_DISABLE=1 $(BIN)/python benchmarks/bench.py

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

## browser: open every page of the run's built HTML in Debian's headless chromium (tests/test_browser.py): math
## typeset offline, images loaded, no console error, no parameters cell, the ledger's verdicts, internal links;
## screenshots of every page in _build/screenshots/<run>/
browser: install
	RDCN_REQUIRE_HTML=1 $(BIN)/python -m pytest -q -p no:cacheprovider tests/test_browser.py -m browser

## claims: check the run's claims (every registered claim present and decided; designed ones hold)
claims: install
	RDCN_REQUIRE_RESULTS=1 $(BIN)/python -m pytest -q -p no:cacheprovider tests -m claims

## rehearsal: the README's paper command, run on generated stand-ins for ImageNet, CIFAR-10 and torchvision's
## weights (tests/rehearsal.py) with every size shrunk to seconds (tests/rehearsal_sizes.json); claims computed
REHEARSAL := $(CURDIR)/_build/rehearsal
rehearsal: install
	$(BIN)/python tests/rehearsal.py $(REHEARSAL)
	TORCH_HOME=$(REHEARSAL)/torch_home RDCN_UNVERIFIED_WEIGHTS=1 $(MAKE) train PROFILE=paper DEVICE=cpu \
	  DATA_DIR=$(REHEARSAL)/data SIZES=$(CURDIR)/tests/rehearsal_sizes.json SEED=0 WORKERS=2
	TORCH_HOME=$(REHEARSAL)/torch_home RDCN_UNVERIFIED_WEIGHTS=1 $(MAKE) book PROFILE=paper DEVICE=cpu \
	  DATA_DIR=$(REHEARSAL)/data SIZES=$(CURDIR)/tests/rehearsal_sizes.json SEED=0

## distributed: chapter 2's smoke plan on a local Ray cluster of two CPU workers (started and stopped by the test):
## the models and the chapter's results as in-process, a killed task retried from its checkpoint, a corrupt model
distributed: install
	$(BIN)/python -m pytest -q -p no:cacheprovider tests/test_distributed.py -m distributed

## reruns: after `make book`, another run (smoke, seed 1) and a notebook run by hand leave the book untouched
reruns: install
	$(BIN)/python -m pytest -q -p no:cacheprovider tests/test_reruns.py -m reruns

## test: the whole suite: lint, unit tests, smoke notebooks, the benchmark (its table is the ledger's), the book at
## the book profile (-W), its pages in a browser, its claims; then another run beside it (reruns), the distributed
## runner on a local Ray cluster, and the paper rehearsal (its claims computed)
test: install
	$(MAKE) lint
	$(MAKE) unit
	$(MAKE) smoke
	$(MAKE) bench DEVICE=cpu
	$(MAKE) book PROFILE=book DEVICE=cpu DATA_DIR= SEED=0 SIZES=
	$(MAKE) browser PROFILE=book DEVICE=cpu DATA_DIR= SEED=0 SIZES=
	$(MAKE) claims PROFILE=book DEVICE=cpu DATA_DIR= SEED=0 SIZES=
	$(MAKE) reruns
	$(MAKE) distributed
	$(MAKE) rehearsal
	TORCH_HOME=$(REHEARSAL)/torch_home $(MAKE) claims PROFILE=paper DEVICE=cpu DATA_DIR=$(REHEARSAL)/data \
	  SIZES=$(CURDIR)/tests/rehearsal_sizes.json SEED=0

## test-fast: lint, unit tests and smoke notebooks (a few minutes)
test-fast: install
	$(MAKE) lint
	$(MAKE) unit
	$(MAKE) smoke

## clean: build outputs only (the model cache data/cache is shared by every run and stays)
clean:
	rm -rf _build book/chapters results
