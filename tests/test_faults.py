"""Faults: PostgreSQL going away while the service runs gives the NHS "service unavailable"
page (503, never a 500 with a trace) and nothing half-saved; when it comes back, the next
requests work again without restarting anything (``configure_postgresql`` replaces dead
connections).

The test runs its own PostgreSQL server, so stopping it cannot upset other tests.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import func, select

from lms import create_app
from lms.accounts.models import User
from lms.accounts.services import ensure_organisations, hash_password
from lms.clock import utcnow
from lms.courses.models import Cohort, Course
from lms.extensions import db
from lms.offerings.models import Enrolment, Session
from tests.conftest import PASSWORD, organisation
from tests.postgres import PostgresServer

pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module")
def own_server() -> Iterator[PostgresServer]:
    server = PostgresServer().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def service(own_server, tmp_path) -> Flask:
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=own_server.create_database(),
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
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def unavailable(response) -> bool:
    html = response.get_data(as_text=True)
    return (response.status_code == 503
            and "<h1>Sorry, the service is unavailable</h1>" in html
            and 'class="nhsuk-header' in html
            and "Traceback" not in html and "psycopg" not in html)


def places(app: Flask) -> int:
    with app.app_context():
        n = db.session.scalar(select(func.count(Enrolment.id)))
        db.session.rollback()
        return n


def test_the_database_going_away_gives_503_and_the_service_recovers(service, own_server):
    cohort = service.config["COHORT_ID"]
    visitor, lena = service.test_client(), service.test_client()
    assert lena.post("/sign-in", data={"email": "lena@example.nhs.uk",
                                       "password": PASSWORD}).status_code == 302
    pages = ["/courses", f"/cohorts/{cohort}", "/events"]
    for path in pages:
        assert visitor.get(path).status_code == 200, path
    assert lena.get("/my-learning").status_code == 200  # connections now pooled

    own_server.pause()
    try:
        down_since = time.monotonic()
        while time.monotonic() - down_since < 3:  # "a few seconds"
            for path in pages:
                started = time.monotonic()
                response = visitor.get(path)
                assert unavailable(response), (path, response.status_code)
                assert time.monotonic() - started < 5, "an answer, not a hang"
            assert unavailable(lena.get("/my-learning"))
            assert visitor.get("/").status_code == 200  # the home page needs no database
            assert unavailable(lena.post(f"/offerings/{cohort}/book"))
            health = visitor.get("/healthz")
            assert health.status_code == 503 and health.get_json()["database"] == "unreachable"
            time.sleep(0.5)
    finally:
        own_server.resume()

    # Back: the very next requests work, with nobody restarting the app.
    for path in pages:
        assert visitor.get(path).status_code == 200, path
    assert visitor.get("/healthz").status_code == 200
    my_learning = lena.get("/my-learning")
    assert my_learning.status_code == 200, "still signed in: the session outlived the outage"
    assert places(service) == 0, "nothing was half-saved while the database was away"
    assert lena.post(f"/offerings/{cohort}/book").status_code == 302
    assert places(service) == 1


def test_the_database_going_away_between_requests_of_a_form(service, own_server):
    """A person loads a form, the database restarts, they submit: it just works."""
    cohort = service.config["COHORT_ID"]
    lena = service.test_client()
    lena.post("/sign-in", data={"email": "lena@example.nhs.uk", "password": PASSWORD})
    assert lena.get(f"/cohorts/{cohort}").status_code == 200
    own_server.pause()
    own_server.resume()
    assert lena.post(f"/offerings/{cohort}/book").status_code == 302
    assert places(service) == 1


def test_a_connection_lost_after_the_page_was_made_still_answers_the_page(own_server,
                                                                          tmp_path):
    """The database drops the request's connection after its last query: closing the session
    then fails its rollback. That error used to reach gunicorn (a bare 500); the page stands,
    and the next request gets a new connection."""
    from sqlalchemy import text
    from werkzeug.test import Client

    app = create_app("testing", SQLALCHEMY_DATABASE_URI=own_server.create_database(),
                     MAIL_OUTBOX_DIR=str(tmp_path / "outbox"))

    @app.route("/test/connection-cut")
    def connection_cut():
        pid = db.session.scalar(text("SELECT pg_backend_pid()"))
        with own_server.connect_admin() as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
        return "the page, made before the connection went"

    client = Client(app)  # the WSGI app as gunicorn calls it
    response = client.get("/test/connection-cut")
    assert response.status_code == 200
    assert response.get_data(as_text=True) == "the page, made before the connection went"
    assert client.get("/healthz").status_code == 200, "a new connection, by itself"
    with app.app_context():
        db.engine.dispose()


def test_an_error_outside_the_handlers_gets_the_nhs_page_not_a_bare_500(tmp_path):
    """The last safety net: an error raised after Flask's handlers (here, while the request
    is torn down) is answered with the service's 503 page for a database error."""
    from sqlalchemy.exc import OperationalError
    from werkzeug.test import Client

    app = create_app("testing", SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'x.db'}",
                     MAIL_OUTBOX_DIR=str(tmp_path / "outbox"))
    app.testing = False  # as in production: the error is not handed to a test
    failures = iter([OperationalError("ROLLBACK", {}, Exception("server closed"))])

    @app.teardown_appcontext
    def fails_once(_error):
        error = next(failures, None)
        if error is not None:
            raise error

    response = Client(app).get("/")
    assert unavailable(response)
    assert "Internal Server Error" not in response.get_data(as_text=True)
    assert response.headers["X-Frame-Options"] == "DENY"
    assert Client(app).get("/").status_code == 200


def test_a_connection_the_server_ended_between_requests_is_replaced_without_a_ping(service,
                                                                                   own_server):
    """An administrator (or an idle timeout, or a failover) ends a pooled connection while no
    request holds it. The next request is served on a new one: the pool finds the old one's
    socket readable at checkout. Nothing is sent to the server to find out (no
    ``pool_pre_ping``): the server sees only the page's own statements."""
    from sqlalchemy import event, text

    visitor = service.test_client()
    assert visitor.get("/healthz").status_code == 200
    with service.app_context():
        pool = db.engine.pool
        assert pool.checkedin() == 1, "one idle connection in the pool"
        pid = db.session.scalar(text("SELECT pg_backend_pid()"))
        db.session.remove()
    with own_server.connect_admin() as admin:
        assert admin.execute("SELECT pg_terminate_backend(%s)", (pid,)).fetchone()[0]
    time.sleep(0.5)  # the server's goodbye reaches the socket

    sent: list[str] = []
    with service.app_context():
        event.listen(db.engine, "before_cursor_execute",
                     lambda _c, _cur, statement, *_: sent.append(statement))
    assert visitor.get("/courses").status_code == 200, "served, not 'service unavailable'"
    with service.app_context():
        assert db.session.scalar(text("SELECT pg_backend_pid()")) != pid
        db.session.remove()
    assert not any(statement.strip().upper() == "SELECT 1" for statement in sent)
