# Two entry points for a fresh clone: `make run` (the app with demo data) and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
# Extra requirements: the MariaDB/MySQL driver only when DATABASE_URL points there.
REQS := requirements-dev.txt $(if $(filter mysql%,$(DATABASE_URL)),requirements-mysql.txt)
STAMP := $(VENV)/.installed-$(if $(filter mysql%,$(DATABASE_URL)),mysql,base)

.PHONY: install run test lint format migrate demo clean

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
