"""Deciding proposals: accepting a talk into a network meeting or a festival slot, declining
it with a message, or keeping it on the reserve list.

Accepting fills the meeting's topic and presenter (through the networks' own
``update_occurrence``) or makes the festival session (``add_festival_session``), lists the
presenters as speakers, and sends each a calendar invitation as a place would. Clashes with
the presenters' other sessions are the festival's rule (``session_policy.first_clash``).
Services flush and never commit."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select

from lms.accounts.models import User
from lms.clock import LONDON, to_london, utcnow
from lms.errors import DomainError, ErrorCollector
from lms.events import festival as festivals
from lms.events import networks
from lms.events.models import Festival, FestivalSession, NetworkOccurrence
from lms.events.services import SpeakerDetails, checked_text, set_speakers
from lms.events.session_policy import SessionClash, clash_message, first_clash
from lms.extensions import db
from lms.notifications.services import link, queue_email
from lms.offerings import calendar
from lms.offerings import services as engine
from lms.offerings.models import Booking, BookingState, Session, SessionStatus
from lms.talks import policy
from lms.talks.models import Proposal, ProposalState

MESSAGE_MAX = 2000


def presenters(proposal: Proposal) -> list[User]:
    """The proposer and the co-presenters who confirmed, in that order."""
    return [proposal.proposer] + [c.user for c in proposal.co_presenters
                                  if c.confirmed_at is not None]


def presenter_line(proposal: Proposal) -> str:
    """"Priya Patel (Coventry and Warwickshire) and Sam Shah (The Strategy Unit)"."""
    names = [f"{p.full_name} ({p.organisation.name})" for p in presenters(proposal)]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def accepted_in(session_id: int) -> Proposal | None:
    """The talk already accepted for a session, if any."""
    return db.session.scalar(select(Proposal).where(
        Proposal.session_id == session_id, Proposal.state == ProposalState.ACCEPTED))


def commitments(people: list[User], starts: datetime, ends: datetime
                ) -> list[tuple[Session, str]]:
    """The presenters' live festival bookings and accepted talks overlapping a time."""
    ids = [p.id for p in people]
    booked = list(db.session.execute(
        select(Session, Booking.state).join(Booking, Booking.session_id == Session.id)
        .where(Booking.user_id.in_(ids),
               Booking.state.in_([BookingState.BOOKED, BookingState.OFFERED,
                                  BookingState.WAITLISTED]),
               Session.status == SessionStatus.SCHEDULED,
               Session.starts_at < ends, Session.ends_at > starts)).tuples())
    from lms.talks.models import CoPresenter

    talks = db.session.scalars(
        select(Session).join(Proposal, Proposal.session_id == Session.id)
        .where(Proposal.state == ProposalState.ACCEPTED,
               Session.status == SessionStatus.SCHEDULED,
               Session.starts_at < ends, Session.ends_at > starts,
               (Proposal.proposer_id.in_(ids)) | Proposal.id.in_(
                   select(CoPresenter.proposal_id).where(CoPresenter.user_id.in_(ids))))
    ).all()
    return booked + [(s, str(BookingState.BOOKED)) for s in talks]


def check_no_clash(proposal: Proposal, slot: Session) -> None:
    """Refuse a slot overlapping a presenter's other booked session or accepted talk."""
    clash = first_clash(slot, commitments(presenters(proposal), slot.starts_at, slot.ends_at))
    if clash is not None:
        raise SessionClash("A presenter is already busy then. " + clash_message(*clash),
                           "start" if slot.id is None else "session_id")


def _message(raw: str | None, required: bool) -> str:
    return checked_text(raw, "A message to the proposer", "message", MESSAGE_MAX,
                        required=required, one_line=False)


def _decided(proposal: Proposal, state: str, message: str, session: Session | None) -> None:
    proposal.state = state
    proposal.decided_message = message
    proposal.decided_at = utcnow()
    proposal.session_id = session.id if session is not None else None
    if session is not None:
        proposal.session = session


def _speakers(proposal: Proposal) -> list[SpeakerDetails]:
    return [SpeakerDetails(p.full_name, p.job_title, p.organisation.name)
            for p in presenters(proposal)]


def _tell_accepted(proposal: Proposal, session: Session) -> None:
    """Each presenter: the decision, with a calendar invitation as a place would carry."""
    for person in presenters(proposal):
        queue_email(person.email, f"Your talk is accepted: {proposal.title}",
                    "talks/accepted", attachments=[calendar.invitation(session, person)],
                    person=person, proposal=proposal, session=session,
                    proposal_url=link("talks.proposal", id=proposal.id)
                    if person.id == proposal.proposer_id else link("talks.my_proposals"),
                    slides_url=link("talks.slides_upload", id=proposal.id))


def accept_into_meeting(actor: User, proposal: Proposal, session_id: int | None,
                        message: str | None = "") -> Session:
    """Accept a talk into one of the network's meetings: the meeting gets its topic and
    presenter, the presenters are its speakers and are sent the invitation."""
    policy.may_accept(actor, proposal).enforce()
    call = proposal.call
    engine.lock_offering(call.offering_id)
    errors = ErrorCollector()
    text = errors.check(_message, message, False)
    session = db.session.get(Session, session_id) if session_id else None
    if session is not None and db.session.get(NetworkOccurrence, session.id) is None:
        session = None
    filled = accepted_in(session.id) if session is not None else None
    errors.check(policy.meeting_free(call, session, utcnow(), filled).enforce, "session_id")
    errors.raise_any()
    check_no_clash(proposal, session)
    local = to_london(session.starts_at)
    networks.update_occurrence(actor, session, networks.OccurrenceDetails(
        topic=proposal.title, presenter=presenter_line(proposal), day=local.date(),
        start=local.time(), end=to_london(session.ends_at).time(), location=session.location,
        join_url=session.join_url))
    set_speakers(session, _speakers(proposal))
    _decided(proposal, ProposalState.ACCEPTED, text, session)
    db.session.flush()
    _tell_accepted(proposal, session)
    return session


@dataclass
class FestivalSlot:
    track_id: int | None = None
    day: date | None = None
    start: time | None = None
    location: str = ""
    join_url: str = ""


def accept_into_festival(actor: User, proposal: Proposal, slot: FestivalSlot,
                         message: str | None = "") -> Session:
    """Accept a talk into a festival track at a time: the session is made (as faculty
    would make it), with the presenters as its speakers; nothing else may be in that track
    then, and no presenter may be busy then."""
    policy.may_accept(actor, proposal).enforce()
    call = proposal.call
    festival = db.session.get(Festival, call.offering_id)
    if festival is None:
        raise DomainError("This call is not on a festival")
    engine.lock_offering(festival.id)
    errors = ErrorCollector()
    text = errors.check(_message, message, False)
    if slot.track_id not in {t.id for t in festival.tracks}:
        errors.errors.append(("track_id", "Choose the track"))
    if slot.day is None:
        errors.errors.append(("day", "Enter the day of the talk"))
    if slot.start is None:
        errors.errors.append(("start", "Enter the time the talk starts"))
    errors.raise_any()
    starts_at = datetime.combine(slot.day, slot.start, tzinfo=LONDON).astimezone(UTC)
    ends_at = starts_at + timedelta(minutes=proposal.length_minutes)
    end_local = to_london(ends_at)
    if end_local.date() != slot.day:
        raise DomainError("The talk must end on the day it starts", "start")
    taken = db.session.scalar(
        select(Session).join(FestivalSession, FestivalSession.session_id == Session.id)
        .where(FestivalSession.track_id == slot.track_id,
               Session.status == SessionStatus.SCHEDULED,
               Session.starts_at < ends_at, Session.ends_at > starts_at).limit(1))
    if taken is not None:
        raise policy.SlotTaken(f"“{taken.title}” is already in that track then: choose "
                               "another time or track", "start")
    check_no_clash(proposal, Session(starts_at=starts_at, ends_at=ends_at, title=""))
    session = festivals.add_festival_session(actor, festival, festivals.FestivalSessionDetails(
        track_id=slot.track_id, title=proposal.title, description=proposal.abstract,
        day=slot.day, start=slot.start, end=end_local.time(), location=slot.location,
        join_url=slot.join_url, speakers=_speakers(proposal)))
    _decided(proposal, ProposalState.ACCEPTED, text, session)
    db.session.flush()
    _tell_accepted(proposal, session)
    return session


def decline(actor: User, proposal: Proposal, message: str | None) -> Proposal:
    """Decline a proposal with a message to the proposer (required: say why)."""
    policy.may_decide(actor, proposal).enforce()
    text = _message(message, True)
    _decided(proposal, ProposalState.DECLINED, text, None)
    db.session.flush()
    queue_email(proposal.proposer.email, f"Your talk proposal: {proposal.title}",
                "talks/declined", person=proposal.proposer, proposal=proposal,
                proposal_url=link("talks.proposal", id=proposal.id))
    return proposal


def keep_in_reserve(actor: User, proposal: Proposal, message: str | None = "") -> Proposal:
    """Keep a proposal on the reserve list: still undecided for its proposer, who may change
    or withdraw it, and it may be accepted later."""
    policy.may_decide(actor, proposal).enforce()
    if proposal.state == ProposalState.RESERVE:
        raise DomainError("This proposal is already on the reserve list")
    text = _message(message, False)
    proposal.state = ProposalState.RESERVE
    proposal.decided_message = text
    db.session.flush()
    queue_email(proposal.proposer.email, f"Your talk proposal: {proposal.title}",
                "talks/reserved", person=proposal.proposer, proposal=proposal,
                proposal_url=link("talks.proposal", id=proposal.id))
    return proposal
