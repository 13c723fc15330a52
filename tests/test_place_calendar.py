"""The calendar test: every way a person can lose a session sends them a ``METHOD:CANCEL`` for
the session's UID at a SEQUENCE strictly above the last invitation they had, and their
personal feed agrees (the session is gone from it, or shown cancelled). Every way a person
gains one sends ``METHOD:REQUEST``. "Now" is pinned: these tests build dates."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

import icalendar
import pytest
import time_machine
from sqlalchemy import select

from lms import jobs
from lms.accounts.models import Role, User
from lms.courses import cohorts
from lms.events import services as ev
from lms.events import session_bookings
from lms.extensions import db
from lms.listeners import connect
from lms.notifications.models import OutboxMessage
from lms.offerings import calendar, schedule
from lms.offerings import feed as offering_feed
from lms.offerings import services as engine
from lms.offerings.models import Booking, Enrolment, Session
from lms.offerings.transitions import PlaceChanged
from lms.privacy import services as privacy
from tests.test_events_support import (
    add_session,
    faculty,
    make_festival,
    make_network,
    make_webinar,
    person,
)

# A Wednesday morning in June: sessions a month ahead can move by an hour either way
# without crossing midnight, whatever the real clock says.
NOW = datetime(2026, 6, 10, 8, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@dataclass(frozen=True)
class Message:
    """One VEVENT of one calendar message (an email attachment)."""

    subject: str
    method: str
    uid: str
    sequence: int
    status: str


def calendar_messages(user: User) -> list[Message]:
    """Every calendar message emailed to ``user``, in the order written."""
    found = []
    for message in db.session.scalars(select(OutboxMessage).where(
            OutboxMessage.to_address == user.email).order_by(OutboxMessage.id)):
        for attachment in message.attachments:
            if not attachment.mimetype.startswith("text/calendar"):
                continue
            cal = icalendar.Calendar.from_ical(attachment.content)
            for event in cal.walk("VEVENT"):
                found.append(Message(message.subject, str(cal.get("METHOD", "")),
                                     str(event["UID"]), int(event["SEQUENCE"]),
                                     str(event.get("STATUS", ""))))
    return found


def uid(session: Session) -> str:
    return calendar.session_uid(session.id)


def feed_event(user: User, session: Session):
    """The session's VEVENT in the person's personal feed, or None."""
    cal = icalendar.Calendar.from_ical(offering_feed.personal_feed(user))
    return next((e for e in cal.walk("VEVENT") if str(e["UID"]) == uid(session)), None)


def invited_at(user: User, session: Session) -> int:
    """The SEQUENCE of the last invitation ``user`` was emailed for ``session``."""
    requests = [m for m in calendar_messages(user)
                if m.uid == uid(session) and m.method == "REQUEST"]
    assert requests, f"no invitation for {uid(session)}"
    return requests[-1].sequence


def held_at(user: User, session: Session) -> int:
    """The SEQUENCE the person's calendar holds for ``session``: their last invitation, or,
    for a place not yet confirmed (a nomination, an offer), what their feed shows."""
    requests = [m for m in calendar_messages(user)
                if m.uid == uid(session) and m.method == "REQUEST"]
    if requests:
        return requests[-1].sequence
    shown = feed_event(user, session)
    assert shown is not None, "the session was never on the person's calendar"
    return int(shown["SEQUENCE"])


def assert_lost(user: User, session: Session, held: int) -> None:
    """The person's last calendar message for the session is a CANCEL for its UID above
    ``held``; their feed no longer offers the session (gone, or marked cancelled)."""
    mine = [m for m in calendar_messages(user) if m.uid == uid(session)]
    assert mine, f"no calendar message for {uid(session)}"
    last = mine[-1]
    assert (last.method, last.status) == ("CANCEL", "CANCELLED")
    assert last.sequence > held
    shown = feed_event(user, session)
    assert shown is None or (str(shown["STATUS"]) == "CANCELLED"
                             and int(shown["SEQUENCE"]) >= last.sequence)


def two_session_cohort(make_cohort, capacity: int | None = 20):
    cohort = make_cohort(capacity=capacity)
    first = cohort.sessions[0]
    cohort.sessions.append(Session(starts_at=first.starts_at + timedelta(days=7),
                                   ends_at=first.ends_at + timedelta(days=7),
                                   title="Session 2", join_url="https://teams.example.com/c"))
    db.session.flush()
    return cohort


def register(user: User, festival):
    return engine.book(user, festival)


# ---------------------------------------------------------------------------- withdrawing


def test_withdrawing_from_a_cohort_cancels_every_session(ctx, make_user, make_cohort):
    cohort = two_session_cohort(make_cohort)
    learner = make_user()
    enrolment = engine.book(learner, cohort)
    held = {s.id: invited_at(learner, s) for s in cohort.sessions}
    engine.withdraw(learner, enrolment)
    for session in cohort.sessions:
        assert_lost(learner, session, held[session.id])
    # Booking again puts the meetings back: an invitation above the cancellation.
    engine.book(learner, cohort)
    cancel = [m for m in calendar_messages(learner) if m.method == "CANCEL"]
    for session in cohort.sessions:
        sent = [m.sequence for m in cancel if m.uid == uid(session)]
        assert invited_at(learner, session) > max(sent)
        assert str(feed_event(learner, session)["STATUS"]) == "CONFIRMED"


def test_withdrawing_from_a_webinar_cancels_it(ctx):
    webinar = make_webinar()
    learner = person(1)
    enrolment = engine.book(learner, webinar)
    held = invited_at(learner, webinar.session)
    engine.withdraw(learner, enrolment)
    assert_lost(learner, webinar.session, held)


def test_joining_a_network_invites_and_leaving_it_cancels_every_meeting(ctx):
    network = make_network(count=10)
    member = person(1)
    enrolment = engine.book(member, network)
    joined = calendar_messages(member)
    # The joining email is an iTIP invitation (METHOD:REQUEST), for every meeting to come.
    assert {m.method for m in joined} == {"REQUEST"}
    assert {m.uid for m in joined} == {uid(s) for s in network.sessions}
    held = {s.id: invited_at(member, s) for s in network.sessions}
    engine.withdraw(member, enrolment)
    for session in network.sessions:
        assert_lost(member, session, held[session.id])


def test_withdrawing_from_the_festival_cancels_each_booked_session(ctx):
    festival = make_festival()
    talk = add_session(festival, "Keynote")
    workshop = add_session(festival, "Workshop", start=time(14, 0), end=time(15, 0))
    learner = person(1)
    enrolment = register(learner, festival)
    session_bookings.book_session(learner, talk)
    session_bookings.book_session(learner, workshop)
    held = {s.id: invited_at(learner, s) for s in (talk, workshop)}
    engine.withdraw(learner, enrolment)
    for session in (talk, workshop):
        assert_lost(learner, session, held[session.id])


# ---------------------------------------------------------------------------- offers


def offered_place(make_user, make_cohort):
    cohort = two_session_cohort(make_cohort, capacity=1)
    first, second = make_user(), make_user()
    leaving = engine.book(first, cohort)
    waiting = engine.book(second, cohort)
    engine.withdraw(first, leaving)
    assert waiting.state == "offered"
    return cohort, second, waiting


def test_declining_an_offered_place_cancels_its_tentative_sessions(ctx, make_user, make_cohort):
    cohort, learner, offer = offered_place(make_user, make_cohort)
    held = {s.id: held_at(learner, s) for s in cohort.sessions}
    assert str(feed_event(learner, cohort.sessions[0])["STATUS"]) == "TENTATIVE"
    engine.decline(learner, offer)
    for session in cohort.sessions:
        assert_lost(learner, session, held[session.id])


def test_an_offer_that_lapses_cancels_its_tentative_sessions(ctx, make_user, make_cohort):
    cohort, learner, offer = offered_place(make_user, make_cohort)
    held = {s.id: held_at(learner, s) for s in cohort.sessions}
    learner_id, ids = learner.id, [s.id for s in cohort.sessions]
    db.session.commit()  # the lapse job runs in its own transactions
    assert jobs.lapse_offers_job(NOW + timedelta(days=3)) == 1
    learner = db.session.get(User, learner_id)
    for session_id in ids:
        assert_lost(learner, db.session.get(Session, session_id), held[session_id])


# ---------------------------------------------------------------------------- festival sessions


def test_cancelling_a_festival_booking_sends_a_higher_sequence(ctx):
    festival = make_festival()
    talk = add_session(festival, "Keynote")
    learner = person(1)
    register(learner, festival)
    booking = session_bookings.book_session(learner, talk)
    held = invited_at(learner, talk)
    session_bookings.cancel_booking(learner, booking)
    assert_lost(learner, talk, held)
    # Booking it again: the new invitation is above the cancellation.
    session_bookings.book_session(learner, talk)
    assert invited_at(learner, talk) > held + 1


def test_a_freed_session_place_is_offered_with_a_deadline_and_lapses_to_the_next(ctx):
    festival = make_festival()
    talk = add_session(festival, "Small workshop", capacity=1)
    booked, first, second = person("booked"), person("first"), person("second")
    for p in (booked, first, second):
        register(p, festival)
    place = session_bookings.book_session(booked, talk)
    session_bookings.book_session(first, talk)
    session_bookings.book_session(second, talk)
    session_bookings.cancel_booking(booked, place)
    offer = db.session.scalar(select(Booking).where(Booking.user_id == first.id))
    assert offer.state == "offered"
    assert offer.offer_expires_at == NOW + timedelta(hours=festival.offer_hours)
    # An offer is not yet a place: nothing in the calendar until it is accepted.
    assert feed_event(first, talk) is None and not calendar_messages(first)
    first_id, second_id, talk_id = first.id, second.id, talk.id
    db.session.commit()
    assert jobs.lapse_offers_job(offer.offer_expires_at) == 1
    lapsed = db.session.scalar(select(Booking).where(Booking.user_id == first_id))
    nxt = db.session.scalar(select(Booking).where(Booking.user_id == second_id))
    assert (lapsed.state, nxt.state, nxt.waitlist_position) == ("cancelled", "offered", None)
    second = db.session.get(User, second_id)
    session_bookings.accept_session_offer(second, nxt)
    talk = db.session.get(Session, talk_id)
    assert nxt.state == "booked"
    assert invited_at(second, talk) >= talk.sequence
    assert str(feed_event(second, talk)["STATUS"]) == "CONFIRMED"
    with pytest.raises(ev.policy.AlreadyBooked):
        session_bookings.book_session(second, talk)


# ---------------------------------------------------------------------------- faculty


def test_faculty_cancelling_a_cohort_cancels_every_session(ctx, make_user, make_cohort):
    cohort = two_session_cohort(make_cohort)
    learner = make_user()
    engine.book(learner, cohort)
    held = {s.id: invited_at(learner, s) for s in cohort.sessions}
    cohorts.cancel_cohort(cohort, make_user(Role.FACULTY, org="SU"), "Tutor unwell")
    for session in cohort.sessions:
        assert_lost(learner, session, held[session.id])


def test_faculty_cancelling_an_event_cancels_it(ctx):
    webinar = make_webinar()
    learner = person(1)
    engine.book(learner, webinar)
    held = invited_at(learner, webinar.session)
    ev.cancel_event(faculty(), webinar, "Speaker unavailable")
    assert_lost(learner, webinar.session, held)


def test_a_cancelled_session_is_cancelled_in_the_email_and_the_feed(ctx, make_user,
                                                                    make_cohort):
    cohort = two_session_cohort(make_cohort)
    learner = make_user()
    engine.book(learner, cohort)
    first = cohort.sessions[0]
    held = invited_at(learner, first)
    schedule.cancel_session(first, make_user(Role.FACULTY, org="SU"), "Room flooded")
    assert_lost(learner, first, held)
    shown = feed_event(learner, first)
    assert str(shown["STATUS"]) == "CANCELLED"


def test_a_moved_session_sends_an_invitation_with_a_higher_sequence(ctx, make_user,
                                                                    make_cohort):
    cohort = two_session_cohort(make_cohort)
    learner = make_user()
    engine.book(learner, cohort)
    first = cohort.sessions[0]
    held = invited_at(learner, first)
    day, start = schedule.local_day_and_time(first.starts_at + timedelta(hours=1))
    _, end = schedule.local_day_and_time(first.ends_at + timedelta(hours=1))
    assert schedule.update_session(first, first.title, day, start, end, "Room 2", "", None)
    last = [m for m in calendar_messages(learner) if m.uid == uid(first)][-1]
    assert (last.method, last.status) == ("REQUEST", "CONFIRMED")
    assert last.sequence > held
    shown = feed_event(learner, first)
    assert int(shown["SEQUENCE"]) == last.sequence
    assert shown.decoded("DTSTART").astimezone(UTC) == first.starts_at


def test_erasing_a_person_cancels_their_sessions(ctx, make_user, make_cohort):
    cohort = two_session_cohort(make_cohort)
    learner = make_user()
    engine.book(learner, cohort)
    held = {s.id: invited_at(learner, s) for s in cohort.sessions}
    address = learner.email

    @dataclass
    class Former:  # the address the cancellations go to, after the account is erased
        email: str
        id: int

    former = Former(address, learner.id)
    privacy.erase_person(make_user(Role.ADMIN, org="SU"), learner)
    for session in cohort.sessions:
        mine = [m for m in calendar_messages(former) if m.uid == uid(session)]
        assert mine[-1].method == "CANCEL" and mine[-1].sequence > held[session.id]
        assert feed_event(db.session.get(User, former.id), session) is None


# ---------------------------------------------------------------------------- the event


def test_every_change_to_a_place_is_told_once(app, ctx, make_user, make_cohort):
    """The engine tells listeners of each change (book, withdraw), with the sessions."""
    heard: list[PlaceChanged] = []
    connect(app, PlaceChanged, heard.append)
    try:
        cohort = two_session_cohort(make_cohort)
        learner = make_user()
        enrolment = engine.book(learner, cohort)
        engine.withdraw(learner, enrolment)
    finally:
        from lms.listeners import _KEY

        app.extensions[_KEY][PlaceChanged].remove(heard.append)
    mine = [(e.from_state, e.to_state, set(e.session_ids)) for e in heard
            if e.person_id == learner.id]
    ids = {s.id for s in cohort.sessions}
    assert mine == [(None, "enrolled", ids), ("enrolled", "withdrawn", ids)]
    assert db.session.scalar(select(Enrolment.state).where(
        Enrolment.user_id == learner.id)) == "withdrawn"


# ---------------------------------------------------------------------------- pages


def test_the_agenda_shows_an_offered_session_with_its_deadline_and_takes_the_answer(
        app, client, login):
    """The person offered a session place sees Accept and Decline with the deadline; Accept
    books them (with an invitation); someone else's offer is not found."""
    with app.app_context():
        festival = make_festival()
        talk = add_session(festival, "Small workshop", capacity=1)
        booked, waiting, other = person("booked"), person("waiting"), person("other")
        for p in (booked, waiting, other):
            register(p, festival)
        place = session_bookings.book_session(booked, talk)
        session_bookings.book_session(waiting, talk)
        session_bookings.cancel_booking(booked, place)
        offer = db.session.scalar(select(Booking).where(Booking.user_id == waiting.id))
        ids = {"festival": festival.id, "offer": offer.id, "talk": talk.id}
        deadline = offer.offer_expires_at
        db.session.commit()
        waiting = db.session.get(User, waiting.id)
        other = db.session.get(User, other.id)
        waiting_id = waiting.id
        login(other)
        stranger = client.post(f"/session-bookings/{ids['offer']}/accept",
                               data={"csrf_token": ""})
        assert stranger.status_code == 404
        login(waiting)
    page = client.get(f"/festivals/{ids['festival']}/agenda").get_data(as_text=True)
    assert "Place offered" in page
    assert f"/session-bookings/{ids['offer']}/accept" in page
    assert f"/session-bookings/{ids['offer']}/decline" in page
    from lms.clock import when_text as london

    assert london(deadline) in page
    response = client.post(f"/session-bookings/{ids['offer']}/accept", data={})
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(Booking, ids["offer"]).state == "booked"
        talk = db.session.get(Session, ids["talk"])
        assert invited_at(db.session.get(User, waiting_id), talk) >= talk.sequence
