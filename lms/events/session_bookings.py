"""Booking festival sessions one by one: places, clashes, waiting lists and offers, and
giving bookings back when someone leaves the festival.

Each session has its own capacity and waiting list; bookings change under the festival's
lock (``engine.lock_offering``). Services flush and never commit."""

from __future__ import annotations

from sqlalchemy import func, select

from lms.accounts.models import User
from lms.clock import utcnow
from lms.errors import NotFound
from lms.events.models import Festival
from lms.events.services import summary_of
from lms.events.session_policy import (
    SessionClash,
    clash_message,
    may_book_session,
    may_cancel_session_booking,
)
from lms.extensions import db
from lms.notifications.services import Attachment, link, queue_email
from lms.offerings import calendar, waitlist
from lms.offerings import services as engine
from lms.offerings.models import (
    Booking,
    BookingState,
    Enrolment,
    Offering,
    Session,
    SessionStatus,
)
from lms.offerings.transitions import PLACE, PlaceChanged

B = BookingState


def is_registered(user: User, festival: Festival) -> bool:
    """Whether the person has a confirmed place at the festival."""
    return db.session.scalar(
        select(func.count(Enrolment.id)).where(
            Enrolment.offering_id == festival.id, Enrolment.user_id == user.id,
            Enrolment.state.in_(calendar.CONFIRMED))
    ) > 0


def _booked_count(session_id: int) -> int:
    """Places taken at a session: booked, or offered from its waiting list."""
    return waitlist.held_at(session_id)


def _waiting_count(session_id: int) -> int:
    return waitlist.queue_length(Booking, Booking.session_id, session_id)


def _clash(user_id: int, session: Session) -> tuple[Session, str] | None:
    """The person's first booked, offered or awaited session overlapping ``session``."""
    row = db.session.execute(
        select(Session, Booking.state).join(Booking, Booking.session_id == Session.id)
        .where(Booking.user_id == user_id,
               Booking.state.in_([B.BOOKED, B.OFFERED, B.WAITLISTED]),
               Booking.session_id != session.id, Session.status == SessionStatus.SCHEDULED,
               Session.starts_at < session.ends_at, Session.ends_at > session.starts_at)
        .order_by(Session.starts_at).limit(1)
    ).first()
    return (row[0], row[1]) if row else None


def _release_lapsed_registrations(festival: Festival) -> None:
    """Bookings of people no longer registered for the festival give their places back.
    (Leaving the festival releases them at once, through ``release_bookings_on_leaving``;
    this is a safety net, under the festival's lock whenever bookings change, for a place
    lost any other way.)"""
    registered = select(Enrolment.user_id).where(
        Enrolment.offering_id == festival.id, Enrolment.state.in_(calendar.CONFIRMED))
    stale = db.session.scalars(
        select(Booking).join(Session, Session.id == Booking.session_id)
        .where(Session.offering_id == festival.id,
               Booking.state.in_([B.BOOKED, B.OFFERED, B.WAITLISTED]),
               Booking.user_id.not_in(registered))
    ).all()
    touched: dict[int, Session] = {}
    for booking in stale:
        _leave(booking, None, "No longer registered for the festival")
        touched[booking.session_id] = booking.session
    for session_id in sorted(touched):
        waitlist.offer_session_places(touched[session_id])


def _leave(booking: Booking, actor: User | None, reason: str = "") -> None:
    waitlist.set_booking_state(booking, B.CANCELLED, actor, reason)


def book_session(user: User, session: Session) -> Booking:
    """Book a festival session: a place if one is free, else a place in its queue. Refused if
    the person is not registered for the festival, already has it, or it clashes with a
    session they have booked or are waiting for."""
    festival = session.offering
    if not calendar.books_sessions(festival):
        raise NotFound("No such festival session")
    festival = engine.lock_offering(festival.id)
    session = db.session.get(Session, session.id, populate_existing=True)
    registered = is_registered(user, festival)
    if registered:
        _release_lapsed_registrations(festival)
    booking = db.session.scalar(select(Booking).where(Booking.session_id == session.id,
                                                      Booking.user_id == user.id))
    mine = (booking.state, booking.waitlist_position) \
        if booking is not None and booking.state != B.CANCELLED else None
    may_book_session(festival.status, session, utcnow(), registered, mine,
                     _clash(user.id, session)).enforce()
    free = session.capacity is None or _booked_count(session.id) < session.capacity
    position = None if free else _waiting_count(session.id) + 1
    if booking is None:
        # New, in no state yet: ``set_booking_state`` gives it its first.
        booking = Booking(session=session, user=user)
        db.session.add(booking)
    booking.waitlist_position = position
    waitlist.set_booking_state(booking, B.BOOKED if free else B.WAITLISTED, user)
    if free:
        _email_booking(booking, "session_booked", f"Booked: {summary_of(session)}",
                       invite=True)
    else:
        _email_booking(booking, "session_waitlisted",
                       f"You are on the waiting list: {summary_of(session)}")
    return booking


def _own_booking(user: User, booking: Booking) -> Booking:
    """The person's own booking, reloaded under the festival's lock."""
    if booking.user_id != user.id:
        raise NotFound("No such booking")
    engine.lock_offering(booking.session.offering_id)
    return db.session.get(Booking, booking.id, populate_existing=True)


def cancel_booking(user: User, booking: Booking, reason: str = "") -> Booking:
    """Give up a booked session, an offered place or a queue position; a freed place is
    offered to the next person waiting, automatically."""
    booking = _own_booking(user, booking)
    session = booking.session
    may_cancel_session_booking(booking.state, session, utcnow()).enforce()
    if booking.state == B.OFFERED:
        waitlist.decline_session_offer(booking, user)
        return booking
    was_booked = booking.state == B.BOOKED
    _leave(booking, user, reason)
    if was_booked:
        _email_booking_cancelled(booking)
        waitlist.offer_session_places(session, user)
    else:
        _email_booking(booking, "session_left_waitlist",
                       f"You have left the waiting list: {summary_of(session)}")
    return booking


def accept_session_offer(user: User, booking: Booking) -> Booking:
    """Take a place at a festival session offered from its waiting list, before the
    deadline; the confirmation carries the calendar invitation."""
    booking = _own_booking(user, booking)
    clash = _clash(user.id, booking.session)
    if clash is not None and booking.state == B.OFFERED:
        raise SessionClash(clash_message(*clash))
    waitlist.accept_session_offer(booking, user)
    _email_booking(booking, "session_promoted",
                   f"A place is now yours: {summary_of(booking.session)}", invite=True)
    return booking


def decline_session_offer(user: User, booking: Booking) -> Booking:
    """Say no to a place offered at a festival session; it goes to the next person."""
    booking = _own_booking(user, booking)
    waitlist.decline_session_offer(booking, user)
    return booking


def _email_booking_cancelled(booking: Booking) -> None:
    """Tell the person their booking is cancelled (the calendar cancellation follows the
    place change: ``lms.offerings.calendar.follow_place_change``)."""
    _email_booking(booking, "session_booking_cancelled",
                   f"Booking cancelled: {summary_of(booking.session)}")


def release_bookings_on_leaving(event: PlaceChanged) -> None:
    """Someone's registration for a festival ended (withdrawn, cancelled, erased; connected
    in ``lms.events.init_app``, so it runs under the festival's lock, in the same
    transaction): their bookings of sessions not yet over are given up as if they had
    cancelled each one (a calendar cancellation for each booked session, through the
    calendar's own listener) and each freed place is offered to the next person waiting.
    Sessions already held keep their bookings, for the record."""
    if (event.what != PLACE or event.from_state not in calendar.CONFIRMED
            or event.to_state in calendar.CONFIRMED):
        return
    offering = db.session.get(Offering, event.offering_id)
    if offering is None or not calendar.books_sessions(offering):
        return
    actor = db.session.get(User, event.actor_id) if event.actor_id else None
    bookings = db.session.scalars(
        select(Booking).join(Session, Session.id == Booking.session_id)
        .where(Session.offering_id == event.offering_id,
               Booking.user_id == event.person_id,
               Booking.state.in_([B.BOOKED, B.OFFERED, B.WAITLISTED]),
               Session.ends_at > utcnow())
        .order_by(Session.starts_at, Session.id)
    ).all()
    freed: list[Session] = []
    for booking in bookings:
        was = booking.state
        _leave(booking, actor, event.reason)
        if was == B.BOOKED:
            _email_booking_cancelled(booking)
        if was != B.WAITLISTED:
            freed.append(booking.session)
    for session in freed:
        waitlist.offer_session_places(session, actor)


def _email_booking(booking: Booking, template: str, subject: str, invite: bool = False,
                   attachments: list[Attachment] | None = None) -> None:
    session, person = booking.session, booking.user
    attachments = list(attachments or [])
    if invite:
        attachments.append(calendar.invitation(session, person, "REQUEST"))
    queue_email(
        person.email, subject, f"events/{template}", attachments=attachments,
        person=person, booking=booking, session=session, offering=session.offering,
        agenda_url=link("events.agenda", id=session.offering_id),
        page_url=calendar.page_url(session.offering.kind, session.offering_id),
    )


def get_booking(booking_id: int) -> Booking:
    booking = db.session.get(Booking, booking_id)
    if booking is None:
        raise NotFound("No such booking")
    return booking
