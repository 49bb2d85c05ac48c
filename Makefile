# Two commands on a fresh Debian 12 machine with Python 3.11:
#   make demo   set up and start the product on SQLite with the real tree and demo data
#   make test   set up and run the whole test suite on a throwaway PostgreSQL cluster
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DEMO_DEBS := ca-certificates
TEST_DEBS := postgresql fonts-noto-cjk chromium
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: setup demo serve test bench lint gen-national clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV) || { bash scripts/system-deps.sh python3-venv && rm -rf $(VENV) && $(PYTHON) -m venv $(VENV); }

$(VENV)/.installed: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -r requirements-dev.txt
	touch $@

setup: $(VENV)/.installed

demo: setup
	bash scripts/system-deps.sh $(DEMO_DEBS)
	$(BIN)/python manage.py migrate --noinput -v0
	$(BIN)/python manage.py load_divisions
	$(BIN)/python manage.py seed_demo
	HOST=$(HOST) PORT=$(PORT) bash scripts/serve.sh

serve: setup
	HOST=$(HOST) PORT=$(PORT) bash scripts/serve.sh

test: setup
	bash scripts/system-deps.sh $(TEST_DEBS)
	$(BIN)/python scripts/with_pg.py -- $(BIN)/python -m pytest $(PYTEST_ARGS)

bench: setup
	bash scripts/system-deps.sh postgresql
	$(BIN)/python scripts/with_pg.py -- $(BIN)/python bench/run.py $(BENCH_ARGS)

lint: setup
	$(BIN)/ruff check gonghui config bench scripts

clean:
	rm -rf var staticfiles .pytest_cache
