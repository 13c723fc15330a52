"""Where a form or link asks to go afterwards (``next``) never leaves the site (issue 16,
item 16): every form and route taking ``next`` is posted hostile values; each redirects on
this site (or to the default page), never answers 500, and its action is saved once."""

from __future__ import annotations

from datetime import time
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select

from lms.extensions import db
from lms.offerings import services as engine
from lms.offerings.models import Booking, Enrolment, Offering
from lms.web import local_path, offering_url
from tests.conftest import PASSWORD
from tests.test_events_support import add_session, make_festival, person

HOSTILE = [
    "\t//evil.example", "/\t/evil.example", "/\n/evil.example", "/\r\n/evil.example",
    "https://evil.example", "//evil.example", "/\\evil.example", "\\\\evil.example",
    "javascript:alert(1)", " /evil", "/\x00/evil.example", "/ok\nLocation: https://evil.example",
    "///evil.example", "http:/evil.example", "/" + "a" * 5000, "/é", "\u2028//evil.example",
]


def stays_on_site(response, default: str) -> None:
    assert response.status_code == 302, response.status_code
    location = response.headers["Location"]
    parts = urlsplit(location)
    assert parts.netloc in ("", "localhost") and parts.scheme in ("", "http")
    assert "evil" not in location
    assert all("!" <= ch <= "~" for ch in location)
    assert parts.path == default


@pytest.mark.parametrize("target", HOSTILE)
def test_a_hostile_next_is_never_kept(target):
    assert local_path(target, "/home") == "/home"


@pytest.mark.parametrize("target", ["/my-learning", "/festivals/3?day=2#top", "/a/b-c_d.e~f"])
def test_a_path_on_this_site_is_kept(target):
    assert local_path(target, "/home") == target


@pytest.mark.parametrize("target", [None, "", 3, ["/x"]])
def test_nothing_readable_is_the_default(target):
    assert local_path(target, "/home") == "/home"


def _enrolments(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Enrolment))


@pytest.mark.parametrize("target", HOSTILE)
def test_booking_and_withdrawing_with_a_hostile_next(app, client, login, make_user,
                                                     make_cohort, target):
    learner = make_user()
    cohort = make_cohort()
    login(learner)
    response = client.post(f"/offerings/{cohort.id}/book", data={"next": target})
    with app.test_request_context():
        page = offering_url(db.session.get(Offering, cohort.id))
    stays_on_site(response, page)
    assert _enrolments(app) == 1  # saved once, with a safe redirect
    with app.app_context():
        enrolment_id = db.session.scalar(select(Enrolment.id))
    response = client.post(f"/enrolments/{enrolment_id}/withdraw", data={"next": target})
    stays_on_site(response, page)
    with app.app_context():
        assert db.session.get(Enrolment, enrolment_id).state == "withdrawn"


@pytest.fixture
def festival(app):
    with app.app_context():
        fest = make_festival()
        first = add_session(fest, "Opening keynote", capacity=1)
        second = add_session(fest, "R workshop", start=time(14, 0), end=time(15, 0))
        people = [person("one"), person("two")]
        for someone in people:
            engine.book(someone, fest)
        db.session.commit()
        ids = (fest.id, first.id, second.id, [p.id for p in people])
    return ids


@pytest.mark.parametrize("target", HOSTILE)
def test_festival_sessions_with_a_hostile_next(app, client, login, festival, target):
    from lms.accounts.models import User

    fest_id, keynote, _, (one, two) = festival
    with app.app_context():
        first, second = (db.session.get(User, i) for i in (one, two))
        _ = (first.role_rows, second.role_rows, first.organisation, second.organisation)
        db.session.expunge_all()
    login(first)
    response = client.post(f"/festival-sessions/{keynote}/book", data={"next": target})
    stays_on_site(response, f"/festivals/{fest_id}")
    login(second)
    response = client.post(f"/festival-sessions/{keynote}/book", data={"next": target})
    stays_on_site(response, f"/festivals/{fest_id}")  # on its waiting list
    login(first)
    with app.app_context():
        mine = db.session.scalar(select(Booking.id).where(Booking.user_id == one))
        theirs = db.session.scalar(select(Booking.id).where(Booking.user_id == two))
    response = client.post(f"/session-bookings/{mine}/cancel", data={"next": target})
    agenda = f"/festivals/{fest_id}/agenda"
    stays_on_site(response, agenda)
    login(second)
    with app.app_context():
        assert db.session.get(Booking, mine).state == "cancelled"
        assert db.session.get(Booking, theirs).state == "offered"
    response = client.post(f"/session-bookings/{theirs}/accept", data={"next": target})
    stays_on_site(response, agenda)
    with app.app_context():
        assert db.session.get(Booking, theirs).state == "booked"


@pytest.mark.parametrize("target", HOSTILE)
def test_signing_in_with_a_hostile_next_goes_home(client, make_user, target):
    user = make_user()
    response = client.post("/sign-in", query_string={"next": target},
                           data={"email": user.email, "password": PASSWORD})
    stays_on_site(response, "/")


def test_signing_in_with_a_local_next_goes_there(client, make_user):
    user = make_user()
    response = client.post("/sign-in", query_string={"next": "/my-learning"},
                           data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 302 and response.headers["Location"] == "/my-learning"
