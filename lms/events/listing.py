"""What the events list and the month view show: events people can see, filtered by dates,
kind, speaker or presenter, strand and online or in person, each with the one session that
answers the filters; and a month's sessions laid out by week.

A fixed number of queries however many events there are (one for the events with their
session, one for places left): a network's two years of meetings are never loaded to find
its next one."""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import and_, case, exists, func, or_, select
from sqlalchemy.orm import aliased, noload, with_polymorphic

from lms.clock import to_london, utcnow
from lms.events.models import Festival, NetworkOccurrence, NetworkSeries, Speaker, Webinar
from lms.events.services import EVENT_KINDS
from lms.extensions import db
from lms.offerings import places as offering_places
from lms.offerings import policy
from lms.offerings.models import Offering, Session, SessionStatus
from lms.offerings.schedule import local_day_start

KIND_LABELS = {"webinar": "Webinars", "network": "Network meetings", "festival": "Festivals"}
MAX_PERSON = 100


@dataclass(frozen=True)
class EventFilters:
    """What the person asked for: all optional; dates are London days, both included."""

    kind: str | None = None
    starts: date | None = None
    ends: date | None = None
    person: str = ""
    include_past: bool = False
    strand: str | None = None       # one of lms.courses.models.Strand
    attendance: str | None = None   # "online" or "in_person" (a hybrid session is both)

    @property
    def kinds(self) -> list[str]:
        return [self.kind] if self.kind in EVENT_KINDS else list(EVENT_KINDS)

    @property
    def any(self) -> bool:
        """Whether anything narrows the list (the phone's fold says so)."""
        return self.count() > 0

    def count(self) -> int:
        return sum(bool(x) for x in (self.kind in EVENT_KINDS, self.starts or self.ends,
                                     self.person, self.strand, self.attendance))

    @property
    def narrows_sessions(self) -> bool:
        """Whether only some sessions answer (so an event with none is left out)."""
        return bool(self.starts or self.ends or self.person.strip() or self.attendance)


def _contains(column, text: str):
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return func.lower(column).like(f"%{escaped}%", escape="\\")


def _by_person(session_id, person: str):
    """A speaker of the session, or the network meeting's presenter, is ``person``."""
    text = person[:MAX_PERSON].lower().strip()
    return or_(
        exists(select(Speaker.id).where(Speaker.session_id == session_id,
                                        _contains(Speaker.name, text))),
        exists(select(NetworkOccurrence.session_id).where(
            NetworkOccurrence.session_id == session_id,
            _contains(NetworkOccurrence.presenter, text))))


def _session_conditions(filters: EventFilters, now: datetime, session=Session) -> list:
    conditions = [session.status == SessionStatus.SCHEDULED]
    if filters.starts is not None:
        conditions.append(session.ends_at > local_day_start(filters.starts))
    elif not filters.include_past:
        conditions.append(session.ends_at > now)
    if filters.ends is not None:
        conditions.append(session.starts_at < local_day_start(filters.ends + timedelta(days=1)))
    if filters.person.strip():
        conditions.append(_by_person(session.id, filters.person))
    if filters.attendance == "online":
        conditions.append(session.online)
    elif filters.attendance == "in_person":
        conditions.append(session.in_person)
    return conditions


def _event_conditions(filters: EventFilters, event=Offering) -> list:
    conditions = [event.kind.in_(filters.kinds)]
    if filters.strand:
        conditions.append(event.strand == filters.strand)
    return conditions


@dataclass(frozen=True)
class EventListing:
    event: Offering
    session: Session | None   # the next one matching (or the last, when all have passed)
    places_left: int | None

    @property
    def upcoming(self) -> bool:
        return self.session is not None and self.session.ends_at > utcnow()


def events_list(user, filters: EventFilters | None = None) -> list[EventListing]:
    """Events the person can see with a session matching the filters, soonest first, then
    (on request) those that have finished, latest first. Two queries."""
    filters = filters or EventFilters()
    now = utcnow()
    upcoming = Session.ends_at > now
    ranked = (
        select(Session.id.label("session_id"), Session.offering_id.label("offering_id"),
               func.row_number().over(
                   partition_by=Session.offering_id,
                   order_by=(case((upcoming, 0), else_=1), case((upcoming, Session.starts_at)),
                             Session.starts_at.desc(), Session.id)).label("rank"))
        .where(*_session_conditions(filters, now))
        .subquery())
    event = with_polymorphic(Offering, [Webinar, NetworkSeries, Festival])
    session = aliased(Session)
    stmt = (select(event, session)
            .where(*_event_conditions(filters, event), *policy.visible_filter(user))
            .options(noload(event.sessions), noload(event.quotas), noload(event.lead_rows),
                     noload(session.offering)))
    # Every event, dated or not, only when nothing narrows a list that includes the past.
    everything = filters.include_past and not filters.narrows_sessions
    join = and_(ranked.c.offering_id == event.id, ranked.c.rank == 1)
    stmt = (stmt.outerjoin(ranked, join) if everything else stmt.join(ranked, join))
    stmt = stmt.outerjoin(session, session.id == ranked.c.session_id)
    is_upcoming = and_(session.ends_at.is_not(None), session.ends_at > now)
    rows = db.session.execute(stmt.order_by(
        case((is_upcoming, 0), (session.starts_at.is_(None), 2), else_=1),
        case((is_upcoming, session.starts_at)), session.starts_at.desc(), event.id)).all()
    left = offering_places.places_left_for([e.id for e, _ in rows])
    return [EventListing(e, s, left.get(e.id)) for e, s in rows]


# ---------------------------------------------------------------------------- month view


@dataclass(frozen=True)
class MonthEntry:
    """One line of a day: a webinar or network meeting, or a festival's sessions that day."""

    kind: str
    title: str
    detail: str          # a meeting's topic, or "12 sessions"
    starts_at: datetime
    offering_id: int
    anchor: str = ""


@dataclass
class MonthDay:
    day: date
    in_month: bool
    entries: list[MonthEntry] = field(default_factory=list)

    @property
    def is_today(self) -> bool:
        return self.day == to_london(utcnow()).date()


def month_label(day: date) -> str:
    """The month of ``day`` as the NHS.UK style writes it: "January 2027"."""
    return f"{calendar.month_name[day.month]} {day.year}"


@dataclass(frozen=True)
class Month:
    year: int
    month: int
    weeks: list[list[MonthDay]]

    @property
    def first(self) -> date:
        return date(self.year, self.month, 1)

    @property
    def label(self) -> str:
        """"January 2027"."""
        return month_label(self.first)

    @property
    def previous(self) -> date:
        return (self.first - timedelta(days=1)).replace(day=1)

    @property
    def next(self) -> date:
        return (self.first + timedelta(days=32)).replace(day=1)

    @property
    def days_with_events(self) -> list[MonthDay]:
        return [d for week in self.weeks for d in week if d.in_month and d.entries]

    @property
    def total(self) -> int:
        return sum(len(d.entries) for d in self.days_with_events)


def month(user, year: int, month_number: int, filters: EventFilters) -> Month:
    """The live sessions of events the person can see in a London month, by week (Monday
    first), a festival's sessions of one day as one line. One query."""
    first = date(year, month_number, 1)
    last = first.replace(day=calendar.monthrange(year, month_number)[1])
    within = EventFilters(filters.kind, first, last, filters.person, include_past=True,
                          strand=filters.strand, attendance=filters.attendance)
    rows = db.session.execute(
        select(Session.starts_at, Session.title, Offering.id, Offering.kind, Offering.title,
               NetworkOccurrence.presenter)
        .join(Offering, Offering.id == Session.offering_id)
        .outerjoin(NetworkOccurrence, NetworkOccurrence.session_id == Session.id)
        .where(*_event_conditions(within), *policy.visible_filter(user),
               *_session_conditions(within, utcnow()))
        .order_by(Session.starts_at, Offering.id, Session.id)).all()
    by_day: dict[date, list[MonthEntry]] = {}
    festival_days: dict[tuple[date, int], list] = {}
    for starts, topic, offering_id, kind, title, presenter in rows:
        day = to_london(starts).date()
        if day.month != month_number:
            continue  # a session that began the evening before, ending in this month
        if kind == "festival":
            festival_days.setdefault((day, offering_id), []).append((starts, title))
            continue
        detail = topic if kind == "network" else ""
        if presenter:
            detail = f"{detail} ({presenter})" if detail else presenter
        by_day.setdefault(day, []).append(MonthEntry(kind, title, detail, starts, offering_id))
    for (day, offering_id), sessions in festival_days.items():
        n = len(sessions)
        by_day.setdefault(day, []).append(MonthEntry(
            "festival", sessions[0][1], f"{n} {'session' if n == 1 else 'sessions'}",
            sessions[0][0], offering_id, f"day-{day.isoformat()}"))
    weeks = []
    for week in calendar.Calendar(firstweekday=0).monthdatescalendar(year, month_number):
        weeks.append([MonthDay(d, d.month == month_number,
                               sorted(by_day.get(d, []), key=lambda e: e.starts_at)
                               if d.month == month_number else []) for d in week])
    return Month(year, month_number, weeks)
