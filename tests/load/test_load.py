"""Load: 50 simulated people for 60 seconds against gunicorn (2 sync workers) and PostgreSQL,
on loopback, doing what people do: browse the catalogue, open a course and a cohort, sign
in, book a place or join the waiting list, withdraw, accept an offered place, look at My
learning, sign out. Afterwards: no 5xx at all, the 95th percentile of response times under
300 ms, and every booking and withdrawal a person was told had worked is in the database
exactly once (none lost, none doubled), with capacities and waiting lists intact.

Not part of the everyday run (marker ``load``, excluded by ``addopts``): run it with
``make load``. Bounded: a fixed number of people, a fixed duration, and a hard time limit on
every request and on the server process.

Each simulated person waits 0.5-2 s between requests ("think time"; real people read for
longer), and they start over the first 5 seconds rather than all in the same instant: about
45 requests a second. ``LMS_LOAD_THINK``, ``LMS_LOAD_PEOPLE`` and ``LMS_LOAD_SECONDS``
change that. The numbers are printed and written to ``test-artifacts/load/summary.json``.

Response times are wall-clock times seen by the client, so they include any wait for CPU:
on a machine busy with other work (two cores shared with other test suites) the 95th
percentile measures that contention, not the service. Run it on a quiet machine.
"""

from __future__ import annotations

import http.client
import json
import multiprocessing
import os
import random
import re
import signal
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import pytest
from sqlalchemy import func, select
from werkzeug.security import generate_password_hash

from lms import create_app
from lms.accounts.models import User, UserRole
from lms.accounts.services import ensure_organisations
from lms.clock import utcnow
from lms.courses.models import Cohort, Course
from lms.extensions import db
from lms.offerings.models import (
    ACTIVE,
    Enrolment,
    EnrolmentEvent,
    EnrolmentState,
    Session,
)
from tests.conftest import organisation
from tests.postgres import free_port
from tests.production import production_environment
from tests.wall_clock import wall_clock_environment

# The server is gunicorn in other processes, on the wall clock, so the data is built on it too.
pytestmark = [pytest.mark.load, pytest.mark.real_clock]

ROOT = Path(__file__).resolve().parents[2]
PEOPLE = int(os.environ.get("LMS_LOAD_PEOPLE", "50"))
SECONDS = float(os.environ.get("LMS_LOAD_SECONDS", "60"))
PROCESSES = 5
PASSWORD = "load test passphrase"
# Seconds a person spends on a page before the next click (brisk: real people read longer).
THINK = tuple(float(x) for x in os.environ.get("LMS_LOAD_THINK", "0.5,2").split(","))
RAMP_UP = 5.0
P95_LIMIT_MS = 300
# Capacity-limited cohorts (so waiting lists form and move) and unlimited ones.
CAPACITIES = [8, 8, 12, 12, None, None]


# ---------------------------------------------------------------------------- the data


def seed(url: str, outbox: str) -> list[int]:
    """People with a real (production-cost) password hash, and open cohorts a month ahead.
    Returns the cohorts' ids."""
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=url, MAIL_OUTBOX_DIR=outbox)
    with app.app_context():
        db.create_all()
        ensure_organisations()
        hashed = generate_password_hash(PASSWORD)  # scrypt at the production cost
        icss = [organisation(code) for code in ("BSOL", "BC", "CW", "DDER", "LLR", "NOTTS")]
        for n in range(PEOPLE):
            person = User(email=f"load{n}@example.nhs.uk", full_name=f"Load Person {n}",
                          job_title="Analyst", organisation=icss[n % len(icss)],
                          password_hash=hashed, email_verified_at=utcnow())
            person.role_rows.append(UserRole(role="learner"))
            db.session.add(person)
        cohorts = []
        for n, capacity in enumerate(CAPACITIES):
            course = Course(title=f"Load course {n}", summary="A course under load",
                            kind="short_course", strand="analytical_capability",
                            format="online", published=True)
            cohort = Cohort(course=course, name="Autumn", title=f"Load course {n}: Autumn",
                            capacity=capacity, status="open", booking_mode="open")
            start = utcnow() + timedelta(days=30 + n)
            cohort.sessions.append(Session(starts_at=start, ends_at=start + timedelta(hours=2)))
            db.session.add(cohort)
            cohorts.append(cohort)
        db.session.commit()
        ids = [c.id for c in cohorts]
        db.session.remove()
        db.engine.dispose()
    return ids


# ---------------------------------------------------------------------------- the server


@pytest.fixture
def load_database(postgres_server, tmp_path):
    name = postgres_server.unique_name("lms_load")
    url = postgres_server.create_database(name)
    cohorts = seed(url, str(tmp_path / "outbox"))
    yield url, cohorts
    postgres_server.drop_database(name)


@pytest.fixture
def gunicorn(load_database, tmp_path):
    """gunicorn, 2 sync workers, the production configuration on the load database."""
    url, cohorts = load_database
    port = free_port()
    env = {**wall_clock_environment(), "LMS_CONFIG": "production",
           **production_environment(SQLALCHEMY_DATABASE_URI=url, ALLOW_SQLITE=None),
           # Plain HTTP on loopback: the cookies cannot be Secure-only here.
           "LMS_SESSION_COOKIE_SECURE": "false", "LMS_REMEMBER_COOKIE_SECURE": "false",
           "LMS_MAIL_OUTBOX_DIR": str(tmp_path / "outbox")}
    log = (tmp_path / "gunicorn.log").open("w")
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "gunicorn"), "--workers", "2",
         "--worker-class", "sync", "--bind", f"127.0.0.1:{port}", "--timeout", "30",
         "--graceful-timeout", "5", "lms:create_app()"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                conn.request("GET", "/healthz")
                if conn.getresponse().status == 200:
                    break
            except OSError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("gunicorn did not start:\n" +
                                   (tmp_path / "gunicorn.log").read_text())
            time.sleep(0.2)
        yield port, cohorts, url
    finally:
        # Only the server this fixture started, and its workers (its own process group).
        with_group = os.getpgid(server.pid)
        os.killpg(with_group, signal.SIGTERM)
        try:
            server.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(with_group, signal.SIGKILL)
            server.wait(5)
        log.close()


# ---------------------------------------------------------------------------- a person


TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class Done:
    """What one simulated person saw: every request's (label, status, milliseconds), and
    the bookings and withdrawals the service told them had worked."""

    requests: list[tuple[str, int, float]] = field(default_factory=list)
    booked: Counter = field(default_factory=Counter)  # cohort id -> successful bookings
    withdrawn: Counter = field(default_factory=Counter)  # enrolment id -> withdrawals
    accepted: Counter = field(default_factory=Counter)
    last: dict = field(default_factory=dict)  # cohort id -> "active" | "withdrawn"
    errors: list[str] = field(default_factory=list)


class Person:
    def __init__(self, port: int, n: int, cohorts: list[int], rng: random.Random,
                 done: Done, stop_at: float):
        self.port, self.n, self.cohorts, self.rng = port, n, cohorts, rng
        self.done, self.stop_at = done, stop_at
        self.cookies: dict[str, str] = {}
        self.signed_in = False

    # -- HTTP, one connection per request (gunicorn's sync workers close them anyway)

    def go(self, method: str, path: str, form: dict | None = None, label: str | None = None):
        body = urlencode(form) if form is not None else None
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        started = time.perf_counter()
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            text = response.read().decode("utf-8", "replace")
        except OSError as error:
            self.done.requests.append((label or path, 599, (time.perf_counter() - started)
                                       * 1000))
            self.done.errors.append(f"{method} {path}: {error!r}")
            return 599, "", ""
        finally:
            conn.close()
        elapsed = (time.perf_counter() - started) * 1000
        self.done.requests.append((label or re.sub(r"/\d+", "/<id>", path), response.status,
                                   elapsed))
        for header in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = header.partition("=")
            value = rest.split(";", 1)[0]
            if not value or "1970" in header or "Max-Age=0" in header:
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = value
        if response.status >= 500:
            self.done.errors.append(f"{method} {path}: {response.status}")
        location = urlsplit(response.getheader("Location") or "").path
        return response.status, text, location

    def think(self) -> None:
        time.sleep(self.rng.uniform(*THINK))

    def follow(self, location: str) -> str:
        status, text, _ = self.go("GET", location or "/")
        return text if status == 200 else ""

    # -- journeys

    def sign_in(self) -> None:
        _, page, _ = self.go("GET", "/sign-in")
        token = TOKEN.search(page)
        if not token:
            return
        self.think()
        status, _, _ = self.go("POST", "/sign-in", {
            "csrf_token": token.group(1), "email": f"load{self.n}@example.nhs.uk",
            "password": PASSWORD})
        self.signed_in = status == 302

    def sign_out(self) -> None:
        _, page, _ = self.go("GET", "/my-learning")
        token = TOKEN.search(page)
        if token:
            self.go("POST", "/sign-out", {"csrf_token": token.group(1)})
        self.signed_in = False

    def browse(self) -> None:
        _, page, _ = self.go("GET", "/courses")
        courses = re.findall(r'href="/courses/(\d+)"', page)
        if courses:
            self.think()
            _, page, _ = self.go("GET", f"/courses/{self.rng.choice(courses)}")
            cohorts = re.findall(r'href="/cohorts/(\d+)"', page)
            if cohorts:
                self.think()
                self.go("GET", f"/cohorts/{self.rng.choice(cohorts)}")

    def book_or_withdraw(self) -> None:
        """Open a cohort: book if there is a button for it, otherwise withdraw (or accept a
        place offered)."""
        if not self.signed_in:
            self.sign_in()
            self.think()
        cohort = self.rng.choice(self.cohorts)
        _, page, _ = self.go("GET", f"/cohorts/{cohort}")
        token = TOKEN.search(page)
        if not token:
            return
        self.think()
        if f'action="/offerings/{cohort}/book"' in page:
            status, _, location = self.go("POST", f"/offerings/{cohort}/book",
                                          {"csrf_token": token.group(1)})
            if status == 302 and "notification-banner--success" in self.follow(location):
                self.done.booked[cohort] += 1
                self.done.last[cohort] = "active"
            return
        for action in ("accept", "withdraw"):
            match = re.search(rf'action="/enrolments/(\d+)/{action}"', page)
            if match:
                enrolment = int(match.group(1))
                status, _, location = self.go(
                    "POST", f"/enrolments/{enrolment}/{action}",
                    {"csrf_token": token.group(1), "next": f"/cohorts/{cohort}"})
                if status == 302 and "notification-banner--success" in self.follow(location):
                    if action == "withdraw":
                        self.done.withdrawn[enrolment] += 1
                        self.done.last[cohort] = "withdrawn"
                    else:
                        self.done.accepted[enrolment] += 1
                return

    def my_learning(self) -> None:
        if not self.signed_in:
            self.sign_in()
            self.think()
        self.go("GET", "/my-learning")

    def live(self) -> None:
        time.sleep(self.rng.uniform(0, RAMP_UP))
        journeys = [(self.browse, 3), (self.book_or_withdraw, 5), (self.my_learning, 2),
                    (self.sign_out, 1)]
        while time.monotonic() < self.stop_at:
            journey = self.rng.choices([j for j, _ in journeys],
                                       weights=[w for _, w in journeys])[0]
            journey()
            self.think()


def _run_process(port: int, people: list[int], cohorts: list[int], seconds: float,
                 seed_value: int) -> dict[int, Done]:
    stop_at = time.monotonic() + seconds
    done = {n: Done() for n in people}
    threads = [threading.Thread(target=Person(port, n, cohorts, random.Random(seed_value + n),
                                              done[n], stop_at).live, daemon=True)
               for n in people]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(seconds + 120)
    return done


def simulate(port: int, cohorts: list[int]) -> dict[int, Done]:
    groups = [list(range(PEOPLE))[i::PROCESSES] for i in range(PROCESSES)]
    context = multiprocessing.get_context("fork")
    with context.Pool(PROCESSES) as pool:
        parts = pool.starmap(_run_process, [(port, group, cohorts, SECONDS, 1000 * i)
                                            for i, group in enumerate(groups)])
    merged: dict[int, Done] = {}
    for part in parts:
        merged.update(part)
    return merged


# ---------------------------------------------------------------------------- the test


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def test_fifty_people_for_a_minute(gunicorn, tmp_path):
    port, cohorts, url = gunicorn
    started = time.monotonic()
    load_before = os.getloadavg()
    results = simulate(port, cohorts)
    wall = time.monotonic() - started

    requests = [r for done in results.values() for r in done.requests]
    times = [ms for _, _, ms in requests]
    statuses = Counter(status for _, status, _ in requests)
    by_page: dict[str, list[float]] = defaultdict(list)
    for label, _, ms in requests:
        by_page[label].append(ms)
    summary = {
        "people": PEOPLE, "seconds": SECONDS, "think_seconds": list(THINK),
        "wall_seconds": round(wall, 1),
        "requests": len(requests), "requests_per_second": round(len(requests) / SECONDS, 1),
        "statuses": dict(sorted(statuses.items())),
        "p50_ms": round(percentile(times, 0.50), 1), "p95_ms": round(percentile(times, 0.95), 1),
        "p99_ms": round(percentile(times, 0.99), 1), "max_ms": round(max(times), 1),
        "mean_ms": round(statistics.fmean(times), 1),
        "bookings": sum(sum(d.booked.values()) for d in results.values()),
        "withdrawals": sum(sum(d.withdrawn.values()) for d in results.values()),
        "offers_accepted": sum(sum(d.accepted.values()) for d in results.values()),
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "by_page_p95_ms": {label: round(percentile(ms, 0.95), 1)
                           for label, ms in sorted(by_page.items())},
    }
    out = ROOT / "test-artifacts" / "load"
    out.mkdir(parents=True, exist_ok=True)
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    print("\nLoad test:", json.dumps(summary, indent=2))

    errors = [e for done in results.values() for e in done.errors]
    assert not [s for s in statuses if s >= 500], errors[:20]
    assert summary["bookings"] > 0 and summary["withdrawals"] > 0
    check_bookings(url, results, cohorts)
    assert summary["p95_ms"] < P95_LIMIT_MS, summary


def check_bookings(url: str, results: dict[int, Done], cohorts: list[int]) -> None:
    """Every booking and withdrawal a person was told had worked is in the database once;
    places never exceed capacity; waiting lists are numbered without gaps."""
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=url)
    with app.app_context():
        users = dict(db.session.execute(select(User.email, User.id)).tuples().all())
        for n, done in results.items():
            user_id = users[f"load{n}@example.nhs.uk"]
            for cohort in cohorts:
                booked_events = db.session.scalar(
                    select(func.count(EnrolmentEvent.id)).join(Enrolment).where(
                        Enrolment.user_id == user_id, Enrolment.offering_id == cohort,
                        EnrolmentEvent.actor_id == user_id,
                        EnrolmentEvent.to_state.in_((EnrolmentState.ENROLLED,
                                                     EnrolmentState.WAITLISTED)),
                        (EnrolmentEvent.from_state.is_(None)
                         | EnrolmentEvent.from_state.not_in(ACTIVE))))
                assert booked_events == done.booked[cohort], (n, cohort, "bookings")
                state = db.session.scalar(select(Enrolment.state).where(
                    Enrolment.user_id == user_id, Enrolment.offering_id == cohort))
                expected = done.last.get(cohort)
                if expected == "active":
                    assert state in ACTIVE, (n, cohort, state)
                elif expected == "withdrawn":
                    assert state == EnrolmentState.WITHDRAWN, (n, cohort, state)
            for enrolment_id, times in done.withdrawn.items():
                recorded = db.session.scalar(select(func.count(EnrolmentEvent.id)).where(
                    EnrolmentEvent.enrolment_id == enrolment_id,
                    EnrolmentEvent.to_state == EnrolmentState.WITHDRAWN,
                    EnrolmentEvent.actor_id == user_id))
                assert recorded == times, (n, enrolment_id, "withdrawals")
        for cohort_id, capacity in zip(cohorts, CAPACITIES, strict=True):
            rows = db.session.execute(select(Enrolment.state, Enrolment.waitlist_position)
                                      .where(Enrolment.offering_id == cohort_id)).all()
            held = [s for s, _ in rows if s in (EnrolmentState.ENROLLED,
                                                EnrolmentState.OFFERED)]
            if capacity is not None:
                assert len(held) <= capacity, cohort_id
            positions = sorted(p for s, p in rows if s == EnrolmentState.WAITLISTED)
            assert positions == list(range(1, len(positions) + 1)), cohort_id
        db.session.remove()
        db.engine.dispose()
