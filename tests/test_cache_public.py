"""Search results, the festival programme and a person's festival agenda kept in the page
cache (``lms.cache``; issue 19): served again for one to three statements when nothing
changed, showing a change to the offer or a booking at the next request, never showing one
person's bookings or agenda to another, and moving on by themselves as sessions end."""

from __future__ import annotations

from datetime import timedelta

import pytest

from lms.accounts.models import User
from lms.cache import fragment_cache
from lms.events import services as ev
from lms.events import session_bookings
from lms.events.models import Webinar
from lms.extensions import db
from lms.offerings import services as engine
from lms.offerings.models import Session
from lms.search import pages as search_pages
from tests.test_cache_pages import kept_for_one_query, text_of, with_clock_at
from tests.test_events_support import (
    add_session,
    faculty,
    make_festival,
    make_webinar,
    person,
)
from tests.test_events_views import detached

# ---------------------------------------------------------------------------- search


def test_search_results_are_kept_and_a_new_changed_or_cancelled_offering_shows_at_once(
        app, client, login, count_queries):
    with app.app_context():
        webinar = make_webinar(title="Forecasting in practice", days_ahead=5)
        db.session.commit()
        webinar_id, staff = webinar.id, detached(faculty())
    url = "/search?q=forecasting"
    page = kept_for_one_query(client, count_queries, url)
    assert "Forecasting in practice" in page and "1 result found" in page

    with app.app_context():  # a new offering
        make_webinar(title="Forecasting for beginners", days_ahead=8)
        db.session.commit()
    page = text_of(client.get(url))
    assert "Forecasting for beginners" in page and "2 results found" in page

    with app.app_context():  # a changed one
        db.session.get(Webinar, webinar_id).title = "Forecasting, revisited"
        db.session.commit()
    page = text_of(client.get(url))
    assert "Forecasting, revisited" in page and "Forecasting in practice" not in page

    with app.app_context():  # a cancelled one
        ev.cancel_event(db.session.get(User, staff.id), db.session.get(Webinar, webinar_id),
                        "The speaker is ill")
        db.session.commit()
    page = text_of(client.get(url))
    assert "Forecasting, revisited</a> <strong class=\"nhsuk-tag nhsuk-tag--red\">Cancelled" \
        in page

    # Faculty are found the same published offer, never a draft.
    with app.app_context():
        make_webinar(title="Forecasting draft", status="draft", days_ahead=9)
        db.session.commit()
    login(staff)
    page = text_of(client.get(url))
    assert "Forecasting for beginners" in page and "Forecasting draft" not in page


def test_kept_results_show_the_words_as_each_person_typed_them(app, client, count_queries):
    with app.app_context():
        for n in range(7):
            make_webinar(title=f"Forecasting clinic {n}", days_ahead=5 + n)
        db.session.commit()
    text_of(client.get("/search?q=forecasting"))
    with count_queries() as counted:  # the same words, typed otherwise: kept
        page = text_of(client.get("/search?q=Forecasting"))
    assert counted.n == 1, counted.statements
    assert "7 results found for “Forecasting”" in page
    assert "/search?q=Forecasting&amp;kind=webinar" in page  # "Show all 7 webinars"
    # Markup typed is shown as text, in the page and in its links.
    page = text_of(client.get("/search?q=clinic+%3Cscript%3E"))
    assert "<script>" not in page and "“clinic &lt;script&gt;”" in page


def test_the_kept_results_are_bounded_so_queries_nobody_repeats_cannot_fill_memory(
        app, client, monkeypatch):
    monkeypatch.setattr(search_pages, "KEPT", 3)
    # A cache of three made afresh here, the app's own given back after the test.
    monkeypatch.delitem(app.extensions.setdefault("lms_fragment_caches", {}),
                        "search_results", raising=False)
    with app.app_context():
        make_webinar(title="Forecasting in practice", days_ahead=5)
        db.session.commit()
    for n in range(8):
        assert "No results found" in text_of(client.get(f"/search?q=nothing{n}"))
    with app.test_request_context():
        kept = fragment_cache("search_results")
        assert kept.size == 3 and len(kept._entries) == 3


def test_kept_results_move_on_when_a_session_ends(app, client):
    with app.app_context():
        webinar = make_webinar(title="Forecasting in practice", days_ahead=5)
        db.session.commit()
        ends = webinar.session.ends_at
    url = "/search?q=forecasting"
    assert "· was " not in text_of(client.get(url))
    with_clock_at(ends + timedelta(minutes=1))
    assert "· was " in text_of(client.get(url))


# ---------------------------------------------------------------------------- the festival


@pytest.fixture
def festival(app) -> dict:
    """A festival with two sessions at the same time; Ann registered and booked on the
    keynote, Bob registered and booked on nothing."""
    with app.app_context():
        fest = make_festival()
        keynote = add_session(fest, "Opening keynote", capacity=5)
        workshop = add_session(fest, "R workshop", track=1, capacity=5)
        ann, bob = person("ann"), person("bob")
        for who in (ann, bob):
            engine.book(who, fest)
        session_bookings.book_session(ann, keynote)
        db.session.commit()
        return {"id": fest.id, "keynote": keynote.id, "workshop": workshop.id,
                "ann": detached(ann), "bob": detached(bob)}


def test_the_festival_page_is_kept_for_everyone_and_per_person(app, client, login,
                                                               festival, count_queries):
    url = f"/festivals/{festival['id']}"
    page = kept_for_one_query(client, count_queries, url)
    assert "Opening keynote" in page and "4 of 5 places left" in page
    assert "Cancel booking" not in page and ">Book<" not in page
    login(festival["ann"])
    text_of(client.get(url))
    with count_queries() as counted:
        page = text_of(client.get(url))
    # One read: the viewer's versions (their account and place kept) and the festival's.
    assert counted.n == 1, counted.statements
    assert "Cancel booking" in page and "This clashes with Opening keynote" in page
    login(festival["bob"])
    page = text_of(client.get(url))  # Ann's booking is never shown to Bob
    assert "Cancel booking" not in page and "clashes" not in page
    assert page.count("Book<span") == 2


def test_a_booking_shows_at_once_on_the_programme_and_the_agenda(app, client, login,
                                                                 festival):
    login(festival["bob"])
    programme, agenda = f"/festivals/{festival['id']}", f"/festivals/{festival['id']}/agenda"
    assert "You have not booked any sessions yet" in text_of(client.get(agenda))
    text_of(client.get(programme))
    with app.app_context():
        session_bookings.book_session(db.session.get(User, festival["bob"].id),
                                      db.session.get(Session, festival["workshop"]))
        db.session.commit()
    page = text_of(client.get(agenda))
    assert "R workshop" in page and "Opening keynote" not in page  # not Ann's
    page = text_of(client.get(programme))
    assert "This clashes with R workshop" in page and "3 of 5" not in page
    assert page.count("4 of 5 places left") == 2
    # A session cancelled shows on the agenda at once.
    with app.app_context():
        ev.cancel_event_session(db.session.get(Session, festival["workshop"]),
                                db.session.get(User, faculty().id), "Speaker ill")
        db.session.commit()
    assert "nhsuk-tag--red\">Cancelled" in text_of(client.get(agenda))


def test_the_agenda_is_kept_per_person_and_never_shows_another_persons(
        app, client, login, festival, count_queries):
    agenda = f"/festivals/{festival['id']}/agenda"
    login(festival["ann"])
    text_of(client.get(agenda))
    with count_queries() as counted:
        page = text_of(client.get(agenda))
    assert counted.n == 1, counted.statements  # the versions, the viewer's among them
    assert "Opening keynote" in page and "Cancel booking" in page
    login(festival["bob"])
    page = text_of(client.get(agenda))
    assert "Opening keynote" not in page and "You have not booked any sessions" in page
    login(None)
    assert client.get(agenda).status_code == 302  # sign in first
    login(festival["ann"])
    assert client.get(f"/festivals/{festival['id'] + 999}/agenda").status_code == 404


def test_a_clash_with_a_session_elsewhere_follows_that_session_when_it_moves(
        app, client, login, festival):
    with app.app_context():
        other = make_festival(title="Evaluation festival")
        talk = add_session(other, "Evaluation talk")  # the same time as the keynote
        bob = db.session.get(User, festival["bob"].id)
        engine.book(bob, other)
        session_bookings.book_session(bob, talk)
        db.session.commit()
        talk_id = talk.id
    login(festival["bob"])
    url = f"/festivals/{festival['id']}"
    assert text_of(client.get(url)).count("This clashes with Evaluation talk") == 2
    with app.app_context():  # the other festival's session moves to the afternoon (its
        # row alone: the page must not count on the move touching Bob's rows too)
        talk = db.session.get(Session, talk_id)
        talk.starts_at, talk.ends_at = (talk.starts_at + timedelta(hours=4),
                                        talk.ends_at + timedelta(hours=4))
        db.session.commit()
    page = text_of(client.get(url))
    assert "clashes" not in page and page.count("Book<span") == 2


def test_the_festival_page_closes_booking_when_a_session_starts(app, client, login,
                                                                festival):
    login(festival["bob"])
    url = f"/festivals/{festival['id']}"
    assert text_of(client.get(url)).count("Book<span") == 2
    with app.app_context():
        starts = db.session.get(Session, festival["keynote"]).starts_at
    with_clock_at(starts + timedelta(minutes=1))
    assert "Book<span" not in text_of(client.get(url))
