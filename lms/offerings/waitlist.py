"""Waiting lists: one set of rules for every queue, an offering's and a session's.

Whoever waits has a position from 1; leaving closes the gap; a freed place is *offered* to the
first person waiting, held for them until a deadline (the offering's ``offer_hours``, never
beyond the start), and they accept it, decline it, or let it lapse, when it is offered to the
next. The enrolment engine (``lms.offerings.services``) queues for places on offerings; this
module also runs the queues of sessions booked one by one (the festival's), whose places are
``Booking`` rows. The caller holds the offering's lock (``lock_offering``) throughout.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select, update

from lms.accounts.models import User
from lms.clock import utcnow
from lms.errors import ALLOWED, Decision, DomainError
from lms.extensions import db
from lms.listeners import notify
from lms.notifications.services import link, queue_email
from lms.offerings.models import Booking, BookingState, Offering, OfferingStatus, Session
from lms.offerings.transitions import SESSION_BOOKING, PlaceChanged

B = BookingState
WAITLISTED = "waitlisted"


# ---------------------------------------------------------------------------- any queue


def close_gap(model, scope, scope_id: int, position: int) -> None:
    """Move everyone in ``model``'s queue for ``scope == scope_id`` behind ``position`` up
    one place (``model`` is ``Enrolment`` with its offering, or ``Booking`` with its
    session)."""
    db.session.execute(
        update(model)
        .where(scope == scope_id, model.state == WAITLISTED, model.waitlist_position > position)
        .values(waitlist_position=model.waitlist_position - 1)
        .execution_options(synchronize_session="fetch")
    )


def queue_length(model, scope, scope_id: int) -> int:
    """How many are waiting in the queue."""
    return db.session.scalar(
        select(func.count(model.id)).where(scope == scope_id, model.state == WAITLISTED)
    ) or 0


def first_waiting(model, scope, scope_id: int):
    """The person at the front of the queue (their row), or None."""
    return db.session.scalar(
        select(model).where(scope == scope_id, model.state == WAITLISTED)
        .order_by(model.waitlist_position).limit(1)
    )


def offer_deadline(offering: Offering, starts_at: datetime | None = None,
                   now: datetime | None = None) -> datetime:
    """Until when an offered place is held: ``offer_hours`` from now, but never beyond the
    start of what is offered."""
    deadline = (now or utcnow()) + timedelta(hours=offering.offer_hours)
    return min(deadline, starts_at) if starts_at is not None else deadline


# ---------------------------------------------------------------------------- session queues


def set_booking_state(booking: Booking, to: str, actor: User | None, reason: str = "") -> None:
    """Change a session booking's state (the position and deadline follow it) and tell the
    app (``PlaceChanged`` for that one session): the booking's ``_transition``."""
    before = booking.state
    position = booking.waitlist_position
    booking.state = to
    if to != B.WAITLISTED:
        booking.waitlist_position = None
    if to != B.OFFERED:
        booking.offer_expires_at = None
    db.session.flush()
    if position is not None and to != B.WAITLISTED:
        close_gap(Booking, Booking.session_id, booking.session_id, position)
    notify(PlaceChanged(
        person_id=booking.user_id, offering_id=booking.session.offering_id,
        session_ids=(booking.session_id,), from_state=before, to_state=str(to),
        actor_id=actor.id if actor else None, reason=reason, what=SESSION_BOOKING,
    ))


def held_at(session_id: int) -> int:
    """Places at a session that are taken: booked, or offered and not yet answered."""
    return db.session.scalar(
        select(func.count(Booking.id)).where(Booking.session_id == session_id,
                                             Booking.state.in_([B.BOOKED, B.OFFERED]))
    ) or 0


def offer_session_places(session: Session, actor: User | None = None) -> list[Booking]:
    """Offer each free place at ``session`` to the first person waiting, with a deadline
    (as ``promote_waitlist`` does for offerings). Nothing for a session cancelled or
    started."""
    offered: list[Booking] = []
    now = utcnow()
    if (session.is_cancelled or session.starts_at <= now
            or session.offering.status not in (OfferingStatus.OPEN, OfferingStatus.RUNNING)):
        return offered
    while session.capacity is None or held_at(session.id) < session.capacity:
        first = first_waiting(Booking, Booking.session_id, session.id)
        if first is None:
            break
        first.offer_expires_at = offer_deadline(session.offering, session.starts_at, now)
        set_booking_state(first, B.OFFERED, actor, "A place became free")
        _email(first, "session_offered", "A place is available for you",
               deadline=first.offer_expires_at)
        offered.append(first)
    return offered


def accept_session_offer(booking: Booking, actor: User) -> None:
    """Take a place at a session offered from its waiting list, before the deadline."""
    if booking.state != B.OFFERED:
        raise DomainError("There is no offer of a place at this session to accept")
    if booking.offer_expires_at <= utcnow():
        raise DomainError("This offer has expired")
    set_booking_state(booking, B.BOOKED, actor, "Offer accepted")


def may_decline_session_offer(booking: Booking) -> Decision:
    """Whether there is a place offered at the session to say no to."""
    if booking.state != B.OFFERED:
        return Decision(False, "There is no offer of a place at this session to decline")
    return ALLOWED


def decline_session_offer(booking: Booking, actor: User) -> None:
    """Say no to a place offered at a session; it goes to the next person waiting."""
    may_decline_session_offer(booking).enforce()
    set_booking_state(booking, B.CANCELLED, actor, "Offer declined")
    _email(booking, "session_offer_declined", "You declined a place")
    offer_session_places(booking.session, actor)


def lapse_session_offers(offering_id: int, now: datetime) -> int:
    """Session offers of ``offering_id`` past their deadline lapse and go to the next person
    waiting. The caller holds the offering's lock. Returns how many lapsed."""
    due = db.session.scalars(
        select(Booking).join(Session, Session.id == Booking.session_id)
        .where(Session.offering_id == offering_id, Booking.state == B.OFFERED,
               Booking.offer_expires_at <= now)
        .order_by(Booking.id)
    ).all()
    sessions: dict[int, Session] = {}
    for booking in due:
        set_booking_state(booking, B.CANCELLED, None, "Offer not accepted in time")
        _email(booking, "session_offer_lapsed", "Your offer of a place has lapsed")
        sessions[booking.session_id] = booking.session
    for session in sessions.values():
        offer_session_places(session)
    return len(due)


def offerings_with_lapsed_session_offers(now: datetime) -> list[int]:
    """Offerings with a session offer past its deadline (for the lapse job)."""
    return list(db.session.scalars(
        select(Session.offering_id).join(Booking, Booking.session_id == Session.id)
        .where(Booking.state == B.OFFERED, Booking.offer_expires_at <= now).distinct()
    ))


def _email(booking: Booking, template: str, subject: str, **context) -> None:
    from lms.offerings.calendar import page_url, summary_of

    session, person = booking.session, booking.user
    offering = session.offering
    queue_email(
        person.email, f"{subject}: {summary_of(offering.title, session.title)}",
        f"offerings/{template}", person=person, booking=booking, session=session,
        offering=offering, page_url=page_url(offering.kind, offering.id),
        my_learning_url=link("offerings.my_learning"), **context,
    )
