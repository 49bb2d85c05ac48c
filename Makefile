# Two commands on a fresh Debian 12 machine with Python 3.11:
#   make demo   set up and start the product on SQLite with the real tree and demo data
#   make test   set up and run the whole test suite on a throwaway PostgreSQL cluster
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DEMO_DEBS := ca-certificates fonts-noto-cjk libpango-1.0-0 libpangoft2-1.0-0
TEST_DEBS := postgresql fonts-noto-cjk libpango-1.0-0 libpangoft2-1.0-0 poppler-utils chromium
HOST ?= 127.0.0.1
PORT ?= 8000
# The suite runs on every core (pytest-xdist); see conftest.py for how the tests are grouped.
PYTEST_PROCS ?= -n auto --dist loadgroup --no-loadscope-reorder

.PHONY: setup demo serve test screenshots bench lint clean

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
	$(BIN)/python manage.py load_occupations
	$(BIN)/python manage.py load_laws
	$(BIN)/python manage.py seed_demo
	HOST=$(HOST) PORT=$(PORT) bash scripts/serve.sh

serve: setup
	HOST=$(HOST) PORT=$(PORT) bash scripts/serve.sh

test: setup
	bash scripts/system-deps.sh $(TEST_DEBS)
	$(BIN)/python scripts/with_pg.py -- $(BIN)/python -m pytest $(PYTEST_PROCS) $(PYTEST_ARGS)

# Refresh docs/screenshots from the browser tests.
screenshots: setup
	GONGHUI_UPDATE_SCREENSHOTS=1 $(MAKE) test PYTEST_ARGS="-m browser"

# Server memory for the national-size dataset (~18 GB on disk with 10 M members; assumes 8+ GB RAM): override
# to fit. Durable, unlike the test clusters: the membership benchmark compares writes with pgbench's.
BENCH_PG_OPTS ?= -c shared_buffers=4GB -c work_mem=64MB -c maintenance_work_mem=1GB -c max_wal_size=8GB \
	-c effective_cache_size=12GB -c fsync=on -c synchronous_commit=on -c full_page_writes=on

bench: setup
	bash scripts/system-deps.sh postgresql
	GONGHUI_PG_OPTS="$(BENCH_PG_OPTS)" $(BIN)/python scripts/with_pg.py -- $(BIN)/python bench/run.py $(BENCH_ARGS)

lint: setup
	$(BIN)/ruff check gonghui config bench scripts conftest.py

clean:
	rm -rf var staticfiles .pytest_cache
