# Two entry points for a fresh clone: `make run` (the app with demo data) and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
# Extra requirements: the MariaDB/MySQL driver only when DATABASE_URL points there.
REQS := requirements-dev.txt $(if $(filter mysql%,$(DATABASE_URL)),requirements-mysql.txt)
STAMP := $(VENV)/.installed-$(if $(filter mysql%,$(DATABASE_URL)),mysql,base)

.PHONY: install run serve test lint format migrate demo bench soak clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip

$(STAMP): $(PY) requirements.txt requirements-dev.txt requirements-mysql.txt
	$(PY) -m pip install -q $(addprefix -r ,$(REQS))
	touch $@

.env:
	cp .env.example .env

install: $(STAMP) .env

migrate: install
	$(PY) manage.py migrate --noinput

demo: migrate
	$(PY) manage.py demo_load
	$(PY) manage.py demo_logins --if-debug --url http://$(HOST):$(PORT)/admin/

run: demo
	$(PY) manage.py runserver $(HOST):$(PORT)

# Production-style: DEBUG off, gunicorn, static files from WhiteNoise. Needs SECRET_KEY,
# ALLOWED_HOSTS and DATABASE_URL in the environment (see README "Deploying"). Threaded workers:
# a sync worker busy longer than gunicorn's 30 s timeout is killed, and a streamed export of a
# million orders takes about a minute (bench/README.md); a threaded one keeps answering the
# arbiter while a thread streams.
WORKERS ?= 3
THREADS ?= 4
serve: install
	@test -n "$$SECRET_KEY" || { echo "SECRET_KEY is not set (see README: Deploying)"; exit 1; }
	DEBUG=0 $(PY) manage.py check --deploy --fail-level WARNING
	DEBUG=0 $(PY) manage.py collectstatic --noinput -v0
	DEBUG=0 $(PY) manage.py migrate --noinput
	DEBUG=0 $(VENV)/bin/gunicorn shop.wsgi:application --bind $(HOST):$(PORT) \
		--workers $(WORKERS) --worker-class gthread --threads $(THREADS) \
		--access-logfile - --forwarded-allow-ips '*'

test: install
	$(PY) -m pytest $(PYTEST_ARGS)

# Benchmarks (bench/README.md), PostgreSQL only: a scratch database <name>_bench is created next
# to DATABASE_URL's and dropped afterwards. BENCH_ARGS="--orders 100000 -k seed" to choose.
bench: install
	@case "$(DATABASE_URL)" in postgres://*|postgresql://*|pgsql://*) ;; *) \
		echo "make bench runs on PostgreSQL only: set DATABASE_URL, e.g." >&2; \
		echo "  DATABASE_URL=postgres://postgres@127.0.0.1:5432/shop make bench" >&2; \
		exit 2;; esac
	$(PY) -m bench.run $(BENCH_ARGS)

lint: install
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

format: install
	$(PY) -m ruff check --fix .
	$(PY) -m ruff format .

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache

# 10,000 operations from 8 worker processes on PostgreSQL, then every invariant checked.
soak: install
	@case "$(DATABASE_URL)" in postgres*) ;; *) echo "make soak needs DATABASE_URL=postgres://..."; exit 1;; esac
	$(PY) manage.py migrate --noinput -v0
	$(PY) -m bench.soak
