"""Network series: a recurrence rule gives the meetings, a change to the rule moves the
meetings still to come, and one meeting can be changed or moved on its own.

Members are told of changes with an updated calendar; services flush and never commit."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time

from sqlalchemy import select

from lms.accounts.models import User
from lms.clock import to_london, utcnow
from lms.errors import DomainError, ErrorCollector, NotAllowed, NotFound
from lms.events.models import NetworkOccurrence, NetworkSeries
from lms.events.recurrence import Rule, RuleInput, check_rule, occurrences
from lms.events.services import (
    SHOWN,
    TOLD,
    EventSessionDetails,
    announce_change,
    apply_changes,
    can_manage,
    check_not_cancelled,
    check_times,
    checked_text,
    event_fields,
    snapshot,
)
from lms.extensions import db
from lms.notifications.services import queue_email
from lms.offerings import calendar
from lms.offerings import services as engine
from lms.offerings.models import HOLDS_PLACE, Enrolment, OfferingStatus, Session, SessionStatus
from lms.offerings.schedule import check_join_url


@dataclass
class NetworkDetails:
    title: str = ""
    summary: str = ""
    description: str = ""
    status: str = OfferingStatus.DRAFT
    capacity: int | None = None
    first_day: date | None = None
    local_start: time | None = None
    duration_minutes: int | None = None
    rule: RuleInput = field(default_factory=lambda: RuleInput(None, None))
    join_url: str = ""
    location: str = ""
    reminder_minutes: list[int] = field(default_factory=lambda: [1440, 60])
    after_session_emails: bool = True
    strand: str = ""


def _duration(value: int | None) -> int:
    if value is None:
        raise DomainError("Enter how long each meeting lasts, in minutes", "duration_minutes")
    if not 5 <= value <= 720:
        raise DomainError("Each meeting must last from 5 minutes to 12 hours",
                          "duration_minutes")
    return value


def _required(value, message: str, field_name: str):
    if value is None:
        raise DomainError(message, field_name)
    return value


def _check_network(details: NetworkDetails, current: NetworkSeries | None):
    errors = ErrorCollector()
    values = event_fields(errors, details, current)
    first_day = errors.check(_required, details.first_day,
                             "Enter the date of the first meeting", "first_day")
    local_start = errors.check(_required, details.local_start,
                               "Enter the time meetings start", "local_start")
    duration = errors.check(_duration, details.duration_minutes)
    rule = errors.check(check_rule, details.rule, first_day)
    values["default_join_url"] = errors.check(check_join_url, details.join_url, "join_url")
    values["default_location"] = errors.check(checked_text, details.location, "The location",
                                              "location", 300)
    errors.raise_any()
    found = occurrences(rule, first_day, local_start, duration)
    values.update(rrule=rule.rrule_text(), first_day=first_day, local_start=local_start,
                  duration_minutes=duration)
    return values, found


def create_network(actor: User, details: NetworkDetails,
                   allow_past: bool = False) -> NetworkSeries:
    """A network series and a session for each meeting its rule gives. Meetings in the past
    are not made (unless ``allow_past``: loading history)."""
    if not can_manage(actor):
        raise NotAllowed("Only faculty can add networks")
    values, found = _check_network(details, None)
    now = utcnow()
    if not allow_past and all(o.ends_at <= now for o in found):
        raise DomainError("Every meeting these settings give is in the past", "first_day")
    series = NetworkSeries(booking_mode="open", **values)
    db.session.add(series)
    db.session.flush()
    for occurrence in found:
        if allow_past or occurrence.ends_at > now:
            _add_occurrence(series, occurrence.starts_at, occurrence.ends_at)
    db.session.flush()
    return series


def _add_occurrence(series: NetworkSeries, starts_at: datetime, ends_at: datetime,
                    title: str = "", presenter: str = "") -> Session:
    session = Session(offering=series, title=title, starts_at=starts_at, ends_at=ends_at,
                      location=series.default_location, join_url=series.default_join_url,
                      sequence=0)
    db.session.add(session)
    db.session.flush()
    db.session.add(NetworkOccurrence(session_id=session.id, series_id=series.id,
                                     rule_starts_at=starts_at, presenter=presenter))
    return session


@dataclass
class SeriesChange:
    added: list[Session] = field(default_factory=list)
    moved: list[Session] = field(default_factory=list)
    cancelled: list[Session] = field(default_factory=list)
    emailed: int = 0

    @property
    def any(self) -> bool:
        return bool(self.added or self.moved or self.cancelled)


def update_network(actor: User, series: NetworkSeries, details: NetworkDetails) -> SeriesChange:
    """Change a series. Meetings still to come follow the new rule: new dates are added,
    dates no longer in the rule are cancelled, and meetings keep their topic and presenter
    when only the time changes. A meeting moved by hand stays where it was put; meetings in
    the past are never touched. Members get one email with the changes for their calendar."""
    if not can_manage(actor, series):
        raise NotAllowed("Only faculty can change networks")
    values, found = _check_network(details, series)
    series = engine.lock_offering(series.id)
    now = utcnow()
    rows = db.session.scalars(
        select(NetworkOccurrence).where(NetworkOccurrence.series_id == series.id)
    ).all()
    by_day = {to_london(row.rule_starts_at).date(): row for row in rows}
    old_default = (series.default_location, series.default_join_url)
    for name, value in values.items():
        setattr(series, name, value)
    change = SeriesChange()
    wanted = {to_london(o.starts_at).date(): o for o in found}
    for day, occurrence in wanted.items():
        row = by_day.get(day)
        if row is None:
            if occurrence.ends_at > now:
                change.added.append(_add_occurrence(series, occurrence.starts_at,
                                                    occurrence.ends_at))
            continue
        session = row.session
        if session.ends_at <= now or session.is_cancelled:
            continue
        moved_by_hand = session.starts_at != row.rule_starts_at
        row.rule_starts_at = occurrence.starts_at
        updates = {}
        if not moved_by_hand:
            updates.update(starts_at=occurrence.starts_at, ends_at=occurrence.ends_at)
        if (session.location, session.join_url) == old_default:
            updates.update(location=series.default_location,
                           join_url=series.default_join_url)
        if apply_changes(session, updates) & set(TOLD):
            change.moved.append(session)
    for day, row in by_day.items():
        session = row.session
        if day in wanted or session.ends_at <= now or session.is_cancelled:
            continue
        session.status = SessionStatus.CANCELLED
        session.sequence = (session.sequence or 0) + 1
        change.cancelled.append(session)
    db.session.flush()
    engine.promote_waitlist(series, actor)
    if change.any:
        change.emailed = _tell_series_change(series, change)
    return change


def _tell_series_change(series: NetworkSeries, change: SeriesChange) -> int:
    """One email per member listing what changed, with a calendar file of those meetings."""
    touched = sorted(change.added + change.moved + change.cancelled, key=lambda s: s.starts_at)
    members = db.session.execute(
        select(User, Enrolment.state).join(Enrolment, Enrolment.user_id == User.id)
        .where(Enrolment.offering_id == series.id, Enrolment.state.in_(HOLDS_PLACE))
        .order_by(User.id)
    ).all()
    details = presenters_as_details([s.id for s in touched])
    for person, state in members:
        confirmed = state in calendar.CONFIRMED
        events = [calendar.event_for(s, with_join=confirmed, tentative=not confirmed,
                                     details=details.get(s.id, [])) for s in touched]
        ics = calendar.write_calendar(events, name=series.title)
        queue_email(
            person.email, f"Meetings changed: {series.title}", "events/series_changed",
            attachments=[("meetings.ics", calendar.CALENDAR_MIME, ics)],
            person=person, offering=series, change=change,
            page_url=calendar.page_url(series.kind, series.id),
        )
    return len(members)


@dataclass
class OccurrenceDetails:
    topic: str = ""
    presenter: str = ""
    day: date | None = None
    start: time | None = None
    end: time | None = None
    location: str = ""
    join_url: str = ""


def occurrence_of(session: Session) -> NetworkOccurrence:
    row = db.session.get(NetworkOccurrence, session.id)
    if row is None:
        raise NotFound("No such meeting")
    return row


def update_occurrence(actor: User, session: Session, details: OccurrenceDetails) -> int:
    """Change one meeting of a series: its topic and presenter, or move it (date, times,
    place, link) without touching the others. Members are emailed an updated invitation when
    it moved or its place or link changed. Returns how many were emailed."""
    if not can_manage(actor, session.offering):
        raise NotAllowed("Only faculty can change meetings")
    row = occurrence_of(session)
    errors = ErrorCollector()
    errors.check(check_not_cancelled, session)
    presenter = errors.check(checked_text, details.presenter, "The presenter", "presenter", 200)
    checked = errors.check(check_times, EventSessionDetails(
        details.day, details.start, details.end, details.topic, details.location,
        details.join_url), session, prefix="")
    if errors.errors and any(f == "title" for f, _ in errors.errors):
        errors.errors = [("topic" if f == "title" else f, m) for f, m in errors.errors]
    errors.raise_any()
    before = snapshot(session)
    changed = apply_changes(session, {"title": checked.title, "starts_at": checked.starts_at,
                                      "ends_at": checked.ends_at, "location": checked.location,
                                      "join_url": checked.join_url})
    if row.presenter != presenter:
        row.presenter = presenter
        if not changed & set(SHOWN):
            session.sequence = (session.sequence or 0) + 1
    db.session.flush()
    return announce_change(session, before, changed)


def presenters_as_details(session_ids: list[int]) -> dict[int, list[str]]:
    """Calendar description lines for network meetings: their presenter."""
    if not session_ids:
        return {}
    rows = db.session.execute(
        select(NetworkOccurrence.session_id, NetworkOccurrence.presenter)
        .where(NetworkOccurrence.session_id.in_(session_ids),
               NetworkOccurrence.presenter != "")
    ).all()
    return {sid: [f"Presenter: {presenter}"] for sid, presenter in rows}


def rule_of(series: NetworkSeries) -> Rule:
    return Rule.parse(series.rrule)
