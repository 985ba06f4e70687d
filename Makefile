# Two commands do all set-up on a fresh machine:
#   make run    the bot (SQLite) with the Agents Playground, a local Teams emulator:
#               chat with it at http://localhost:56150
#   make test   every test (SQLite and PostgreSQL), plus ruff and mypy
# Both create .venv and install what they need the first time.

PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PLAYGROUND := e2e/node_modules/.bin/agentsplayground
# Tests run in parallel (pytest-xdist); every test has its own database, schema, ports and
# files, so the order never matters. TEST_WORKERS=0 runs them one by one.
TEST_WORKERS ?= 2

.PHONY: run test lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

$(PLAYGROUND): e2e/package.json e2e/package-lock.json
	npm ci --prefix e2e --no-audit --no-fund --loglevel=error
	touch $(PLAYGROUND)

run: $(STAMP) $(PLAYGROUND)
	$(PY) -m bot playground

lint: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy
	$(VENV)/bin/lint-imports

test: $(STAMP)
	@if command -v npm >/dev/null 2>&1; then $(MAKE) --no-print-directory $(PLAYGROUND); \
	else echo "npm not found: the Playground end-to-end tests will be skipped"; fi
	$(MAKE) --no-print-directory lint
	$(PY) -m pytest -n $(TEST_WORKERS)

bench: $(STAMP)
	$(PY) -m bench.turns

clean:
	rm -rf $(VENV) e2e/node_modules .mypy_cache .ruff_cache .pytest_cache
