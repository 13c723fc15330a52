"""The rules for events: webinars, network series and the INSIGHT festival.

Places on events are the enrolment engine's (``lms.offerings.services``): booking a webinar,
joining a network and registering for the festival all call ``engine.book``. Festival
sessions are then booked one by one here (``book_session``), under the festival's lock, with
their own capacities, clash checks and waiting lists.

Services validate everything before they change anything, raise ``DomainError``
(``InvalidInput`` naming every wrong field), queue emails, flush and never commit.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time

from sqlalchemy import delete, func, select

from lms.accounts.models import User
from lms.clock import to_london, utcnow
from lms.errors import DomainError, ErrorCollector, NotAllowed, NotFound
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
from lms.events.recurrence import Rule, RuleInput, check_rule, occurrences
from lms.extensions import db
from lms.notifications.services import Attachment, link, queue_email
from lms.offerings import calendar, calendar_updates, policy, waitlist
from lms.offerings import places as offering_places
from lms.offerings import services as engine
from lms.offerings.models import (
    HOLDS_PLACE,
    Booking,
    BookingState,
    Enrolment,
    Offering,
    OfferingStatus,
    Session,
    SessionStatus,
)
from lms.offerings.schedule import (
    SessionDetails,
    check_join_url,
    check_session,
    local_day_and_time,
)
from lms.offerings.transitions import MOVED, PLACE, SESSION_CANCELLED, PlaceChanged

B = BookingState
MAX_CAPACITY = 10_000
MAX_SPEAKERS = 4
MAX_TRACKS = 8
MAX_FESTIVAL_DAYS = 14
EVENT_KINDS = ("webinar", "network", "festival")
STATUS_LABELS = {
    OfferingStatus.DRAFT: "Draft",
    OfferingStatus.OPEN: "Open for booking",
    OfferingStatus.CLOSED: "Booking closed",
    OfferingStatus.RUNNING: "Running",
    OfferingStatus.FINISHED: "Finished",
    OfferingStatus.CANCELLED: "Cancelled",
}
# Statuses faculty choose on the event forms (cancelling has its own page and reason).
EDITABLE_STATUSES = [OfferingStatus.DRAFT, OfferingStatus.OPEN, OfferingStatus.CLOSED,
                     OfferingStatus.RUNNING, OfferingStatus.FINISHED]

# Events' pages and feeds show these too: ``init_app`` has the offer stamp watch them.
STAMPED_TABLES = ("webinar", "network_series", "network_occurrence", "festival",
                  "festival_track", "festival_session", "event_speaker")


class SessionClash(DomainError):
    """The person already has (or is waiting for) a session at the same time."""


# ---------------------------------------------------------------------------- permissions


def can_manage(user, offering: Offering | None = None) -> bool:
    """Faculty and admins build and run events (the engine's rule)."""
    return policy.can_manage(user, offering)


# ---------------------------------------------------------------------------- text


def _text(raw: str | None, label: str, field_name: str, limit: int, required: bool = False,
          one_line: bool = True) -> str:
    if one_line:
        value = " ".join((raw or "").split())
    else:
        lines = (raw or "").replace("\r\n", "\n").split("\n")
        value = "\n".join(line.rstrip() for line in lines).strip()
    if required and not value:
        raise DomainError(f"Enter {label.lower()}", field_name)
    if len(value) > limit:
        raise DomainError(f"{label} must be {limit:,} characters or fewer", field_name)
    return value


def _capacity(value: int | None, field_name: str = "capacity", label: str = "places") -> int | None:
    if value is None:
        return None
    if not 1 <= value <= MAX_CAPACITY:
        raise DomainError(f"The number of {label} must be between 1 and {MAX_CAPACITY:,}, or "
                          "left blank for no limit", field_name)
    return value


def _status(value: str | None, current: str | None = None) -> str:
    allowed = {s.value for s in EDITABLE_STATUSES}
    if current == OfferingStatus.CANCELLED:
        raise DomainError("This event has been cancelled, so it cannot be changed")
    if value not in allowed:
        raise DomainError("Choose a status", "status")
    return value


def _reminders(values: list[int] | None) -> list[int]:
    """Minutes before each session; at most three, each from 5 minutes to 7 days."""
    values = sorted(set(values or []), reverse=True)
    if len(values) > 3:
        raise DomainError("Choose at most three reminders", "reminder_minutes")
    if any(not 5 <= v <= 7 * 24 * 60 for v in values):
        raise DomainError("Reminders can be from 5 minutes to 7 days before", "reminder_minutes")
    return values


@dataclass
class SpeakerDetails:
    name: str = ""
    role: str = ""
    organisation: str = ""
    bio: str = ""


def _speakers(raw: list[SpeakerDetails]) -> list[SpeakerDetails]:
    """Speakers with a name; a role, organisation or bio without a name is a mistake."""
    errors = ErrorCollector()
    out = []
    for index, speaker in enumerate(raw[:MAX_SPEAKERS]):
        base = f"speaker{index}_"
        name = errors.check(_text, speaker.name, "The speaker's name", base + "name", 120)
        role = errors.check(_text, speaker.role, "The speaker's role", base + "role", 120)
        org = errors.check(_text, speaker.organisation, "The speaker's organisation",
                           base + "organisation", 200)
        bio = errors.check(_text, speaker.bio, "The speaker's biography", base + "bio", 1000,
                           one_line=False)
        if not name and (role or org or bio):
            errors.errors.append((base + "name", f"Enter the name of speaker {index + 1}"))
        elif name:
            out.append(SpeakerDetails(name, role or "", org or "", bio or ""))
    errors.raise_any()
    return out


def _set_speakers(session: Session, speakers: list[SpeakerDetails]) -> None:
    db.session.execute(delete(Speaker).where(Speaker.session_id == session.id))
    for position, s in enumerate(speakers):
        db.session.add(Speaker(session_id=session.id, position=position, name=s.name,
                               role=s.role, organisation=s.organisation, bio=s.bio))


def speakers_by_session(session_ids: list[int]) -> dict[int, list[Speaker]]:
    """Speakers of many sessions in one query."""
    found: dict[int, list[Speaker]] = {sid: [] for sid in session_ids}
    if not session_ids:
        return found
    for speaker in db.session.scalars(
        select(Speaker).where(Speaker.session_id.in_(session_ids))
        .order_by(Speaker.session_id, Speaker.position)
    ):
        found[speaker.session_id].append(speaker)
    return found


def speaker_details(session: Session | None) -> list[SpeakerDetails]:
    if session is None:
        return []
    return [SpeakerDetails(s.name, s.role, s.organisation, s.bio)
            for s in speakers_by_session([session.id])[session.id]]


# ---------------------------------------------------------------------------- who is told


@dataclass(frozen=True)
class Attendee:
    person: User
    confirmed: bool  # a confirmed place (sees the joining link)


def attendees(session: Session) -> list[Attendee]:
    """Everyone with a place at a session: for the festival, those who booked it (and are
    still registered); otherwise everyone holding a place on the offering."""
    return [Attendee(person, confirmed)
            for person, confirmed in calendar_updates.people_with_places(session)]


def _tell(session: Session, template: str, subject: str, method: str | None,
          **context) -> int:
    """Email everyone with a place at ``session``; confirmed places get the invitation
    (``method`` REQUEST) or cancellation (CANCEL) for their calendar."""
    people = attendees(session)
    offering = session.offering
    for attendee in people:
        attachments: list[Attachment] = []
        if method and attendee.confirmed:
            attachments.append(calendar.invitation(session, attendee.person, method))
        queue_email(
            attendee.person.email, subject, f"events/{template}", attachments=attachments,
            person=attendee.person, offering=offering, session=session,
            confirmed=attendee.confirmed, page_url=calendar.page_url(offering.kind,
                                                                      offering.id),
            **context,
        )
    return len(people)


# ---------------------------------------------------------------------------- sessions


@dataclass
class EventSessionDetails:
    """A session's fields as an events form gives them (London date and times)."""

    day: date | None
    start: time | None
    end: time | None
    title: str = ""
    location: str = ""
    join_url: str = ""
    capacity: int | None = None


def _check_times(details: EventSessionDetails, current: Session | None = None,
                 allow_past: bool = False, prefix: str = ""):
    return check_session(
        SessionDetails(details.day, details.start, details.end, details.title,
                       details.location, details.join_url, details.capacity),
        prefix=prefix, allow_past=allow_past, current=current,
    )


# What a calendar shows; a change to any of them bumps the session's SEQUENCE.
_SHOWN = ("title", "starts_at", "ends_at", "location", "join_url")
# What people must be told about by email.
_TOLD = ("starts_at", "ends_at", "location", "join_url")


def _apply(session: Session, values: dict) -> set[str]:
    """Set a session's fields; bump its sequence if a calendar would show the change.
    Returns the names that changed."""
    changed = {name for name, value in values.items() if getattr(session, name) != value}
    for name in changed:
        setattr(session, name, values[name])
    if changed & set(_SHOWN):
        session.sequence = (session.sequence or 0) + 1
    return changed


def _announce_change(session: Session, before: dict, changed: set[str]) -> int:
    if not changed & set(_TOLD) or session.ends_at <= utcnow():
        return 0
    calendar_updates.session_changed(session, MOVED)
    return _tell(session, "session_changed", f"Changed: {summary_of(session)}", "REQUEST",
                 before=before, changes=changed)


def summary_of(session: Session) -> str:
    return calendar.summary_of(session.offering.title, session.title)


def _snapshot(session: Session) -> dict:
    return {name: getattr(session, name) for name in _SHOWN}


def cancel_event_session(session: Session, actor: User, reason: str) -> int:
    """Cancel one session of an event (a network meeting, a festival session): bump its
    sequence and email everyone with a place, with a calendar cancellation. Returns how many
    people were told. The rest of the event is untouched."""
    if not can_manage(actor, session.offering):
        raise NotAllowed("Only faculty can cancel sessions")
    errors = ErrorCollector()
    reason = " ".join((reason or "").split())
    if not reason:
        errors.errors.append(("reason", "Give a reason for cancelling; it is included in the "
                                        "email to the people booked"))
    elif len(reason) > 1000:
        errors.errors.append(("reason", "The reason must be 1,000 characters or fewer"))
    if session.offering.status == OfferingStatus.CANCELLED:
        errors.errors.append((None, "This event has been cancelled"))
    elif session.is_cancelled:
        errors.errors.append((None, "This session is already cancelled"))
    elif session.ends_at <= utcnow():
        errors.errors.append((None, "This session has already taken place"))
    errors.raise_any()
    session.status = SessionStatus.CANCELLED
    session.sequence = (session.sequence or 0) + 1
    db.session.flush()
    calendar_updates.session_changed(session, SESSION_CANCELLED, actor)
    return _tell(session, "session_cancelled", f"Cancelled: {summary_of(session)}", "CANCEL",
                 reason=reason)


def _not_cancelled(session: Session) -> None:
    if session.offering.status == OfferingStatus.CANCELLED:
        raise DomainError("This event has been cancelled, so it cannot be changed")
    if session.is_cancelled:
        raise DomainError("This session has been cancelled, so it cannot be changed")


# ---------------------------------------------------------------------------- webinars


@dataclass
class WebinarDetails:
    title: str = ""
    summary: str = ""
    description: str = ""
    status: str = OfferingStatus.DRAFT
    capacity: int | None = None
    session: EventSessionDetails = field(
        default_factory=lambda: EventSessionDetails(None, None, None))
    speakers: list[SpeakerDetails] = field(default_factory=list)
    reminder_minutes: list[int] = field(default_factory=lambda: [1440, 60])
    after_session_emails: bool = True


def _event_fields(errors: ErrorCollector, title: str, summary: str, description: str,
                  status: str, capacity: int | None, reminders: list[int],
                  current: Offering | None, after_session_emails: bool = True) -> dict:
    return {
        "after_session_emails": bool(after_session_emails),
        "title": errors.check(_text, title, "The title", "title", 200, required=True),
        "summary": errors.check(_text, summary, "The summary", "summary", 500, required=True),
        "description": errors.check(_text, description, "The description", "description",
                                    10_000, one_line=False),
        "status": errors.check(_status, status, current.status if current else None),
        "capacity": errors.check(_capacity, capacity),
        "reminder_minutes": errors.check(_reminders, reminders),
    }


def _check_capacity_holds(offering: Offering, capacity: int | None) -> None:
    if offering.id is None or capacity is None:
        return
    held = offering_places.count_holding(offering)
    if capacity < held:
        raise DomainError(f"The number of places cannot be lower than the {held} already "
                          "taken", "capacity")


def _webinar_session_details(details: WebinarDetails) -> EventSessionDetails:
    s = details.session
    # A webinar's one session is online and shares the webinar's title.
    return EventSessionDetails(s.day, s.start, s.end, "", s.location, s.join_url, None)


def create_webinar(actor: User, details: WebinarDetails) -> Webinar:
    """A new webinar with its one session and its speakers."""
    if not can_manage(actor):
        raise NotAllowed("Only faculty can add webinars")
    errors = ErrorCollector()
    values = _event_fields(errors, details.title, details.summary, details.description,
                           details.status, details.capacity, details.reminder_minutes, None,
                           details.after_session_emails)
    checked = errors.check(_check_times, _webinar_session_details(details))
    speakers = errors.check(_speakers, details.speakers)
    errors.raise_any()
    webinar = Webinar(booking_mode="open", **values)
    webinar.sessions.append(Session(
        title="", starts_at=checked.starts_at, ends_at=checked.ends_at,
        location=checked.location, join_url=checked.join_url, sequence=0,
    ))
    db.session.add(webinar)
    db.session.flush()
    _set_speakers(webinar.sessions[0], speakers)
    db.session.flush()
    return webinar


def update_webinar(actor: User, webinar: Webinar, details: WebinarDetails) -> int:
    """Change a webinar. If its time, place or link changed, everyone with a place gets an
    updated invitation. Returns how many people were emailed."""
    if not can_manage(actor, webinar):
        raise NotAllowed("Only faculty can change webinars")
    session = webinar.session
    errors = ErrorCollector()
    values = _event_fields(errors, details.title, details.summary, details.description,
                           details.status, details.capacity, details.reminder_minutes, webinar,
                           details.after_session_emails)
    errors.check(_check_capacity_holds, webinar, values.get("capacity"))
    checked = errors.check(_check_times, _webinar_session_details(details), session)
    speakers = errors.check(_speakers, details.speakers)
    if session.is_cancelled:
        errors.errors.append((None, "The webinar's session has been cancelled"))
    errors.raise_any()
    webinar = engine.lock_offering(webinar.id)
    renamed = webinar.title != values["title"]
    for name, value in values.items():
        setattr(webinar, name, value)
    before = _snapshot(session)
    changed = _apply(session, {"starts_at": checked.starts_at, "ends_at": checked.ends_at,
                               "location": checked.location, "join_url": checked.join_url})
    if renamed and not changed:
        session.sequence = (session.sequence or 0) + 1
    _set_speakers(session, speakers)
    db.session.flush()
    engine.promote_waitlist(webinar, actor)
    return _announce_change(session, before, changed)


# ---------------------------------------------------------------------------- networks


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
    values = _event_fields(errors, details.title, details.summary, details.description,
                           details.status, details.capacity, details.reminder_minutes, current,
                           details.after_session_emails)
    if current is not None:
        errors.check(_check_capacity_holds, current, values.get("capacity"))
    first_day = errors.check(_required, details.first_day,
                             "Enter the date of the first meeting", "first_day")
    local_start = errors.check(_required, details.local_start,
                               "Enter the time meetings start", "local_start")
    duration = errors.check(_duration, details.duration_minutes)
    rule = errors.check(check_rule, details.rule, first_day)
    values["default_join_url"] = errors.check(check_join_url, details.join_url, "join_url")
    values["default_location"] = errors.check(_text, details.location, "The location",
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
        if _apply(session, updates) & set(_TOLD):
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
    errors.check(_not_cancelled, session)
    presenter = errors.check(_text, details.presenter, "The presenter", "presenter", 200)
    checked = errors.check(_check_times, EventSessionDetails(
        details.day, details.start, details.end, details.topic, details.location,
        details.join_url), session, prefix="")
    if errors.errors and any(f == "title" for f, _ in errors.errors):
        errors.errors = [("topic" if f == "title" else f, m) for f, m in errors.errors]
    errors.raise_any()
    before = _snapshot(session)
    changed = _apply(session, {"title": checked.title, "starts_at": checked.starts_at,
                               "ends_at": checked.ends_at, "location": checked.location,
                               "join_url": checked.join_url})
    if row.presenter != presenter:
        row.presenter = presenter
        if not changed & set(_SHOWN):
            session.sequence = (session.sequence or 0) + 1
    db.session.flush()
    return _announce_change(session, before, changed)


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


def presenters(session_ids: list[int]) -> dict[int, str]:
    rows = db.session.execute(
        select(NetworkOccurrence.session_id, NetworkOccurrence.presenter)
        .where(NetworkOccurrence.session_id.in_(session_ids))
    ).all() if session_ids else []
    return dict(rows)


def rule_of(series: NetworkSeries) -> Rule:
    return Rule.parse(series.rrule)


# ---------------------------------------------------------------------------- the festival


@dataclass
class FestivalDetails:
    title: str = ""
    summary: str = ""
    description: str = ""
    status: str = OfferingStatus.DRAFT
    capacity: int | None = None
    first_day: date | None = None
    last_day: date | None = None
    tracks: list[str] = field(default_factory=list)
    reminder_minutes: list[int] = field(default_factory=lambda: [1440, 60])
    after_session_emails: bool = True


def _festival_days(first: date | None, last: date | None) -> tuple[date, date]:
    errors = ErrorCollector()
    if first is None:
        errors.errors.append(("first_day", "Enter the first day of the festival"))
    if last is None:
        errors.errors.append(("last_day", "Enter the last day of the festival"))
    errors.raise_any()
    if last < first:
        raise DomainError("The last day must be on or after the first day", "last_day")
    if (last - first).days + 1 > MAX_FESTIVAL_DAYS:
        raise DomainError(f"A festival can last at most {MAX_FESTIVAL_DAYS} days", "last_day")
    return first, last


def _tracks(names: list[str]) -> list[str]:
    cleaned = [" ".join((n or "").split()) for n in names]
    cleaned = [n for n in cleaned if n]
    if not cleaned:
        raise DomainError("Enter at least one track, like Data science", "tracks")
    if len(cleaned) > MAX_TRACKS:
        raise DomainError(f"A festival can have at most {MAX_TRACKS} tracks", "tracks")
    if any(len(n) > 100 for n in cleaned):
        raise DomainError("Each track name must be 100 characters or fewer", "tracks")
    if len({n.lower() for n in cleaned}) != len(cleaned):
        raise DomainError("Each track needs a different name", "tracks")
    return cleaned


def _check_festival(details: FestivalDetails, current: Festival | None):
    errors = ErrorCollector()
    values = _event_fields(errors, details.title, details.summary, details.description,
                           details.status, details.capacity, details.reminder_minutes, current,
                           details.after_session_emails)
    if current is not None:
        errors.check(_check_capacity_holds, current, values.get("capacity"))
    days = errors.check(_festival_days, details.first_day, details.last_day)
    tracks = errors.check(_tracks, details.tracks)
    errors.raise_any()
    if current is not None:
        outside = [s for s in current.live_sessions
                   if not days[0] <= to_london(s.starts_at).date() <= days[1]]
        if outside:
            raise DomainError(
                f"“{outside[0].title}” is on {to_london(outside[0].starts_at):%-d %B %Y}, "
                "outside these days. Move or cancel it first.", "last_day")
        removed = [t for t in current.tracks if t.name.lower() not in
                   {n.lower() for n in tracks}]
        used = set(db.session.scalars(
            select(FestivalSession.track_id).where(FestivalSession.festival_id == current.id)
        ))
        if any(t.id in used for t in removed):
            raise DomainError("A track with sessions cannot be removed: move its sessions "
                              "to another track first", "tracks")
    values.update(first_day=days[0], last_day=days[1])
    return values, tracks


def create_festival(actor: User, details: FestivalDetails) -> Festival:
    """A festival with its days and tracks; sessions are added one by one."""
    if not can_manage(actor):
        raise NotAllowed("Only faculty can add festivals")
    values, tracks = _check_festival(details, None)
    festival = Festival(booking_mode="open", **values)
    for position, name in enumerate(tracks):
        festival.tracks.append(FestivalTrack(name=name, position=position))
    db.session.add(festival)
    db.session.flush()
    return festival


def update_festival(actor: User, festival: Festival, details: FestivalDetails) -> None:
    """Change a festival's details, days and tracks (tracks keep their sessions)."""
    if not can_manage(actor, festival):
        raise NotAllowed("Only faculty can change festivals")
    values, tracks = _check_festival(details, festival)
    festival = engine.lock_offering(festival.id)
    for name, value in values.items():
        setattr(festival, name, value)
    by_name = {t.name.lower(): t for t in festival.tracks}
    keep = []
    for position, name in enumerate(tracks):
        track = by_name.pop(name.lower(), None) or FestivalTrack(name=name)
        track.name, track.position = name, position
        keep.append(track)
    festival.tracks[:] = keep
    db.session.flush()
    engine.promote_waitlist(festival, actor)


@dataclass
class FestivalSessionDetails:
    track_id: int | None = None
    title: str = ""
    description: str = ""
    day: date | None = None
    start: time | None = None
    end: time | None = None
    location: str = ""
    join_url: str = ""
    capacity: int | None = None
    speakers: list[SpeakerDetails] = field(default_factory=list)


def _check_festival_session(festival: Festival, details: FestivalSessionDetails,
                            current: Session | None):
    errors = ErrorCollector()
    track = next((t for t in festival.tracks if t.id == details.track_id), None)
    if track is None:
        errors.errors.append(("track_id", "Choose the track"))
    if not " ".join((details.title or "").split()):
        errors.errors.append(("title", "Enter the session's title"))
    description = errors.check(_text, details.description, "The description", "description",
                               5000, one_line=False)
    speakers = errors.check(_speakers, details.speakers)
    if details.day is not None and not festival.first_day <= details.day <= festival.last_day:
        errors.errors.append((
            "day", f"Choose a day of the festival, from {festival.first_day:%-d %B} to "
                   f"{festival.last_day:%-d %B %Y}"))
    elif (details.start is not None and details.end is not None
          and details.end < details.start):
        errors.errors.append((
            "end", "A festival session must end on the day it starts: it cannot run past "
                   "midnight"))
    else:
        checked = errors.check(_check_times, EventSessionDetails(
            details.day, details.start, details.end, details.title, details.location,
            details.join_url, details.capacity), current)
    errors.raise_any()
    if current is not None and checked.capacity is not None:
        booked = db.session.scalar(select(func.count(Booking.id)).where(
            Booking.session_id == current.id, Booking.state == B.BOOKED)) or 0
        if checked.capacity < booked:
            raise DomainError(f"The capacity cannot be lower than the {booked} places already "
                              "booked", "capacity")
    return track, description, speakers, checked


def add_festival_session(actor: User, festival: Festival,
                         details: FestivalSessionDetails) -> Session:
    """A session in the festival programme, in a track, with its own capacity."""
    if not can_manage(actor, festival):
        raise NotAllowed("Only faculty can change the programme")
    if festival.status == OfferingStatus.CANCELLED:
        raise DomainError("This festival has been cancelled")
    track, description, speakers, checked = _check_festival_session(festival, details, None)
    session = Session(offering=festival, title=checked.title, starts_at=checked.starts_at,
                      ends_at=checked.ends_at, location=checked.location,
                      join_url=checked.join_url, capacity=checked.capacity, sequence=0)
    db.session.add(session)
    db.session.flush()
    db.session.add(FestivalSession(session_id=session.id, festival_id=festival.id,
                                   track_id=track.id, description=description))
    _set_speakers(session, speakers)
    db.session.flush()
    return session


def festival_session_of(session: Session) -> FestivalSession:
    row = db.session.get(FestivalSession, session.id)
    if row is None:
        raise NotFound("No such festival session")
    return row


def update_festival_session(actor: User, session: Session,
                            details: FestivalSessionDetails) -> int:
    """Change a festival session. People booked get an updated invitation when its time,
    place or link changed; a bigger capacity offers places to people waiting."""
    festival = session.offering
    if not can_manage(actor, festival):
        raise NotAllowed("Only faculty can change the programme")
    _not_cancelled(session)
    row = festival_session_of(session)
    track, description, speakers, checked = _check_festival_session(festival, details,
                                                                    session)
    engine.lock_offering(festival.id)
    before = _snapshot(session)
    changed = _apply(session, {"title": checked.title, "starts_at": checked.starts_at,
                               "ends_at": checked.ends_at, "location": checked.location,
                               "join_url": checked.join_url})
    session.capacity = checked.capacity
    row.track_id, row.description = track.id, description
    _set_speakers(session, speakers)
    db.session.flush()
    waitlist.offer_session_places(session)
    return _announce_change(session, before, changed)


def festival_session_details(session: Session) -> FestivalSessionDetails:
    row = festival_session_of(session)
    day, start = local_day_and_time(session.starts_at)
    return FestivalSessionDetails(
        track_id=row.track_id, title=session.title, description=row.description, day=day,
        start=start, end=local_day_and_time(session.ends_at)[1], location=session.location,
        join_url=session.join_url, capacity=session.capacity,
        speakers=speaker_details(session),
    )


# ---------------------------------------------------------------------------- session bookings


def _registered(user: User, festival: Festival) -> bool:
    return db.session.scalar(
        select(func.count(Enrolment.id)).where(
            Enrolment.offering_id == festival.id, Enrolment.user_id == user.id,
            Enrolment.state.in_(calendar.CONFIRMED))
    ) > 0


def _booked_count(session_id: int) -> int:
    """Places taken at a session: booked, or offered from its waiting list."""
    return waitlist.held_at(session_id)


def _waiting_count(session_id: int) -> int:
    return waitlist.queue_length(Booking, Booking.session_id, session_id)


def _clash(user_id: int, session: Session) -> tuple[Session, str] | None:
    """The person's first booked, offered or awaited session overlapping ``session``."""
    row = db.session.execute(
        select(Session, Booking.state).join(Booking, Booking.session_id == Session.id)
        .where(Booking.user_id == user_id,
               Booking.state.in_([B.BOOKED, B.OFFERED, B.WAITLISTED]),
               Booking.session_id != session.id, Session.status == SessionStatus.SCHEDULED,
               Session.starts_at < session.ends_at, Session.ends_at > session.starts_at)
        .order_by(Session.starts_at).limit(1)
    ).first()
    return (row[0], row[1]) if row else None


def clash_message(other: Session, state: str) -> str:
    when = f"{to_london(other.starts_at):%H:%M} to {to_london(other.ends_at):%H:%M} on " \
           f"{to_london(other.starts_at):%A %-d %B}"
    message = f"This clashes with {other.title or other.offering.title} at {when}"
    if state == B.WAITLISTED:
        message += ", which you are on the waiting list for"
    elif state == B.OFFERED:
        message += ", where a place is offered to you"
    return message + ". Cancel that one first if you would rather come to this."


def _release_lapsed_registrations(festival: Festival) -> None:
    """Bookings of people no longer registered for the festival give their places back.
    (Leaving the festival releases them at once, through ``release_bookings_on_leaving``;
    this is a safety net, under the festival's lock whenever bookings change, for a place
    lost any other way.)"""
    registered = select(Enrolment.user_id).where(
        Enrolment.offering_id == festival.id, Enrolment.state.in_(calendar.CONFIRMED))
    stale = db.session.scalars(
        select(Booking).join(Session, Session.id == Booking.session_id)
        .where(Session.offering_id == festival.id,
               Booking.state.in_([B.BOOKED, B.OFFERED, B.WAITLISTED]),
               Booking.user_id.not_in(registered))
    ).all()
    touched: dict[int, Session] = {}
    for booking in stale:
        _leave(booking, None, "No longer registered for the festival")
        touched[booking.session_id] = booking.session
    for session_id in sorted(touched):
        waitlist.offer_session_places(touched[session_id])


def _leave(booking: Booking, actor: User | None, reason: str = "") -> None:
    waitlist.set_booking_state(booking, B.CANCELLED, actor, reason)


def book_session(user: User, session: Session) -> Booking:
    """Book a festival session: a place if one is free, else a place in its queue. Refused if
    the person is not registered for the festival, already has it, or it clashes with a
    session they have booked or are waiting for."""
    festival = session.offering
    if not calendar.books_sessions(festival):
        raise NotFound("No such festival session")
    festival = engine.lock_offering(festival.id)
    session = db.session.get(Session, session.id, populate_existing=True)
    if festival.status == OfferingStatus.CANCELLED:
        raise policy.BookingClosed("The festival has been cancelled")
    if festival.status not in (OfferingStatus.OPEN, OfferingStatus.RUNNING):
        raise policy.BookingClosed("Sessions cannot be booked at the moment")
    if session.is_cancelled:
        raise policy.BookingClosed("This session has been cancelled")
    if session.starts_at <= utcnow():
        raise policy.BookingClosed("This session has already started")
    if not _registered(user, festival):
        raise NotAllowed("Register for the festival before booking its sessions")
    _release_lapsed_registrations(festival)
    booking = db.session.scalar(select(Booking).where(Booking.session_id == session.id,
                                                      Booking.user_id == user.id))
    if booking is not None and booking.state == B.BOOKED:
        raise policy.AlreadyBooked("You have already booked this session")
    if booking is not None and booking.state == B.OFFERED:
        raise policy.AlreadyBooked("A place at this session is offered to you: accept it")
    if booking is not None and booking.state == B.WAITLISTED:
        raise policy.AlreadyBooked(
            f"You are already number {booking.waitlist_position} on its waiting list")
    clash = _clash(user.id, session)
    if clash is not None:
        raise SessionClash(clash_message(*clash))
    free = session.capacity is None or _booked_count(session.id) < session.capacity
    position = None if free else _waiting_count(session.id) + 1
    if booking is None:
        # New, in no state yet: ``set_booking_state`` gives it its first.
        booking = Booking(session=session, user=user)
        db.session.add(booking)
    booking.waitlist_position = position
    waitlist.set_booking_state(booking, B.BOOKED if free else B.WAITLISTED, user)
    if free:
        _email_booking(booking, "session_booked", f"Booked: {summary_of(session)}",
                       invite=True)
    else:
        _email_booking(booking, "session_waitlisted",
                       f"You are on the waiting list: {summary_of(session)}")
    return booking


def _own_booking(user: User, booking: Booking) -> Booking:
    """The person's own booking, reloaded under the festival's lock."""
    if booking.user_id != user.id:
        raise NotFound("No such booking")
    engine.lock_offering(booking.session.offering_id)
    return db.session.get(Booking, booking.id, populate_existing=True)


def cancel_booking(user: User, booking: Booking, reason: str = "") -> Booking:
    """Give up a booked session, an offered place or a queue position; a freed place is
    offered to the next person waiting, automatically."""
    booking = _own_booking(user, booking)
    session = booking.session
    if booking.state not in (B.BOOKED, B.OFFERED, B.WAITLISTED):
        raise DomainError("There is nothing to cancel")
    if session.ends_at <= utcnow():
        raise DomainError("This session has already taken place")
    if booking.state == B.OFFERED:
        waitlist.decline_session_offer(booking, user)
        return booking
    was_booked = booking.state == B.BOOKED
    _leave(booking, user, reason)
    if was_booked:
        _email_booking_cancelled(booking)
        waitlist.offer_session_places(session, user)
    else:
        _email_booking(booking, "session_left_waitlist",
                       f"You have left the waiting list: {summary_of(session)}")
    return booking


def accept_session_offer(user: User, booking: Booking) -> Booking:
    """Take a place at a festival session offered from its waiting list, before the
    deadline; the confirmation carries the calendar invitation."""
    booking = _own_booking(user, booking)
    clash = _clash(user.id, booking.session)
    if clash is not None and booking.state == B.OFFERED:
        raise SessionClash(clash_message(*clash))
    waitlist.accept_session_offer(booking, user)
    _email_booking(booking, "session_promoted",
                   f"A place is now yours: {summary_of(booking.session)}", invite=True)
    return booking


def decline_session_offer(user: User, booking: Booking) -> Booking:
    """Say no to a place offered at a festival session; it goes to the next person."""
    booking = _own_booking(user, booking)
    waitlist.decline_session_offer(booking, user)
    return booking


def _email_booking_cancelled(booking: Booking) -> None:
    """Tell the person their booking is cancelled (the calendar cancellation follows the
    place change: ``lms.offerings.calendar_updates.follow_place_change``)."""
    _email_booking(booking, "session_booking_cancelled",
                   f"Booking cancelled: {summary_of(booking.session)}")


def release_bookings_on_leaving(event: PlaceChanged) -> None:
    """Someone's registration for a festival ended (withdrawn, cancelled, erased; connected
    in ``lms.events.init_app``, so it runs under the festival's lock, in the same
    transaction): their bookings of sessions not yet over are given up as if they had
    cancelled each one (a calendar cancellation for each booked session, through the
    calendar's own listener) and each freed place is offered to the next person waiting.
    Sessions already held keep their bookings, for the record."""
    if (event.what != PLACE or event.from_state not in calendar.CONFIRMED
            or event.to_state in calendar.CONFIRMED):
        return
    offering = db.session.get(Offering, event.offering_id)
    if offering is None or not calendar.books_sessions(offering):
        return
    actor = db.session.get(User, event.actor_id) if event.actor_id else None
    bookings = db.session.scalars(
        select(Booking).join(Session, Session.id == Booking.session_id)
        .where(Session.offering_id == event.offering_id,
               Booking.user_id == event.person_id,
               Booking.state.in_([B.BOOKED, B.OFFERED, B.WAITLISTED]),
               Session.ends_at > utcnow())
        .order_by(Session.starts_at, Session.id)
    ).all()
    freed: list[Session] = []
    for booking in bookings:
        was = booking.state
        _leave(booking, actor, event.reason)
        if was == B.BOOKED:
            _email_booking_cancelled(booking)
        if was != B.WAITLISTED:
            freed.append(booking.session)
    for session in freed:
        waitlist.offer_session_places(session, actor)


def _email_booking(booking: Booking, template: str, subject: str, invite: bool = False,
                   attachments: list[Attachment] | None = None) -> None:
    session, person = booking.session, booking.user
    attachments = list(attachments or [])
    if invite:
        attachments.append(calendar.invitation(session, person, "REQUEST"))
    queue_email(
        person.email, subject, f"events/{template}", attachments=attachments,
        person=person, booking=booking, session=session, offering=session.offering,
        agenda_url=link("events.agenda", id=session.offering_id),
        page_url=calendar.page_url(session.offering.kind, session.offering_id),
    )


def get_booking(booking_id: int) -> Booking:
    booking = db.session.get(Booking, booking_id)
    if booking is None:
        raise NotFound("No such booking")
    return booking


# ---------------------------------------------------------------------------- recordings


def publish_recording(actor: User, session: Session, url: str) -> int:
    """After a session, publish its recording link to the people who had a place: it shows
    on their agenda and they are emailed. Publishing again replaces the link (and emails
    again only if it changed). Returns how many people were emailed."""
    if not can_manage(actor, session.offering):
        raise NotAllowed("Only faculty can publish recordings")
    errors = ErrorCollector()
    cleaned = errors.check(check_join_url, url, "url")
    if not cleaned and not errors.errors:
        errors.errors.append(("url", "Enter the recording's web address, starting https://"))
    if session.is_cancelled:
        errors.errors.append((None, "This session was cancelled"))
    elif session.ends_at > utcnow():
        errors.errors.append((None, "A recording can be published once the session is over"))
    errors.raise_any()
    recording = db.session.get(SessionRecording, session.id)
    if recording is not None and recording.url == cleaned:
        return 0
    if recording is None:
        recording = SessionRecording(session_id=session.id, url=cleaned)
        db.session.add(recording)
    recording.url, recording.published_at = cleaned, utcnow()
    recording.published_by_id = actor.id
    db.session.flush()
    return _tell(session, "recording_published", f"Recording: {summary_of(session)}", None,
                 recording=recording)


def recordings_for(session_ids: list[int]) -> dict[int, SessionRecording]:
    if not session_ids:
        return {}
    return {r.session_id: r for r in db.session.scalars(
        select(SessionRecording).where(SessionRecording.session_id.in_(session_ids)))}


# ---------------------------------------------------------------------------- pages


def get_event(event_id: int, kind: type[Offering] | None = None) -> Offering:
    offering = db.session.get(Offering, event_id, options=[engine.leads_loaded()])
    if offering is None or offering.kind not in EVENT_KINDS or (
            kind is not None and not isinstance(offering, kind)):
        raise NotFound("No such event")
    return offering


def get_session(session_id: int) -> Session:
    session = db.session.get(Session, session_id)
    if session is None:
        raise NotFound("No such session")
    return session


@dataclass(frozen=True)
class EventListing:
    event: Offering
    next_session: Session | None
    places_left: int | None


def events_list(user, kind: str | None = None, include_past: bool = False) -> list[EventListing]:
    """Events people can see, soonest first: those still to come (and, on request, those
    that have finished)."""
    now = utcnow()
    next_start = (select(Session.offering_id, func.min(Session.starts_at).label("starts"))
                  .where(Session.status == SessionStatus.SCHEDULED, Session.ends_at > now)
                  .group_by(Session.offering_id).subquery())
    stmt = (select(Offering, next_start.c.starts)
            .outerjoin(next_start, next_start.c.offering_id == Offering.id)
            .where(Offering.kind.in_([kind] if kind else EVENT_KINDS),
                   *policy.visible_filter(user)))
    if not include_past:
        stmt = stmt.where(next_start.c.starts.is_not(None))
    rows = db.session.execute(stmt.order_by(next_start.c.starts, Offering.id)).all()
    left = offering_places.places_left_for([o.id for o, _ in rows])
    out = []
    for offering, starts in rows:
        upcoming = next((s for s in offering.sessions
                         if not s.is_cancelled and s.ends_at > now), None)
        out.append(EventListing(offering, upcoming if starts else None, left.get(offering.id)))
    return out


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


def programme(festival: Festival, user) -> Programme:
    """The festival programme: for each day, sessions by start time and track, with places
    left and the person's own bookings. A fixed number of queries, however big."""
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
    registered = False
    if getattr(user, "is_authenticated", False):
        registered = _registered(user, festival)
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
                     standing, registered, recordings_for(ids))


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


def occurrence_details(session: Session) -> OccurrenceDetails:
    row = occurrence_of(session)
    day, start = local_day_and_time(session.starts_at)
    return OccurrenceDetails(topic=session.title, presenter=row.presenter, day=day,
                             start=start, end=local_day_and_time(session.ends_at)[1],
                             location=session.location, join_url=session.join_url)


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
    )


def festival_details(festival: Festival) -> FestivalDetails:
    return FestivalDetails(
        title=festival.title, summary=festival.summary, description=festival.description,
        status=festival.status, capacity=festival.capacity, first_day=festival.first_day,
        last_day=festival.last_day, tracks=[t.name for t in festival.tracks],
        reminder_minutes=list(festival.reminder_minutes),
        after_session_emails=festival.after_session_emails,
    )



def cancel_event(actor: User, event: Offering, reason: str) -> int:
    """Cancel a whole event: its sessions still to come are cancelled (so calendars that hold
    them update) and the engine cancels every place, telling each person why. Returns how
    many people were told."""
    if not can_manage(actor, event):
        raise NotAllowed("Only faculty can cancel events")
    now = utcnow()
    told = engine.cancel_offering(event, actor, reason)
    for session in event.sessions:
        if not session.is_cancelled and session.ends_at > now:
            session.status = SessionStatus.CANCELLED
            session.sequence = (session.sequence or 0) + 1
    db.session.flush()
    return told
