"""Odd input, generated (hypothesis): very long strings, control characters, mixed scripts,
HTML and SQL fragments, dates at the clock changes, negative and huge numbers. Whatever
comes in: never a 500, names with ``<script>`` are shown escaped, nothing is half-saved.

Each property runs a bounded number of examples (``max_examples`` 40–50, no deadline) so the
suite stays quick; the database is the test's own for all of them, so each example checks
what it changed against counts taken just before.
"""

from __future__ import annotations

import contextlib
import csv
import io
import re
from dataclasses import dataclass
from datetime import date, time, timedelta
from html import unescape
from urllib.parse import parse_qsl, urlsplit

import pytest
from flask_login import login_user
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from lms import jobs
from lms.accounts import organisation_changes
from lms.accounts.models import Role, User
from lms.attendance import imports
from lms.attendance import reports as attendance_reports
from lms.attendance.models import Attendance, AttendanceImport
from lms.clock import LONDON, utcnow
from lms.errors import DomainError, InvalidInput
from lms.extensions import db
from lms.feedback.models import Survey, SurveyQuestion
from lms.feedback.services import check_answers
from lms.notifications.models import OutboxMessage
from lms.offerings import services as places
from lms.offerings.models import Enrolment, EnrolmentState, Session
from tests.conftest import organisation

# Derandomised (the same examples every run, so a failure is reproducible in CI) and with no
# example database (nothing written into the working tree).
BOUNDED = settings(max_examples=50, deadline=None, derandomize=True, database=None,
                   suppress_health_check=[HealthCheck.function_scoped_fixture,
                                          HealthCheck.too_slow, HealthCheck.data_too_large])

FRAGMENTS = [
    "<script>alert(1)</script>", "\"><img src=x onerror=alert(1)>",
    "'; DROP TABLE user_account; --",
    "' OR '1'='1", "{{ 7*7 }}", "${jndi:ldap://x}", "%00", "\x00", "\r\n", "\t", "\x1b[31m",
    "\u202e\u0644\u0627", "Ñandú 名前 имя اسم 🙂", "Zoë O'Brien-Smith", "a" * 5000, "=1+1",
    "@SUM(A1)", "-2", "0", "9" * 40, "０１２", "\ufeff", " ", "",
]
# Every character a form can carry (no lone surrogates: they cannot be encoded).
TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=300)
ODD = st.one_of(TEXT, st.sampled_from(FRAGMENTS),
                st.builds(lambda a, b: a + b, st.sampled_from(FRAGMENTS), TEXT))
NUMBERS = st.one_of(st.integers(min_value=-10**20, max_value=10**20).map(str),
                    st.sampled_from(["", "-0", "1e9", "1.5", "０", "12,000", "0x10", "NaN"]))
# Days on which the clocks change in the UK, and ordinary ones beside them.
CLOCK_DAYS = [date(2026, 3, 29), date(2026, 10, 25), date(2027, 3, 28), date(2027, 10, 31),
              date(2026, 3, 28), date(2026, 10, 26)]
TIMES = st.one_of(st.builds(lambda h, m: f"{h:02d}:{m:02d}", st.integers(0, 23),
                            st.integers(0, 59)),
                  st.sampled_from(["00:59", "01:00", "01:30", "01:59", "02:00", "24:00",
                                   "25:61", "1.30", "", "noon", "-1:00"]))


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model)) or 0


def assert_escaped(html: str, *values: str) -> None:
    """No value with markup comes back as markup."""
    for value in values:
        if "<script>" in value:
            assert "<script>alert(1)" not in html
        if "<img src=x" in value:
            assert "<img src=x" not in html


# ---------------------------------------------------------------------------- sign-up


def test_sign_up_with_odd_input(app, client):
    with app.app_context():
        bsol = organisation("BSOL").id

    @BOUNDED
    @given(name=ODD, email=st.one_of(ODD, st.emails().map(str.upper)), job=ODD,
           password=st.one_of(ODD, st.just("correct horse battery")),
           org=st.one_of(st.just(str(bsol)), NUMBERS, ODD))
    @example(name="<script>alert(1)</script>", email="x@example.nhs.uk", job="",
             password="correct horse battery", org="9" * 30)
    @example(name="Zoë", email="zoe@example.nhs.uk", job="\x00",
             password="correct horse battery", org=str(bsol))
    def sign_up(name, email, job, password, org):
        with app.app_context():
            people, emails = count(User), count(OutboxMessage)
        response = client.post("/sign-up", data={
            "full_name": name, "email": email, "job_title": job,
            "organisation_id": org, "password": password, "confirm": password})
        assert response.status_code in (200, 302)
        with app.app_context():
            added, sent = count(User) - people, count(OutboxMessage) - emails
        if response.status_code == 200:
            html = response.get_data(as_text=True)
            assert "There is a problem" in html
            assert_escaped(html, name, job, email)
            assert (added, sent) == (0, 0), "a refused sign-up saved something"
        else:
            # A new account and its confirmation email, or (an address already known) just
            # an email to its owner.
            assert (added, sent) in ((1, 1), (0, 1))
        client.get("/sign-up/check-your-email")

    sign_up()


# ---------------------------------------------------------------------------- profile


def test_profile_with_odd_input(app, client, login, make_user):
    person = make_user(name="Pat Person")
    login(person)
    with app.app_context():
        choices = [str(organisation(code).id) for code in ("BSOL", "SU")]

    @BOUNDED
    @given(name=ODD, job=ODD, org=st.one_of(st.sampled_from(choices), NUMBERS))
    @example(name="<script>alert(1)</script>", job="Analyst", org=choices[0])
    @example(name="Pat", job="Analyst", org="-" + "9" * 25)
    def update(name, job, org):
        with app.app_context():
            before = db.session.get(User, person.id)
            was = (before.full_name, before.job_title, before.organisation_id)
        response = client.post("/profile", data={"full_name": name, "job_title": job,
                                                 "organisation_id": org})
        assert response.status_code in (200, 302)
        with app.app_context():
            after = db.session.get(User, person.id)
            now = (after.full_name, after.job_title, after.organisation_id)
        if response.status_code == 200:
            html = response.get_data(as_text=True)
            assert "There is a problem" in html
            assert now == was, "a refused change was partly saved"
            assert_escaped(html, name, job)
        else:
            assert now[0] == " ".join(name.split()) and now[1] == " ".join(job.split())
            # A new organisation is only asked for (tests/test_organisation_changes.py).
            assert now[2] == was[2]
            with app.app_context():
                waiting = organisation_changes.pending_for(db.session.get(User, person.id))
                asked = waiting.to_organisation_id if waiting else now[2]
            assert str(asked) == org.strip()
            page = client.get("/profile").get_data(as_text=True)
            assert_escaped(page, name, job)
            if "<script>" in name:
                assert "&lt;script&gt;" in page

    update()


# ---------------------------------------------------------------------------- booking


OPERATIONS = st.lists(st.tuples(st.sampled_from(["book", "withdraw", "accept", "decline",
                                                 "lapse"]),
                                st.integers(min_value=0, max_value=5)), max_size=25)


def test_booking_keeps_its_promises_whatever_the_order(app, make_user, make_cohort):
    """Any sequence of booking, withdrawing, accepting and declining offers, and offers
    lapsing, by six people on an offering of any capacity: never more places held than there
    are, the waiting list numbered 1, 2, 3... with no gaps, one enrolment per person, and a
    refused action changes nothing."""

    @BOUNDED
    @given(capacity=st.one_of(st.none(), st.integers(min_value=0, max_value=3)),
           operations=OPERATIONS)
    def run(capacity, operations):
        with app.test_request_context():
            cohort = make_cohort(capacity=capacity)
            people = [make_user() for _ in range(6)]
            db.session.commit()
            for action, who in operations:
                person = people[who]
                enrolment = db.session.scalar(select(Enrolment).where(
                    Enrolment.offering_id == cohort.id, Enrolment.user_id == person.id))
                before = _state(cohort.id)
                try:
                    if action == "book":
                        places.book(person, cohort)
                    elif action == "lapse":
                        jobs.lapse_offers_job(now=utcnow() + timedelta(days=30))
                    elif enrolment is None:
                        continue
                    elif action == "withdraw":
                        places.withdraw(person, enrolment)
                    elif action == "accept":
                        places.accept_offer(person, enrolment)
                    else:
                        places.decline(person, enrolment)
                except DomainError:
                    db.session.rollback()
                    assert _state(cohort.id) == before, "a refused action changed places"
                    continue
                db.session.commit()
                _check_places(cohort.id, capacity)

    run()


def _state(offering_id: int) -> list[tuple]:
    return sorted(db.session.execute(select(Enrolment.user_id, Enrolment.state,
                                            Enrolment.waitlist_position).where(
        Enrolment.offering_id == offering_id)).tuples().all())


def _check_places(offering_id: int, capacity: int | None) -> None:
    rows = _state(offering_id)
    held = [r for r in rows if r[1] in (EnrolmentState.ENROLLED, EnrolmentState.OFFERED)]
    if capacity is not None:
        assert len(held) <= capacity
    positions = sorted(r[2] for r in rows if r[1] == EnrolmentState.WAITLISTED)
    assert positions == list(range(1, len(positions) + 1))
    assert len({r[0] for r in rows}) == len(rows)
    if capacity is None:
        assert not positions


# ---------------------------------------------------------------------------- survey answers


def test_survey_answers_are_checked_whatever_is_sent(app, make_cohort):
    with app.test_request_context():
        cohort = make_cohort()
        survey = Survey(title="Feedback", anonymous=True, offering_id=cohort.id)
        kinds = [("agreement", []), ("rating", []), ("single_choice", ["Yes", "No"]),
                 ("multiple_choice", ["Red", "Green", "Blue"]), ("short_text", []),
                 ("long_text", [])]
        for position, (kind, choices) in enumerate(kinds, start=1):
            survey.questions.append(SurveyQuestion(position=position, kind=kind,
                                                   text=f"Question {position}",
                                                   choices=choices,
                                                   required=position % 2 == 0))
        db.session.add(survey)
        db.session.commit()
        ids = [q.id for q in survey.questions]
        names = st.one_of(st.sampled_from([f"q{i}" for i in ids]), st.just("q999999"),
                          st.just("q" + "9" * 20), TEXT)
        values = st.one_of(ODD, NUMBERS, st.lists(st.one_of(NUMBERS, ODD), max_size=5))

        @BOUNDED
        @given(form=st.dictionaries(names, values, max_size=8), complete=st.booleans())
        def check(form, complete):
            try:
                _, answers = check_answers(survey, form, complete=complete)
            except InvalidInput as error:
                assert error.errors and all(message for _, message in error.errors)
                return
            for answer in answers:
                offered = {value for value, _ in answer.question.options}
                assert set(answer.numbers) <= offered
                if answer.question.kind == "single_choice":
                    assert len(answer.numbers) <= 1
                if answer.text is not None:
                    assert answer.text.strip() and len(answer.text) <= 10_000

        check()


# ---------------------------------------------------------------------------- catalogue


def test_catalogue_filters_with_odd_input(client, make_cohort):
    make_cohort()

    @BOUNDED
    @given(q=ODD, kind=ODD, strand=ODD, fmt=ODD,
           starts=st.one_of(ODD, st.sampled_from(CLOCK_DAYS).map(str),
                            st.sampled_from(["29/3/2026", "31/2/2026", "0000-00-00",
                                             "9999-12-31", "1/1/0001"])),
           has_places=st.sampled_from(["", "y", "on", "0", "\x00"]))
    def browse(q, kind, strand, fmt, starts, has_places):
        response = client.get("/courses", query_string={
            "q": q, "kind": kind, "strand": strand, "format": fmt, "starts_after": starts,
            "has_places": has_places})
        assert response.status_code == 200
        assert_escaped(response.get_data(as_text=True), q, kind, strand, fmt, starts)

    browse()


# ---------------------------------------------------------------------------- report import


TEAMS_HEADER = ["Name", "First Join", "Last Leave", "In-Meeting Duration", "Email",
                "Participant ID (UPN)", "Role"]


def _teams_file(rows: list[tuple[str, str, str]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["1. Summary"])
    writer.writerow([])
    writer.writerow(["2. Participants"])
    writer.writerow(TEAMS_HEADER)
    for name, minutes, email in rows:
        writer.writerow([name, "", "", minutes, email, email, "Attendee"])
    return out.getvalue().encode("utf-16")


def test_attendance_report_import_is_all_or_nothing(app, make_user, make_cohort):
    """Any bytes, or a Teams report with odd rows: imported whole, or refused with a message
    and nothing saved."""
    with app.test_request_context():
        faculty = make_user(Role.FACULTY)
        cohort = make_cohort(starts_in=timedelta(days=-1))
        session = cohort.sessions[0]
        learner = make_user(email="known@example.nhs.uk")
        db.session.add(Enrolment(offering_id=cohort.id, user_id=learner.id,
                                 state=EnrolmentState.ENROLLED))
        db.session.commit()
        session_id, faculty_id = session.id, faculty.id

    minutes = st.one_of(st.sampled_from(["1h 5m", "45m 10s", "2h", "0s", "-5m", "99999h",
                                         "", "abc"]), NUMBERS)
    row = st.tuples(ODD, minutes, st.one_of(st.just("known@example.nhs.uk"), st.emails(), ODD))

    @BOUNDED
    @given(data=st.one_of(st.binary(max_size=2000), st.lists(row, max_size=6).map(_teams_file)),
           filename=st.sampled_from(["report.csv", "report.xlsx", "", "../../etc/passwd",
                                     "r\x00.csv"]),
           percent=st.one_of(st.none(), st.integers(min_value=-5, max_value=500)))
    def upload(data, filename, percent):
        with app.test_request_context():
            login_user(db.session.get(User, faculty_id))
            before = (count(AttendanceImport), count(Attendance))
            with contextlib.suppress(DomainError):
                attendance_reports.read_report(data, filename)
            try:
                imports.import_report(db.session.get(User, faculty_id),
                                         db.session.get(Session, session_id), data, filename,
                                         min_percent=percent)
            except DomainError:
                db.session.rollback()
                assert (count(AttendanceImport), count(Attendance)) == before
            else:
                db.session.commit()
                assert count(AttendanceImport) == before[0] + 1

    upload()


# ---------------------------------------------------------------------------- clock changes


def test_sessions_at_the_clock_changes(app, client, login, make_user, make_cohort):
    """A time that does not exist in London (the spring-forward hour) is refused with a
    message; any other is saved and shows the same wall-clock time again."""
    faculty = make_user(Role.FACULTY)
    cohort = make_cohort()
    login(faculty)

    @BOUNDED
    @given(day=st.sampled_from(CLOCK_DAYS), start=TIMES, end=TIMES, capacity=NUMBERS,
           title=ODD)
    def add(day, start, end, capacity, title):
        with app.app_context():
            sessions = count(Session)
        response = client.post(f"/faculty/cohorts/{cohort.id}/sessions/new", data={
            "day": day.isoformat(), "start": start, "end": end, "title": title,
            "capacity": capacity, "location": "", "join_url": ""})
        assert response.status_code in (200, 302)
        with app.app_context():
            added = count(Session) - sessions
            newest = db.session.scalar(select(Session).order_by(Session.id.desc()))
            db.session.expunge_all()
        if response.status_code == 200:
            assert added == 0
            html = response.get_data(as_text=True)
            assert "There is a problem" in html
            assert_escaped(html, title)
            return
        assert added == 1
        local = newest.starts_at.astimezone(LONDON)
        hour, minute = (int(part) for part in start.replace(".", ":").split(":"))
        assert (local.date(), local.time().replace(second=0)) == (day, time(hour, minute))
        if day in (date(2026, 10, 25), date(2027, 10, 31)) and hour == 1:
            assert local.utcoffset() == timedelta(hours=1)  # the first, summer-time 01:xx

    add()


# ---------------------------------------------------------------------------- PostgreSQL


@pytest.mark.postgres
def test_odd_text_never_fails_on_postgresql(pg_app):
    """PostgreSQL is stricter than SQLite (no NUL in text, 32-bit integers): the same odd
    input through searches and forms must still never be a 500 there."""
    client = pg_app.test_client()

    @settings(max_examples=40, deadline=None, derandomize=True, database=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture,
                                     HealthCheck.too_slow])
    @given(text=st.one_of(ODD, st.builds(lambda t: t + "\x00" + t, TEXT)), number=NUMBERS)
    def send(text, number):
        answers = [
            client.get("/courses", query_string={"q": text, "starts_after": text}),
            client.get("/events", query_string={"kind": text}),
            client.post("/sign-in", data={"email": text, "password": text}),
            client.post("/forgot-password", data={"email": text + "@example.nhs.uk"}),
            client.post("/sign-up", data={"full_name": text, "email": "x@example.nhs.uk",
                                          "job_title": text, "organisation_id": number,
                                          "password": text, "confirm": text}),
            client.get(f"/courses/{number.lstrip('-') or 0}"),
        ]
        for response in answers:
            assert response.status_code < 500, response.request.path

    send()


# ---------------------------------------------------------------------------- every route


# Values no form or query should ever turn into a 500: huge and non-finite numbers, odd
# Unicode, control characters, markup, dates out of range, paths elsewhere.
HOSTILE = [
    "", " ", "0", "-1", "-0", "1.5", "1e309", "-1e309", "inf", "-Infinity", "NaN", "nan",
    "9" * 30, "-" + "9" * 30, "9" * 400, "2147483648", "9223372036854775808", "0x1F", "١٢",
    "０", "½", "\x00", "a\x00b", "\r\n", "\t", "\x1b[0m", "\u202e", "\ufeff", "\ud7ff",
    "\U0001f600" * 50, "Ω" * 3000, "a" * 20_000, "<script>alert(1)</script>",
    "'; DROP TABLE user_account; --", "{{ 7*7 }}", "%s%n", "../../etc/passwd",
    "0000-00-00", "9999-12-31", "2026-02-30", "1/1/0001", "2026-03-29T01:30",
    "24:00", "99:99", "true", "on", "[]", "{}", "null", "//evil.example", "\t//evil.example",
    "/\n/evil", "javascript:alert(1)", "BSOL", "-2147483649",
]
VALUES = st.one_of(st.sampled_from(HOSTILE), st.text(max_size=40),
                   st.integers(min_value=-10**30, max_value=10**30).map(str),
                   st.floats(allow_nan=True, allow_infinity=True).map(repr))
# Query parameters any page or API list might read (paging, filters, dates).
COMMON_QUERY = ["page", "per_page", "q", "from", "to", "kind", "status", "ics", "strand",
                "course", "offering", "cohort", "day", "date", "format", "sort",
                "starts_after", "has_places", "next", "year", "month", "region"]
FILES = st.one_of(st.just(b""), st.binary(max_size=300),
                  st.sampled_from([b"\xff\xfe", b"\x00" * 50, b"Name\tDuration\n",
                                   b"%PDF-1.4\n", b"\xef\xbb\xbf" + "é,\"".encode() * 50]))
# A handful of examples per route, no shrinking: bounded time, the same examples every run.
PER_ROUTE = settings(max_examples=6, deadline=None, derandomize=True, database=None,
                     phases=[Phase.explicit, Phase.generate],
                     suppress_health_check=list(HealthCheck))
FIELD_NAMES = re.compile(r'<(input|select|textarea)\b[^>]*\bname="([^"]+)"[^>]*>', re.S)


def bearer(app, person) -> dict[str, str]:
    from tests.test_api_views import bearer as token_headers

    return token_headers(app, person)


def _route_modules():
    from tests.test_authorisation import MODULES

    return MODULES


def _who(route) -> str | None:
    """The role that gets furthest into the route: one it lets in (or sends on after a
    POST), trying the most powerful first."""
    for role in ("admin", "faculty", "dsu_same", "learner", "dsu_other", "anonymous"):
        status = route.expect.get(role)
        if status in (200, 201) or (status == 302 and role != "anonymous"
                                    and route.method != "GET"):
            return role
    return None


FORMS = re.compile(r"<form\b([^>]*)>(.*?)</form>", re.S)
FILE_INPUT = re.compile(r'<input\b(?=[^>]*\btype="file")[^>]*\bname="([^"]+)"', re.S)
SIGN_OUT = "/sign-out"
INPUT_VALUE = re.compile(r'<input\b[^>]*\bname="([^"]+)"[^>]*\bvalue="([^"]*)"', re.S)


@dataclass(frozen=True)
class Target:
    """One request shape to fuzz: a method and address, the names it may carry (and which
    are file uploads), and data that passes its form's own checks, to start from."""

    endpoint: str
    method: str
    url: str
    names: tuple[str, ...]
    files: tuple[str, ...] = ()
    data: tuple[tuple[str, str], ...] = ()


def _targets(client, url: str, route) -> list[Target]:
    """The route itself (its table data, and for a GET the common query parameters), and
    every form its page shows, sent where the form says, with the form's boxes."""
    names = set(route.data or {}) | {"next"}
    if route.method == "GET":
        names |= set(COMMON_QUERY)
    found = [Target(route.endpoint, route.method, url, tuple(sorted(names)),
                    data=tuple((route.data or {}).items()))]
    if route.method != "GET":
        return found
    page = client.get(url)
    if page.status_code != 200 or page.mimetype != "text/html":
        return found
    for attributes, body in FORMS.findall(page.get_data(as_text=True)):
        method = re.search(r'\bmethod="(\w+)"', attributes)
        action = re.search(r'\baction="([^"]*)"', attributes)
        target = unescape(action.group(1)) if action and action.group(1) else url
        if not target.startswith("/") or target.startswith("//") or target == SIGN_OUT:
            continue  # signing out (everywhere) is fuzzed last, as its own route
        files = set(FILE_INPUT.findall(body))
        boxes = {name for _, name in FIELD_NAMES.findall(body)} - {"csrf_token"} - files
        values = {k: unescape(v) for k, v in INPUT_VALUE.findall(body) if k != "csrf_token"}
        found.append(Target(route.endpoint, (method.group(1) if method else "get").upper(),
                            target, tuple(sorted(boxes | {"next"})), tuple(sorted(files)),
                            tuple(values.items())))
    return found


def _fuzz(client, login, person, target: Target, headers: dict[str, str]) -> None:
    """Hostile requests of one shape; the first that answers 500 (or leaves the site)
    fails, with what was sent. ``headers`` carry an API token for the API."""

    @PER_ROUTE
    @given(values=st.dictionaries(st.sampled_from(target.names), VALUES, max_size=6),
           uploads=st.dictionaries(st.sampled_from(target.files or ("report",)), FILES,
                                   max_size=len(target.files)),
           keep=st.booleans())
    def call(values, uploads, keep):
        login(person)
        path, _, query = target.url.partition("?")
        asked = {**dict(parse_qsl(query)), **values}
        base = dict(target.data) if keep else {}
        if target.method == "GET":
            response = client.get(path, query_string=asked, headers=headers)
        elif path.startswith("/api/"):
            response = client.open(path, method=target.method, json={**base, **values},
                                   query_string=asked, headers=headers)
        else:
            data = {**base, **values}
            for name, content in uploads.items():
                data[name] = (io.BytesIO(content), "report.csv")
            response = client.open(target.url, method=target.method, data=data,
                                   content_type="multipart/form-data")
        assert response.status_code < 500, (target.endpoint, target.method, target.url,
                                            values)
        if response.status_code in (301, 302, 303, 307):
            location = response.headers["Location"]
            assert urlsplit(location).netloc in ("", "localhost"), location

    call()


@pytest.mark.parametrize("module", _route_modules(), ids=lambda m: m.__name__.rsplit(".", 1)[1])
def test_no_input_to_any_route_is_a_500(app, client, login, people, module):
    """Every route in the authorisation table (so a new route is covered as soon as it is
    in the table), as the person who gets furthest into it, and every form its page shows:
    hostile values in every box, the table's data and the common query parameters (paging,
    filters, dates); files empty or odd. GETs first, then POSTs (which may change what later
    requests find), signing out last. Each request shape is tried once per family."""
    world = module.world(app, people)
    routes = sorted(module.ROUTES, key=lambda r: (r.method != "GET",
                                                  r.url(people, world) == SIGN_OUT))
    failures, checked, seen = [], 0, set()
    for route in routes:
        role = _who(route)
        if role is None:
            continue
        person = people.by_role(role)
        login(person)
        for target in _targets(client, route.url(people, world), route):
            shape = (target.method, target.url.partition("?")[0])
            if shape in seen:
                continue
            seen.add(shape)
            # The API is called as its clients do, with a token (as anyone, when no one).
            headers = bearer(app, person) if person is not None and \
                target.url.startswith("/api/") else {}
            try:
                _fuzz(client, login, person, target, headers)
            except Exception as failure:  # noqa: BLE001 - every route's failure, not the first
                failures.append(f"{target.method} {target.url}: {type(failure).__name__}: "
                                f"{str(failure)[:600]}")
        checked += 1
    assert failures == []
    assert checked >= len(module.ROUTES) // 2


@pytest.mark.parametrize("ordinal", ["0000-00-00", "7", "1.0", "\x00", "9" * 40])
def test_a_week_of_the_month_never_offered_is_refused_with_a_message(client, login, people,
                                                                     ordinal):
    """Found by the route fuzzing above: the box's value went straight to ``int()``."""
    login(people.faculty)
    response = client.post("/faculty/networks/new", data={
        "title": "Huddles", "frequency": "MONTHLY", "ordinal": ordinal, "weekdays": "WE"})
    assert response.status_code == 200
    assert "Choose which week of the month" in response.get_data(as_text=True)
