# cnotrack: the two set-up commands are `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.cnotrack-installed

.PHONY: setup demo test bench clean

$(STAMP): pyproject.toml Makefile
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	@# the browser tests' accessibility scan injects axe-core (npm); skipped where there is no npm
	if command -v npm >/dev/null; then npm install --silent --no-audit --no-fund --prefix $(VENV)/npm axe-core@4.14; fi
	touch $(STAMP)

setup: $(STAMP)

## demo: install, import the synthetic demo cohort, reproduce the seed study
demo: $(STAMP)
	$(BIN)/cnotrack demo

## test: install with the test dependencies and run the whole suite
test: $(STAMP)
	$(BIN)/python -m pytest -n 2 --dist worksteal -q

## bench: cnotrack against pandas and DuckDB on registries of 10k-100k patients (writes
## docs/performance.md; about 12 minutes on 2 idle cores); `make bench BENCH_ARGS=--quick` for a short run
BENCH_ARGS ?=
bench: $(STAMP)
	$(BIN)/python -m pip install --quiet -e ".[test,bench]"
	$(BIN)/python bench/run.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
