"""Routes of events: public event pages and calendar downloads, the personal agenda and
calendar, session bookings (only their owner may cancel them), and faculty's pages."""

from __future__ import annotations

from datetime import time

from lms.accounts.models import User
from lms.events import calendars, session_bookings
from lms.extensions import db
from lms.offerings import services as engine
from tests.authz import EVERYONE_OK, FACULTY_ONLY, MISSING, OK, REDIRECT, SIGNED_IN_OK, Route
from tests.conftest import ROLES
from tests.test_events_support import add_session, make_festival, make_network, make_webinar

SIGNED_IN_REDIRECT = dict.fromkeys(ROLES, REDIRECT)
OWNER_ONLY_POST = {"anonymous": REDIRECT, "learner": REDIRECT, "dsu_same": MISSING,
                   "dsu_other": MISSING, "faculty": MISSING, "admin": MISSING}


def world(app, people) -> dict:
    """A webinar, a network and a festival the learner has places on (with one festival
    session booked), and the learner's calendar secret."""
    with app.test_request_context():
        learner = db.session.get(User, people.learner.id)
        webinar = make_webinar()
        network = make_network(count=3)
        festival = make_festival()
        talk = add_session(festival, "Keynote")
        other = add_session(festival, "Workshop", start=time(11, 0), end=time(12, 0))
        for offering in (webinar, network, festival):
            engine.book(learner, offering)
        booking = session_bookings.book_session(learner, talk)
        token = calendars.new_token(learner)
        db.session.commit()
        return {"webinar": webinar.id, "webinar_session": webinar.session.id,
                "network": network.id, "meeting": network.sessions[0].id,
                "festival": festival.id, "talk": talk.id, "other": other.id,
                "booking": booking.id, "token": token}


ROUTES: list[Route] = [
    Route("events.index", lambda p, w: "/events", EVERYONE_OK),
    Route("events.month", lambda p, w: "/events/month/2027/1", EVERYONE_OK),
    Route("events.webinar", lambda p, w: f"/webinars/{w['webinar']}", EVERYONE_OK),
    Route("events.network", lambda p, w: f"/networks/{w['network']}", EVERYONE_OK),
    Route("events.festival", lambda p, w: f"/festivals/{w['festival']}", EVERYONE_OK),
    Route("events.agenda", lambda p, w: f"/festivals/{w['festival']}/agenda", SIGNED_IN_OK),
    Route("events.book_session", lambda p, w: f"/festival-sessions/{w['other']}/book",
          SIGNED_IN_REDIRECT, method="POST"),
    Route("events.cancel_booking", lambda p, w: f"/session-bookings/{w['booking']}/cancel",
          OWNER_ONLY_POST, method="POST"),
    # Asking first (the confirmation page): the owner sees it, others get 404.
    Route("events.cancel_booking", lambda p, w: f"/session-bookings/{w['booking']}/cancel",
          {**OWNER_ONLY_POST, "learner": OK}),
    Route("events.accept_session_offer",
          lambda p, w: f"/session-bookings/{w['booking']}/accept", OWNER_ONLY_POST,
          method="POST"),
    Route("events.decline_session_offer",
          lambda p, w: f"/session-bookings/{w['booking']}/decline", OWNER_ONLY_POST,
          method="POST"),
    Route("events.session_ics", lambda p, w: f"/sessions/{w['talk']}/calendar.ics",
          EVERYONE_OK),
    Route("events.offering_ics", lambda p, w: f"/offerings/{w['network']}/calendar.ics",
          EVERYONE_OK),
    Route("events.calendar_page", lambda p, w: "/calendar", SIGNED_IN_OK),
    # The new address is shown on the answer itself (once: only its hash is kept).
    Route("events.new_feed_address", lambda p, w: "/calendar/address", SIGNED_IN_OK,
          method="POST"),
    # The secret is the permission: whoever holds it (signed in or not) gets the feed.
    Route("events.feed", lambda p, w: f"/calendar/feed/{w['token']}.ics", EVERYONE_OK),
    Route("events.manage", lambda p, w: "/faculty/events", FACULTY_ONLY),
    Route("events.new_webinar", lambda p, w: "/faculty/webinars/new", FACULTY_ONLY),
    Route("events.edit_webinar", lambda p, w: f"/faculty/webinars/{w['webinar']}",
          FACULTY_ONLY),
    Route("events.new_network", lambda p, w: "/faculty/networks/new", FACULTY_ONLY),
    Route("events.edit_network", lambda p, w: f"/faculty/networks/{w['network']}",
          FACULTY_ONLY),
    Route("events.edit_occurrence", lambda p, w: f"/faculty/network-meetings/{w['meeting']}",
          FACULTY_ONLY),
    Route("events.cancel_session",
          lambda p, w: f"/faculty/event-sessions/{w['meeting']}/cancel", FACULTY_ONLY),
    Route("events.cancel_event", lambda p, w: f"/faculty/events/{w['network']}/cancel",
          FACULTY_ONLY),
    Route("events.new_festival", lambda p, w: "/faculty/festivals/new", FACULTY_ONLY),
    Route("events.edit_festival", lambda p, w: f"/faculty/festivals/{w['festival']}",
          FACULTY_ONLY),
    Route("events.new_festival_session",
          lambda p, w: f"/faculty/festivals/{w['festival']}/sessions/new", FACULTY_ONLY),
    Route("events.edit_festival_session",
          lambda p, w: f"/faculty/festival-sessions/{w['talk']}", FACULTY_ONLY),
    Route("events.publish_recording",
          lambda p, w: f"/faculty/event-sessions/{w['talk']}/recording", FACULTY_ONLY),
]
