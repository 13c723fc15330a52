"""Structured logs and /metrics (issue 20, item 11)."""

from __future__ import annotations

import json
import logging
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from lms.extensions import db
from lms.jobs import _in_app
from lms.notifications.services import queue_email
from lms.observability.logs import JsonFormatter, RequestIdFilter
from lms.observability.metrics import may_scrape
from tests.production import production_environment

ROOT = Path(__file__).resolve().parent.parent


def test_the_request_id_comes_back_in_a_header_and_a_bad_one_is_replaced(client):
    given = client.get("/courses", headers={"X-Request-ID": "nginx-4f2a.91"})
    assert given.headers["X-Request-ID"] == "nginx-4f2a.91"
    for bad in ("has space", "x" * 200, "quote\"s<script>", ""):
        answered = client.get("/courses", headers={"X-Request-ID": bad})
        assert re.fullmatch(r"[0-9a-f]{32}", answered.headers["X-Request-ID"]), bad
    first, second = client.get("/"), client.get("/")
    assert first.headers["X-Request-ID"] != second.headers["X-Request-ID"]


def test_each_request_ends_with_one_line_saying_what_happened(client, login, make_user,
                                                              caplog):
    person = make_user()
    login(person)
    with caplog.at_level(logging.INFO, logger="lms.requests"):
        client.get("/my-learning", headers={"X-Request-ID": "req-1"})
        client.get("/no-such-page", headers={"X-Request-ID": "req-2"})
    lines = [json.loads(JsonFormatter().format(r)) for r in caplog.records
             if r.name == "lms.requests"]
    assert [line["request_id"] for line in lines] == ["req-1", "req-2"]
    mine, missing = lines
    assert mine["route"] == "/my-learning" and mine["method"] == "GET"
    assert mine["status"] == 200 and mine["user_id"] == person.id
    assert mine["endpoint"] and isinstance(mine["duration_ms"], float)
    assert (missing["route"], missing["status"]) == ("unmatched", 404)


def test_every_log_line_in_a_request_carries_its_id(app):
    record = logging.LogRecord("lms.anything", logging.WARNING, __file__, 1, "note %s",
                               ("this",), None)
    with app.test_request_context("/"):
        from flask import g

        g.request_id = "abc123"
        RequestIdFilter().filter(record)
    line = json.loads(JsonFormatter().format(record))
    assert line["request_id"] == "abc123" and line["message"] == "note this"
    outside = logging.LogRecord("lms.jobs", logging.INFO, __file__, 1, "job", (), None)
    RequestIdFilter().filter(outside)
    assert json.loads(JsonFormatter().format(outside))["request_id"] == "-"


def test_production_writes_json_lines_with_the_request_id(tmp_path):
    """The production app's log, as gunicorn would collect it: every line JSON, the request's
    own lines (here a 404's) carrying its id."""
    code = ("from lms import create_app\n"
            "app = create_app()\n"
            "client = app.test_client()\n"
            "client.get('/healthz', headers={'X-Request-ID': 'trace-77'})\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("LMS_")}
    env.update(LMS_CONFIG="production", **production_environment(
        SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'p.db'}"))
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stderr.splitlines() if line.strip()]
    assert lines, "something was logged"
    traced = [line for line in lines if line["request_id"] == "trace-77"]
    # The health check cannot reach a database with no tables... it logs that, then the
    # request's own line: both with the request's id.
    assert [line["logger"] for line in traced][-1] == "lms.requests"
    assert traced[-1]["route"] == "/healthz" and traced[-1]["status"] in (200, 503)


@pytest.mark.parametrize(("allow", "token", "address", "authorization", "expected"), [
    ("", "", "127.0.0.1", None, False),
    ("127.0.0.1", "", "127.0.0.1", None, True),
    ("10.0.0.0/8, 192.0.2.5", "", "10.20.30.40", None, True),
    ("10.0.0.0/8", "", "192.0.2.9", None, False),
    ("not-an-address", "", "127.0.0.1", None, False),
    ("", "s3cret-token", "192.0.2.9", "Bearer s3cret-token", True),
    ("", "s3cret-token", "192.0.2.9", "Bearer wrong", False),
    ("", "s3cret-token", "192.0.2.9", "Basic s3cret-token", False),
    ("", "", "192.0.2.9", "Bearer ", False),
])
def test_who_may_read_the_metrics(allow, token, address, authorization, expected):
    config = {"METRICS_ALLOW": allow, "METRICS_TOKEN": token}
    assert may_scrape(config, address, authorization) is expected


def test_metrics_are_404_unless_allowed(app, client, monkeypatch):
    assert client.get("/metrics").status_code == 404
    monkeypatch.setitem(app.config, "METRICS_TOKEN", "a-long-token-for-prometheus")
    assert client.get("/metrics").status_code == 404
    assert client.get("/metrics", headers={
        "Authorization": "Bearer a-long-token-for-prometheus"}).status_code == 200


def courses_count(text: str) -> float:
    """How many GET /courses the latency histogram has counted (the app is the session's)."""
    found = re.search(r'lms_request_duration_seconds_count\{method="GET",route="/courses"\} '
                      r"([0-9.]+)", text)
    return float(found.group(1)) if found else 0.0


def test_metrics_report_latency_outbox_jobs_and_pool(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "METRICS_ALLOW", "127.0.0.1")
    before = courses_count(client.get("/metrics").get_data(as_text=True))
    for _ in range(3):
        client.get("/courses")
    with app.app_context():
        for n in range(2):
            queue_email(f"waiting{n}@example.nhs.uk", "Waiting", "accounts/password_changed",
                        user={"full_name": "Sam"})
        db.session.commit()

    def fails():
        raise RuntimeError("SMTP relay refused")

    _in_app(app, lambda: None).__call__()  # a job that succeeds...
    fails.__name__ = "failing_job"
    _in_app(app, fails)()  # ...and one that does not
    page = client.get("/metrics")
    assert page.status_code == 200
    assert page.headers["Content-Type"].startswith("text/plain")
    text = page.get_data(as_text=True)
    assert courses_count(text) == before + 3
    assert 'lms_outbox_backlog{status="pending"} 2.0' in text
    assert re.search(r"lms_outbox_oldest_age_seconds \d", text)
    assert re.search(r'lms_job_last_run_timestamp_seconds\{job="failing_job"\} \d', text)
    assert 'lms_job_failing{job="failing_job"} 1.0' in text
    assert 'lms_job_failing{job="<lambda>"} 0.0' in text
    assert "lms_db_pool_connections_in_use" in text
    with app.app_context():
        from lms.notifications.delivery import deliver_outbox

        deliver_outbox()
    assert 'lms_outbox_backlog{status="pending"} 0.0' in client.get("/metrics").get_data(
        as_text=True)


def test_a_job_run_is_recorded_even_when_another_job_wrote_meanwhile(app, caplog):
    """The development server runs the scheduler's jobs in threads on one SQLite file: a job
    that read (a snapshot) while another committed must still record its run, not fail with
    "database is locked"."""
    from sqlalchemy import select, text

    from lms.observability.models import JobRun

    def reads_while_another_writes():
        db.session.scalars(select(JobRun)).all()  # this job's transaction now holds a snapshot
        with db.engine.connect() as other:
            other.execute(text(
                "INSERT INTO job_run (job, last_started_at, last_finished_at) "
                "VALUES ('another_job', '2026-12-04 09:00:00', '2026-12-04 09:00:01')"))
            other.commit()

    with caplog.at_level(logging.WARNING, logger="lms.jobs"):
        _in_app(app, reads_while_another_writes)()
    assert "could not record" not in caplog.text
    with app.app_context():
        assert db.session.get(JobRun, "reads_while_another_writes") is not None
