"""Faculty's "Offerings needing attention" on their home, kept in the page cache
(``lms.cache``).

Four figures per offering (places below the attendance needed, feedback open, certificates to
issue, waiting-list offers not answered) are counted in the database over every place of the
offerings: a few queries that cost PostgreSQL tens of milliseconds. So the section is rendered
once per person and kept under their version (which offerings they lead) and the
``attention`` version, which a change to any row it is counted from renews (``watch_tables``),
whichever process commits it. It also changes by itself, so it is kept only until the next of:
a session of one of its offerings ends (its attendance then counts), a survey of one opens or
closes, an offering leaves the ``ATTENTION_AFTER_END`` window, or midnight.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

from flask import Flask, render_template
from markupsafe import Markup
from sqlalchemy import func, select
from sqlalchemy.orm import lazyload, with_polymorphic

from lms import cache as page_cache
from lms.cache.kept import earliest_after, next_midnight
from lms.clock import utcnow
from lms.extensions import db
from lms.offerings.models import (
    Enrolment,
    EnrolmentState,
    Offering,
    OfferingLead,
    OfferingStatus,
    Session,
    SessionStatus,
)

# Offerings that finished longer ago than this no longer need faculty's attention here.
ATTENTION_AFTER_END = timedelta(days=90)
SCOPE = "attention"
ATTENTION = page_cache.named(SCOPE)

# What the figures are counted from: a change to a row of one of these renews them.
_TABLES = ("offering", "offering_session", "enrolment", "attendance", "completion",
           "completion_sign_off", "certificate", "survey", "survey_respondent", "course",
           "cohort")


def watch_tables(app: Flask) -> None:
    """Renew the ``attention`` version when anything the figures are counted from changes."""
    for table_name in _TABLES:
        page_cache.also_renews(app, table_name, SCOPE)


@dataclass
class Attention:
    """An offering that needs faculty: places below the attendance threshold, feedback open,
    certificates to issue, waiting-list offers not yet answered."""

    offering: Offering
    below_threshold: int = 0
    feedback_open: int = 0
    certificates_to_issue: int = 0
    offers_pending: int = 0

    @property
    def needs_attention(self) -> bool:
        return bool(self.below_threshold or self.feedback_open or self.certificates_to_issue
                    or self.offers_pending)


def led_ids(user_id: int) -> list[int]:
    """The offerings the person leads."""
    return list(db.session.scalars(select(OfferingLead.offering_id)
                                   .where(OfferingLead.user_id == user_id)))


def attention_html(user) -> Markup:
    """The section as shown to ``user`` now, kept for them."""
    return Markup(page_cache.cached(  # noqa: S704 - our template's output
        "home_faculty_attention", user.id, depends_on=page_cache.person(user.id) + ATTENTION,
        size=512, build=lambda: _build(user.id, utcnow())))


def _build(user_id: int, now: datetime) -> tuple[str, datetime | None]:
    led = led_ids(user_id)  # read after the versions, like everything kept under them
    found = attention(led, now)
    shown = [a for a in found if a.needs_attention]
    return render(shown), _valid_until([a.offering.id for a in found], now)


def render(shown: list[Attention]) -> str:
    """The section showing these offerings."""
    return render_template("home/_faculty_attention.html", attention=shown)


def _valid_until(ids: list[int], now: datetime) -> datetime | None:
    """When the figures of these offerings would change with no change to the data: the
    next end of one of their sessions, opening or closing of one of their surveys, one of
    them leaving the window (its last session ended ``ATTENTION_AFTER_END`` ago), or
    midnight. One query."""
    from lms.feedback.models import Survey

    if not ids:
        return next_midnight(now)
    live = [Session.offering_id.in_(ids), Session.status != SessionStatus.CANCELLED]
    last_ends = (select(func.max(Session.ends_at).label("ends")).where(*live)
                 .group_by(Session.offering_id).subquery())
    surveys = [Survey.offering_id.in_(ids), Survey.is_template.is_(False)]
    found = db.session.execute(select(
        select(func.min(Session.ends_at)).where(*live, Session.ends_at > now)
        .scalar_subquery(),
        select(func.min(last_ends.c.ends)).scalar_subquery(),
        select(func.min(Survey.opens_at)).where(*surveys, Survey.opens_at > now)
        .scalar_subquery(),
        select(func.min(Survey.closes_at)).where(*surveys, Survey.closes_at > now)
        .scalar_subquery())).one()
    next_end, first_last_end, opens, closes = found
    leaves = first_last_end + ATTENTION_AFTER_END if first_last_end is not None else None
    return earliest_after((next_end, leaves, opens, closes, next_midnight(now)), now)


@cache
def _every_kind():
    """Offerings with every kind's own columns (a cohort's completion rule is its course's),
    made once: building it costs more than the query it is for. The list loads not their
    sessions, quotas, leads or a festival's tracks, which it does not show."""
    return with_polymorphic(Offering, "*")


def attention(led: list[int], now: datetime) -> list[Attention]:
    """The offerings (of those ``led``, or all) whose last session ended within
    ``ATTENTION_AFTER_END``, each with its four figures counted in the database: a fixed
    number of queries, and no place loaded, however many people hold places."""
    from lms.attendance.completion import falling_behind
    from lms.certificates.services import missing_counts
    from lms.feedback.models import Survey

    # An offering's last session ended within the period exactly when one of its sessions
    # did, so only those sessions are grouped (by the index on their times), not every one.
    last_end = (select(Session.offering_id, func.max(Session.ends_at).label("ends"))
                .where(Session.status != SessionStatus.CANCELLED,
                       Session.ends_at > now - ATTENTION_AFTER_END)
                .group_by(Session.offering_id).subquery())
    shown = _every_kind()
    stmt = (select(shown)
            .options(lazyload(shown.sessions), lazyload(shown.quotas), lazyload(shown.lead_rows),
                     lazyload(shown.Festival.tracks))
            .join(last_end, last_end.c.offering_id == Offering.id)
            .where(Offering.status.not_in([OfferingStatus.DRAFT, OfferingStatus.CANCELLED]))
            .order_by(last_end.c.ends, Offering.id))
    if led:
        stmt = stmt.where(Offering.id.in_(led))
    offerings = list(db.session.scalars(stmt.limit(30)))
    ids = [o.id for o in offerings]
    if not ids:
        return []
    surveys = dict(db.session.execute(
        select(Survey.offering_id, func.count(Survey.id))
        .where(Survey.offering_id.in_(ids), Survey.is_template.is_(False),
               Survey.opens_at <= now, Survey.closes_at > now)
        .group_by(Survey.offering_id)).tuples().all())
    offers = dict(db.session.execute(
        select(Enrolment.offering_id, func.count(Enrolment.id))
        .where(Enrolment.offering_id.in_(ids), Enrolment.state == EnrolmentState.OFFERED)
        .group_by(Enrolment.offering_id)).tuples().all())
    below = falling_behind(offerings, now)
    missing = missing_counts(ids)
    return [Attention(offering, below_threshold=below.get(offering.id, 0),
                      feedback_open=surveys.get(offering.id, 0),
                      certificates_to_issue=missing.get(offering.id, 0),
                      offers_pending=offers.get(offering.id, 0))
            for offering in offerings]
