# Two commands: `make run` and `make test`. Everything else is what they call.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
FLASK := $(VENV)/bin/flask --app lms
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: run test test-clock lint setup setup-test setup-bench system-run system-test system-bench static \
	migrate seed bench clean load

run: setup migrate
	$(FLASK) lms seed-if-empty
	$(FLASK) lms serve

test: setup-test lint
	$(VENV)/bin/pytest
	@$(MAKE) --no-print-directory test-clock

# The suite starts every test at one ordinary moment (tests/conftest.py), so it passes or fails
# the same at any hour. The tests that build dates then run again starting at the real moment
# and, under Debian's faketime, at two awkward ones: 22:30 on the eve of the spring clock change
# and 23:59:30 on New Year's Eve (UTC, which is London's time then too). PostgreSQL and
# Chromium stay on the real clock (tests/wall_clock.py).
CLOCK_MOMENTS := 2027-03-27T22:30:00 2026-12-31T23:59:30
CLOCK_SLICE := tests/test_offerings_engine.py tests/test_events_services.py \
	tests/test_schedule.py tests/test_reminders.py tests/test_attendance.py \
	tests/test_feedback_services.py tests/test_feedback_after_session.py \
	tests/test_certificates_services.py tests/test_competencies_services.py \
	tests/test_reports_services.py tests/test_reports_figures.py tests/test_reports_kept.py \
	tests/test_calendar.py \
	tests/test_clock.py tests/test_bench.py
# Left out of the slice: PostgreSQL twins of SQLite tests, and the slow tests of processes
# racing (their dates are those of their SQLite twins) and of the demo data.
CLOCK_PYTEST := $(VENV)/bin/pytest -q -p no:cacheprovider \
	-m "not browser and not load and not postgres" \
	-k "not two_sweeps and not killed_mid_run and not demo_data" $(CLOCK_SLICE)

test-clock: setup-test
	@echo "== the tests that build dates, at the real moment"
	LMS_TEST_NOW=wall $(CLOCK_PYTEST)
	@for moment in $(CLOCK_MOMENTS); do \
	  echo "== the tests that build dates, at $$moment UTC (faketime)"; \
	  TZ=UTC faketime -f "@$${moment/T/ }" $(CLOCK_PYTEST) || exit 1; \
	done

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

# Region-scale benchmarks (~20 min): every journey page on SQLite and PostgreSQL, bench/results.json
# and bench/results.md on disk; exits 1 when any target is missed (README, Performance).
# Scales 0.1, 1 and 5 (national); `make bench BENCH_ARGS="--scales 0.1,1"` leaves out the last.
bench: setup-bench
	$(PY) -m bench.run $(BENCH_ARGS)

clean:
	rm -rf $(VENV) node_modules lms/static/nhsuk instance/*.sqlite3*
