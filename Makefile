# The two commands a newcomer needs: `make run` and `make test`. See README.md.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip --disable-pip-version-check -q

export ROSE_CART_DATA_DIR ?= data

# The packages mypy checks strictly (tests are typed where it helps, not checked strictly).
TYPED := actor inbox outbox vocab cart payments store service demo bench mail

.PHONY: run serve test bench lint typecheck check clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "rose-cart needs Python >= 3.11; set PYTHON=python3.11")'
	@echo "-> creating the virtualenv in $(VENV)"
	@$(PYTHON) -m venv $(VENV)

$(VENV)/.installed-run: pyproject.toml | $(BIN)/python
	@echo "-> installing rose-cart and its dependencies (first time: about a minute)"
	@$(PIP) install -e .
	@touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	@echo "-> installing rose-cart with its test extras (first time: about a minute)"
	@$(PIP) install -e '.[test]'
	@touch $@ $(VENV)/.installed-run

## run: install, then start the demo co-op: cart :8000, market :8001, calendar :8002
run: $(VENV)/.installed-run
	@exec $(BIN)/python -m demo run --data-dir $(ROSE_CART_DATA_DIR)

## serve: the cart alone, as a real deployment runs it (configure with ROSE_CART_*)
serve: $(VENV)/.installed-run
	@$(BIN)/rose-cart init
	@exec $(BIN)/rose-cart serve --host 127.0.0.1 --port 8000

## test: install the test extras and run the whole suite, one worker per core
## (TEST_WORKERS=0 runs it in this one process; tests that start processes or a
## browser run one at a time on one worker: see tests/conftest.py)
TEST_WORKERS ?= auto
test: $(VENV)/.installed-test
	@bash scripts/test-prerequisites
	@$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadgroup

## bench: run every benchmark under bench/ (figures are ratios to a bare baseline)
bench: $(VENV)/.installed-test
	@$(BIN)/python -m bench

## lint: ruff's lint rules and its formatter, as CI runs them (fails on any finding)
lint: $(VENV)/.installed-test
	@$(BIN)/python -m ruff check .
	@$(BIN)/python -m ruff format --check .

## typecheck: mypy --strict over the application, the demo and the benchmarks
typecheck: $(VENV)/.installed-test
	@$(BIN)/python -m mypy $(TYPED)

## check: what CI runs before the tests
check: lint typecheck

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
