"""What the event pages and faculty's forms show: the festival programme and a person's
agenda, a network's page, and the values an event's form starts from (the events list and
month view are in ``listing``).

These read; the rules that change things are in ``services``, ``networks``, ``festival``
and ``session_bookings``."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import func, select

from lms.accounts.models import User
from lms.clock import to_london, utcnow
from lms.errors import Decision
from lms.events.festival import FestivalDetails, FestivalSessionDetails, festival_session_of
from lms.events.models import (
    Festival,
    FestivalSession,
    FestivalTrack,
    NetworkOccurrence,
    NetworkSeries,
    SessionRecording,
    Speaker,
    Webinar,
)
from lms.events.networks import NetworkDetails, OccurrenceDetails, occurrence_of, rule_of
from lms.events.recurrence import RuleInput
from lms.events.services import (
    EVENT_KINDS,
    EventSessionDetails,
    WebinarDetails,
    speaker_details,
    speakers_by_session,
)
from lms.events.session_bookings import is_registered
from lms.events.session_policy import first_clash, may_book_session
from lms.extensions import db
from lms.offerings.models import (
    HOLDS_PLACE,
    Booking,
    BookingState,
    Enrolment,
    Offering,
    Session,
    SessionStatus,
)
from lms.offerings.schedule import local_day_and_time

B = BookingState


# ---------------------------------------------------------------------------- pages


def recordings_for(session_ids: list[int]) -> dict[int, SessionRecording]:
    if not session_ids:
        return {}
    return {r.session_id: r for r in db.session.scalars(
        select(SessionRecording).where(SessionRecording.session_id.in_(session_ids)))}


@dataclass
class Timetable:
    """One festival day: its time slots (rows) by tracks (columns)."""

    day: date
    tracks: list[FestivalTrack]
    slots: list[tuple[datetime, list[list[Session]]]]  # start, sessions per track


@dataclass
class SessionStanding:
    booked: int
    waiting: int
    mine: Booking | None

    def left(self, capacity: int | None) -> int | None:
        return None if capacity is None else max(0, capacity - self.booked)


@dataclass
class Programme:
    festival: Festival
    days: list[Timetable]
    sessions: list[Session]
    rows: dict[int, FestivalSession]
    speakers: dict[int, list[Speaker]]
    standing: dict[int, SessionStanding]
    registered: bool
    recordings: dict[int, SessionRecording]
    # May the person book each session now (lms.events.session_policy): the Book button
    # shows only when it may, and otherwise the page says why.
    may_book: dict[int, Decision] = field(default_factory=dict)


def programme(festival: Festival, user, registered: bool | None = None) -> Programme:
    """The festival programme: for each day, sessions by start time and track, with places
    left and the person's own bookings. A fixed number of queries, however big.
    ``registered``: whether the person has a confirmed place, when the page knows already."""
    rows = {r.session_id: r for r in db.session.scalars(
        select(FestivalSession).where(FestivalSession.festival_id == festival.id))}
    sessions = sorted((r.session for r in rows.values()),
                      key=lambda s: (s.starts_at, rows[s.id].track.position, s.id))
    ids = [s.id for s in sessions]
    counts: dict[tuple[int, str], int] = {}
    if ids:
        for session_id, state, n in db.session.execute(
            select(Booking.session_id, Booking.state, func.count(Booking.id))
            .where(Booking.session_id.in_(ids),
                   Booking.state.in_([B.BOOKED, B.OFFERED, B.WAITLISTED]))
            .group_by(Booking.session_id, Booking.state)
        ):
            counts[(session_id, state)] = n
    mine: dict[int, Booking] = {}
    if not getattr(user, "is_authenticated", False):
        registered = False
    else:
        if registered is None:
            registered = is_registered(user, festival)
        if ids:
            mine = {b.session_id: b for b in db.session.scalars(
                select(Booking).where(Booking.user_id == user.id,
                                      Booking.session_id.in_(ids),
                                      Booking.state.in_([B.BOOKED, B.OFFERED, B.WAITLISTED])))}
    # An offered place is taken until it is accepted or lapses.
    standing = {sid: SessionStanding(counts.get((sid, B.BOOKED), 0)
                                     + counts.get((sid, B.OFFERED), 0),
                                     counts.get((sid, B.WAITLISTED), 0), mine.get(sid))
                for sid in ids}
    may_book = _may_book(festival, sessions, user, registered, mine)
    tracks = list(festival.tracks)
    days: dict[date, dict[datetime, list[list[Session]]]] = {}
    for s in sessions:
        day = to_london(s.starts_at).date()
        slot = days.setdefault(day, {}).setdefault(s.starts_at, [[] for _ in tracks])
        column = next(i for i, t in enumerate(tracks) if t.id == rows[s.id].track_id)
        slot[column].append(s)
    timetables = [Timetable(day, tracks, sorted(slots.items())) for day, slots in
                  sorted(days.items())]
    return Programme(festival, timetables, sessions, rows, speakers_by_session(ids),
                     standing, registered, recordings_for(ids), may_book)


def _may_book(festival: Festival, sessions: list[Session], user, registered: bool,
              mine: dict[int, Booking]) -> dict[int, Decision]:
    """The booking decision for each session, with the person's clashes found in one query
    (their live bookings of scheduled sessions overlapping the festival's days)."""
    if not sessions:
        return {}
    others: list[tuple[Session, str]] = []
    if registered:
        others = [(s, state) for s, state in db.session.execute(
            select(Session, Booking.state).join(Booking, Booking.session_id == Session.id)
            .where(Booking.user_id == user.id,
                   Booking.state.in_([B.BOOKED, B.OFFERED, B.WAITLISTED]),
                   Session.status == SessionStatus.SCHEDULED,
                   Session.starts_at < max(s.ends_at for s in sessions),
                   Session.ends_at > min(s.starts_at for s in sessions))).tuples()]
    now = utcnow()
    return {s.id: may_book_session(
        festival.status, s, now, registered,
        (mine[s.id].state, mine[s.id].waitlist_position) if s.id in mine else None,
        first_clash(s, others) if registered else None) for s in sessions}


@dataclass
class AgendaItem:
    booking: Booking
    session: Session
    track: str
    recording: SessionRecording | None


def agenda(user: User, festival: Festival) -> list[AgendaItem]:
    """A person's festival sessions, booked, offered and waited for, in time order."""
    bookings = db.session.scalars(
        select(Booking).join(Session, Session.id == Booking.session_id)
        .where(Booking.user_id == user.id, Session.offering_id == festival.id,
               Booking.state.in_([B.BOOKED, B.OFFERED, B.WAITLISTED]))
        .order_by(Session.starts_at, Session.id)
    ).all()
    ids = [b.session_id for b in bookings]
    tracks = dict(db.session.execute(
        select(FestivalSession.session_id, FestivalTrack.name)
        .join(FestivalTrack, FestivalTrack.id == FestivalSession.track_id)
        .where(FestivalSession.session_id.in_(ids))
    ).all()) if ids else {}
    recordings = recordings_for(ids)
    return [AgendaItem(b, b.session, tracks.get(b.session_id, ""),
                       recordings.get(b.session_id) if b.state == B.BOOKED else None)
            for b in bookings]


def presenters(session_ids: list[int]) -> dict[int, str]:
    rows = db.session.execute(
        select(NetworkOccurrence.session_id, NetworkOccurrence.presenter)
        .where(NetworkOccurrence.session_id.in_(session_ids))
    ).all() if session_ids else []
    return dict(rows)


@dataclass
class NetworkPage:
    series: NetworkSeries
    upcoming: list[Session]
    past: list[Session]
    presenters: dict[int, str]
    recordings: dict[int, SessionRecording]
    members: int


def network_page(series: NetworkSeries, limit: int = 12) -> NetworkPage:
    now = utcnow()
    upcoming = [s for s in series.sessions if s.ends_at > now][:limit]
    past = [s for s in series.sessions if s.ends_at <= now and not s.is_cancelled][-6:][::-1]
    ids = [s.id for s in upcoming + past]
    members = db.session.scalar(select(func.count(Enrolment.id)).where(
        Enrolment.offering_id == series.id, Enrolment.state.in_(HOLDS_PLACE))) or 0
    return NetworkPage(series, upcoming, past, presenters(ids), recordings_for(ids), members)


def faculty_events() -> list[Offering]:
    return list(db.session.scalars(
        select(Offering).where(Offering.kind.in_(EVENT_KINDS))
        .order_by(Offering.kind, Offering.id.desc())
    ))


# --------------------------------------------------------------- what faculty's forms start from


def webinar_details(webinar: Webinar) -> WebinarDetails:
    session = webinar.session
    day, start = local_day_and_time(session.starts_at)
    return WebinarDetails(
        title=webinar.title, summary=webinar.summary, description=webinar.description,
        status=webinar.status, capacity=webinar.capacity,
        session=EventSessionDetails(day, start, local_day_and_time(session.ends_at)[1], "",
                                    session.location, session.join_url),
        speakers=speaker_details(session), reminder_minutes=list(webinar.reminder_minutes),
        after_session_emails=webinar.after_session_emails,
        strand=webinar.strand or "",
    )


def network_details(series: NetworkSeries) -> NetworkDetails:
    rule = rule_of(series)
    return NetworkDetails(
        title=series.title, summary=series.summary, description=series.description,
        status=series.status, capacity=series.capacity, first_day=series.first_day,
        local_start=series.local_start, duration_minutes=series.duration_minutes,
        rule=RuleInput(rule.frequency, rule.interval, list(rule.weekdays), rule.ordinal,
                       "count" if rule.count is not None else "until", rule.count,
                       rule.until),
        join_url=series.default_join_url, location=series.default_location,
        reminder_minutes=list(series.reminder_minutes),
        after_session_emails=series.after_session_emails,
        strand=series.strand or "",
    )


def occurrence_details(session: Session) -> OccurrenceDetails:
    row = occurrence_of(session)
    day, start = local_day_and_time(session.starts_at)
    return OccurrenceDetails(topic=session.title, presenter=row.presenter, day=day,
                             start=start, end=local_day_and_time(session.ends_at)[1],
                             location=session.location, join_url=session.join_url)


def festival_details(festival: Festival) -> FestivalDetails:
    return FestivalDetails(
        title=festival.title, summary=festival.summary, description=festival.description,
        status=festival.status, capacity=festival.capacity, first_day=festival.first_day,
        last_day=festival.last_day, tracks=[t.name for t in festival.tracks],
        reminder_minutes=list(festival.reminder_minutes),
        after_session_emails=festival.after_session_emails,
        strand=festival.strand or "",
    )


def festival_session_details(session: Session) -> FestivalSessionDetails:
    row = festival_session_of(session)
    day, start = local_day_and_time(session.starts_at)
    return FestivalSessionDetails(
        track_id=row.track_id, title=session.title, description=row.description, day=day,
        start=start, end=local_day_and_time(session.ends_at)[1], location=session.location,
        join_url=session.join_url, capacity=session.capacity,
        speakers=speaker_details(session),
    )
