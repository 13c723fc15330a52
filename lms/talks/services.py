"""Calls and proposals: opening and changing a call, proposing, changing and withdrawing a
talk, co-presenters confirming, invited reviewers and reviews. The rules are
``lms.talks.policy``'s; services validate, flush and never commit. Deciding and scheduling
is ``lms.talks.schedule``."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from lms.accounts.emails import canonical_email
from lms.accounts.models import User
from lms.clock import LONDON, utcnow
from lms.courses.models import Strand
from lms.errors import DomainError, ErrorCollector, NotAllowed, NotFound
from lms.events.models import NetworkOccurrence
from lms.events.services import checked_text
from lms.extensions import db
from lms.notifications.services import link, queue_email
from lms.offerings.models import Offering, Session
from lms.talks import policy
from lms.talks.models import (
    Call,
    CallReviewer,
    CallSession,
    CoPresenter,
    Proposal,
    ProposalState,
    Review,
)

LENGTHS = (10, 15, 20, 30, 45, 60, 90)
MAX_CO_PRESENTERS = 4
ABSTRACT_MAX = 3000


# ---------------------------------------------------------------------------- look-ups


def get_call(call_id: int) -> Call:
    call = db.session.get(Call, call_id)
    if call is None:
        raise NotFound("No such call")
    return call


def get_proposal(proposal_id: int) -> Proposal:
    proposal = db.session.get(Proposal, proposal_id)
    if proposal is None:
        raise NotFound("No such proposal")
    return proposal


def own_proposal(user, proposal_id: int) -> Proposal:
    """The person's own proposal; anyone else's is no page (404)."""
    proposal = get_proposal(proposal_id)
    if not user.is_authenticated or proposal.proposer_id != user.id:
        raise NotFound("No such proposal")
    return proposal


def own_co_presenting(user, co_presenter_id: int) -> CoPresenter:
    row = db.session.scalar(select(CoPresenter).options(joinedload(CoPresenter.proposal))
                            .where(CoPresenter.id == co_presenter_id))
    if row is None or not user.is_authenticated or row.user_id != user.id:
        raise NotFound("No such invitation")
    return row


def get_offering(offering_id: int) -> Offering:
    offering = db.session.get(Offering, offering_id)
    if offering is None or offering.kind not in policy.CALL_KINDS:
        raise NotFound("No such event")
    return offering


# ---------------------------------------------------------------------------- calls


@dataclass
class CallDetails:
    title: str = ""
    wanted: str = ""
    strands: list[str] = field(default_factory=list)
    lengths: list[str] = field(default_factory=list)
    closes_on: date | None = None
    hide_scores: bool = True
    session_ids: list[str] = field(default_factory=list)


def free_meetings(offering: Offering, now: datetime | None = None) -> list[Session]:
    """A network's meetings to come, not cancelled: those a call may offer."""
    now = now or utcnow()
    if offering.kind != "network":
        return []
    return list(db.session.scalars(
        select(Session).join(NetworkOccurrence, NetworkOccurrence.session_id == Session.id)
        .where(Session.offering_id == offering.id, Session.starts_at > now,
               Session.status == "scheduled")
        .order_by(Session.starts_at)))


def _closing(day: date | None, now: datetime) -> datetime:
    if day is None:
        raise DomainError("Enter the last day proposals can be sent", "closes_on")
    closes_at = datetime.combine(day + timedelta(days=1), time(0), tzinfo=LONDON).astimezone(UTC)
    if closes_at <= now:
        raise DomainError("The closing date must be today or in the future", "closes_on")
    return closes_at


def _strands(values: list[str]) -> list[str]:
    known = [s.value for s in Strand]
    if any(v not in known for v in values):
        raise DomainError("Choose strands from the list", "strands")
    return [s for s in known if s in values]


def _lengths(values: list[str]) -> list[int]:
    chosen = {int(v) for v in values if str(v).isdigit() and int(v) in LENGTHS}
    if len(chosen) != len(set(values)) or not chosen:
        raise DomainError("Choose at least one talk length", "lengths")
    return sorted(chosen)


def _meetings(offering: Offering, values: list[str], now: datetime) -> list[int]:
    if offering.kind != "network":
        return []
    free = {str(s.id): s.id for s in free_meetings(offering, now)}
    if any(v not in free for v in values):
        raise DomainError("Choose meetings still to come", "session_ids")
    if not values:
        raise DomainError("Choose at least one meeting a talk can go into", "session_ids")
    return sorted(free[v] for v in set(values))


def _checked_call(offering: Offering, details: CallDetails, now: datetime) -> dict:
    errors = ErrorCollector()
    values = {
        "title": errors.check(checked_text, details.title, "The call's title", "title", 200,
                              required=True),
        "wanted": errors.check(checked_text, details.wanted, "What is wanted", "wanted", 5000,
                               required=True, one_line=False),
        "strands": errors.check(_strands, details.strands or []),
        "lengths": errors.check(_lengths, details.lengths or []),
        "closes_at": errors.check(_closing, details.closes_on, now),
        "sessions": errors.check(_meetings, offering, details.session_ids or [], now),
    }
    errors.raise_any()
    values["hide_scores_until_scored"] = bool(details.hide_scores)
    return values


def _apply_call(call: Call, values: dict) -> None:
    sessions = values.pop("sessions")
    for name, value in values.items():
        setattr(call, name, value)
    keep = set(sessions)
    call.free_sessions[:] = [row for row in call.free_sessions if row.session_id in keep]
    have = {row.session_id for row in call.free_sessions}
    call.free_sessions.extend(CallSession(session_id=sid) for sid in sessions
                              if sid not in have)


def open_call(actor: User, offering: Offering, details: CallDetails) -> Call:
    """A call for talks on a network series or a festival."""
    policy.may_open_call(actor, offering).enforce()
    values = _checked_call(offering, details, utcnow())
    call = Call(offering=offering, created_by_id=actor.id)
    _apply_call(call, values)
    db.session.add(call)
    db.session.flush()
    return call


def update_call(actor: User, call: Call, details: CallDetails) -> Call:
    """Change a call (a closed call opens again if its closing date is moved on)."""
    policy.may_open_call(actor, call.offering).enforce()
    values = _checked_call(call.offering, details, utcnow())
    _apply_call(call, values)
    call.closed_at = None
    db.session.flush()
    return call


def close_call(actor: User, call: Call) -> Call:
    """Stop taking proposals now."""
    if not policy.runs_calls(actor):
        raise NotAllowed("Only faculty can close calls")
    if call.closed_at is None:
        call.closed_at = utcnow()
    db.session.flush()
    return call


def invite_reviewer(actor: User, call: Call, email: str | None) -> CallReviewer:
    """Faculty ask someone with an account to review the call's proposals; they are emailed
    a link to the proposals."""
    if not policy.runs_calls(actor):
        raise NotAllowed("Only faculty can invite reviewers")
    person = _person_by_email(email, "email")
    if policy.runs_calls(person):
        raise DomainError(f"{person.full_name} is faculty and reviews every call already",
                          "email")
    if policy.is_invited_reviewer(person, call):
        raise DomainError(f"{person.full_name} is already a reviewer of this call", "email")
    row = CallReviewer(call_id=call.id, user_id=person.id, invited_by_id=actor.id)
    db.session.add(row)
    db.session.flush()
    queue_email(person.email, f"Review talks for {call.offering.title}",
                "talks/reviewer_invited", person=person, call=call,
                review_url=link("talks.review_list", id=call.id))
    return row


def _person_by_email(raw: str | None, field_name: str) -> User:
    if not (raw or "").strip():
        raise DomainError("Enter their email address", field_name)
    try:
        address = canonical_email(raw or "")
    except ValueError:
        raise DomainError(f"“{(raw or '').strip()[:80]}” is not an email address",
                          field_name) from None
    person = db.session.scalar(select(User).where(User.email == address,
                                                  User.is_active_account.is_(True)))
    if person is None:
        raise DomainError(f"Nobody has an account with the address {address}: ask them to "
                          "sign up first", field_name)
    return person


# ---------------------------------------------------------------------------- proposals


@dataclass
class ProposalDetails:
    title: str = ""
    abstract: str = ""
    strand: str | None = None
    length: str | None = None
    co_presenters: str = ""
    preferred_dates: str = ""
    slides_shareable: bool = False


def _strand_of(call: Call, value: str | None) -> str:
    allowed = call.strands or [s.value for s in Strand]
    if value not in allowed:
        raise DomainError("Choose the strand your talk fits", "strand")
    return value


def _length_of(call: Call, value: str | None) -> int:
    if value is None or not str(value).isdigit() or int(value) not in call.lengths:
        raise DomainError("Choose how long your talk is", "length")
    return int(value)


def _co_presenters(proposer: User, raw: str) -> list[User]:
    addresses = [a for a in raw.replace(",", "\n").replace(";", "\n").split() if a]
    if len(addresses) > MAX_CO_PRESENTERS:
        raise DomainError(f"Name at most {MAX_CO_PRESENTERS} co-presenters", "co_presenters")
    people: list[User] = []
    errors = ErrorCollector()
    for address in addresses:
        person = errors.check(_person_by_email, address, "co_presenters")
        if person is None:
            continue
        if person.id == proposer.id:
            errors.errors.append(("co_presenters", "You are the proposer: name only the "
                                                   "people presenting with you"))
        elif all(p.id != person.id for p in people):
            people.append(person)
    errors.raise_any()
    return people


def _checked_proposal(proposer: User, call: Call, details: ProposalDetails) -> dict:
    errors = ErrorCollector()
    values = {
        "title": errors.check(checked_text, details.title, "Your talk's title", "title", 200,
                              required=True),
        "abstract": errors.check(checked_text, details.abstract, "The abstract", "abstract",
                                 ABSTRACT_MAX, required=True, one_line=False),
        "strand": errors.check(_strand_of, call, details.strand),
        "length_minutes": errors.check(_length_of, call, details.length),
        "preferred_dates": errors.check(checked_text, details.preferred_dates,
                                        "Preferred dates", "preferred_dates", 500),
        "co": errors.check(_co_presenters, proposer, details.co_presenters or ""),
    }
    errors.raise_any()
    values["slides_shareable"] = bool(details.slides_shareable)
    return values


def _ask_to_confirm(row: CoPresenter, proposal: Proposal) -> None:
    queue_email(row.user.email, f"Confirm you are presenting “{proposal.title}”",
                "talks/co_presenter_asked", person=row.user, proposal=proposal,
                confirm_url=link("talks.co_presenting", id=row.id))


def _set_co_presenters(proposal: Proposal, people: list[User]) -> None:
    wanted = {p.id for p in people}
    proposal.co_presenters[:] = [c for c in proposal.co_presenters if c.user_id in wanted]
    have = {c.user_id for c in proposal.co_presenters}
    added = [CoPresenter(user=p, user_id=p.id) for p in people if p.id not in have]
    proposal.co_presenters.extend(added)
    db.session.flush()
    for row in added:
        _ask_to_confirm(row, proposal)


def propose(user: User, call: Call, details: ProposalDetails) -> Proposal:
    """A talk offered to an open call. The proposer gets a receipt; each co-presenter an
    email asking them to confirm."""
    now = utcnow()
    policy.may_propose(user, call, now).enforce()
    values = _checked_proposal(user, call, details)
    people = values.pop("co")
    proposal = Proposal(call=call, proposer=user, created_at=now, updated_at=now, **values)
    db.session.add(proposal)
    db.session.flush()
    _set_co_presenters(proposal, people)
    queue_email(user.email, f"Your talk proposal: {proposal.title}", "talks/proposal_received",
                person=user, proposal=proposal,
                proposal_url=link("talks.proposal", id=proposal.id))
    return proposal


def update_proposal(user: User, proposal: Proposal, details: ProposalDetails) -> Proposal:
    """Change a proposal until it is decided; a new co-presenter is asked to confirm."""
    policy.may_change_proposal(user, proposal).enforce()
    values = _checked_proposal(user, proposal.call, details)
    people = values.pop("co")
    for name, value in values.items():
        setattr(proposal, name, value)
    proposal.updated_at = utcnow()
    _set_co_presenters(proposal, people)
    return proposal


def withdraw(user: User, proposal: Proposal) -> Proposal:
    """The proposer takes their talk back."""
    policy.may_change_proposal(user, proposal).enforce()
    proposal.state = ProposalState.WITHDRAWN
    proposal.updated_at = utcnow()
    db.session.flush()
    return proposal


def confirm_co_presenting(user: User, row: CoPresenter) -> CoPresenter:
    """A co-presenter says yes, they are presenting this talk."""
    if row.user_id != user.id:
        raise NotFound("No such invitation")
    if row.proposal.state == ProposalState.WITHDRAWN:
        raise DomainError("This proposal has been withdrawn")
    if row.confirmed_at is None:
        row.confirmed_at = utcnow()
    db.session.flush()
    return row


def decline_co_presenting(user: User, row: CoPresenter) -> Proposal:
    """A co-presenter says they are not presenting: they are taken off the proposal and the
    proposer is told."""
    if row.user_id != user.id:
        raise NotFound("No such invitation")
    proposal = row.proposal
    if not proposal.undecided:
        raise DomainError("This proposal has been decided: ask the proposer to tell faculty")
    proposal.co_presenters.remove(row)
    db.session.flush()
    queue_email(proposal.proposer.email, f"{user.full_name} is not presenting "
                f"“{proposal.title}”", "talks/co_presenter_declined",
                person=proposal.proposer, proposal=proposal, who=user,
                proposal_url=link("talks.proposal", id=proposal.id))
    return proposal


# ---------------------------------------------------------------------------- reviews


def review_by(user, proposal: Proposal) -> Review | None:
    if not user.is_authenticated:
        return None
    return db.session.scalar(select(Review).where(Review.proposal_id == proposal.id,
                                                  Review.reviewer_id == user.id))


def _score(value: str | int | None) -> int:
    if value is None or str(value) not in {"1", "2", "3", "4", "5"}:
        raise DomainError("Choose a score from 1 to 5", "score")
    return int(value)


def review(user: User, proposal: Proposal, score: str | int | None,
           comment: str | None) -> Review:
    """A reviewer's score and comment (a second review by the same person replaces the
    first)."""
    policy.may_review(user, proposal).enforce()
    errors = ErrorCollector()
    checked_score = errors.check(_score, score)
    checked_comment = errors.check(checked_text, comment, "The comment", "comment", 2000,
                                   one_line=False)
    errors.raise_any()
    row = review_by(user, proposal)
    if row is None:
        row = Review(proposal_id=proposal.id, reviewer_id=user.id)
        db.session.add(row)
    row.score, row.comment, row.reviewed_at = checked_score, checked_comment, utcnow()
    db.session.flush()
    return row
