# rdcn — the two set-up commands are `make book` and `make test` (see README.md).
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
PYTHON ?= python3
ifdef VIRTUAL_ENV
VENV := $(VIRTUAL_ENV)
else
VENV := .venv
endif
BIN := $(VENV)/bin
PROFILE ?= book
DEVICE ?= cpu
DATA_DIR ?=
SEED ?= 0
KERNEL := rdcn

SOURCES := $(sort $(wildcard notebooks/[0-9]*.md))
CHAPTERS := $(patsubst notebooks/%.md,book/chapters/%.ipynb,$(SOURCES))
LEDGER := book/chapters/ledger.ipynb
PACKAGE := $(shell find src -name '*.py')
STAMP := $(VENV)/.rdcn-installed
PARAMS := _build/params.txt

export RDCN_RESULTS_DIR ?= $(CURDIR)/results
export MPLBACKEND := Agg
export PYDEVD_DISABLE_FILE_VALIDATION := 1

.PHONY: install book notebooks test test-fast unit smoke claims bench clean FORCE

## install: the virtualenv (.venv, or the active one), pinned requirements, the rdcn kernel, Fashion-MNIST
install: $(STAMP)
$(STAMP): requirements.txt pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m ipykernel install --sys-prefix --name $(KERNEL) --display-name "Python (rdcn)" >/dev/null
	@if [ ! -d /usr/share/datasets/fashion-mnist ] && command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ]; then \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dataset-fashion-mnist >/dev/null; fi
	@touch $@

# The notebooks' parameters; a change re-executes them.
$(PARAMS): FORCE
	@mkdir -p _build
	@echo 'profile=$(PROFILE) device=$(DEVICE) data_dir=$(DATA_DIR) seed=$(SEED)' | cmp -s - $@ || \
	  echo 'profile=$(PROFILE) device=$(DEVICE) data_dir=$(DATA_DIR) seed=$(SEED)' > $@

# Execute a jupytext notebook with papermill at $(PROFILE): book/chapters/NAME.ipynb (build output, git-ignored).
book/chapters/%.ipynb: notebooks/%.md $(PACKAGE) $(PARAMS) $(STAMP)
	@mkdir -p _build/sources book/chapters
	$(BIN)/jupytext --quiet --to ipynb --update-metadata '{"kernelspec":{"name":"$(KERNEL)","display_name":"Python (rdcn)","language":"python"}}' -o _build/sources/$*.ipynb $<
	$(BIN)/papermill --cwd $(CURDIR) -k $(KERNEL) --no-progress-bar \
	  -p profile $(PROFILE) -p device $(DEVICE) -p data_dir "$(DATA_DIR)" -p seed $(SEED) \
	  _build/sources/$*.ipynb $@

$(LEDGER): $(CHAPTERS)

notebooks: $(CHAPTERS) $(LEDGER)

## book: execute every notebook at $(PROFILE) (default: book) and build the HTML book
book: notebooks
	$(BIN)/jupyter-book build . --builder html -W --keep-going
	@echo "The book: file://$(CURDIR)/_build/html/index.html"

## unit: the unit tests
unit: install
	$(BIN)/python -m pytest -q tests -m "not claims"

## smoke: every notebook at the smoke profile under nbval
smoke: install
	@rm -rf _build/smoke && mkdir -p _build/smoke
	@for src in $(SOURCES) notebooks/ledger.md; do name=$$(basename $$src .md); \
	  $(BIN)/jupytext --quiet --to ipynb --update-metadata '{"kernelspec":{"name":"$(KERNEL)","display_name":"Python (rdcn)","language":"python"}}' -o _build/smoke/$$name.src.ipynb $$src; \
	  $(BIN)/papermill --prepare-only -k $(KERNEL) -p profile smoke -p device cpu -p data_dir "$(DATA_DIR)" -p seed $(SEED) \
	    _build/smoke/$$name.src.ipynb _build/smoke/$$name.ipynb 2>/dev/null; rm _build/smoke/$$name.src.ipynb; done
	RDCN_RESULTS_DIR=$(CURDIR)/_build/smoke/results $(BIN)/python -m pytest -q -p no:cacheprovider --nbval-lax \
	  --nbval-kernel-name $(KERNEL) --nbval-cell-timeout 600 _build/smoke/[0-9]*.ipynb _build/smoke/ledger.ipynb

## claims: assert the papers' claims on the numbers the book-profile notebooks wrote to results/
claims: install
	RDCN_REQUIRE_RESULTS=1 $(BIN)/python -m pytest -q tests -m claims

## test: the whole suite: unit tests, smoke notebooks, the book at the book profile (-W), its claims
test: install
	$(MAKE) unit
	$(MAKE) smoke
	$(MAKE) book PROFILE=book DEVICE=cpu
	$(MAKE) claims

## test-fast: unit tests and smoke notebooks (a few minutes)
test-fast: install
	$(MAKE) unit
	$(MAKE) smoke

## bench: batched vs one-at-a-time random networks (images/s), written to results/
bench: install
	$(BIN)/python benchmarks/random_networks.py --device $(DEVICE)

clean:
	rm -rf _build book/chapters results
