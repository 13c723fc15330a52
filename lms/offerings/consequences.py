"""What follows a destructive action on a place, in the users' words, for its confirmation
page: derived from the same facts the engine acts on (the state of the place, the waiting
list, the ICS quota, the sessions on the person's calendar, who nominated them), so the page
says what the engine will do, for every kind of offering.

Each function returns a ``Confirmation`` (``lms.web``): the question, what follows, the
button, and whether a reason is asked for (where faculty or the DSU lead will want one: a
nominated place given up or declined, a nomination withdrawn, a cohort cancelled).
"""

from __future__ import annotations

from sqlalchemy import func, select

from lms.clock import utcnow
from lms.extensions import db
from lms.offerings import calendar, places
from lms.offerings.models import (
    ACTIVE,
    Booking,
    BookingState,
    Enrolment,
    EnrolmentState,
    Offering,
    Session,
)
from lms.web import Confirmation, ReasonBox

S = EnrolmentState


def _plural(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else (many or one + 's')}"


def _waiting(offering: Offering) -> int:
    return places.waitlist_length(offering.id)


def _calendar_sessions(enrolment: Enrolment) -> int:
    """Sessions still to come that this place has put on the person's calendar (where
    sessions are booked one by one, each booking's own: ``_booked_sessions``)."""
    offering = enrolment.offering
    if calendar.books_sessions(offering) or enrolment.state not in calendar.CONFIRMED:
        return 0
    now = utcnow()
    return sum(1 for s in offering.live_sessions if s.ends_at > now)


def _booked_sessions(enrolment: Enrolment) -> int:
    return db.session.scalar(
        select(func.count()).select_from(Booking).join(Session, Session.id == Booking.session_id)
        .where(Booking.user_id == enrolment.user_id,
               Session.offering_id == enrolment.offering_id,
               Booking.state == BookingState.BOOKED, Session.ends_at > utcnow())) or 0


def _place_goes(enrolment: Enrolment, whose: str = "Your") -> str:
    """Where a freed place goes: the ICS quota it came from, the next person waiting, or
    anyone who books."""
    offering = enrolment.offering
    waiting = _waiting(offering)
    if enrolment.quota_organisation_id is not None and places.quotas_in_force(offering):
        return (f"{whose} place goes back to {enrolment.quota_organisation.name}'s quota, "
                "so the DSU lead can nominate someone else.")
    if waiting:
        return (f"{whose} place is offered to the next person on the waiting list "
                f"({_plural(waiting, 'person', 'people')} waiting).")
    return f"{whose} place is freed for someone else to book."


def _words(offering: Offering) -> tuple[str, str, str]:
    """(question, button, done-word) for giving up a place on this kind of offering."""
    if offering.kind == "network":
        return f"Leave {offering.title}?", "Leave the network", "leave"
    if offering.kind == "festival":
        return (f"Cancel your registration for {offering.title}?", "Cancel my registration",
                "cancel your registration")
    return f"Withdraw from {offering.title}?", "Withdraw", "withdraw"


def _nominated(enrolment: Enrolment) -> bool:
    return enrolment.nominated_by_id is not None or enrolment.quota_organisation_id is not None


def _lead_is_told(enrolment: Enrolment) -> list[str]:
    if enrolment.nominated_by is None:
        return []
    return [f"{enrolment.nominated_by.full_name}, the DSU lead who nominated you, is told by "
            "email, with your reason if you give one."]


REASON_FOR_LEAD = ReasonBox(
    "Why? (optional)",
    "Your DSU lead and the course faculty see this, and it is included in the email to "
    "your DSU lead.")


def of_withdrawing(enrolment: Enrolment, back: str) -> Confirmation:
    """A person gives up their own place, request or queue position."""
    offering = enrolment.offering
    question, button, word = _words(offering)
    lines: list[str] = []
    if enrolment.state == S.WAITLISTED:
        behind = _waiting(offering) - (enrolment.waitlist_position or 0)
        question, button = (f"Leave the waiting list for {offering.title}?",
                            "Leave the waiting list")
        lines.append(f"You lose your place in the queue (number {enrolment.waitlist_position})"
                     + (f"; the {_plural(behind, 'person', 'people')} behind you move up one."
                        if behind > 0 else "."))
    elif enrolment.state == S.REQUESTED:
        question, button = (f"Withdraw your request for {offering.title}?",
                            "Withdraw my request")
        lines.append("Faculty will no longer consider your request.")
    else:
        lines.append(_place_goes(enrolment))
        booked = _booked_sessions(enrolment) if calendar.books_sessions(offering) else 0
        if booked:
            lines.append(f"Your {_plural(booked, 'session booking')} "
                         f"{'is' if booked == 1 else 'are'} cancelled and offered on.")
        sessions = _calendar_sessions(enrolment)
        if sessions:
            lines.append(f"We send your calendar a cancellation for "
                         f"{_plural(sessions, 'session')} still to come.")
    lines += _lead_is_told(enrolment)
    lines.append(f"We email you to confirm. To {word} and come back later, you would need "
                 "to book again, if places are left.")
    return Confirmation(question, tuple(lines), button, back, caption=offering.title,
                        reason=REASON_FOR_LEAD if _nominated(enrolment) else None)


def of_declining(enrolment: Enrolment, back: str) -> Confirmation:
    """A person says no to a nomination or to a place offered from the waiting list."""
    offering = enrolment.offering
    if enrolment.state == S.OFFERED:
        question = f"Decline the place offered on {offering.title}?"
        lines = [_place_goes(enrolment), "You leave the waiting list: the offer cannot be "
                 "taken back later."]
    else:
        question = f"Decline your nomination for {offering.title}?"
        lines = [_place_goes(enrolment)]
    lines += _lead_is_told(enrolment)
    lines.append("We email you to confirm.")
    return Confirmation(question, tuple(lines), "Decline", back, caption=offering.title,
                        reason=REASON_FOR_LEAD if _nominated(enrolment) else None)


def of_withdrawing_nomination(enrolment: Enrolment, back: str) -> Confirmation:
    """A DSU lead withdraws a nomination of someone in their ICS."""
    person = enrolment.user
    lines = [
        _place_goes(enrolment, whose="The"),
        f"{person.full_name} is told by email, with your reason.",
        "We email you to confirm.",
    ]
    return Confirmation(
        f"Withdraw the nomination of {person.full_name}?", tuple(lines),
        "Withdraw the nomination", back, caption=enrolment.offering.title,
        reason=ReasonBox("Why are you withdrawing the nomination?",
                         f"{person.full_name} and the course faculty see this.",
                         required=False))


def _session_queue(session_id: int) -> int:
    return db.session.scalar(select(func.count()).select_from(Booking).where(
        Booking.session_id == session_id, Booking.state == BookingState.WAITLISTED)) or 0


def of_cancelling_session_booking(booking: Booking, back: str) -> Confirmation:
    """A person gives up a festival session they booked, or their place in its queue."""
    session = booking.session
    title = session.title or "this session"
    if booking.state == BookingState.WAITLISTED:
        behind = _session_queue(session.id) - (booking.waitlist_position or 0)
        return Confirmation(
            f"Leave the waiting list for {title}?",
            (f"You lose your place in the queue (number {booking.waitlist_position})"
             + (f"; the {_plural(behind, 'person', 'people')} behind you move up one."
                if behind > 0 else "."),
             "We email you to confirm."), "Leave the waiting list", back, caption=title)
    waiting = _session_queue(session.id)
    return Confirmation(
        f"Cancel your booking for {title}?",
        ("Your place goes to the next person on the waiting list, who is offered it "
         "automatically." if waiting else "Your place is freed for someone else to book.",
         "We send your calendar a cancellation and email you to confirm.",
         "To come back later you would need to book again, if places are left."),
        "Cancel booking", back, caption=title)


def of_declining_session_offer(booking: Booking, back: str) -> Confirmation:
    """A person says no to a place offered at a festival session from its waiting list."""
    title = booking.session.title or "this session"
    return Confirmation(
        f"Decline the place offered at {title}?",
        ("The place goes to the next person waiting.",
         "You leave the waiting list: the offer cannot be taken back later.",
         "We email you to confirm."), "Decline", back, caption=title)


def of_cancelling(offering: Offering, back: str, what: str = "cohort") -> Confirmation:
    """Faculty cancel a whole offering: every active place ends and each person is told."""
    counts = dict(db.session.execute(
        select(Enrolment.state, func.count()).where(
            Enrolment.offering_id == offering.id,
            Enrolment.state.in_([s for s in ACTIVE if s != S.COMPLETED]))
        .group_by(Enrolment.state)).tuples().all())
    holding = sum(n for state, n in counts.items() if state in calendar.CONFIRMED)
    waiting = counts.get(S.WAITLISTED, 0)
    pending = sum(counts.values()) - holding - waiting
    lines = []
    if counts:
        parts = [p for p in (
            _plural(holding, "place") if holding else "",
            _plural(waiting, "waiting-list position") if waiting else "",
            _plural(pending, "request, nomination or offer", "requests, nominations or offers")
            if pending else "") if p]
        lines.append(f"{', '.join(parts)} {'is' if sum(counts.values()) == 1 else 'are'} "
                     "cancelled, and each person is emailed your reason.")
    else:
        lines.append("No one has a place, so no one is emailed.")
    if holding:
        lines.append("People with a place are sent a cancellation for each session in their "
                     "calendar.")
    lines.append(f"The {what} stops taking bookings. This cannot be undone.")
    return Confirmation(f"Cancel {offering.title}?", tuple(lines), f"Cancel the {what}", back,
                        caption=offering.title,
                        reason=ReasonBox(f"Why is the {what} cancelled?",
                                         "This is included in the email to everyone affected, "
                                         "and kept with the " + what + ".", required=True),
                        keep=f"No, keep the {what}")
