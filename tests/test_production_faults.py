"""Faults in production as the README deploys it (issue 20, "Done when"): PostgreSQL, gunicorn
(started outside the repository), the scheduler process and a real SMTP server (aiosmtpd) on
loopback, all processes of their own.

- The sender is killed between the SMTP server accepting a message and the outbox recording
  it: every email still arrives, and the repeat carries the same Message-ID.
- SIGTERM stops the scheduler gracefully: the message being sent is finished and recorded,
  no row is left claimed, and the next scheduler sends the rest, each once.
- PostgreSQL stops while requests are in flight and the scheduler is sending: no response is
  gunicorn's bare 500, every page is 200 or the NHS-styled 503, the service recovers by itself
  when the database is back, and every email arrives.

Slow (processes start and stop): marked ``postgres``, about a minute in all.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from flask import Flask
from sqlalchemy import select

from lms import create_app
from lms.accounts.models import User
from lms.accounts.services import ensure_organisations, hash_password
from lms.clock import utcnow
from lms.courses.models import Cohort, Course
from lms.extensions import db
from lms.notifications.models import OutboxMessage
from lms.notifications.services import queue_email
from lms.offerings.models import Session
from tests.conftest import PASSWORD, organisation
from tests.http_browser import Browser
from tests.postgres import PostgresServer, free_port
from tests.production import production_environment
from tests.wall_clock import wall_clock_environment

# The processes run on the wall clock, so the data is built on it too.
pytestmark = [pytest.mark.postgres, pytest.mark.real_clock]

BIN = Path(sys.executable).parent
LEASE_SECONDS = 2
BARE_500 = "Internal Server Error"  # gunicorn's own page when the app raises
ROOT = Path(__file__).resolve().parent.parent
METRICS_TOKEN = "metrics-token-for-the-fault-test"


# ---------------------------------------------------------------------------- the parts


class Sink:
    """A real SMTP server that keeps (recipient, Message-ID) of what it accepts. It can take
    ``delay`` seconds per message, and ``kill_at`` SIGKILLs ``victim`` (the sender) right after
    accepting message number ``kill_at``, before the sender hears the "250 OK"."""

    def __init__(self):
        self.received: list[tuple[str, str]] = []
        self.delay = 0.0
        self.kill_at: int | None = None
        self.victim: int | None = None

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
        if self.delay:
            await asyncio.sleep(self.delay)
        parsed = message_from_bytes(envelope.content, policy=policy.default)
        self.received.append((str(parsed["To"]), str(parsed["Message-ID"])))
        if self.kill_at is not None and len(self.received) == self.kill_at and self.victim:
            os.kill(self.victim, signal.SIGKILL)
            self.kill_at = None
        return "250 OK"

    def count(self, recipients: set[str]) -> int:
        return sum(1 for to, _ in self.received if to in recipients)


@pytest.fixture(scope="module")
def own_server() -> Iterator[PostgresServer]:
    server = PostgresServer().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def sink() -> Iterator[tuple[Sink, int]]:
    port = free_port()
    handler = Sink()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield handler, port
    finally:
        controller.stop()


@pytest.fixture
def service(own_server, tmp_path) -> Iterator[Flask]:
    """The schema, a signed-up person and an open cohort; ``app`` is the tests' own view of
    the same database."""
    url = own_server.create_database()
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=url,
                     MAIL_OUTBOX_DIR=str(tmp_path / "outbox"))
    with app.app_context():
        db.create_all()
        ensure_organisations()
        db.session.add(User(email="lena@example.nhs.uk", full_name="Lena Learner",
                            organisation=organisation("BSOL"), job_title="Analyst",
                            password_hash=hash_password(PASSWORD), email_verified_at=utcnow()))
        course = Course(title="Forecasting", summary="s", kind="short_course",
                        strand="analytical_capability", format="online", published=True)
        cohort = Cohort(course=course, name="Autumn", title="Forecasting: Autumn",
                        capacity=10, status="open", booking_mode="open")
        start = utcnow() + timedelta(days=30)
        cohort.sessions.append(Session(starts_at=start, ends_at=start + timedelta(hours=2)))
        db.session.add(cohort)
        db.session.commit()
        app.config["COHORT_ID"] = cohort.id
    app.config["TEST_DATABASE_URL"] = url
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


class Processes:
    """The processes a test starts (each in a session of its own), ended at teardown."""

    def __init__(self, folder: Path, env: dict[str, str]):
        self.folder, self.env = folder, env
        self.started: list[tuple[subprocess.Popen, Path]] = []

    def start(self, name: str, *command: str) -> subprocess.Popen:
        log = self.folder / f"{name}-{len(self.started)}.log"
        with log.open("w") as out:
            process = subprocess.Popen(command, cwd=self.folder, env=self.env, stdout=out,
                                       stderr=subprocess.STDOUT, start_new_session=True)
        self.started.append((process, log))
        return process

    def scheduler(self) -> subprocess.Popen:
        return self.start("scheduler", str(BIN / "flask"), "--app", "lms", "lms", "scheduler")

    def log_of(self, process: subprocess.Popen) -> str:
        return next(log for p, log in self.started if p is process).read_text()

    def end_all(self) -> None:
        for process, _log in self.started:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(10)


@pytest.fixture
def processes(service, sink, tmp_path) -> Iterator[Processes]:
    """Production settings for processes run from a folder outside the repository."""
    _sink, smtp_port = sink
    env = {**wall_clock_environment(), "LMS_CONFIG": "production",
           **production_environment(SQLALCHEMY_DATABASE_URI=service.config["TEST_DATABASE_URL"],
                                    ALLOW_SQLITE=None, SMTP_HOST="127.0.0.1",
                                    SMTP_PORT=smtp_port, OUTBOX_LEASE_SECONDS=LEASE_SECONDS),
           # Plain HTTP on loopback: the cookies cannot be Secure-only here.
           "LMS_SESSION_COOKIE_SECURE": "false", "LMS_REMEMBER_COOKIE_SECURE": "false"}
    env.pop("PYTHONPATH", None)
    running = Processes(tmp_path, env)
    try:
        yield running
    finally:
        running.end_all()


def queue(app: Flask, recipients: list[str]) -> dict[str, str]:
    """Queue one email to each recipient; returns recipient -> the row's Message-ID."""
    with app.app_context():
        rows = [queue_email(to, "Your place", "accounts/password_changed",
                            user={"full_name": "Sam"}) for to in recipients]
        db.session.commit()
        ids = {row.to_address: row.message_id for row in rows}
        db.session.remove()
    return ids


def statuses(app: Flask, recipients) -> Counter:
    with app.app_context():
        found = Counter(db.session.scalars(select(OutboxMessage.status).where(
            OutboxMessage.to_address.in_(list(recipients)))))
        db.session.remove()
    return found


def wait_for(what, seconds: float, message: str) -> None:
    deadline = time.monotonic() + seconds
    while not what():
        if time.monotonic() > deadline:
            raise AssertionError(message)
        time.sleep(0.2)


# ---------------------------------------------------------------------------- the sender


def test_a_killed_sender_loses_no_email_and_its_repeat_has_the_same_message_id(
        service, sink, processes):
    smtp, _port = sink
    first = [f"first{n}@example.nhs.uk" for n in range(6)]
    message_ids = queue(service, first)

    smtp.kill_at = 3  # SIGKILL after the server accepted the third, before "250 OK"
    killed = processes.scheduler()
    smtp.victim = killed.pid
    killed.wait(60)
    assert killed.returncode == -signal.SIGKILL, processes.log_of(killed)
    assert statuses(service, first) == {"sent": 2, "sending": 1, "pending": 3}

    survivor = processes.scheduler()
    wait_for(lambda: statuses(service, first) == {"sent": 6}, 40,
             f"not every email was sent: {statuses(service, first)}")
    arrived = Counter(to for to, _ in smtp.received)
    assert set(arrived) == set(first), "every email arrived"
    assert sorted(arrived.values()) == [1, 1, 1, 1, 1, 2], "the one in flight went twice"
    for to, message_id in smtp.received:
        assert message_id == message_ids[to], "a repeat carries the row's own Message-ID"

    # SIGTERM mid-batch: the message being sent is finished and recorded, nothing is left
    # claimed, and the next scheduler sends the rest, each exactly once.
    smtp.delay = 0.7
    second = [f"second{n}@example.nhs.uk" for n in range(5)]
    queue(service, second)
    wait_for(lambda: smtp.count(set(second)) >= 1, 30, "the second batch never started")
    survivor.send_signal(signal.SIGTERM)
    assert survivor.wait(15) == 0, processes.log_of(survivor)
    assert "SIGTERM received" in processes.log_of(survivor)
    after_stop = statuses(service, second)
    assert after_stop["sending"] == 0, "a stopped sender leaves nothing claimed"
    assert after_stop["sent"] == smtp.count(set(second)) < 5
    assert after_stop["sent"] + after_stop["pending"] == 5

    smtp.delay = 0
    last = processes.scheduler()
    wait_for(lambda: statuses(service, second) == {"sent": 5}, 40,
             f"the rest was not sent: {statuses(service, second)}")
    assert Counter(to for to, _ in smtp.received if to in second) == dict.fromkeys(second, 1)
    last.send_signal(signal.SIGTERM)
    assert last.wait(15) == 0


# ---------------------------------------------------------------------------- the database


def start_gunicorn(processes: Processes) -> tuple[int, subprocess.Popen]:
    """gunicorn as the systemd unit starts it (deploy/gunicorn.conf.py), with 2 workers."""
    port = free_port()
    processes.env.update(LMS_BIND=f"127.0.0.1:{port}", LMS_WORKERS="2",
                         PROMETHEUS_MULTIPROC_DIR=str(processes.folder / "metrics"),
                         LMS_METRICS_TOKEN=METRICS_TOKEN)
    server = processes.start("gunicorn", str(BIN / "gunicorn"), "--config",
                             str(ROOT / "deploy" / "gunicorn.conf.py"), "--graceful-timeout",
                             "5", "lms:create_app()")

    def up() -> bool:
        assert server.poll() is None, processes.log_of(server)
        try:
            return Browser(port).go("GET", "/healthz")[0] == 200
        except OSError:
            return False

    wait_for(up, 60, "gunicorn did not start")
    return port, server


def nhs_unavailable(body: str) -> bool:
    return ("<h1>Sorry, the service is unavailable</h1>" in body
            and 'class="nhsuk-header' in body and "Traceback" not in body)


def test_the_database_stopping_mid_request_never_gives_a_bare_500(
        service, sink, processes, own_server):
    smtp, _port = sink
    cohort = service.config["COHORT_ID"]
    port, server = start_gunicorn(processes)
    smtp.delay = 0.2  # the scheduler is mid-batch when the database goes
    recipients = [f"load{n}@example.nhs.uk" for n in range(15)]
    message_ids = queue(service, recipients)
    scheduler = processes.scheduler()

    lena = Browser(port)
    lena.sign_in("lena@example.nhs.uk", PASSWORD)
    pages = ["/courses", f"/cohorts/{cohort}", "/events", "/healthz"]
    answers: list[tuple[str, int, str]] = []
    lock, stop = threading.Lock(), threading.Event()

    def visit(browser: Browser, paths: list[str]) -> None:
        while not stop.is_set():
            for path in paths:
                try:
                    status, body = browser.go("GET", path)
                except OSError as error:
                    status, body = 0, repr(error)
                with lock:
                    answers.append((path, status, body))

    visitors = [threading.Thread(target=visit, args=(Browser(port), pages)) for _ in range(3)]
    visitors.append(threading.Thread(target=visit, args=(lena, ["/my-learning",
                                                                f"/cohorts/{cohort}"])))
    for visitor in visitors:
        visitor.start()
    try:
        wait_for(lambda: smtp.count(set(recipients)) >= 3, 30, "the scheduler never sent")
        own_server.pause()  # fast shutdown: queries in flight are cut off
        down = len(answers)
        time.sleep(2.5)
        own_server.resume()
        time.sleep(1.5)
    finally:
        stop.set()
        for visitor in visitors:
            visitor.join(30)

    bare = [(path, status) for path, status, body in answers
            if status == 500 or BARE_500 in body or status == 0]
    assert bare == [], "a bare 500 (or no answer) while the database was away"
    assert {status for _path, status, _body in answers} <= {200, 503}
    unavailable = [(path, body) for path, status, body in answers[down:] if status == 503]
    assert unavailable, "the stop was noticed"
    for path, body in unavailable:
        if path == "/healthz":
            assert '"database":"unreachable"' in body.replace(" ", "")
        else:
            assert nhs_unavailable(body), (path, body[:300])

    # Back by itself: the pages work, Lena is still signed in, and every email arrives.
    for path in pages:
        assert lena.go("GET", path)[0] == 200, path
    status, body = lena.go("GET", "/my-learning")
    assert status == 200 and "Lena" in body
    wait_for(lambda: statuses(service, recipients) == {"sent": 15}, 40,
             f"not every email was sent: {statuses(service, recipients)}")

    # /metrics adds up both workers' counts (multiprocess mode), and reads the outbox and the
    # scheduler's runs from the database.
    status, text = Browser(port).go("GET", "/metrics")
    assert status == 404, "no token, not an allowed address"
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    conn.request("GET", "/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    scraped = conn.getresponse()
    text = scraped.read().decode()
    conn.close()
    assert scraped.status == 200
    counted = re.search(r'lms_request_duration_seconds_count\{method="GET",route="/courses"\} '
                        r"([0-9.]+)", text)
    asked = sum(1 for path, status, _ in answers if path == "/courses") + 1
    assert counted and float(counted.group(1)) == asked, "every worker's requests counted"
    assert 'lms_outbox_backlog{status="pending"} 0.0' in text
    assert 'lms_job_last_run_timestamp_seconds{job="deliver_outbox_job"}' in text

    # The workers' log: one JSON line per request, with its id.
    lines = [json.loads(line) for line in processes.log_of(server).splitlines()
             if line.startswith("{")]
    requests = [line for line in lines if line["logger"] == "lms.requests"]
    assert {"/courses", "/my-learning", "/metrics"} <= {line["route"] for line in requests}
    assert all(re.fullmatch(r"[0-9a-f]{32}", line["request_id"]) for line in requests)
    assert {line["status"] for line in requests} <= {200, 404, 302, 503}
    assert {to for to, _ in smtp.received} >= set(recipients)
    for to, message_id in smtp.received:
        assert message_id == message_ids[to]
    scheduler.send_signal(signal.SIGTERM)
    assert scheduler.wait(15) == 0
