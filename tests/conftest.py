"""Fixtures shared by the whole suite.

- ``app``: one app per session (``create_app("testing")``) on a SQLite file, schema made once;
  every test starts from empty tables plus the region's organisations.
- ``ctx``: an app context for service tests. View tests do not use it: the test client would
  share its ``g`` and session across requests.
- The clock: every test starts at the same moment, ``TEST_NOW`` (time-machine, ticking), so no
  test depends on the hour it runs at. ``LMS_TEST_NOW`` moves that moment (an ISO time, or
  ``wall`` for the wall clock when the run starts; under `faketime` that is the default); a
  test that needs the real time is marked ``real_clock``.
- ``client``, ``runner``, ``login``; factories ``make_user``; ``people`` (one per role for the
  authorisation table); ``mailbox`` (deliver the outbox, read what was sent).
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from itertools import count

import pytest
import time_machine
from flask import Flask, has_app_context
from flask.testing import FlaskClient
from sqlalchemy import delete, select

from lms import create_app
from lms.accounts.models import Organisation, Role, User, UserRole
from lms.accounts.services import ensure_organisations, hash_password
from lms.clock import utcnow
from lms.extensions import db
from lms.notifications.delivery import deliver_outbox
from lms.notifications.services import sent_messages
from lms.security import SECOND_STEP_KEY

# Uploaded-file stores for tests: ``any_storage`` (local disk and S3), ``s3_server`` (moto).
pytest_plugins = ["tests.storage_fixtures"]

PASSWORD = "correct horse battery"
# Every admin made by ``make_user`` has two-step verification on with this secret
# (``pyotp.TOTP(TOTP_SECRET).now()`` is their current code).
TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"  # noqa: S105 - a test fixture

# ---------------------------------------------------------------------------- The clock
# A plain Wednesday morning in British Summer Time (so London is not UTC), far from midnight,
# a month's end and a clock change. `make test` also runs the date-building tests at harder
# moments (see TIME_SLICE in the Makefile).
DEFAULT_NOW = datetime(2027, 5, 12, 9, 30, tzinfo=UTC)


def _moment_from(setting: str | None) -> datetime:
    """The moment every test starts at: ``LMS_TEST_NOW`` (ISO, UTC if no offset), ``wall`` for
    the wall clock now, or the default."""
    if not setting:
        return DEFAULT_NOW
    if setting == "wall":
        return datetime.now(UTC).replace(microsecond=0)
    moment = datetime.fromisoformat(setting)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


# Under `faketime` (which sets FAKETIME) the faked wall clock is the moment, unless told.
TEST_NOW = _moment_from(os.environ.get("LMS_TEST_NOW")
                        or ("wall" if os.environ.get("FAKETIME") else None))
_travel = time_machine.travel(TEST_NOW, tick=True)
_clock: time_machine.Coordinates | None = None


def pytest_configure(config: pytest.Config) -> None:
    """Start the clock at ``TEST_NOW`` before anything is collected, so session- and
    module-wide fixtures build their dates at that moment too."""
    global _clock
    _clock = _travel.start()


def pytest_unconfigure(config: pytest.Config) -> None:
    global _clock
    if _clock is not None:
        _travel.stop()
        _clock = None


def pytest_report_header(config: pytest.Config) -> str:
    return f"every test starts at {TEST_NOW.isoformat()} (LMS_TEST_NOW to change)"


@pytest.fixture(autouse=True)
def _pinned_clock(request: pytest.FixtureRequest) -> Iterator[None]:
    """Put the clock back to ``TEST_NOW`` (ticking) as each test starts, or on the wall clock
    for a test marked ``real_clock``. Every other autouse fixture asks for this one, so the
    whole of a test's set-up happens after it."""
    if _clock is not None:
        if request.node.get_closest_marker("real_clock"):
            _clock.move_to(datetime.fromtimestamp(time_machine.escape_hatch.time.time(), UTC))
        else:
            _clock.move_to(TEST_NOW)
    yield


@pytest.fixture(autouse=True)
def _app_log_handlers_removed() -> Iterator[None]:
    """Take away the log handlers a production-like ``create_app`` in a test adds to the root
    logger (``lms.observability.logs``, ``logging.basicConfig``): they write to the stream
    pytest captured for that test, which is closed afterwards, so every later log record
    (aiosmtpd's, a thread's) printed "--- Logging error ---" into the run's output."""
    root = logging.getLogger()
    level = root.level
    yield
    for handler in list(root.handlers):
        if type(handler) is logging.StreamHandler:  # pytest's own are subclasses
            root.removeHandler(handler)
    root.setLevel(level)


@pytest.fixture(scope="session")
def app(tmp_path_factory: pytest.TempPathFactory) -> Flask:
    folder = tmp_path_factory.mktemp("lms")
    app = create_app(
        "testing",
        SQLALCHEMY_DATABASE_URI=f"sqlite:///{folder / 'test.sqlite3'}",
        MAIL_OUTBOX_DIR=str(folder / "outbox"),
        UPLOAD_DIR=str(folder / "uploads"),  # lms.learning's files
    )
    with app.app_context():
        db.create_all()
    return app


def reset_database() -> None:
    """Empty every table, then put back the organisations every install has."""
    for table in reversed(db.metadata.sorted_tables):
        db.session.execute(delete(table))
    ensure_organisations()
    db.session.commit()


@pytest.fixture(autouse=True)
def _fresh_database(_pinned_clock: None, app: Flask) -> Iterator[None]:
    with app.app_context():
        reset_database()
        sent_messages().clear()
    yield
    with app.app_context():
        db.session.rollback()


@pytest.fixture
def ctx(app: Flask) -> Iterator[Flask]:
    """An app context (and its database session) for testing services directly."""
    with app.test_request_context():
        yield app
        db.session.rollback()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask):
    return app.test_cli_runner()


def organisation(code: str) -> Organisation:
    return db.session.scalar(select(Organisation).where(Organisation.code == code))


_serial = count(1)


@pytest.fixture
def make_user(app: Flask) -> Callable[..., User]:
    """Create a verified user. Inside ``ctx`` the user stays in the test's session (flushed);
    outside, it is committed in its own context and returned detached with its data loaded."""

    def make(
        *roles: Role,
        org: str = "BSOL",
        email: str | None = None,
        name: str | None = None,
        password: str = PASSWORD,
        verified: bool = True,
        two_step: bool | None = None,
    ) -> User:
        def build() -> User:
            n = next(_serial)
            user = User(
                email=(email or f"person{n}@example.nhs.uk").lower(),
                full_name=name or f"Person {n}",
                job_title="Analyst",
                organisation=organisation(org),
                password_hash=hash_password(password),
                email_verified_at=utcnow() if verified else None,
            )
            user.role_rows.extend(UserRole(role=r) for r in {Role.LEARNER, *roles})
            if two_step if two_step is not None else Role.ADMIN in roles:
                # Admins must have two-step verification on; theirs uses a known secret.
                user.totp_secret, user.totp_enabled_at = TOTP_SECRET, utcnow()
            db.session.add(user)
            db.session.flush()
            return user

        if has_app_context():
            return build()
        with app.app_context():
            user = build()
            db.session.commit()
            user = db.session.scalar(select(User).where(User.id == user.id))
            _ = (user.organisation.name, user.role_rows)
            db.session.expunge_all()
            return user

    return make


@pytest.fixture
def login(client: FlaskClient) -> Callable[[User | None], FlaskClient]:
    """Sign ``user`` in on the test client (or sign out with ``None``). Like the password,
    the second step is taken as given for people who have it on (``second_step=False`` signs
    them in as a session that has not given a code)."""

    def do(user: User | None, on: FlaskClient | None = None,
           second_step: bool = True) -> FlaskClient:
        target = on or client
        with target.session_transaction() as session:
            session.clear()
            if user is not None:
                session["_user_id"] = user.get_id()
                session["_fresh"] = True
                if second_step:  # counts only for people who have it on
                    session[SECOND_STEP_KEY] = user.get_id()
        return target

    return do


def sign_in_with_code(client: FlaskClient, email: str, password: str = PASSWORD,
                      secret: str = TOTP_SECRET):
    """Sign in through the pages: the password, then the current code from the
    authenticator (``secret``) for people with two-step verification on."""
    import pyotp

    first = client.post("/sign-in", data={"email": email, "password": password})
    if first.status_code != 302 or not first.location.endswith("/sign-in/code"):
        return first
    return client.post("/sign-in/code", data={"code": pyotp.TOTP(secret).now()})


@dataclass
class People:
    learner: User
    dsu_same: User
    dsu_other: User
    faculty: User
    admin: User

    def by_role(self, role: str) -> User | None:
        return None if role == "anonymous" else getattr(self, role)


ROLES = ["anonymous", "learner", "dsu_same", "dsu_other", "faculty", "admin"]


@pytest.fixture
def people(make_user) -> People:
    """One person per column of the authorisation table. The learner (Birmingham and
    Solihull) is whose data is at stake; ``dsu_same`` leads that ICS, ``dsu_other`` another."""
    return People(
        learner=make_user(org="BSOL", name="Lena Learner"),
        dsu_same=make_user(Role.DSU_LEAD, org="BSOL", name="Sam Samelead"),
        dsu_other=make_user(Role.DSU_LEAD, org="BC", name="Olu Otherlead"),
        faculty=make_user(Role.FACULTY, org="SU", name="Fay Faculty"),
        admin=make_user(Role.ADMIN, org="SU", name="Ada Admin"),
    )


class Mailbox:
    """Deliver the outbox through the memory backend and read what arrived."""

    def __init__(self, app: Flask):
        self.app = app

    def deliver(self) -> list[EmailMessage]:
        with self.app.app_context():
            deliver_outbox()
            return list(sent_messages())

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.deliver() if m["To"] == address]

    def last_link(self, address: str, path_fragment: str) -> str:
        """The path of the last link containing ``path_fragment`` emailed to ``address``."""
        for message in reversed(self.to(address)):
            body = message.get_body(("plain",)).get_content()
            for url in re.findall(r"https?://\S+", body):
                if path_fragment in url:
                    return re.sub(r"^https?://[^/]+", "", url)
        raise AssertionError(f"no link with {path_fragment!r} emailed to {address}")


@pytest.fixture
def mailbox(app: Flask) -> Mailbox:
    return Mailbox(app)


# ---------------------------------------------------------------------------- PostgreSQL
# Tests that use these fixtures are marked ``@pytest.mark.postgres``. A missing PostgreSQL is a
# failure, not a skip: `make test` installs it, so its absence means the setup is broken.


@pytest.fixture(scope="session")
def postgres_server():
    """A throw-away PostgreSQL 15 server for the session (see ``tests/postgres.py``)."""
    from tests.postgres import PostgresServer, PostgresUnavailable

    server = PostgresServer()
    problem = None
    try:
        server.start()
    except PostgresUnavailable as error:
        problem = str(error)
    if problem is not None:
        pytest.fail(problem, pytrace=False)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def pg_app(postgres_server, tmp_path) -> Iterator[Flask]:
    """An app on a fresh PostgreSQL database of its own: schema from the models plus the
    region's organisations. The database is dropped afterwards."""
    name = postgres_server.unique_name()
    url = postgres_server.create_database(name)
    # Tests crowd up to 200 threads onto the pool (production's sync workers hold one
    # connection each): a wait for a free connection may be long on a loaded machine, but
    # it is a wait, not a failure (the default 30 s gave up during a loaded CI run).
    pg = create_app(
        "testing", SQLALCHEMY_DATABASE_URI=url, MAIL_OUTBOX_DIR=str(tmp_path / "outbox"),
        SQLALCHEMY_ENGINE_OPTIONS={"pool_timeout": 150},
    )
    try:
        with pg.app_context():
            db.create_all()
            ensure_organisations()
            db.session.commit()
        yield pg
    finally:
        with pg.app_context():
            db.session.remove()
            db.engine.dispose()
        postgres_server.drop_database(name)


@pytest.fixture
def count_queries(app: Flask):
    """``with count_queries() as counted: ...`` then ``counted.n`` is the number of SQL
    statements sent to the database inside the block (any thread, this app's engine)."""
    from contextlib import contextmanager

    from sqlalchemy import event

    class Counter:
        n = 0
        statements: list[str] = []

    @contextmanager
    def counting():
        counter = Counter()
        counter.statements = []
        with app.app_context():
            engine = db.engine

        def before(conn, cursor, statement, parameters, context, executemany):
            if statement.strip().upper() in ("BEGIN", "BEGIN IMMEDIATE", "COMMIT", "ROLLBACK"):
                return
            counter.n += 1
            counter.statements.append(statement)

        event.listen(engine, "before_cursor_execute", before)
        try:
            yield counter
        finally:
            event.remove(engine, "before_cursor_execute", before)

    return counting


_course_serial = count(1)


@pytest.fixture
def make_cohort(app: Flask):
    """Create an open cohort of a new course with one session a month ahead.

    ``quotas`` maps ICS codes to reserved places. Inside ``ctx`` the cohort stays in the test's
    session (flushed); outside, it is committed and its id returned in a detached object."""
    from datetime import timedelta

    from lms.courses.models import Cohort, Course
    from lms.offerings.models import OfferingQuota, Session

    def make(capacity: int | None = 20, mode: str = "open", status: str = "open",
             quotas: dict[str, int] | None = None, starts_in: timedelta = timedelta(days=30),
             **fields):
        def build():
            n = next(_course_serial)
            course = Course(title=f"Course {n}", summary="A course", kind="short_course",
                            strand="analytical_capability", format="online")
            cohort = Cohort(course=course, name=f"Cohort {n}", title=f"Course {n}: Cohort {n}",
                            capacity=capacity, booking_mode=mode, status=status, **fields)
            start = utcnow() + starts_in
            cohort.sessions.append(Session(starts_at=start, ends_at=start + timedelta(hours=2),
                                           title="Session 1"))
            for code, places in (quotas or {}).items():
                cohort.quotas.append(OfferingQuota(organisation_id=organisation(code).id,
                                                   places=places))
            db.session.add(cohort)
            db.session.flush()
            return cohort

        if has_app_context():
            return build()
        with app.app_context():
            cohort = build()
            db.session.commit()
            cohort_id = cohort.id
            db.session.expunge_all()
            cohort = db.session.get(Cohort, cohort_id)
            _ = (cohort.course.title, cohort.sessions, cohort.quotas, cohort.lead_rows)
            db.session.expunge_all()
            return cohort

    return make
