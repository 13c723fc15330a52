"""Your learning record as kept in the page cache (``lms.cache``): one person's page, under
their version (their places, attendance, completions, certificates, competency evidence, CPD
done elsewhere and talks, each watched per person) and the offer's (the titles, kinds and
times of what they did; a recorder's name; an accepted talk of theirs as a co-presenter),
until time changes it by itself: a session they were marked at, of a course they completed
or of a talk they gave ends (it counts from then), or a new CPD year starts in April. It
holds no form."""

from __future__ import annotations

import sys
from datetime import datetime

from flask import render_template
from markupsafe import Markup
from sqlalchemy import func, or_, select

from lms.attendance.models import Attendance, Completion
from lms.cache import OFFER, cached, person
from lms.cache.kept import earliest_after
from lms.clock import LONDON, utcnow
from lms.competencies import records
from lms.extensions import db
from lms.offerings.models import Enrolment, Session, SessionStatus


def learning_record_page(user) -> Markup:
    """The person's own learning record (its main part), kept for them."""
    body = cached("learning_record", user.id, depends_on=person(user.id) + OFFER,
                  build=lambda: _build(user), size=2048)
    return Markup(body)  # noqa: S704 - a kept page, rendered by Jinja


def _build(user) -> tuple[str, datetime | None]:
    now = utcnow()
    record = records.learning_record(user, now)
    body = render_template("records/_learning_record_main.html", record=record, own=True)
    return body, _valid_until(user.id, now)


def next_cpd_year(now: datetime) -> datetime:
    """When the next CPD year starts (1 April, London), in UTC."""
    start = datetime(records.cpd_year_of(now) + 1, 4, 1, tzinfo=LONDON)
    return start.astimezone(now.tzinfo)


def _valid_until(user_id: int, now: datetime) -> datetime | None:
    """The first moment the record would change with no change to the data: the next end
    of a session the person was marked at, of a course they completed, or of a talk they
    give; or the next CPD year. One query."""
    sessions = [Session.id.in_(select(Attendance.session_id)
                               .where(Attendance.user_id == user_id)),
                Session.offering_id.in_(select(Enrolment.offering_id)
                                        .join(Completion, Completion.enrolment_id == Enrolment.id)
                                        .where(Enrolment.user_id == user_id))]
    talks = sys.modules.get("lms.talks.models")  # as ``records._presented_by``
    if talks is not None:
        proposal, co = talks.Proposal, talks.CoPresenter
        theirs = (proposal.proposer_id == user_id) | proposal.id.in_(
            select(co.proposal_id).where(co.user_id == user_id))
        sessions.append(Session.id.in_(select(proposal.session_id).where(theirs)))
    next_end = db.session.scalar(
        select(func.min(Session.ends_at))
        .where(Session.ends_at > now, Session.status != SessionStatus.CANCELLED,
               or_(*sessions)))
    return earliest_after((next_end, next_cpd_year(now)), now)
