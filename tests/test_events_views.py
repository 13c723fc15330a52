"""Event pages through the test client: what each page shows and to whom, the forms' errors,
booking festival sessions, the calendar page, and fixed query counts."""

from __future__ import annotations

import re
from datetime import time, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

import lms.events
from lms.accounts.models import User
from lms.events import calendars, pages, session_bookings
from lms.extensions import db
from lms.offerings import pages as offering_pages
from lms.offerings import services as engine
from lms.offerings.models import Booking, Offering, Session
from tests.test_events_support import (
    add_session,
    faculty,
    london_day,
    make_festival,
    make_network,
    make_webinar,
    person,
)


def page_title(html: str) -> str:
    return re.search(r"<title>(.*?)</title>", html, re.S).group(1).strip()


def one_h1(html: str) -> str:
    found = re.findall(r"<h1[^>]*>(.*?)</h1>", html, re.S)
    assert len(found) == 1, found
    return re.sub(r"<[^>]+>", " ", found[0])


def no_inline_script(html: str) -> None:
    # The layout's one-line "js-enabled" switch is the layout's; pages add only src= scripts.
    body = html.split("</header>", 1)[1]
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", body)


def detached(user: User) -> User:
    _ = (user.role_rows, user.organisation.name)
    db.session.expunge(user)
    return user


@pytest.fixture
def world(app):
    """A webinar with one person booked, a network with a member, a festival with two
    clashing sessions; the people detached for signing in."""
    with app.app_context():
        webinar = make_webinar()
        network = make_network(count=4)
        fest = make_festival()
        keynote = add_session(fest, "Opening keynote", capacity=2)
        workshop = add_session(fest, "R workshop", start=time(10, 30), end=time(12, 0),
                               track=1)
        booked, stranger = person("booked"), person("stranger")
        for offering in (webinar, network, fest):
            engine.book(booked, offering)
        fac = faculty()
        db.session.commit()
        ids = {"webinar": webinar.id, "network": network.id, "festival": fest.id,
               "keynote": keynote.id, "workshop": workshop.id,
               "meeting": network.sessions[0].id}
        people = {"booked": detached(booked), "stranger": detached(stranger),
                  "faculty": detached(fac)}
        return ids, people


def test_the_events_list_shows_each_kind(client, world):
    html = client.get("/events").get_data(as_text=True)
    assert page_title(html) == "Events – MDSN Learning &amp; Events"
    one_h1(html)
    for title in ("Decision quality in practice", "Midlands Analyst Network huddles",
                  "INSIGHT festival"):
        assert f">{title}</a>" in html
    webinars = client.get("/events?kind=webinar").get_data(as_text=True)
    assert ">INSIGHT festival</a>" not in webinars and ">Decision quality" in webinars
    assert page_title(webinars).startswith("Events: webinars")


def test_the_webinar_page_shows_the_joining_link_only_to_people_booked(client, login, world):
    ids, people = world
    url = f"/webinars/{ids['webinar']}"
    public = client.get(url).get_data(as_text=True)
    assert "Dr Amara Okafor" in public
    assert "teams.example.com" not in public
    assert "People with a place see the joining link" in public
    login(people["stranger"])
    assert "teams.example.com" not in client.get(url).get_data(as_text=True)
    login(people["booked"])
    mine = client.get(url).get_data(as_text=True)
    one_h1(mine)
    assert 'href="https://teams.example.com/l/webinar-1"' in mine
    assert "Cancel my place" in mine
    no_inline_script(mine)


def test_joining_and_leaving_a_network_through_the_engine(app, client, login, world):
    ids, people = world
    login(people["stranger"])
    url = f"/networks/{ids['network']}"
    page = client.get(url).get_data(as_text=True)
    assert "Join the network" in page and "12:30pm to 1:30pm" in page
    assert "Every 2 weeks on Wednesday, 4 times" in page
    response = client.post(f"/offerings/{ids['network']}/book", data={"next": url})
    assert response.status_code == 302 and response.location.endswith(url)
    page = client.get(url).get_data(as_text=True)
    assert "You are a member: every meeting is yours." in page
    assert "https://teams.example.com/l/huddle" in page
    with app.app_context():
        enrolment = offering_pages.my_enrolments(db.session.get(User, people["stranger"].id))[0]
        assert enrolment.state == "enrolled"
        enrolment_id = enrolment.id
    client.post(f"/enrolments/{enrolment_id}/withdraw", data={"next": url})
    assert "Join the network" in client.get(url).get_data(as_text=True)


def test_the_festival_programme_is_an_accessible_timetable(client, login, world):
    ids, people = world
    login(people["booked"])
    html = client.get(f"/festivals/{ids['festival']}").get_data(as_text=True)
    one_h1(html)
    assert '<th class="nhsuk-table__header" scope="col">Data science</th>' in html
    assert '<th class="nhsuk-table__header" scope="row">10am</th>' in html
    assert "nhsuk-table-responsive" in html  # stacks by track on narrow screens
    assert "2 of 2 places left" in html
    assert "Book<span class=\"nhsuk-u-visually-hidden\"> Opening keynote</span>" in html


def test_booking_a_clashing_session_shows_the_clash(client, login, world):
    ids, people = world
    login(people["booked"])
    festival_url = f"/festivals/{ids['festival']}"
    first = client.post(f"/festival-sessions/{ids['keynote']}/book",
                        data={"next": festival_url})
    assert first.status_code == 302
    page = client.get(festival_url).get_data(as_text=True)
    assert "You are booked on “Opening keynote”" in page
    client.post(f"/festival-sessions/{ids['workshop']}/book", data={"next": festival_url})
    page = client.get(festival_url).get_data(as_text=True)
    assert "This clashes with Opening keynote at 10am to 11am" in page
    agenda = client.get(f"/festivals/{ids['festival']}/agenda").get_data(as_text=True)
    one_h1(agenda)
    assert "Opening keynote" in agenda and "R workshop" not in agenda
    assert "https://teams.example.com/l/fest" in agenda


def test_an_unregistered_person_is_told_to_register(client, login, world):
    ids, people = world
    login(people["stranger"])
    client.post(f"/festival-sessions/{ids['keynote']}/book")
    page = client.get(f"/festivals/{ids['festival']}").get_data(as_text=True)
    assert "Register for the festival before booking its sessions" in page


def test_the_calendar_page_makes_shows_and_resets_the_address(app, client, login, world):
    ids, people = world
    login(people["booked"])
    page = client.get("/calendar").get_data(as_text=True)
    assert "Create my calendar address" in page
    page = client.post("/calendar/address").get_data(as_text=True)  # shown once, here
    one_h1(page)
    token = re.search(r"/calendar/feed/([A-Za-z0-9_-]+)\.ics", page)[1]
    assert f"webcal://127.0.0.1:5000/calendar/feed/{token}.ics" in page
    assert 'data-copy-target="feed-address"' in page
    assert "/static/calendar.js" in page
    no_inline_script(page)
    feed = client.get(f"/calendar/feed/{token}.ics")
    assert feed.status_code == 200
    assert feed.data.count(b"BEGIN:VEVENT") == 5  # four huddles and the webinar


def test_other_peoples_bookings_are_not_found(app, client, login, world):
    ids, people = world
    with app.app_context():
        booking = session_bookings.book_session(db.session.get(User, people["booked"].id),
                                  db.session.get(Session, ids["keynote"]))
        db.session.commit()
        booking_id = booking.id
    login(people["stranger"])
    assert client.post(f"/session-bookings/{booking_id}/cancel").status_code == 404
    with app.app_context():
        assert db.session.get(Booking, booking_id).state == "booked"


# ---------------------------------------------------------------------------- faculty


def test_faculty_add_a_webinar_and_see_every_error_at_once(app, client, login, world):
    _, people = world
    login(people["faculty"])
    bad = client.post("/faculty/webinars/new", data={
        "title": "", "summary": "x", "status": "open", "day": "31/2/2027",
        "start": "14:00", "end": "13:00", "join_url": "teams", "speaker0_role": "Professor"})
    html = bad.get_data(as_text=True)
    assert bad.status_code == 200
    assert page_title(html).startswith("Error: Add a webinar")
    for anchor, message in [("#title", "Enter the title"),
                            ("#day", "Date must be a real date"),
                            ("#join_url", "Enter the joining link as a full web address"),
                            ("#speaker0_name", "Enter the name of speaker 1")]:
        assert f'<a href="{anchor}">{message}' in html, anchor
    day = london_day(20)
    good = client.post("/faculty/webinars/new", data={
        "title": "Forecasting with Prophet", "summary": "A guest talk", "status": "open",
        "day": day.isoformat(), "start": "12:30", "end": "13:30",
        "join_url": "https://teams.example.com/l/prophet", "reminder_minutes": ["1440", "60"],
        "speaker0_name": "Jo Guest", "speaker0_organisation": "University of Leicester"})
    assert good.status_code == 302
    with app.app_context():
        webinar = db.session.scalar(select(Offering).where(
            Offering.title == "Forecasting with Prophet"))
        assert webinar.kind == "webinar" and webinar.reminder_minutes == [1440, 60]
        assert good.location.endswith(f"/webinars/{webinar.id}")


def test_faculty_build_a_network_with_the_rule_builder(app, client, login, world):
    _, people = world
    login(people["faculty"])
    too_many = client.post("/faculty/networks/new", data={
        "title": "Daily", "summary": "s", "status": "open",
        "first_day": london_day(2).isoformat(), "local_start": "12:30",
        "duration_minutes": "60", "frequency": "WEEKLY", "interval": "1",
        "weekdays": ["MO", "TU", "WE", "TH", "FR"], "ends": "until",
        "until": london_day(900).isoformat()})
    html = too_many.get_data(as_text=True)
    assert "These settings give more than 500 meetings" in html
    assert page_title(html).startswith("Error:")
    with app.app_context():
        assert db.session.scalar(select(func.count(Offering.id)).where(
            Offering.title == "Daily")) == 0
    ok = client.post("/faculty/networks/new", data={
        "title": "Knowledge Mobilisation Network", "summary": "s", "status": "open",
        "first_day": london_day(2).isoformat(), "local_start": "15:00",
        "duration_minutes": "90", "frequency": "MONTHLY", "interval": "2",
        "weekdays": ["TH"], "ordinal": "-1", "ends": "count", "count": "6"})
    assert ok.status_code == 302
    with app.app_context():
        series = db.session.scalar(select(Offering).where(
            Offering.title == "Knowledge Mobilisation Network"))
        assert series.rrule == "FREQ=MONTHLY;INTERVAL=2;BYDAY=-1TH;COUNT=6"
        assert len(series.sessions) == 6
        series_id = series.id
    page = client.get(f"/faculty/networks/{series_id}").get_data(as_text=True)
    assert "Every 2 months on the last Thursday, 6 times" in page


def test_faculty_move_one_meeting(app, client, login, world):
    ids, people = world
    login(people["faculty"])
    url = f"/faculty/network-meetings/{ids['meeting']}"
    form = client.get(url).get_data(as_text=True)
    assert 'value="12:30pm"' in form
    with app.app_context():
        day = pages.occurrence_details(db.session.get(Session, ids["meeting"])).day
    response = client.post(url, data={"topic": "Reproducible analytical pipelines",
                                      "presenter": "Ali Khan, BSOL ICB",
                                      "day": (day + timedelta(days=1)).isoformat(),
                                      "start": "12:30", "end": "13:30"})
    assert response.status_code == 302
    page = client.get(f"/networks/{ids['network']}").get_data(as_text=True)
    assert "Reproducible analytical pipelines" in page and "Ali Khan, BSOL ICB" in page


def test_a_festival_session_crossing_midnight_is_refused_by_the_form(app, client, login,
                                                                      world):
    ids, people = world
    login(people["faculty"])
    with app.app_context():
        fest = db.session.get(Offering, ids["festival"])
        track_id, day = fest.tracks[0].id, fest.first_day
    response = client.post(f"/faculty/festivals/{ids['festival']}/sessions/new", data={
        "track_id": str(track_id), "title": "Late", "day": day.isoformat(),
        "start": "23:00", "end": "00:30"})
    html = response.get_data(as_text=True)
    assert "cannot run past midnight" in html
    assert '<a href="#end">' in html


def test_faculty_publish_a_recording_after_the_session(app, client, login, world):
    import time_machine

    ids, people = world
    login(people["faculty"])
    with app.app_context():
        ends = db.session.get(Session, ids["keynote"]).ends_at
    url = f"/faculty/event-sessions/{ids['keynote']}/recording"
    early = client.post(url, data={"url": "https://video.example.com/keynote"})
    assert "once the session is over" in early.get_data(as_text=True)
    with time_machine.travel(ends + timedelta(hours=1)):
        assert client.post(url, data={"url": "https://video.example.com/keynote"}
                           ).status_code == 302


# ---------------------------------------------------------------------------- query counts


def _programme_data(app, scale: int) -> tuple[int, User]:
    with app.app_context():
        fest = make_festival(title=f"Festival x{scale}")
        people = [person(f"q{scale}-{n}") for n in range(5 * scale)]
        for p in people:
            engine.book(p, fest)
        sessions = []
        for n in range(6 * scale):
            day, slot = divmod(n, 9)
            hour = 9 + slot % 9
            sessions.append(add_session(fest, f"Talk {n}", day=day % 3, track=n % 3,
                                        start=time(hour, 0), end=time(hour, 45),
                                        capacity=10))
        for i, p in enumerate(people):
            session_bookings.book_session(p, sessions[i % len(sessions)])
        db.session.commit()
        return fest.id, detached(people[0])


def test_the_programme_page_runs_a_fixed_number_of_queries(app, client, login,
                                                          count_queries):
    counts = []
    for scale in (1, 10):
        fest_id, viewer = _programme_data(app, scale)
        login(viewer)
        client.get(f"/festivals/{fest_id}")  # warm
        with count_queries() as counted:
            response = client.get(f"/festivals/{fest_id}")
        assert response.status_code == 200
        counts.append(counted.n)
    assert counts[0] == counts[1], counts
    print("programme page queries:", counts)


def _feed_data(app, scale: int) -> str:
    with app.app_context():
        member = person(f"feed{scale}")
        for n in range(scale):
            engine.book(member, make_network(title=f"Network {scale}-{n}", count=5))
            engine.book(member, make_webinar(title=f"Webinar {scale}-{n}"))
            fest = make_festival(title=f"Festival {scale}-{n}", days_ahead=30 + 4 * n)
            engine.book(member, fest)
            session_bookings.book_session(member, add_session(fest, f"Talk {n}"))
        token = calendars.new_token(member)
        db.session.commit()
        return token


def test_the_feed_runs_a_fixed_number_of_queries_and_304_fewer(client, count_queries, app,
                                                                monkeypatch):
    # Build the feed every time (no cache of built feeds), to count what building costs.
    monkeypatch.setitem(app.config, "FEED_CACHE_BYTES", 0)
    counts, conditional = [], []
    for scale in (1, 10):
        token = _feed_data(app, scale)
        url = f"/calendar/feed/{token}.ics"
        first = client.get(url)
        assert first.data.count(b"BEGIN:VEVENT") == 7 * scale
        with count_queries() as counted:
            client.get(url)
        counts.append(counted.n)
        with count_queries() as counted:
            assert client.get(url, headers={"If-None-Match": first.headers["ETag"]}
                              ).status_code == 304
        conditional.append(counted.n)
    assert counts[0] == counts[1], counts
    assert conditional[0] == conditional[1] < counts[0], (conditional, counts)
    print("feed queries:", counts, "304:", conditional)


def test_a_built_feed_is_reused_until_its_etag_changes(client, count_queries, app):
    token = _feed_data(app, 1)
    url = f"/calendar/feed/{token}.ics"
    first = client.get(url)
    with count_queries() as counted:
        again = client.get(url)
    with count_queries() as conditional:
        client.get(url, headers={"If-None-Match": first.headers["ETag"]})
    # Served from the cache: the same bytes, for no more than the 304 costs.
    assert again.data == first.data and again.headers["ETag"] == first.headers["ETag"]
    assert counted.n == conditional.n
    with app.app_context():
        member = calendars.owner_of(token)
        engine.book(member, make_webinar(title="A later webinar"))
        db.session.commit()
    changed = client.get(url)
    assert changed.headers["ETag"] != first.headers["ETag"]
    assert b"A later webinar" in changed.data and b"A later webinar" not in first.data


def test_every_events_view_module_is_imported_so_its_routes_answer(app):
    """The events pages are one blueprint spread over several view modules; one left out of
    ``init_app``'s list would lose its routes (its pages would answer 404)."""
    package = Path(lms.events.__file__).parent
    assert {p.stem for p in package.glob("*views.py")} == set(lms.events.VIEW_MODULES)
    registered_from = {fn.__module__ for fn in app.view_functions.values()}
    for name in lms.events.VIEW_MODULES:
        assert f"lms.events.{name}" in registered_from, f"{name} has no route registered"


def test_festival_session_notes_show_as_safe_markdown_in_the_programme(app, client, world):
    ids, _ = world
    from lms.events.models import FestivalSession
    with app.app_context():
        row = db.session.get(FestivalSession, ids["keynote"])
        row.description = "Bring **questions**.\n\n<script>alert(1)</script>"
        db.session.commit()
    html = client.get(f"/festivals/{ids['festival']}").get_data(as_text=True)
    assert "<strong>questions</strong>" in html
    assert "<script>alert(1)" not in html and "&lt;script&gt;" in html
    assert 'About<span class="nhsuk-u-visually-hidden"> Opening keynote</span>' in html


@pytest.mark.parametrize("kind", ["webinar", "network"])
def test_a_cancelled_event_says_so_and_why_on_its_page(app, client, world, kind):
    from lms.events.services import cancel_event

    ids, _ = world
    url = f"/{kind}s/{ids[kind]}"
    before = client.get(url).get_data(as_text=True)
    assert "nhsuk-warning-callout" not in before and "Cancelled</strong>" not in before
    with app.app_context():
        cancel_event(faculty(), db.session.get(Offering, ids[kind]), "The speaker is unwell")
        db.session.commit()
    html = client.get(url).get_data(as_text=True)
    callout = html.split('class="nhsuk-warning-callout"', 1)[1].split("</div>", 1)[0]
    assert "Important: </span>Cancelled" in callout and "The speaker is unwell" in callout
    assert html.count("<h1>") == 1 and f'nhsuk-caption-l">{kind.title()}</span>' in html


def test_cancelling_a_festival_session_asks_first_and_says_what_follows(app, client, login,
                                                                       world):
    ids, people = world
    with app.app_context():
        small = add_session(db.session.get(Offering, ids["festival"]), "Tiny clinic",
                            start=time(14, 0), end=time(15, 0), capacity=1, track=1)
        mine = session_bookings.book_session(db.session.get(User, people["booked"].id), small)
        other = person("waiting-one")
        engine.book(other, db.session.get(Offering, ids["festival"]))
        waiting = session_bookings.book_session(other, small)
        db.session.commit()
        mine_id, waiting_id = mine.id, waiting.id
    login(people["booked"])
    agenda = client.get(f"/festivals/{ids['festival']}/agenda").get_data(as_text=True)
    assert f'href="/session-bookings/{mine_id}/cancel"' in agenda  # a link, not a POST
    page = client.get(f"/session-bookings/{mine_id}/cancel")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Cancel your booking for Tiny clinic?" in html
    assert "goes to the next person on the waiting list" in html
    with app.app_context():  # asking changed nothing
        assert db.session.get(Booking, mine_id).state == "booked"
    done = client.post(f"/session-bookings/{mine_id}/cancel", follow_redirects=True)
    assert "Your booking for “Tiny clinic” is cancelled." in done.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Booking, mine_id).state == "cancelled"
        assert db.session.get(Booking, waiting_id).state == "offered"
    # Asked again once it is cancelled: the rule's reason, not a page that would then fail.
    again = client.get(f"/session-bookings/{mine_id}/cancel", follow_redirects=True)
    assert "There is nothing to cancel" in again.get_data(as_text=True)


def test_declining_an_offered_festival_place_asks_first(app, client, login, world):
    ids, people = world
    with app.app_context():
        small = add_session(db.session.get(Offering, ids["festival"]), "Tiny clinic",
                            start=time(14, 0), end=time(15, 0), capacity=1, track=1)
        holder = person("holder")
        engine.book(holder, db.session.get(Offering, ids["festival"]))
        first = session_bookings.book_session(holder, small)
        offered = session_bookings.book_session(db.session.get(User, people["booked"].id),
                                                small)
        session_bookings.cancel_booking(holder, first)
        db.session.commit()
        assert offered.state == "offered"
        offered_id = offered.id
    login(people["stranger"])
    assert client.get(f"/session-bookings/{offered_id}/decline").status_code == 404
    login(people["booked"])
    html = client.get(f"/session-bookings/{offered_id}/decline").get_data(as_text=True)
    assert "Decline the place offered at Tiny clinic?" in html
    assert "the offer cannot be taken back later" in html
    with app.app_context():
        assert db.session.get(Booking, offered_id).state == "offered"
    done = client.post(f"/session-bookings/{offered_id}/decline", follow_redirects=True)
    assert "You have declined the place at “Tiny clinic”." in done.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Booking, offered_id).state == "cancelled"
