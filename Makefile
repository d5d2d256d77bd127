# NDAS: `make run` serves the admin with demo data; `make test` runs every check CI runs.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
STAMP := $(VENV)/.installed
TEST_REDIS_URL ?= redis://127.0.0.1:6379/15
# bench/load.py's Redis (gunicorn's cache, as in production): a database of its own.
BENCH_REDIS_URL ?= redis://127.0.0.1:6379/9
# make run's Redis (cache, and the broker of its Celery worker): REDIS_URL when set,
# else this one, started under var/ when nothing answers. `make run RUN_REDIS_URL=`
# runs without Redis: no worker, tasks in the web process.
RUN_REDIS_URL ?= $(or $(REDIS_URL),redis://127.0.0.1:6379/0)
HOST ?= 127.0.0.1
PORT ?= 8000
# scripts/dev-services writes here the URLs of the PostgreSQL and Redis it started
# (none answered at DATABASE_URL, REDIS_URL); each recipe that needs them reads it.
SERVICES_ENV := var/services.env
LOCAL := set -a; [ ! -f $(SERVICES_ENV) ] || . ./$(SERVICES_ENV); set +a;

.PHONY: run test test-fast install system-deps services services-test services-stop lint \
        migrations-check deploy-check compose-check ci-check pytest db migrate seed serve \
        worker services-bench \
        bench clean

run: install services db migrate seed serve

test: install system-deps services-test lint migrations-check deploy-check compose-check \
      ci-check pytest

install: $(STAMP)

$(STAMP): requirements-dev.lock
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.lock
	touch $@

# Debian's chromium (browser tests) and docker-compose (validates the compose file);
# Pango, HarfBuzz's subsetter and a font for WeasyPrint (clinic letters as PDF).
# Never `playwright install`: its browser downloads are not reachable from here.
PDF_DEBS := libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core
system-deps:
	@missing=""; \
	  command -v chromium >/dev/null || missing="$$missing chromium"; \
	  command -v docker-compose >/dev/null || missing="$$missing docker-compose"; \
	  for deb in $(PDF_DEBS); do \
	    dpkg-query -W -f='$${Status}' $$deb 2>/dev/null | grep -q 'ok installed' \
	      || missing="$$missing $$deb"; \
	  done; \
	  if [ -n "$$missing" ]; then \
	    echo "Installing Debian packages:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
	      apt-get install -y -qq $$missing >/dev/null; \
	  fi

# PostgreSQL at DATABASE_URL (and for the tests Redis at TEST_REDIS_URL), or, when
# none answers, project-local ones under var/ (scripts/dev-services).
services:
	@if [ -n "$(RUN_REDIS_URL)" ]; then \
	  REDIS_URL=$(RUN_REDIS_URL) scripts/dev-services postgres redis; \
	else scripts/dev-services postgres; fi

services-test:
	@REDIS_URL=$(TEST_REDIS_URL) scripts/dev-services postgres redis

services-bench:
	@REDIS_URL=$(BENCH_REDIS_URL) scripts/dev-services postgres redis

services-stop:
	@scripts/dev-services stop

db:
	@$(LOCAL) $(PY) manage.py ensure_database

migrate:
	$(LOCAL) $(PY) manage.py migrate --no-input

seed:
	$(LOCAL) $(PY) manage.py seed_demo

# A Celery worker (with beat: the scheduled jobs) runs beside the dev server and stops
# with it; with no Redis (RUN_REDIS_URL empty), tasks run in the web process instead.
WORKER := NDAS_WORK=worker $(BIN)/celery --app=ndas worker --beat \
  --schedule=var/celerybeat-schedule --queues=celery,scheduled --concurrency=1 \
  --max-tasks-per-child=50 --loglevel=INFO

serve:
	@echo "NDAS admin: http://$(HOST):$(PORT)/admin/  (Ctrl-C to stop)"
	@mkdir -p var
	@$(LOCAL) REDIS_URL=$${LOCAL_REDIS_URL:-$(RUN_REDIS_URL)}; \
	if [ -n "$$REDIS_URL" ]; then export REDIS_URL; else unset REDIS_URL; fi; \
	if [ -n "$$REDIS_URL" ]; then \
	  $(WORKER) & worker=$$!; \
	  trap 'kill -TERM $$worker 2>/dev/null; wait $$worker' EXIT; \
	else \
	  echo "No REDIS_URL: imports and exports run in the web process, no worker."; \
	fi; \
	$(PY) manage.py runserver $(HOST):$(PORT)

# The worker alone (make serve starts one): large imports and exports, and the
# scheduled jobs (beat; its schedule file under var/).
worker:
	@mkdir -p var
	$(LOCAL) REDIS_URL=$${LOCAL_REDIS_URL:-$(RUN_REDIS_URL)} $(WORKER)

lint:
	$(BIN)/black --check --quiet .
	$(BIN)/flake8
	$(BIN)/lint-imports --no-cache

migrations-check:
	$(LOCAL) $(PY) manage.py makemigrations --check --dry-run

# The deploy checks must report nothing at all under a complete production configuration.
deploy-check:
	set -a && source tests/production.env && set +a && \
	  $(PY) manage.py check --deploy --fail-level WARNING

# Validates docker-compose.prod.yml (Debian's docker-compose; no engine is needed).
compose-check:
	NDAS_ENV_FILE=.env.example docker-compose --env-file .env.example \
	  -f docker-compose.prod.yml config -q

# The CI workflow against GitHub's schema (check-jsonschema's vendored copy: no
# network), and the Dockerfile by hadolint (.hadolint.yaml says what it ignores).
ci-check:
	$(BIN)/check-jsonschema --builtin-schema vendor.github-workflows .github/workflows/ci.yml
	$(BIN)/hadolint Dockerfile

pytest:
	$(LOCAL) REDIS_URL=$${LOCAL_REDIS_URL:-$(TEST_REDIS_URL)} $(BIN)/pytest --cov \
	  --cov-report=term --cov-fail-under=85 $(PYTEST_ARGS)

# The edit loop's tier: no browser, nothing slow, no coverage, stop at the first
# failure. `make test` (CI) still runs everything.
test-fast: install services-test
	$(LOCAL) REDIS_URL=$${LOCAL_REDIS_URL:-$(TEST_REDIS_URL)} $(BIN)/pytest -q -x \
	  -m "not e2e and not slow" $(PYTEST_ARGS)

bench: install services-bench
	$(PY) bench/request_overhead.py
	$(PY) bench/request_cpu.py
	$(PY) bench/import_bench.py
	$(PY) bench/growth_import_bench.py
	$(PY) bench/full_table_import_bench.py
	$(PY) bench/audit_bench.py
	$(PY) bench/audit_scale_bench.py
	$(PY) bench/jit_bench.py
	$(PY) bench/scale_bench.py
	$(LOCAL) $(PY) bench/load.py --redis $${LOCAL_REDIS_URL:-$(BENCH_REDIS_URL)}

clean:
	rm -rf $(VENV) staticfiles .pytest_cache .coverage htmlcov
