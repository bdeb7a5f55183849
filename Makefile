# Custodia — everything a developer or CI needs, from a fresh clone.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install demo test test-sqlite test-postgres lint bench clean messages

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip==25.3
	$(PY) -m pip install --quiet -e '.[test,bench]'
	touch $(STAMP)

## install: create .venv and install pinned dependencies (idempotent)
install: $(STAMP)

## demo: migrate SQLite, load Chinese demo data, serve on 127.0.0.1:8000 with the worker
demo: install
	$(VENV)/bin/custodia demo --host $(HOST) --port $(PORT)

## test: the whole suite (SQLite; and PostgreSQL too when TEST_POSTGRES=1 or CI=true)
test: install
	bash scripts/test.sh

lint: install
	$(VENV)/bin/ruff check .

## bench: side-by-side benchmarks (see bench/README.md)
bench: install
	$(PY) bench/run.py

messages:
	$(PY) manage.py makemessages -l zh_Hans --ignore=.venv --ignore=bench
	$(PY) manage.py compilemessages --ignore=.venv

clean:
	rm -rf $(VENV) var build *.egg-info
