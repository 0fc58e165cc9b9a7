# Noroshi — `make run` starts the service with its demo on SQLite; `make test` runs every test.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint format bench clean-demo install

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/noroshi db upgrade
	$(BIN)/noroshi run --demo

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check .

format: $(STAMP)
	$(BIN)/ruff format .

# The detection benchmarks of benchmarks/README.md (≈ 5-15 min; the others take a database or a server)
bench: $(STAMP)
	$(BIN)/python -m benchmarks.nab
	$(BIN)/python -m benchmarks.injected
	$(BIN)/python -m benchmarks.weekly
	$(BIN)/python -m benchmarks.detect_cost

clean-demo:
	rm -f noroshi.db noroshi.db-wal noroshi.db-shm
