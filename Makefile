# Two commands: `make run` and `make test`. Everything else is what they call.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
FLASK := $(VENV)/bin/flask --app lms
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: run test lint setup setup-test system-run system-test static migrate seed bench clean

run: setup migrate
	$(FLASK) lms seed-if-empty
	$(FLASK) lms serve

test: setup-test lint
	$(VENV)/bin/pytest

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .

setup: system-run $(VENV)/.installed static
setup-test: system-test $(VENV)/.installed static

system-run:
	@scripts/system-packages.sh run

system-test:
	@scripts/system-packages.sh test

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip 2>&1 | grep -v "^WARNING: Location" || true
	$(PY) -m pip install -q -e '.[dev]' 2>&1 | grep -v "^WARNING: Location" || true
	$(PY) -c "import flask, flask_sqlalchemy, weasyprint, playwright, aiosmtpd"
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

static: node_modules/.installed
	@scripts/build-static.sh

migrate: $(VENV)/.installed
	mkdir -p instance
	$(FLASK) db upgrade

seed: migrate
	$(FLASK) lms seed-demo

clean:
	rm -rf $(VENV) node_modules lms/static/nhsuk instance/*.sqlite3*
