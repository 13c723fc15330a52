"""The page cache's guarantees across processes (issue 19, item 3): two gunicorn servers (a
worker each, so which one answers is known) on one database, SQLite file and PostgreSQL.

- A page kept by one worker shows a change committed through the other at its next request.
- A booking through one worker renews that cohort's, that person's and the listings'
  versions, and leaves the other cohort's version, under which its page is kept, alone.

Slow (gunicorn starts twice per database): a few seconds each.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from lms.accounts.services import hash_password
from lms.cache.models import CacheVersion
from lms.clock import utcnow
from lms.extensions import db
from tests import catalogue_builders as build
from tests.http_browser import Browser
from tests.postgres import free_port
from tests.wall_clock import wall_clock_environment

BIN = Path(sys.executable).parent
PASSWORD = "correct horse battery"


@contextmanager
def worker(url: str, folder: Path) -> Iterator[int]:
    """gunicorn with one sync worker on ``url``; yields its port."""
    port = free_port()
    env = wall_clock_environment({**os.environ, "PYTHONPATH": str(Path.cwd())})
    app = f"lms:create_app('testing', SQLALCHEMY_DATABASE_URI={url!r})"
    log = folder / f"gunicorn-{port}.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [str(BIN / "gunicorn"), "--workers", "1", "--bind", f"127.0.0.1:{port}", app],
            env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, log.read_text()
            try:
                if Browser(port).go("GET", "/healthz")[0] == 200:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, "gunicorn did not start"
            time.sleep(0.2)
        yield port
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(20)


def versions(app: Flask) -> dict[str, str]:
    with app.app_context():
        found = dict(db.session.execute(select(CacheVersion.scope, CacheVersion.version)).all())
        db.session.remove()
    return found


def a_region(app: Flask) -> dict:
    """A course with two cohorts (A, B) and a learner who can sign in, committed."""
    with app.app_context():
        course = build.course("Forecasting with R")
        starts = [utcnow() + timedelta(days=20)]
        a = build.cohort(course, "Cohort A", starts=starts, capacity=3)
        b = build.cohort(course, "Cohort B", starts=starts, capacity=5)
        learner = build.person()
        learner.password_hash = hash_password(PASSWORD)
        learner.email_verified_at = utcnow()
        db.session.commit()
        made = {"a": a.id, "b": b.id, "learner": learner.id, "email": learner.email}
        db.session.remove()
    return made


def check_two_workers(app: Flask, url: str, folder: Path) -> None:
    region = a_region(app)
    a, b = f"/cohorts/{region['a']}", f"/cohorts/{region['b']}"
    with worker(url, folder) as first, worker(url, folder) as second:
        one, other = Browser(first), Browser(second)
        # Both workers keep the catalogue and both cohort pages.
        for browser in (one, other):
            assert "3 places left" in browser.page("/courses")
            assert "3 places left" in browser.page(a) and "5 places left" in browser.page(b)
        before = versions(app)

        # The learner books a place on cohort A through the first worker.
        one.sign_in(region["email"], PASSWORD)
        status, _ = one.go("POST", f"/offerings/{region['a']}/book")
        assert status == 302
        assert "You have a place." in one.page(a)
        after = versions(app)

        # The other worker's next request shows it, on the listing and on A's page.
        assert "2 places left" in other.page("/courses")
        assert "2 places left" in other.page(a)
        # A's, the learner's and the listings' versions are new; B's is what it was.
        for scope in ("offer", f"offering:{region['a']}", f"person:{region['learner']}"):
            assert after[scope] != before.get(scope), scope
        assert after[f"offering:{region['b']}"] == before[f"offering:{region['b']}"]
        assert after["*"] == before["*"]
        assert "5 places left" in other.page(b)

        # A change through the second worker (the learner leaves; signed in there too) is
        # seen by the first at its next request.
        other.sign_in(region["email"], PASSWORD)
        page = other.page("/my-learning")
        enrolment = re.search(r"/enrolments/(\d+)/withdraw", page)
        assert enrolment is not None, page[:2000]
        status, _ = other.go("POST", f"/enrolments/{enrolment.group(1)}/withdraw",
                             {})
        assert status in (302, 303)
        assert "3 places left" in one.page("/courses")
        assert "You have a place." not in one.page(a)


def test_two_workers_on_sqlite_see_each_others_changes_at_the_next_request(app, tmp_path):
    check_two_workers(app, app.config["SQLALCHEMY_DATABASE_URI"], tmp_path)


@pytest.mark.postgres
def test_two_workers_on_postgresql_see_each_others_changes_at_the_next_request(
        pg_app, tmp_path):
    check_two_workers(pg_app, pg_app.config["SQLALCHEMY_DATABASE_URI"], tmp_path)
