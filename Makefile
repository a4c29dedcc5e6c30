# Two entry points: `make demo` (the main job) and `make test` (lint + types + tests).
# Both create .venv on first use; torch comes from the local CPU build before the project.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
TORCH_PIN ?= torch==2.13.0
STAMP := $(VENV)/.installed

.PHONY: demo test lint typecheck unit slow bench clean

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q "$(TORCH_PIN)"
	$(BIN)/python -m pip install -q -e ".[dev]"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/prunerl demo

lint: $(STAMP)
	$(BIN)/ruff check src tests examples benchmarks
	$(BIN)/ruff format --check src tests examples benchmarks

typecheck: $(STAMP)
	$(BIN)/mypy

test: lint typecheck
	$(BIN)/python -m pytest -q --timeout=1800

unit: $(STAMP)
	$(BIN)/python -m pytest -q -m "not slow"

# The quick benchmarks; the learning and speed ones are listed with their commands in docs/benchmarks.md.
bench: $(STAMP)
	$(BIN)/python -m benchmarks.bench_pruner_overhead
	$(BIN)/python -m benchmarks.bench_structural

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
