# The README's commands. Each creates .venv on first use and installs what it needs.
PYTHON ?= python3
# mutmut's parallel workers for `make mutate` (the machines are shared: one by default)
MUTATE_JOBS ?= 1
# pytest-xdist workers for `make test` (0: one process, the default). With workers each test file
# stays on one worker (its module fixtures start once) and files go out in collection order
# (tests/conftest.py puts the longest first). Not the default: on a loaded 2-core box the browser
# tests miss their waits when 3 workers share it (docs/notes/suite.md).
TEST_JOBS ?= 0
VENV   ?= .venv
PY     := $(VENV)/bin/python
HOST   ?= 127.0.0.1
PORT   ?= 8501
export FINSTREAM_TEST_DATABASE_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test

.PHONY: run test api topology bench lint format mutate clean

run: $(VENV)/.runtime ## start the Streamlit app (demo analyst unless ANTHROPIC_API_KEY is set)
	$(PY) -m streamlit run app.py --server.address $(HOST) --server.port $(PORT)

api: $(VENV)/.runtime ## start the HTTP streaming API on uvicorn
	$(PY) -m finstream serve --host $(HOST) --port 8000

topology: $(VENV)/.runtime ## deploy/compose.yaml's topology as processes: 2 API + 2 app replicas, HAProxy, PostgreSQL
	bash scripts/test-services.sh
	$(PY) deploy/local.py

test: $(VENV)/.dev ## install test needs (packages, chromium, PostgreSQL running) and run the suite
	bash scripts/test-services.sh
	$(PY) -m pytest $(if $(filter-out 0,$(TEST_JOBS)),-n $(TEST_JOBS) --dist loadfile --no-loadscope-reorder)

bench: $(VENV)/.dev ## run every benchmark and print its figures
	bash scripts/test-services.sh
	@for b in benchmarks/bench_*.py; do echo "=== $$b"; $(PY) $$b || exit 1; done

lint: $(VENV)/.dev ## ruff, then mypy (pydantic plugin) with zero errors on finstream/
	$(VENV)/bin/ruff check finstream tests benchmarks deploy scripts app.py pages
	$(VENV)/bin/mypy

mutate: $(VENV)/.dev ## mutation testing of the core modules against their fast tests; prints scores
	$(PY) -m pip install --quiet 'mutmut>=3.3,<4'
	rm -rf mutants
	FINSTREAM_FILINGS_DIR=$${FINSTREAM_FILINGS_DIR:-$(abspath ../shared/filings)} $(VENV)/bin/mutmut run --max-children $(MUTATE_JOBS) \
		> mutants.log 2>&1 || (tail -20 mutants.log; exit 1)
	$(PY) scripts/mutation_score.py

format: $(VENV)/.dev
	$(VENV)/bin/ruff format finstream tests benchmarks app.py pages

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(VENV)/.runtime: requirements.txt | $(VENV)/bin/python
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev: requirements.txt requirements-dev.txt | $(VENV)/bin/python
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $(VENV)/.runtime $@

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache artifacts mutants mutants.log
