"""May this person book this festival session now? One decision, asked by the booking service
(which enforces it) and by the programme page (which shows the Book button only when it is
allowed, and otherwise says why), so a button shown is a booking that succeeds."""

from __future__ import annotations

from datetime import datetime

from lms.clock import date_text, time_text
from lms.errors import ALLOWED, Decision, DomainError, NotAllowed
from lms.offerings import policy
from lms.offerings.models import BookingState, OfferingStatus, Session

B = BookingState


class SessionClash(DomainError):
    """The person already has (or is waiting for) a session at the same time."""


NOT_REGISTERED = "Register for the festival before booking its sessions"


def clash_message(other: Session, state: str) -> str:
    when = f"{time_text(other.starts_at)} to {time_text(other.ends_at)} on " \
           f"{date_text(other.starts_at, weekday=True)}"
    message = f"This clashes with {other.title or other.offering.title} at {when}"
    if state == B.WAITLISTED:
        message += ", which you are on the waiting list for"
    elif state == B.OFFERED:
        message += ", where a place is offered to you"
    return message + ". Cancel that one first if you would rather come to this."


def may_book_session(festival_status: str, session: Session, now: datetime, registered: bool,
                     mine: tuple[str, int | None] | None,
                     clash: tuple[Session, str] | None) -> Decision:
    """``mine`` is the person's own live booking of the session (state, queue position);
    ``clash`` their first booked, offered or awaited session overlapping it."""
    if festival_status == OfferingStatus.CANCELLED:
        return Decision(False, "The festival has been cancelled", policy.BookingClosed)
    if festival_status not in (OfferingStatus.OPEN, OfferingStatus.RUNNING):
        return Decision(False, "Sessions cannot be booked at the moment", policy.BookingClosed)
    if session.is_cancelled:
        return Decision(False, "This session has been cancelled", policy.BookingClosed)
    if session.starts_at <= now:
        return Decision(False, "This session has already started", policy.BookingClosed)
    if not registered:
        return Decision(False, NOT_REGISTERED, NotAllowed)
    if mine is not None:
        state, position = mine
        reason = {B.BOOKED: "You have already booked this session",
                  B.OFFERED: "A place at this session is offered to you: accept it"}.get(
            state, f"You are already number {position} on its waiting list")
        return Decision(False, reason, policy.AlreadyBooked)
    if clash is not None:
        return Decision(False, clash_message(*clash), SessionClash)
    return ALLOWED


def may_cancel_session_booking(state: str, session: Session, now: datetime) -> Decision:
    """Whether a festival session booking, offered place or queue position can be given up
    now: the confirmation page asks only when the service will do it."""
    if state not in (BookingState.BOOKED, BookingState.OFFERED, BookingState.WAITLISTED):
        return Decision(False, "There is nothing to cancel")
    if session.ends_at <= now:
        return Decision(False, "This session has already taken place")
    return ALLOWED


def first_clash(session: Session, others: list[tuple[Session, str]]) -> tuple[Session, str] | None:
    """The first (by start) of ``others`` (the person's live bookings, scheduled sessions)
    overlapping ``session``, other than itself: as the service's query finds it."""
    overlapping = [(s, state) for s, state in others
                   if s.id != session.id and s.starts_at < session.ends_at
                   and s.ends_at > session.starts_at]
    return min(overlapping, key=lambda pair: pair[0].starts_at) if overlapping else None
