"""Demo calls for talks: an open call on the Analyst Network's huddles, with three meetings
free for a talk, a few proposals from different ICSs (one with a confirmed co-presenter) and
faculty's reviews, so ``make run`` shows the whole pipeline. Idempotent."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from lms.accounts.models import Role, User, UserRole
from lms.clock import to_london, utcnow
from lms.events.demo import ANALYST_NETWORK
from lms.events.models import NetworkOccurrence, NetworkSeries
from lms.extensions import db
from lms.talks import services
from lms.talks.models import Call

PROPOSALS = [
    ("Forecasting A&E demand with Prophet", "analytical_capability", "30",
     "How our DSU built a **weekly forecast** of emergency attendances, what went wrong the "
     "first time, and the code we now share."),
    ("Telling the story behind the numbers", "beyond_numbers", "20",
     "Three board papers rewritten: what changed when we led with the decision, not the "
     "chart."),
    ("Growing analysts into leaders", "analytical_leaders", "30",
     "A peer mentoring scheme across two ICSs and what the mentees said a year on."),
]


def _user(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == email))


def seed() -> dict[str, int]:
    if db.session.scalar(select(func.count(Call.id))):
        return {"talk_calls": 0}
    faculty = _user("faculty@example.nhs.uk")
    series = db.session.scalar(select(NetworkSeries).where(
        NetworkSeries.title == ANALYST_NETWORK))
    if faculty is None or series is None:
        return {"talk_calls": 0}
    coming = services.free_meetings(series)[2:5]
    # These huddles have no speaker yet: the call is how they will get one.
    for session in coming:
        session.title = ""
        db.session.get(NetworkOccurrence, session.id).presenter = ""
    db.session.flush()
    call = services.open_call(faculty, series, services.CallDetails(
        title="Huddle talks: the next three months",
        wanted="We are looking for **20 or 30 minute talks** from analysts in any ICS: a "
               "project you are proud of, one that went wrong, or a method others could "
               "use.\n\n- Work in progress is welcome\n- Slides are optional",
        lengths=["20", "30"],
        closes_on=to_london(utcnow() + timedelta(days=21)).date(),
        hide_scores=True, session_ids=[str(s.id) for s in coming]))
    staff = select(UserRole.user_id).where(UserRole.role != Role.LEARNER)
    others = list(db.session.scalars(
        select(User).where(User.id.not_in(staff), User.email != "learner@example.nhs.uk")
        .order_by(User.organisation_id.desc(), User.id).limit(40)))
    proposers = [_user("learner@example.nhs.uk")] + [
        next(u for u in others if u.organisation_id != (_user("learner@example.nhs.uk")
                                                       or u).organisation_id)]
    proposers.append(others[-1])
    made = []
    for who, (title, strand, length, abstract) in zip(proposers, PROPOSALS, strict=False):
        if who is None:
            continue
        co = others[1].email if not made and others[1].id != who.id else ""
        proposal = services.propose(who, call, services.ProposalDetails(
            title=title, abstract=abstract, strand=strand, length=length, co_presenters=co,
            preferred_dates="Any Wednesday", slides_shareable=True))
        made.append(proposal)
    if made and made[0].co_presenters:
        services.confirm_co_presenting(made[0].co_presenters[0].user, made[0].co_presenters[0])
    for proposal, score in zip(made, (5, 3), strict=False):
        services.review(faculty, proposal, score, "Clear aim; fits the huddle audience.")
    db.session.flush()
    return {"talk_calls": 1, "talk_proposals": len(made)}
