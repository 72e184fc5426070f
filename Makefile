# Two entry points for a fresh clone: `make run` (the app with demo data) and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
# Extra requirements: the MariaDB/MySQL driver only when DATABASE_URL points there.
REQS := requirements-dev.txt $(if $(filter mysql%,$(DATABASE_URL)),requirements-mysql.txt)
STAMP := $(VENV)/.installed-$(if $(filter mysql%,$(DATABASE_URL)),mysql,base)

.PHONY: install run serve test lint format migrate demo clean

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
	$(PY) manage.py loaddata demo
	$(PY) manage.py demo_logins --if-debug --url http://$(HOST):$(PORT)/admin/

run: demo
	$(PY) manage.py runserver $(HOST):$(PORT)

# Production-style: DEBUG off, gunicorn, static files from WhiteNoise. Needs SECRET_KEY,
# ALLOWED_HOSTS and DATABASE_URL in the environment (see README "Deploying").
WORKERS ?= 3
serve: install
	@test -n "$$SECRET_KEY" || { echo "SECRET_KEY is not set (see README: Deploying)"; exit 1; }
	DEBUG=0 $(PY) manage.py check --deploy --fail-level WARNING
	DEBUG=0 $(PY) manage.py collectstatic --noinput -v0
	DEBUG=0 $(PY) manage.py migrate --noinput
	DEBUG=0 $(VENV)/bin/gunicorn shop.wsgi:application --bind $(HOST):$(PORT) \
		--workers $(WORKERS) --access-logfile - --forwarded-allow-ips '*'

test: install
	$(PY) -m pytest $(PYTEST_ARGS)

lint: install
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

format: install
	$(PY) -m ruff check --fix .
	$(PY) -m ruff format .

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
