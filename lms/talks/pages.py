"""What the calls' pages show, built in a few queries: the calls open now, a person's
proposals, the reviewers' list (sorted and filtered, with scores hidden until the reviewer
has scored when the call says so) and the balance panel. Reviewers' names are only ever on
the reviewers' pages: nothing built here for a proposer carries them."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import select

from lms.accounts.models import Organisation, OrganisationKind, User
from lms.clock import LONDON, to_london, utcnow
from lms.courses.models import STRAND_LABELS
from lms.events.models import NetworkOccurrence, Speaker
from lms.extensions import db
from lms.offerings.models import Offering, Session, SessionStatus
from lms.talks import policy, services
from lms.talks.models import Call, CoPresenter, Proposal, ProposalState, Review
from lms.talks.schedule import accepted_in

SORTS = {"score": "Average score", "submitted": "Date sent", "title": "Title",
         "ics": "Organisation"}
STRAND_NAMES = {s.value: label for s, label in STRAND_LABELS.items()}


def strand_label(value: str | None) -> str:
    return STRAND_NAMES.get(value or "", "Not given")


# ---------------------------------------------------------------------------- calls


@dataclass
class CallCard:
    call: Call
    is_open: bool
    proposals: int
    last_day: datetime


def calls_for(user, now: datetime | None = None) -> list[CallCard]:
    """Open calls for everyone signed in; faculty see closed ones too."""
    now = now or utcnow()
    query = select(Call).order_by(Call.closes_at.desc(), Call.id.desc())
    calls = list(db.session.scalars(query))
    counts = Counter(db.session.scalars(
        select(Proposal.call_id).where(Proposal.state != ProposalState.WITHDRAWN)))
    cards = [CallCard(c, c.is_open(now), counts[c.id], policy.closing_day(c)) for c in calls]
    if not policy.runs_calls(user):
        cards = [card for card in cards if card.is_open]
    return cards


def calls_on(offering_id: int, now: datetime | None = None) -> list[Call]:
    """Open calls on one offering (the event page links to them)."""
    now = now or utcnow()
    return [c for c in db.session.scalars(select(Call).where(Call.offering_id == offering_id))
            if c.is_open(now)]


@dataclass
class CallPage:
    call: Call
    is_open: bool
    may_propose: object
    meetings: list[Session]
    mine: list[Proposal]
    reviews: bool
    closing_day: datetime


def call_page(call: Call, user) -> CallPage:
    now = utcnow()
    meetings = sorted((db.session.get(Session, row.session_id) for row in call.free_sessions),
                      key=lambda s: s.starts_at)
    meetings = [s for s in meetings if s is not None and s.starts_at > now
                and not s.is_cancelled and accepted_in(s.id) is None]
    mine = list(db.session.scalars(select(Proposal).where(
        Proposal.call_id == call.id, Proposal.proposer_id == user.id)
        .order_by(Proposal.created_at)))
    return CallPage(call, call.is_open(now), policy.may_propose(user, call, now), meetings,
                    mine, policy.reviews_call(user, call), policy.closing_day(call))


# ---------------------------------------------------------------------------- proposers


@dataclass
class MyProposal:
    proposal: Proposal
    may_change: object


def my_proposals(user) -> tuple[list[MyProposal], list[CoPresenter]]:
    """The person's proposals (newest first) and the talks they are named on."""
    mine = db.session.scalars(select(Proposal).where(Proposal.proposer_id == user.id)
                              .order_by(Proposal.created_at.desc(), Proposal.id.desc()))
    named = db.session.scalars(select(CoPresenter).where(CoPresenter.user_id == user.id)
                               .order_by(CoPresenter.id.desc()))
    return ([MyProposal(p, policy.may_change_proposal(user, p)) for p in mine],
            [c for c in named if c.proposal.state != ProposalState.WITHDRAWN])


# ---------------------------------------------------------------------------- reviewers


@dataclass
class ReviewRow:
    proposal: Proposal
    my_score: int | None
    average: float | None  # None when hidden from this reviewer, or nobody has scored
    reviews: int
    scores_hidden: bool
    unconfirmed: int


@dataclass
class Filters:
    strand: str = ""
    ics: str = ""
    min_score: str = ""
    state: str = ""
    sort: str = "score"


@dataclass
class ReviewList:
    call: Call
    rows: list[ReviewRow]
    filters: Filters
    organisations: list[Organisation]
    total: int


def _average(scores: list[int]) -> float | None:
    return round(sum(scores) / len(scores), 1) if scores else None


def review_list(call: Call, user, filters: Filters) -> ReviewList:
    """The call's proposals for a reviewer (withdrawn ones left out)."""
    proposals = list(db.session.scalars(
        select(Proposal).where(Proposal.call_id == call.id,
                               Proposal.state != ProposalState.WITHDRAWN)))
    scores: dict[int, list[tuple[int, int]]] = {}
    for proposal_id, reviewer_id, score in db.session.execute(
            select(Review.proposal_id, Review.reviewer_id, Review.score)
            .join(Proposal, Proposal.id == Review.proposal_id)
            .where(Proposal.call_id == call.id)).tuples():
        scores.setdefault(proposal_id, []).append((reviewer_id, score))
    rows = []
    for p in proposals:
        given = scores.get(p.id, [])
        mine = next((s for r, s in given if r == user.id), None)
        hidden = not policy.sees_others_scores(call, mine is not None)
        rows.append(ReviewRow(p, mine, None if hidden else _average([s for _, s in given]),
                              len(given), hidden,
                              sum(1 for c in p.co_presenters if c.confirmed_at is None)))
    total = len(rows)
    if filters.strand:
        rows = [r for r in rows if r.proposal.strand == filters.strand]
    if filters.ics.isdigit():
        rows = [r for r in rows if r.proposal.proposer.organisation_id == int(filters.ics)]
    if filters.state:
        rows = [r for r in rows if r.proposal.state == filters.state]
    if filters.min_score in {"1", "2", "3", "4", "5"}:
        rows = [r for r in rows if r.average is not None
                and r.average >= int(filters.min_score)]
    if filters.sort == "title":
        rows.sort(key=lambda r: r.proposal.title.casefold())
    elif filters.sort == "ics":
        rows.sort(key=lambda r: (r.proposal.proposer.organisation.name, r.proposal.id))
    elif filters.sort == "submitted":
        rows.sort(key=lambda r: (r.proposal.created_at, r.proposal.id))
    else:
        rows.sort(key=lambda r: (r.average is None, -(r.average or 0), r.proposal.id))
    organisations = list(db.session.scalars(select(Organisation).order_by(Organisation.name)))
    return ReviewList(call, rows, filters, organisations, total)


@dataclass
class ProposalReview:
    proposal: Proposal
    mine: Review | None
    others: list[Review]
    scores_hidden: bool
    may_review: object
    may_decide: object
    may_accept: object
    may_certify: object
    meetings: list[Session] = field(default_factory=list)


def proposal_review(proposal: Proposal, user) -> ProposalReview:
    """One proposal for a reviewer: their review, and the others' once allowed."""
    mine = services.review_by(user, proposal)
    hidden = not policy.sees_others_scores(proposal.call, mine is not None)
    others = [] if hidden else list(db.session.scalars(
        select(Review).where(Review.proposal_id == proposal.id, Review.reviewer_id != user.id)
        .order_by(Review.reviewed_at)))
    from lms.talks.certificates import may_certify

    return ProposalReview(proposal, mine, others, hidden, policy.may_review(user, proposal),
                          policy.may_decide(user, proposal), policy.may_accept(user, proposal),
                          may_certify(user, proposal), meeting_choices(proposal.call))


def meeting_choices(call: Call) -> list[Session]:
    """The call's meetings a talk can still go into (to come, not cancelled, free)."""
    now = utcnow()
    found = []
    for row in call.free_sessions:
        session = db.session.get(Session, row.session_id)
        if session is not None and policy.meeting_free(
                call, session, now, accepted_in(session.id)):
            found.append(session)
    return sorted(found, key=lambda s: s.starts_at)


# ---------------------------------------------------------------------------- balance


@dataclass
class Balance:
    year: int
    by_ics: list[tuple[str, int]]
    by_strand: list[tuple[str, int]]


def balance(now: datetime | None = None) -> Balance:
    """Talks scheduled this calendar year at networks and festivals, per ICS and per strand,
    every ICS and strand listed (zero rows too): accepted proposals (the proposer's ICS and
    the talk's strand), and speakers already on the programme whose organisation is known
    (the event's strand), so faculty can see which systems have not been heard."""
    now = now or utcnow()
    year = to_london(now).year
    starts = datetime(year, 1, 1, tzinfo=LONDON).astimezone(UTC)
    ends = datetime(year + 1, 1, 1, tzinfo=LONDON).astimezone(UTC)
    in_year = (Session.starts_at >= starts, Session.starts_at < ends,
               Session.status == SessionStatus.SCHEDULED)
    per_ics: Counter[str] = Counter()
    per_strand: Counter[str] = Counter()
    talks = db.session.execute(
        select(Proposal.session_id, Organisation.name, Organisation.kind, Proposal.strand)
        .join(Session, Session.id == Proposal.session_id)
        .join(User, User.id == Proposal.proposer_id)
        .join(Organisation, Organisation.id == User.organisation_id)
        .where(Proposal.state == ProposalState.ACCEPTED, *in_year)).tuples().all()
    from_talks = {sid for sid, *_ in talks}
    for _sid, name, kind, strand in talks:
        per_ics[name if kind == OrganisationKind.ICS else OTHER] += 1
        per_strand[strand] += 1
    organisations = {o.name: o.kind for o in db.session.scalars(select(Organisation))}
    speakers = db.session.execute(
        select(Speaker.session_id, Speaker.organisation, Offering.strand)
        .join(Session, Session.id == Speaker.session_id)
        .join(Offering, Offering.id == Session.offering_id)
        .where(Offering.kind.in_(policy.CALL_KINDS), Speaker.position == 0,
               Session.id.not_in(from_talks) if from_talks else True, *in_year)).tuples()
    counted = set()
    for sid, organisation, strand in speakers:
        counted.add(sid)
        kind = organisations.get(organisation)
        per_ics[organisation if kind == OrganisationKind.ICS
                else (OTHER if kind else UNKNOWN)] += 1
        per_strand[strand or ""] += 1
    # Huddles typed by hand name a presenter but no organisation.
    typed = db.session.execute(
        select(Session.id, Offering.strand)
        .join(NetworkOccurrence, NetworkOccurrence.session_id == Session.id)
        .join(Offering, Offering.id == Session.offering_id)
        .where(NetworkOccurrence.presenter != "", *in_year)).tuples()
    for sid, strand in typed:
        if sid in from_talks or sid in counted:
            continue
        per_ics[UNKNOWN] += 1
        per_strand[strand or ""] += 1
    ics_names = sorted(name for name, kind in organisations.items()
                       if kind == OrganisationKind.ICS)
    by_ics = [(name, per_ics[name]) for name in ics_names] + [
        (OTHER, per_ics[OTHER]), (UNKNOWN, per_ics[UNKNOWN])]
    by_strand = [(label, per_strand[s.value]) for s, label in STRAND_LABELS.items()] + [
        ("Strand not given", per_strand[""])]
    return Balance(year, by_ics, by_strand)


OTHER = "Other organisations"
UNKNOWN = "Organisation not recorded"



# ---------------------------------------------------------------------------- forms


def now() -> datetime:
    return utcnow()


def call_form_data(call: Call) -> dict:
    """A call's fields as its form shows them."""
    from datetime import timedelta

    return {"title": call.title, "wanted": call.wanted, "strands": list(call.strands),
            "lengths": [str(n) for n in call.lengths],
            "closes_on": to_london(call.closes_at - timedelta(seconds=1)).date(),
            "hide_scores": call.hide_scores_until_scored,
            "session_ids": [str(row.session_id) for row in call.free_sessions]}


def proposal_form_data(proposal: Proposal) -> dict:
    return {"title": proposal.title, "abstract": proposal.abstract, "strand": proposal.strand,
            "length": str(proposal.length_minutes),
            "co_presenters": "\n".join(c.user.email for c in proposal.co_presenters),
            "preferred_dates": proposal.preferred_dates,
            "slides_shareable": proposal.slides_shareable}


def invited_reviewers(call: Call) -> list:
    from lms.talks.models import CallReviewer

    return list(db.session.scalars(select(CallReviewer).where(CallReviewer.call_id == call.id)
                                   .order_by(CallReviewer.invited_at)))


def festival_of(call: Call):
    """The call's festival, or None for a network's call."""
    from lms.events.models import Festival

    return db.session.get(Festival, call.offering_id) if call.offering.kind == "festival" \
        else None
