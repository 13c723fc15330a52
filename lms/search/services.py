"""Finding things by words: each kind of thing is matched on the columns people would
search it by, and only what the person may see is ever found.

Plain ``LIKE`` over lower-cased columns, so it behaves the same on SQLite and PostgreSQL;
``%`` and ``_`` typed by the person match themselves. Every word must appear somewhere
(in any of the columns), so "forecasting R" narrows rather than widens. One query per
kind, each returning a page of rows and the kind's total (a window count)."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, and_, case, exists, false, func, or_, select
from sqlalchemy.orm import aliased

from lms.clock import utcnow
from lms.courses.models import STRAND_LABELS, Cohort, Course
from lms.events.models import (
    Festival,
    FestivalSession,
    FestivalTrack,
    NetworkOccurrence,
    NetworkSeries,
    Speaker,
    Webinar,
)
from lms.extensions import db
from lms.offerings import policy
from lms.offerings.models import Offering, OfferingStatus, Session, SessionStatus

MAX_WORDS = 8
MAX_QUERY = 100
PREVIEW = 5      # results of each kind on the overview
PER_PAGE = 20    # results on one page of a single kind


@dataclass(frozen=True)
class Kind:
    key: str
    label: str       # the group's heading, plural
    singular: str


KINDS = (
    Kind("course", "Courses and programmes", "course"),
    Kind("cohort", "Cohorts", "cohort"),
    Kind("webinar", "Webinars", "webinar"),
    Kind("meeting", "Network meetings", "network meeting"),
    Kind("network", "Networks", "network"),
    Kind("festival-session", "Festival sessions", "festival session"),
    Kind("festival", "Festivals", "festival"),
)
KIND_KEYS = {k.key: k for k in KINDS}


@dataclass(frozen=True)
class Hit:
    """One thing found: what it is, where its page is, and what to show about it."""

    kind: str
    title: str
    endpoint: str
    args: dict
    starts_at: datetime | None
    ends_at: datetime | None
    context: str         # e.g. "Midlands Analyst Network huddle · presenter Priya Shah"
    summary: str
    cancelled: bool = False

    @property
    def upcoming(self) -> bool:
        return self.ends_at is not None and self.ends_at > utcnow()


@dataclass(frozen=True)
class Group:
    kind: Kind
    hits: list[Hit]
    total: int


@dataclass(frozen=True)
class SearchResults:
    query: str
    words: list[str]
    groups: list[Group]      # only kinds with something found
    kind: Kind | None        # a single kind being paged through
    page: int
    pages: int

    @property
    def total(self) -> int:
        return sum(g.total for g in self.groups)


def words_of(query: str) -> list[str]:
    """The words searched for: at most eight, lower-cased, from the first 100 characters."""
    return query[:MAX_QUERY].lower().split()[:MAX_WORDS]


def _pattern(word: str) -> str:
    escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _contains(column, word: str) -> ColumnElement[bool]:
    return func.lower(column).like(_pattern(word), escape="\\")


def _speaker_named(session_id, word: str) -> ColumnElement[bool]:
    """A speaker of the session is called (or from an organisation called) ``word``."""
    return exists(select(Speaker.id).where(
        Speaker.session_id == session_id,
        or_(_contains(Speaker.name, word), _contains(Speaker.organisation, word))))


def _strand_named(column, word: str) -> ColumnElement[bool]:
    """The strand in ``column`` is one whose name people see contains ``word`` ("leaders"
    finds the "Developing analytical leaders" strand's courses and events)."""
    strands = [strand.value for strand, label in STRAND_LABELS.items() if word in label.lower()]
    return column.in_(strands) if strands else false()


def _every_word(words: list[str], columns: list,
                *extras: Callable[[str], ColumnElement[bool]]) -> list:
    """Each word in one of the columns (or meeting one of ``extras``)."""
    return [or_(*(_contains(column, word) for column in columns),
                *(extra(word) for extra in extras)) for word in words]


def _visible(user) -> list[ColumnElement[bool]]:
    """Offerings the person may see (``policy.visible_filter``), and never unpublished ones,
    even for the faculty who can see them elsewhere: search is for finding the offer."""
    return [*policy.visible_filter(user), Offering.published.is_(True),
            Offering.status != OfferingStatus.DRAFT]


def _soonest_first(starts, ends, now: datetime) -> list:
    """Upcoming first, soonest first; then past ones, latest first; undated last."""
    upcoming = and_(ends.is_not(None), ends > now)
    return [case((upcoming, 0), (starts.is_(None), 2), else_=1),
            case((upcoming, starts), else_=None), starts.desc()]


def _next_dates(now: datetime):
    """Per offering: the start and end of its next live session, or of its last one."""
    live = Session.status == SessionStatus.SCHEDULED
    return (select(Session.offering_id.label("offering_id"),
                   func.coalesce(func.min(case((Session.ends_at > now, Session.starts_at))),
                                 func.max(Session.starts_at)).label("starts"),
                   func.coalesce(func.min(case((Session.ends_at > now, Session.ends_at))),
                                 func.max(Session.ends_at)).label("ends"))
            .where(live).group_by(Session.offering_id).subquery())


# ---------------------------------------------------------------------------- each kind


def _courses(user, words, now):
    runs = _next_dates(now)
    next_run = (select(Cohort.course_id.label("course_id"), func.min(runs.c.starts)
                       .label("starts"), func.min(runs.c.ends).label("ends"))
                .join(runs, runs.c.offering_id == Cohort.id)
                .where(Cohort.status == OfferingStatus.OPEN, runs.c.ends > now,
                       Cohort.published.is_(True))
                .group_by(Cohort.course_id).subquery())
    stmt = (select(Course.id, Course.title, Course.summary, next_run.c.starts, next_run.c.ends)
            .outerjoin(next_run, next_run.c.course_id == Course.id)
            .where(Course.published.is_(True),
                   *_every_word(words, [Course.title, Course.summary, Course.description,
                                        Course.target_audience],
                                lambda w: _strand_named(Course.strand, w))))
    order = [*_soonest_first(next_run.c.starts, next_run.c.ends, now), Course.title]

    def hit(row) -> Hit:
        return Hit("course", row.title, "courses.course", {"course_id": row.id}, row.starts,
                   row.ends, "Next run starts" if row.starts else "No runs planned",
                   row.summary)
    return stmt, order, hit


def _cohorts(user, words, now):
    dates = _next_dates(now)
    stmt = (select(Cohort.id, Cohort.name, Course.title, Course.summary, Cohort.status,
                   dates.c.starts, dates.c.ends)
            .join(Course, Course.id == Cohort.course_id)
            .outerjoin(dates, dates.c.offering_id == Cohort.id)
            .where(Course.published.is_(True), *_visible(user),
                   *_every_word(words, [Cohort.name, Course.title, Course.summary],
                                lambda w: _strand_named(Course.strand, w))))
    order = [*_soonest_first(dates.c.starts, dates.c.ends, now), Cohort.id]

    def hit(row) -> Hit:
        return Hit("cohort", f"{row.title}: {row.name}", "courses.cohort", {"id": row.id},
                   row.starts, row.ends, "Cohort of " + row.title, row.summary,
                   row.status == OfferingStatus.CANCELLED)
    return stmt, order, hit


def _webinars(user, words, now):
    session = aliased(Session)
    stmt = (select(Webinar.id, Webinar.title, Webinar.summary, Webinar.status,
                   session.starts_at, session.ends_at)
            .join(session, session.offering_id == Webinar.id)
            .where(*_visible(user),
                   *_every_word(words, [Webinar.title, Webinar.summary, Webinar.description,
                                        session.title],
                                lambda w: _speaker_named(session.id, w),
                                lambda w: _strand_named(Webinar.strand, w))))
    order = [*_soonest_first(session.starts_at, session.ends_at, now), Webinar.id]

    def hit(row) -> Hit:
        return Hit("webinar", row.title, "events.webinar", {"id": row.id}, row.starts_at,
                   row.ends_at, "Webinar", row.summary,
                   row.status == OfferingStatus.CANCELLED)
    return stmt, order, hit


def _meetings(user, words, now):
    stmt = (select(Session.id, Session.title, Session.starts_at, Session.ends_at,
                   NetworkSeries.id.label("series_id"), NetworkSeries.title.label("series"),
                   NetworkOccurrence.presenter)
            .join(NetworkOccurrence, NetworkOccurrence.session_id == Session.id)
            .join(NetworkSeries, NetworkSeries.id == Session.offering_id)
            .where(Session.status == SessionStatus.SCHEDULED, *_visible(user),
                   *_every_word(words, [Session.title, NetworkOccurrence.presenter],
                                lambda w: _speaker_named(Session.id, w),
                                lambda w: _strand_named(NetworkSeries.strand, w))))
    order = [*_soonest_first(Session.starts_at, Session.ends_at, now), Session.id]

    def hit(row) -> Hit:
        context = row.series + (f" · presented by {row.presenter}" if row.presenter else "")
        return Hit("meeting", row.title or row.series, "events.network", {"id": row.series_id},
                   row.starts_at, row.ends_at, context, "")
    return stmt, order, hit


def _networks(user, words, now):
    dates = _next_dates(now)
    stmt = (select(NetworkSeries.id, NetworkSeries.title, NetworkSeries.summary,
                   NetworkSeries.status, dates.c.starts, dates.c.ends)
            .outerjoin(dates, dates.c.offering_id == NetworkSeries.id)
            .where(*_visible(user),
                   *_every_word(words, [NetworkSeries.title, NetworkSeries.summary,
                                        NetworkSeries.description],
                                lambda w: _strand_named(NetworkSeries.strand, w))))
    order = [*_soonest_first(dates.c.starts, dates.c.ends, now), NetworkSeries.id]

    def hit(row) -> Hit:
        return Hit("network", row.title, "events.network", {"id": row.id}, row.starts,
                   row.ends, "Next meeting" if row.starts else "Network", row.summary,
                   row.status == OfferingStatus.CANCELLED)
    return stmt, order, hit


def _festival_sessions(user, words, now):
    stmt = (select(Session.id, Session.title, Session.starts_at, Session.ends_at,
                   Festival.id.label("festival_id"), Festival.title.label("festival"),
                   FestivalTrack.name.label("track"), FestivalSession.description)
            .join(FestivalSession, FestivalSession.session_id == Session.id)
            .join(FestivalTrack, FestivalTrack.id == FestivalSession.track_id)
            .join(Festival, Festival.id == Session.offering_id)
            .where(Session.status == SessionStatus.SCHEDULED, *_visible(user),
                   *_every_word(words, [Session.title, FestivalSession.description,
                                        FestivalTrack.name],
                                lambda w: _speaker_named(Session.id, w))))
    order = [*_soonest_first(Session.starts_at, Session.ends_at, now), Session.id]

    def hit(row) -> Hit:
        return Hit("festival-session", row.title, "events.festival",
                   {"id": row.festival_id}, row.starts_at, row.ends_at,
                   f"{row.festival} · {row.track}", row.description)
    return stmt, order, hit


def _festivals(user, words, now):
    dates = _next_dates(now)
    stmt = (select(Festival.id, Festival.title, Festival.summary, Festival.status,
                   dates.c.starts, dates.c.ends)
            .outerjoin(dates, dates.c.offering_id == Festival.id)
            .where(*_visible(user),
                   *_every_word(words, [Festival.title, Festival.summary,
                                        Festival.description],
                                lambda w: _strand_named(Festival.strand, w))))
    order = [*_soonest_first(dates.c.starts, dates.c.ends, now), Festival.id]

    def hit(row) -> Hit:
        return Hit("festival", row.title, "events.festival", {"id": row.id}, row.starts,
                   row.ends, "Festival", row.summary, row.status == OfferingStatus.CANCELLED)
    return stmt, order, hit


FINDERS = {"course": _courses, "cohort": _cohorts, "webinar": _webinars,
           "meeting": _meetings, "network": _networks,
           "festival-session": _festival_sessions, "festival": _festivals}


def _find(key: str, user, words: list[str], now: datetime, limit: int,
          offset: int) -> tuple[list[Hit], int]:
    stmt, order, hit = FINDERS[key](user, words, now)
    stmt = stmt.add_columns(func.count().over().label("found"))
    rows = db.session.execute(stmt.order_by(*order).limit(limit).offset(offset)).all()
    total = rows[0].found if rows else 0
    if not rows and offset:
        # Past the last page: the total still tells the page how many there are.
        total = db.session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    return [hit(row) for row in rows], total


def search(user, query: str, kind: str | None = None, page: int = 1) -> SearchResults:
    """What ``query`` finds that ``user`` may see: every kind's first few, or one kind
    (``kind``) a page at a time. Nothing is searched for an empty query."""
    words = words_of(query or "")
    chosen = KIND_KEYS.get(kind or "")
    page = max(1, page)
    if not words:
        return SearchResults(query or "", [], [], chosen, 1, 1)
    now = utcnow()
    groups = []
    for k in ([chosen] if chosen else KINDS):
        limit, offset = (PER_PAGE, (page - 1) * PER_PAGE) if chosen else (PREVIEW, 0)
        hits, total = _find(k.key, user, words, now, limit, offset)
        if total:
            groups.append(Group(k, hits, total))
    pages = max(1, math.ceil(groups[0].total / PER_PAGE)) if chosen and groups else 1
    return SearchResults(query, words, groups, chosen, min(page, pages) if chosen else 1,
                         pages)
