# Two commands: `make run` and `make test`. Everything else is what they call.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
FLASK := $(VENV)/bin/flask --app lms
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: run test lint setup setup-test setup-bench system-run system-test system-bench static \
	migrate seed bench clean load

run: setup migrate
	$(FLASK) lms seed-if-empty
	$(FLASK) lms serve

test: setup-test lint
	$(VENV)/bin/pytest

# A minute of 50 simulated people against gunicorn (2 workers) and PostgreSQL; not in `make test`.
load: setup-test
	$(VENV)/bin/pytest -m load -s tests/load

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .

setup: system-run $(VENV)/.installed static
setup-test: system-test $(VENV)/.installed static
setup-bench: system-bench $(VENV)/.installed static

system-run:
	@scripts/system-packages.sh run

system-test:
	@scripts/system-packages.sh test

system-bench:
	@scripts/system-packages.sh bench

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

# Region-scale benchmarks (a few minutes): one table on screen, bench/results.json on disk.
bench: setup-bench
	$(PY) -m bench.run

clean:
	rm -rf $(VENV) node_modules lms/static/nhsuk instance/*.sqlite3*
