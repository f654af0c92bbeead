# The two commands a fresh clone needs: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: demo test lint typecheck pytest bench serve clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install -q --upgrade pip
	@$(BIN)/python -m pip install -q -e '.[cli,dev]'
	@rm -f $(VENV)/.installed-*
	@touch $(STAMP)

demo: $(STAMP)
	$(BIN)/autodl-async demo

lint: $(STAMP)
	$(BIN)/ruff check autodl_async tests benchmarks
	$(BIN)/ruff format --check autodl_async tests benchmarks

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP)
	$(BIN)/python -m pytest -q

test: lint typecheck pytest

# `make bench BENCH_ARGS=--quick` for a smoke run; `BENCH_ARGS="--only decode"` for one.
bench: $(STAMP)
	@$(BIN)/python -m pip install -q -e '.[cli,dev,bench]'
	$(BIN)/python -m benchmarks $(BENCH_ARGS)

serve: $(STAMP)
	$(BIN)/autodl-async serve

clean:
	rm -rf $(VENV) build *.egg-info
