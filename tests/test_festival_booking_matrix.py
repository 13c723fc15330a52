"""Issue 17, item 12, for the festival programme: a session's Book button is shown exactly
when booking it would succeed (one decision, lms.events.session_policy, asked by the page and
enforced by the service), and where it is not shown the page says why. Walked for each kind
of person against each kind of session, like tests/test_policy_matrix.py."""

from __future__ import annotations

import html
import re
from datetime import time

import pytest
from sqlalchemy import func, select

from lms.accounts.models import User
from lms.events import session_bookings
from lms.extensions import db
from lms.offerings import services as engine
from lms.offerings.models import Booking, BookingState
from tests.test_events_support import add_session, make_festival, person

LIVE = [BookingState.BOOKED, BookingState.OFFERED, BookingState.WAITLISTED]


@pytest.fixture
def world(app):
    """A festival with a keynote, a workshop clashing with it, a full one-place session, a
    cancelled talk and an open panel; a registered person booked on the keynote, a
    registered person with nothing booked, and someone not registered."""
    with app.app_context():
        festival = make_festival()
        keynote = add_session(festival, "Keynote", start=time(10, 0), end=time(11, 0))
        clashing = add_session(festival, "Workshop", start=time(10, 30), end=time(12, 0),
                               track=1)
        full = add_session(festival, "Small room", start=time(13, 0), end=time(14, 0),
                           capacity=1)
        gone = add_session(festival, "Withdrawn talk", start=time(15, 0), end=time(16, 0))
        panel = add_session(festival, "Panel", start=time(16, 0), end=time(17, 0), track=2)
        booked, fresh, outsider, filler = (person(n) for n in ("booked", "fresh", "out",
                                                                  "filler"))
        for someone in (booked, fresh, filler):
            engine.book(someone, festival)
        session_bookings.book_session(booked, keynote)
        session_bookings.book_session(filler, full)
        from lms.events import services as ev
        from tests.test_events_support import faculty

        ev.cancel_event_session(gone, faculty(), "Speaker unwell")
        db.session.commit()
        return {"festival": festival.id,
                "sessions": {s.title: s.id for s in (keynote, clashing, full, gone, panel)},
                "people": {"booked": booked.id, "fresh": fresh.id, "outsider": outsider.id}}


def _live_bookings(app, user_id: int) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(Booking.id)).where(
            Booking.user_id == user_id, Booking.state.in_(LIVE)))


@pytest.mark.parametrize("who", ["booked", "fresh", "outsider"])
def test_a_book_button_shown_books_and_one_hidden_says_why(app, client, login, world, who):
    user_id = world["people"][who]
    with app.app_context():
        login(db.session.get(User, user_id))
    page = client.get(f"/festivals/{world['festival']}").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    shown = {int(sid) for sid in re.findall(r'action="/festival-sessions/(\d+)/book"', page)}
    expected = {"booked": {"Small room", "Panel"},
                "fresh": {"Keynote", "Workshop", "Small room", "Panel"},
                "outsider": set()}[who]
    assert shown == {world["sessions"][title] for title in expected}
    text = html.unescape(page)
    if who == "booked":  # the clash is named where the Book button would be
        assert "This clashes with Keynote at 10am to 11am" in text
        assert "This session has been cancelled" not in text  # the Cancelled tag says it
    if who == "outsider":
        assert "Register for the festival first" in text
    # Hidden: the service refuses it too, and nothing is booked.
    for title, session_id in world["sessions"].items():
        if session_id in shown:
            continue
        before = _live_bookings(app, user_id)
        client.post(f"/festival-sessions/{session_id}/book", data={"csrf_token": token})
        assert _live_bookings(app, user_id) == before, (who, title)
    # Shown: each one books (or queues) in turn; none is refused.
    for session_id in sorted(shown, key=lambda sid: list(world["sessions"].values()).index(sid)):
        if who == "fresh" and session_id == world["sessions"]["Workshop"]:
            continue  # booking the keynote first makes the workshop clash: not both
        before = _live_bookings(app, user_id)
        client.post(f"/festival-sessions/{session_id}/book", data={"csrf_token": token})
        assert _live_bookings(app, user_id) == before + 1, (who, session_id)
    if who == "fresh":  # now the keynote is booked, the workshop's button gives way to why
        again = html.unescape(client.get(f"/festivals/{world['festival']}").get_data(
            as_text=True))
        assert f'action="/festival-sessions/{world["sessions"]["Workshop"]}/book"' not in again
        assert "This clashes with Keynote at 10am to 11am" in again
