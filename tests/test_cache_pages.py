"""The public and learner pages kept in the page cache (``lms.cache``): the events list and
month view, webinar and network pages, course pages and the home page's "Coming up". Each
is served again for one query (the versions) when nothing changed, shows a change at once,
keeps the audiences apart (faculty see drafts, only people with a place see joining links),
and moves on by itself when time changes what it shows."""

from __future__ import annotations

from datetime import timedelta

import pytest

from lms.accounts.models import User
from lms.clock import utcnow
from lms.courses.models import Cohort, Course
from lms.events import services as ev
from lms.events.models import Webinar
from lms.extensions import db
from lms.offerings import services as engine
from lms.offerings.kept_learning import CSRF_SLOT
from tests import catalogue_builders as build
from tests.test_events_support import faculty, make_network, make_webinar, person
from tests.test_events_views import detached


def text_of(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def kept_for_one_query(client, count_queries, url: str) -> str:
    """The page, asked twice: the second time costs the versions' read only."""
    first = text_of(client.get(url))
    with count_queries() as counted:
        again = text_of(client.get(url))
    assert counted.n == 1, counted.statements
    assert again.count("<h2") == first.count("<h2")
    return again


@pytest.fixture
def webinar(app) -> dict:
    with app.app_context():
        event = make_webinar(capacity=5)
        holder, staff = person(1), faculty()
        engine.book(holder, event)
        draft = make_webinar(title="Draft webinar", status="draft", days_ahead=12)
        db.session.commit()
        found = {"id": event.id, "draft": draft.id, "holder": detached(holder),
                 "faculty": detached(staff), "other": None}
        other = person(2)
        db.session.commit()
        found["other"] = detached(other)
        return found


def move_first_session(app, cohort_id: int):
    """Move the cohort's first session an hour later (committed); its new start."""
    with app.app_context():
        cohort = db.session.get(Cohort, cohort_id)
        cohort.sessions[0].starts_at += timedelta(hours=1)
        cohort.sessions[0].ends_at += timedelta(hours=1)
        moved = cohort.sessions[0].starts_at
        db.session.commit()
    return moved


def test_the_events_list_is_kept_per_audience_and_shows_changes_at_once(
        app, client, login, webinar, count_queries):
    page = kept_for_one_query(client, count_queries, "/events")
    assert "Decision quality in practice" in page and "Draft webinar" not in page
    assert "4 places left" in page
    login(webinar["faculty"])
    assert "Draft webinar" in text_of(client.get("/events"))
    login(None)
    assert "Draft webinar" not in text_of(client.get("/events"))
    with app.app_context():  # a booking renews the listings
        engine.book(db.session.get(User, webinar["other"].id),
                    db.session.get(Webinar, webinar["id"]))
        db.session.commit()
    assert "3 places left" in text_of(client.get("/events"))
    assert "Decision quality" not in text_of(client.get("/events?kind=network"))


def test_the_events_list_moves_on_when_a_listed_session_ends(app, client, webinar):
    assert "Decision quality in practice" in text_of(client.get("/events"))
    with app.app_context():
        ends = db.session.get(Webinar, webinar["id"]).session.ends_at
    with_clock_at(ends + timedelta(minutes=1))
    assert "Decision quality in practice" not in text_of(client.get("/events"))


def test_the_month_view_is_kept_and_shows_changes_at_once(app, client, webinar,
                                                          count_queries):
    with app.app_context():
        starts = db.session.get(Webinar, webinar["id"]).session.starts_at
    url = f"/events/month/{starts.year}/{starts.month}"
    assert "Decision quality in practice" in kept_for_one_query(client, count_queries, url)
    with app.app_context():
        db.session.get(Webinar, webinar["id"]).title = "Decisions, revisited"
        db.session.commit()
    assert "Decisions, revisited" in text_of(client.get(url))


def test_a_webinar_page_is_kept_and_the_joining_link_is_only_for_people_with_a_place(
        app, client, login, webinar, count_queries):
    url = f"/webinars/{webinar['id']}"
    page = text_of(client.get(url))
    assert "teams.example.com" not in page and "Sign in to book" in page
    login(webinar["other"])
    text_of(client.get(url))
    with count_queries() as counted:
        page = text_of(client.get(url))
    # One read of the versions: the viewer's (account, places, the offer) and the webinar's,
    # named by its address (``cache.page_reads``); the viewer and their place are kept.
    assert counted.n == 1, counted.statements
    assert "teams.example.com" not in page and "Book a place" in page
    login(webinar["holder"])
    page = text_of(client.get(url))
    assert "teams.example.com/l/webinar-1" in page and "You have a place" in page
    login(webinar["faculty"])
    assert "Change this webinar" in text_of(client.get(url))
    assert text_of(client.get(f"/webinars/{webinar['draft']}"))
    login(webinar["other"])
    assert client.get(f"/webinars/{webinar['draft']}").status_code == 404
    assert client.get(f"/networks/{webinar['id']}").status_code == 404  # not a network

    # A change to a speaker (a bulk statement on another table) shows at once.
    with app.app_context():
        event = db.session.get(Webinar, webinar["id"])
        ev.set_speakers(event.session, [ev.SpeakerDetails(
            "Dr Kofi Mensah", "Analyst", "NHS Midlands", "")])
        db.session.commit()
    assert "Dr Kofi Mensah" in text_of(client.get(url))


def test_a_webinar_page_closes_booking_when_it_starts_without_any_change(app, client,
                                                                         webinar):
    url = f"/webinars/{webinar['id']}"
    assert "Sign in to book" in text_of(client.get(url))
    with app.app_context():
        starts = db.session.get(Webinar, webinar["id"]).session.starts_at
    with_clock_at(starts + timedelta(minutes=1))
    assert "Sign in to book" not in text_of(client.get(url))


def test_a_network_page_is_kept_and_its_meetings_move_on(app, client, login,
                                                         count_queries):
    with app.app_context():
        series = make_network(count=4)
        member = person(3)
        engine.book(member, series)
        db.session.commit()
        series_id, first = series.id, series.sessions[0]
        first_ends = first.ends_at
        member = detached(member)
    url = f"/networks/{series_id}"
    page = kept_for_one_query(client, count_queries, url)
    assert "teams.example.com/l/huddle" not in page and "Recent meetings" not in page
    login(member)
    assert "teams.example.com/l/huddle" in text_of(client.get(url))
    with_clock_at(first_ends + timedelta(minutes=1))
    assert "Recent meetings" in text_of(client.get(url))


def test_a_course_page_is_kept_per_audience(app, client, login, count_queries):
    with app.app_context():
        course = build.course("Forecasting with R")
        cohort = build.cohort(course, "Spring", capacity=4)
        build.cohort(course, "Draft run", status="draft")
        staff = faculty()
        db.session.commit()
        ids = {"course": course.id, "cohort": cohort.id}
        staff = detached(staff)
    url = f"/courses/{ids['course']}"
    page = kept_for_one_query(client, count_queries, url)
    assert "Spring" in page and "Draft run" not in page and "Edit this course" not in page
    login(staff)
    page = text_of(client.get(url))
    assert "Draft run" in page and "Edit this course" in page
    login(None)
    with app.app_context():
        engine.book(build.person(), db.session.get(Cohort, ids["cohort"]))
        db.session.commit()
    assert "3 places left" in text_of(client.get(url))
    with app.app_context():
        db.session.get(Course, ids["course"]).published = False
        db.session.commit()
    assert client.get(url).status_code == 404
    login(staff)
    assert "not published" in text_of(client.get(url))


def test_coming_up_on_the_home_page_is_kept_and_shows_changes_at_once(app, client,
                                                                       webinar):
    assert "Decision quality in practice" in text_of(client.get("/"))
    with app.app_context():
        db.session.get(Webinar, webinar["id"]).title = "Decisions, revisited"
        db.session.commit()
    page = text_of(client.get("/"))
    assert "Decisions, revisited" in page and "Draft webinar" not in page


def with_clock_at(moment) -> None:
    """Move the tests' pinned clock (tests/conftest.py) to ``moment``."""
    from tests import conftest

    conftest._clock.move_to(moment)


# ---------------------------------------------------------------------------- My learning


@pytest.fixture
def learner_places(app) -> dict:
    """A learner with a place on a two-session cohort and a place offered on another."""
    with app.app_context():
        course = build.course("Forecasting with R")
        now = utcnow()
        held = build.cohort(course, "Spring", starts=[now + timedelta(days=2),
                                                       now + timedelta(days=9)])
        offered = build.cohort(course, "Autumn", starts=[now + timedelta(days=30)])
        learner = person(7)
        build.enrol(held, learner)
        place = build.enrol(offered, learner, state="offered")
        db.session.commit()
        found = {"held": held.id, "offered": offered.id, "expires": place.offer_expires_at,
                 "first_ends": held.sessions[0].ends_at, "learner": detached(learner)}
        return found


def test_my_learning_is_kept_per_person_and_shows_changes_at_once(
        app, client, login, learner_places, count_queries):
    login(learner_places["learner"])
    first = text_of(client.get("/my-learning"))
    assert "Spring" in first and "Accept" in first
    assert CSRF_SLOT not in first and 'name="csrf_token" value="' in first
    with count_queries() as counted:
        again = text_of(client.get("/my-learning"))
    assert counted.n == 1, counted.statements  # the versions (the person is kept too)
    assert CSRF_SLOT not in again
    other = person_with_a_place(app, learner_places["held"])
    login(other)
    page = text_of(client.get("/my-learning"))
    assert "Spring" in page and "Autumn" not in page  # their own page, not the first's
    login(learner_places["learner"])
    moved = move_first_session(app, learner_places["held"])  # their page shows it at once
    assert time_text_in(text_of(client.get("/my-learning")), moved)


def test_my_learning_moves_on_with_time_without_any_change(app, client, login,
                                                          learner_places):
    login(learner_places["learner"])
    page = text_of(client.get("/my-learning"))
    assert '/accept"' in page and "Starts:" in page
    with_clock_at(learner_places["expires"] + timedelta(minutes=1))
    login(learner_places["learner"])  # (a session that old has timed out)
    page = text_of(client.get("/my-learning"))  # the policy: an expired offer is not taken
    assert "Accept by" in page and '/accept"' not in page
    with_clock_at(learner_places["first_ends"] + timedelta(minutes=1))
    login(learner_places["learner"])
    assert "Next session:" in text_of(client.get("/my-learning"))


def person_with_a_place(app, cohort_id: int) -> User:
    with app.app_context():
        someone = person(8)
        build.enrol(db.session.get(Cohort, cohort_id), someone)
        db.session.commit()
        return detached(someone)


def time_text_in(page: str, moment) -> bool:
    from lms.clock import time_text

    return time_text(moment) in page


def test_my_learning_kept_carries_each_sessions_own_csrf_token(app, login, learner_places):
    """Two sessions of one person (a phone, a laptop) share the kept page, each with its own
    token, and the token in the page is the one its session's forms are checked against."""
    import re

    phone, laptop = app.test_client(), app.test_client()
    tokens = []
    for client in (phone, laptop):
        login(learner_places["learner"], on=client)
        page = text_of(client.get("/my-learning"))
        tokens.append(re.search(r'name="csrf_token" value="([^"]+)"', page).group(1))
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        accept = re.search(r'action="(/enrolments/\d+/accept)"', text_of(
            laptop.get("/my-learning"))).group(1)
        assert laptop.post(accept, data={"csrf_token": "not-the-token"}).status_code == 400
        done = laptop.post(accept, data={"csrf_token": tokens[1]})
        assert done.status_code == 302
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    assert "Accept by" not in text_of(phone.get("/my-learning"))


# ---------------------------------------------------------------------------- learner's home


def test_a_learners_home_keeps_their_places_and_shows_changes_at_once(
        app, client, login, learner_places, count_queries):
    """The places part of the home (answers, check-in, next sessions) is built once per
    person: asked again it runs none of its queries; a moved session shows at once."""
    login(learner_places["learner"])
    with count_queries() as built:
        first = text_of(client.get("/"))
    assert "A place is offered to you" in first and "Forecasting with R" in first
    assert CSRF_SLOT not in first and 'name="csrf_token" value="' in first
    with count_queries() as counted:
        again = text_of(client.get("/"))
    assert counted.n <= built.n - 5, (built.n, counted.n)  # places, starts, sessions kept
    assert any("anon_1.join_url" in s for s in built.statements)  # the sessions with a place...
    assert not any("anon_1.join_url" in s or "min(offering_session.starts_at)" in s
                   for s in counted.statements)  # ... are not read again
    assert again.count("<li") == first.count("<li") and CSRF_SLOT not in again
    other = person_with_a_place(app, learner_places["held"])
    login(other)
    page = text_of(client.get("/"))  # their own places, not the first person's
    assert "Forecasting with R" in page and "A place is offered to you" not in page
    login(learner_places["learner"])
    moved = move_first_session(app, learner_places["held"])  # the home shows it at once
    assert time_text_in(text_of(client.get("/")), moved)


def test_a_learners_home_moves_on_with_time_without_any_change(app, client, login,
                                                                learner_places):
    """Check-in appears when the session starts and goes when it ends, though nothing in
    the database changed; the kept answers follow the policy after the offer lapses."""
    with app.app_context():
        first = db.session.get(Cohort, learner_places["held"]).sessions[0]
        starts, ends = first.starts_at, first.ends_at
    login(learner_places["learner"])
    page = text_of(client.get("/"))
    assert "Check in now" not in page and '/accept"' in page
    for moment, checking_in in ((starts + timedelta(minutes=1), True),
                                (ends + timedelta(minutes=1), False)):
        with_clock_at(moment)
        login(learner_places["learner"])
        assert ("Check in now" in text_of(client.get("/"))) == checking_in
    with_clock_at(learner_places["expires"] + timedelta(minutes=1))
    login(learner_places["learner"])
    assert '/accept"' not in text_of(client.get("/"))


# ---------------------------------------------------------------------------- festival


@pytest.fixture
def festival(app) -> dict:
    """An open festival with one session of 3 places, and a person registered for it."""
    from tests.test_events_support import add_session, make_festival

    with app.app_context():
        event = make_festival(days_ahead=10)
        session = add_session(event, "Forecasting demand", capacity=3)
        member = person(4)
        engine.book(member, event)
        db.session.commit()
        return {"id": event.id, "session": session.id, "starts": session.starts_at,
                "member": detached(member)}


def test_a_festival_programme_is_kept_and_shows_changes_at_once(app, client, login, festival,
                                                                count_queries):
    from lms.events import session_bookings
    from lms.offerings.models import Session

    url = f"/festivals/{festival['id']}"
    with count_queries() as built:
        first = text_of(client.get(url))
    assert "Forecasting demand" in first and "3 of 3 places left" in first
    with count_queries() as counted:
        assert text_of(client.get(url)).count("<td") == first.count("<td")
    assert any("festival_session" in s for s in built.statements)
    assert not any("festival_session" in s for s in counted.statements)  # kept
    login(festival["member"])
    page = text_of(client.get(url))
    assert 'action="/festival-sessions/' in page and CSRF_SLOT not in page
    assert 'name="csrf_token" value="' in page
    with app.app_context():  # their booking shows on their page and everyone's at once
        session_bookings.book_session(db.session.get(User, festival["member"].id),
                                      db.session.get(Session, festival["session"]))
        db.session.commit()
    page = text_of(client.get(url))
    assert "Booked" in page and "2 of 3 places left" in page
    login(None)
    page = text_of(client.get(url))
    assert "2 of 3 places left" in page and "Booked" not in page


def test_a_festival_programme_closes_booking_when_a_session_starts(app, client, login,
                                                                  festival):
    url = f"/festivals/{festival['id']}"
    login(festival["member"])
    assert 'action="/festival-sessions/' in text_of(client.get(url))
    with_clock_at(festival["starts"] + timedelta(minutes=1))
    login(festival["member"])
    assert 'action="/festival-sessions/' not in text_of(client.get(url))
