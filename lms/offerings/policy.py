"""Who may see an offering, and who may book, nominate, withdraw, confirm, accept or decline:
one function per question, asked by every page, calendar download, feed, email and API answer.

Each action question returns a ``Decision``: allowed or not, and why not in the users' words.
The enrolment engine enforces the very decision pages use to choose their buttons (and to
say why a button is missing), so an action offered is allowed and an action allowed is offered.
Kinds of offering keep the facts this module needs on the Offering itself (a cohort's
``published`` follows its course), so it imports neither courses nor events.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement

from lms.accounts.models import User
from lms.clock import date_text, utcnow
from lms.errors import ALLOWED, Decision, DomainError, NotAllowed, NotFound
from lms.offerings import places
from lms.offerings.models import (
    ACTIVE,
    BookingMode,
    Enrolment,
    EnrolmentState,
    Offering,
    OfferingStatus,
)

S = EnrolmentState


class OfferingFull(DomainError):
    """No place is free."""


class QuotaExceeded(DomainError):
    """The ICS has used all the places reserved for it."""


class AlreadyBooked(DomainError):
    """The person already has a place, request, nomination or queue position."""


class BookingClosed(DomainError):
    """The offering does not take bookings now."""


def _no(reason: str, error: type[Exception] = DomainError) -> Decision:
    return Decision(False, reason, error)


def _day(moment: datetime) -> str:
    return date_text(moment)


# ---------------------------------------------------------------------------- who is who


def can_manage(user, offering: Offering | None = None) -> bool:
    """Faculty and admins manage offerings (and so see every one, drafts too)."""
    return bool(user.is_authenticated and (user.is_faculty or user.is_admin))


def can_nominate_for(lead: User, person: User) -> bool:
    """A DSU lead nominates only people of their own ICS."""
    return bool(lead.is_dsu_lead and lead.organisation.is_ics
                and person.organisation_id == lead.organisation_id)


# ---------------------------------------------------------------------------- who may see it


def is_public(offering: Offering) -> bool:
    """Whether everyone may see it: not a draft, and not withheld (a cohort of an
    unpublished course). Cancelled and finished offerings stay visible."""
    return offering.status != OfferingStatus.DRAFT and offering.published


def sees(user, public: bool) -> bool:
    """``can_see`` for a page that kept whether its offering is public."""
    return public or can_manage(user)


def can_see(user, offering: Offering) -> bool:
    """May this person see this offering (its page, calendar, sessions, API record)?"""
    return sees(user, is_public(offering))


def public_filter() -> list[ColumnElement[bool]]:
    """``is_public`` as SQL conditions on ``Offering``."""
    return [Offering.status != OfferingStatus.DRAFT, Offering.published.is_(True)]


def visible_filter(user) -> list[ColumnElement[bool]]:
    """``can_see`` as SQL conditions on ``Offering``, for listings, feeds, the API, search."""
    return [] if can_manage(user) else public_filter()


# ---------------------------------------------------------------------------- booking


def booking_closed(offering: Offering, now: datetime | None = None) -> str | None:
    """Why the offering takes no bookings (or nominations) now, or None when it does."""
    now = now or utcnow()
    if offering.status == OfferingStatus.CANCELLED:
        return "This has been cancelled"
    if offering.status != OfferingStatus.OPEN:
        return "Booking is not open"
    if not getattr(offering, "late_joining", False):
        starts = offering.starts_at
        if starts is not None and starts <= now:
            return "This has already started, so it cannot be booked"
    ends = offering.ends_at
    if ends is not None and ends <= now:
        return "This has finished"
    return None


def _a(state: str) -> str:
    return {
        S.REQUESTED: "a request", S.NOMINATED: "a nomination", S.APPROVED: "a nomination",
        S.WAITLISTED: "a place on the waiting list", S.OFFERED: "an offer of a place",
    }.get(EnrolmentState(state), "a place")


def decide_booking(closed: str | None, booking_mode: str, state: str | None) -> Decision:
    """May a person book for themselves, given why booking is closed (or None), the booking
    mode and their enrolment's state (or None)? Pages answer it from the offering's kept
    standing; the engine from the offering under its lock."""
    if closed is not None:
        return _no(closed, BookingClosed)
    if booking_mode == BookingMode.NOMINATION:
        return _no("Places are by nomination: ask the DSU lead of your ICS", NotAllowed)
    if state is not None and state in ACTIVE:
        return _no(f"You already have {_a(state)} for this", AlreadyBooked)
    return ALLOWED


def may_book(user, offering: Offering, enrolment: Enrolment | None = None,
             now: datetime | None = None) -> Decision:
    """May ``user`` book a place (or ask for one, or join the waiting list) for themselves?"""
    if not user.is_authenticated:
        return _no("Sign in to book", NotAllowed)
    if enrolment is None:
        enrolment = places.existing(offering, user)
    return decide_booking(booking_closed(offering, now), offering.booking_mode,
                          enrolment.state if enrolment is not None else None)


# ---------------------------------------------------------------------------- nominating


def nominations_closed(offering: Offering, now: datetime | None = None) -> str | None:
    """Why a nomination-mode offering takes no nominations now, or None when it does."""
    if offering.booking_mode != BookingMode.NOMINATION:
        return "This does not take nominations: people book for themselves"
    closed = booking_closed(offering, now)
    if closed is not None:
        return closed
    now = now or utcnow()
    if offering.nomination_opens_at and now < offering.nomination_opens_at:
        return f"Nominations open on {_day(offering.nomination_opens_at)}"
    if offering.nomination_closes_at and now >= offering.nomination_closes_at:
        return f"Nominations closed on {_day(offering.nomination_closes_at)}"
    return None


def _places_for(offering: Offering, organisation_id: int,
                held: places.Held | None = None) -> Decision:
    quota = places.quota_for(offering, organisation_id)
    if places.quotas_in_force(offering) and quota is not None:
        if places.quota_used(offering, organisation_id, held) >= quota.places:
            return _no(f"Your ICS has used all {quota.places} of its places on this cohort",
                       QuotaExceeded)
        return ALLOWED
    free = places.free_open_places(offering, held)
    if free is not None and free <= 0:
        return _no("There are no places left", OfferingFull)
    return ALLOWED


def may_nominate(lead, offering: Offering, person: User | None = None,
                 now: datetime | None = None, held: places.Held | None = None) -> Decision:
    """May ``lead`` nominate ``person`` (or, without a person, anyone of their ICS) to the
    offering now: a DSU lead of an ICS, their own people, a window open, a place free?
    ``held``: the offering's places held per ICS (``places.holding_by_ics``), when a page
    listing several offerings counted them in one query."""
    if not (lead.is_authenticated and lead.is_dsu_lead and lead.organisation.is_ics):
        return _no("Only DSU leads of an ICS nominate", NotAllowed)
    if person is not None:
        if not can_nominate_for(lead, person):
            return _no("You can nominate only people in your own ICS", NotAllowed)
        if not person.is_active_account or person.email_verified_at is None:
            return _no(f"{person.full_name} has no confirmed account, so cannot be nominated")
    closed = nominations_closed(offering, now)
    if closed is not None:
        error = DomainError if offering.booking_mode != BookingMode.NOMINATION else BookingClosed
        return _no(closed, error)
    if person is not None:
        existing = places.existing(offering, person)
        if existing is not None and existing.is_active:
            return _no(f"{person.full_name} already has {_a(existing.state)} for this",
                       AlreadyBooked)
    return _places_for(offering, lead.organisation_id, held)


# ---------------------------------------------------------------------------- a place's answers


def _is_lead_of(actor, enrolment) -> bool:
    """A DSU lead of the ICS whose quota a nomination (still awaiting its answer) uses."""
    return (enrolment.quota_organisation_id is not None
            and enrolment.state in (S.NOMINATED, S.APPROVED)
            and actor.is_authenticated and actor.is_dsu_lead and actor.organisation.is_ics
            and enrolment.quota_organisation_id == actor.organisation_id)


def may_withdraw(actor, enrolment) -> Decision:
    """May ``actor`` give up this place, request, nomination or queue position? The person
    themselves (a place, a request, a queue position: a nomination or an offer is declined,
    not withdrawn from), or a DSU lead of their ICS for a nomination."""
    is_self = actor.is_authenticated and enrolment.user_id == actor.id
    if not (is_self or _is_lead_of(actor, enrolment)):
        return _no("No such booking", NotFound)
    if not enrolment.is_active or enrolment.state == S.COMPLETED:
        return _no("There is nothing to withdraw from")
    if is_self and not _is_lead_of(actor, enrolment) and enrolment.state in (
            S.NOMINATED, S.APPROVED, S.OFFERED):
        what = "the offer" if enrolment.state == S.OFFERED else "the nomination"
        return _no(f"Decline {what} instead")
    return ALLOWED


def _own(user, enrolment) -> Decision:
    if not (user.is_authenticated and enrolment.user_id == user.id):
        return _no("No such booking", NotFound)
    return ALLOWED


def may_confirm(user, enrolment, now: datetime | None = None) -> Decision:
    """May the nominee take their approved place?"""
    if not (own := _own(user, enrolment)):
        return own
    if enrolment.state != S.APPROVED:
        return _no("There is no approved nomination to confirm")
    return ALLOWED


def may_accept(user, enrolment, now: datetime | None = None) -> Decision:
    """May the person take the place offered to them from the waiting list?"""
    if not (own := _own(user, enrolment)):
        return own
    if enrolment.state != S.OFFERED:
        return _no("There is no offer of a place to accept")
    if enrolment.offer_expires_at <= (now or utcnow()):
        return _no("This offer has expired")
    return ALLOWED


def may_decline(user, enrolment, now: datetime | None = None) -> Decision:
    """May the person say no to a nomination or an offered place?"""
    if not (own := _own(user, enrolment)):
        return own
    if enrolment.state not in (S.NOMINATED, S.APPROVED, S.OFFERED):
        return _no("There is nothing to decline")
    return ALLOWED


def may_answer(action: str, user, enrolment, now: datetime | None = None) -> Decision:
    """One of a person's answers about their own place, by name: withdraw, accept, decline
    or confirm (the booking panel's buttons)."""
    if action == "withdraw":
        return may_withdraw(user, enrolment)
    return {"accept": may_accept, "decline": may_decline,
            "confirm": may_confirm}[action](user, enrolment, now)


ANSWERS = ("confirm", "accept", "decline", "withdraw")


def answers(user, enrolment, now: datetime | None = None) -> list[str]:
    """The answers a person may give about their own place now: the buttons to show."""
    now = now or utcnow()
    return [action for action in ANSWERS if may_answer(action, user, enrolment, now)]
