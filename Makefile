# The two commands of the README: `make demo` and `make test`. Both set up everything they need.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: setup demo test lint pytest bench clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $@

# The planner's search compiled with mypyc (scripts/build_native.py): 1.5–1.7× faster, same plans. The
# pure module runs instead whenever the planning sources differ from what was compiled, and when the build
# fails (no C compiler): that is said here and is not an error (CI requires the build: MICROMOVES_REQUIRE_NATIVE).
# Rebuilt on any change in the planning package (a superset of solver.SOURCES, which decide whether the
# build is used), so this list cannot fall behind that one.
$(BIN)/.native: $(BIN)/.installed $(wildcard src/micromoves/planning/*.py) scripts/build_native.py
	$(BIN)/python scripts/build_native.py >$(BIN)/native-build.log 2>&1 \
	  || echo "compiling the planner failed (see $(BIN)/native-build.log): the pure Python search runs"
	touch $@

setup: $(BIN)/.installed $(BIN)/.native

## Build the 2,000-person demo organisation in the embedded SQLite database, print a tour, then serve the
## web app on http://127.0.0.1:8000/ with one demo login per kind of user (Ctrl-C stops it).
demo: setup
	$(BIN)/micromoves init
	$(BIN)/micromoves demo --replace
	$(BIN)/micromoves serve --demo

## Lint, type-check, then run the whole test suite on SQLite and PostgreSQL.
test: setup lint pytest

lint: setup
	$(BIN)/ruff check src tests scripts benchmarks
	$(BIN)/ruff format --check src tests scripts benchmarks
	$(BIN)/mypy

# Bytecode is cached even where the environment says not to (PYTHONDONTWRITEBYTECODE): three processes
# compiling every module and rewriting every test's asserts cost seconds on each run.
# Every test but the long scale ones: the heavy acceptance tests too, which a plain `pytest` leaves out.
pytest: setup
	PYTHONDONTWRITEBYTECODE= $(BIN)/pytest -n 2 -p no:cacheprovider -m 'not slow'

## Benchmarks (not part of the tests): import and demo generation at scale.
bench: setup
	$(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) build *.egg-info
