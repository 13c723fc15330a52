"""Who may do what with calls for talks, and when: one ``Decision`` per question, asked by
the services (which enforce it) and by the pages (which show a button only when it is
allowed, and otherwise say why)."""

from __future__ import annotations

from datetime import datetime

from lms.clock import date_text, when_text
from lms.errors import ALLOWED, Decision, DomainError, NotAllowed
from lms.offerings.models import OfferingStatus, Session
from lms.offerings.policy import can_manage
from lms.talks.models import Call, Proposal, ProposalState

# The kinds of offering a call can be opened on.
CALL_KINDS = ("network", "festival")


class CallClosed(DomainError):
    """The call is no longer taking proposals."""


class AlreadyDecided(DomainError):
    """The proposal has been decided; it can no longer change."""


class NotConfirmed(DomainError):
    """A co-presenter has not confirmed yet."""


class SlotTaken(DomainError):
    """The meeting or slot already has a talk, or is past or cancelled."""


def runs_calls(user) -> bool:
    """Faculty and admins open, change and decide calls (the offerings' own rule)."""
    return can_manage(user)


def may_open_call(user, offering) -> Decision:
    """A call on a network series or a festival that has not been cancelled."""
    if not runs_calls(user):
        return Decision(False, "Only faculty can open calls for talks", NotAllowed)
    if offering.kind not in CALL_KINDS:
        return Decision(False, "Calls for talks are for networks and festivals")
    if offering.status == OfferingStatus.CANCELLED:
        return Decision(False, "This event has been cancelled")
    return ALLOWED


def may_see_call(user, call: Call) -> bool:
    """Calls are for signed-in people (every member of the network may offer a talk)."""
    return bool(user.is_authenticated)


def may_propose(user, call: Call, now: datetime) -> Decision:
    """Anyone signed in, while the call is open."""
    if not user.is_authenticated:
        return Decision(False, "Sign in to propose a talk", NotAllowed)
    if call.offering.status == OfferingStatus.CANCELLED:
        return Decision(False, "This event has been cancelled", CallClosed)
    if not call.is_open(now):
        return Decision(False, f"This call closed on {date_text(closing_day(call))}: "
                               "proposals can no longer be sent", CallClosed)
    return ALLOWED


def closing_day(call: Call) -> datetime:
    """The last day proposals are taken (the call closes at midnight at its end), or the
    moment faculty closed it early."""
    from datetime import timedelta

    return call.closed_at or (call.closes_at - timedelta(seconds=1))


def may_change_proposal(user, proposal: Proposal) -> Decision:
    """The proposer changes or withdraws their proposal until it is decided."""
    if not user.is_authenticated or proposal.proposer_id != user.id:
        return Decision(False, "Only the person who proposed this talk can change it",
                        NotAllowed)
    if not proposal.undecided:
        return Decision(False, f"This proposal has been decided ({proposal.state_label.lower()})"
                               ": it can no longer be changed", AlreadyDecided)
    return ALLOWED


def is_invited_reviewer(user, call: Call) -> bool:
    from sqlalchemy import select

    from lms.extensions import db
    from lms.talks.models import CallReviewer

    if not user.is_authenticated:
        return False
    return db.session.scalar(select(CallReviewer.id).where(
        CallReviewer.call_id == call.id, CallReviewer.user_id == user.id)) is not None


def reviews_call(user, call: Call) -> bool:
    """Faculty always review; others only when faculty invited them to this call."""
    return runs_calls(user) or is_invited_reviewer(user, call)


def presents(user, proposal: Proposal) -> bool:
    """The proposer or a named co-presenter (confirmed or not)."""
    return bool(user.is_authenticated) and (
        proposal.proposer_id == user.id
        or any(c.user_id == user.id for c in proposal.co_presenters))


def may_review(user, proposal: Proposal) -> Decision:
    """A reviewer of the call scores any proposal but their own or one they present in."""
    if not reviews_call(user, proposal.call):
        return Decision(False, "Only the call's reviewers can review proposals", NotAllowed)
    if presents(user, proposal):
        return Decision(False, "You cannot review a talk you are presenting", NotAllowed)
    if proposal.state == ProposalState.WITHDRAWN:
        return Decision(False, "This proposal has been withdrawn")
    return ALLOWED


def sees_others_scores(call: Call, has_scored: bool) -> bool:
    """A reviewer sees the other reviews once they have scored, or at once when the call
    allows it."""
    return has_scored or not call.hide_scores_until_scored


def may_decide(user, proposal: Proposal) -> Decision:
    """Faculty decline, keep in reserve or accept a proposal still undecided."""
    if not runs_calls(user):
        return Decision(False, "Only faculty can decide proposals", NotAllowed)
    if not proposal.undecided:
        return Decision(False, f"This proposal has already been decided "
                               f"({proposal.state_label.lower()})", AlreadyDecided)
    return ALLOWED


def may_accept(user, proposal: Proposal) -> Decision:
    """Accepting also needs every co-presenter to have confirmed."""
    decision = may_decide(user, proposal)
    if not decision:
        return decision
    waiting = [c.user.full_name for c in proposal.co_presenters if c.confirmed_at is None]
    if waiting:
        return Decision(False, f"{', '.join(waiting)} has not yet confirmed they are "
                               "presenting: a talk can be accepted once every co-presenter "
                               "has confirmed", NotConfirmed)
    return ALLOWED


def meeting_free(call: Call, session: Session | None, now: datetime,
                 filled_by: Proposal | None) -> Decision:
    """A network meeting a talk can go into: one of the call's series, to come, not
    cancelled, and without an accepted talk already (``filled_by``)."""
    if session is None or session.offering_id != call.offering_id:
        return Decision(False, "Choose one of the network's meetings", SlotTaken)
    if session.is_cancelled:
        return Decision(False, f"The meeting on {date_text(session.starts_at)} has been "
                               "cancelled", SlotTaken)
    if session.starts_at <= now:
        return Decision(False, f"The meeting on {date_text(session.starts_at)} has already "
                               "taken place", SlotTaken)
    if filled_by is not None:
        return Decision(False, f"“{filled_by.title}” has already been accepted for the meeting "
                               f"on {when_text(session.starts_at)}", SlotTaken)
    return ALLOWED
