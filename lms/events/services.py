"""The rules every kind of event shares, and webinars.

Who builds events, checking their text, speakers and reminders, a session's times and what
happens when one changes or is cancelled (who is told, with what calendar update), publishing
recordings, finding an event or a session and cancelling a whole event; and webinars, whose
one session and speakers are all they have. Network series are in ``networks``, the festival
in ``festival``, its session bookings in ``session_bookings``, and what the pages show in
``pages``: those import from here, never the reverse.

Places on events are the enrolment engine's (``lms.offerings.services``): booking a webinar,
joining a network and registering for the festival all call ``engine.book``.

Services validate everything before they change anything, raise ``DomainError``
(``InvalidInput`` naming every wrong field), queue emails, flush and never commit.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, time

from sqlalchemy import delete, select

from lms.accounts.models import User
from lms.clock import utcnow
from lms.courses.models import STRAND_LABELS
from lms.errors import DomainError, ErrorCollector, NotAllowed, NotFound
from lms.events.models import SessionRecording, Speaker, Webinar
from lms.extensions import db
from lms.notifications.services import Attachment, queue_email
from lms.offerings import calendar, calendar_updates, policy
from lms.offerings import services as engine
from lms.offerings.models import Offering, OfferingStatus, Session, SessionStatus
from lms.offerings.schedule import SessionDetails, check_join_url, check_session
from lms.offerings.transitions import MOVED, SESSION_CANCELLED

MAX_CAPACITY = 10_000
MAX_SPEAKERS = 4
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


# ---------------------------------------------------------------------------- permissions


def can_manage(user, offering: Offering | None = None) -> bool:
    """Faculty and admins build and run events (the engine's rule)."""
    return policy.can_manage(user, offering)


# ---------------------------------------------------------------------------- text


def checked_text(raw: str | None, label: str, field_name: str, limit: int, required: bool = False,
                 one_line: bool = True) -> str:
    """Text from a form, tidied (one line, or trimmed lines) and checked against its limit."""
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


def checked_speakers(raw: list[SpeakerDetails]) -> list[SpeakerDetails]:
    """Speakers with a name; a role, organisation or bio without a name is a mistake."""
    errors = ErrorCollector()
    out = []
    for index, speaker in enumerate(raw[:MAX_SPEAKERS]):
        base = f"speaker{index}_"
        name = errors.check(checked_text, speaker.name, "The speaker's name", base + "name", 120)
        role = errors.check(checked_text, speaker.role, "The speaker's role", base + "role", 120)
        org = errors.check(checked_text, speaker.organisation, "The speaker's organisation",
                           base + "organisation", 200)
        bio = errors.check(checked_text, speaker.bio, "The speaker's biography", base + "bio", 1000,
                           one_line=False)
        if not name and (role or org or bio):
            errors.errors.append((base + "name", f"Enter the name of speaker {index + 1}"))
        elif name:
            out.append(SpeakerDetails(name, role or "", org or "", bio or ""))
    errors.raise_any()
    return out


def set_speakers(session: Session, speakers: list[SpeakerDetails]) -> None:
    """Replace a session's speakers with these, in order."""
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
          people: list[Attendee] | None = None, **context) -> int:
    """Email everyone with a place at ``session`` (or ``people``); confirmed places get the
    invitation (``method`` REQUEST) or cancellation (CANCEL) for their calendar."""
    people = attendees(session) if people is None else people
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


def check_times(details: EventSessionDetails, current: Session | None = None,
                allow_past: bool = False, prefix: str = ""):
    """A session's date, times, place and link checked (``schedule.check_session``)."""
    return check_session(
        SessionDetails(details.day, details.start, details.end, details.title,
                       details.location, details.join_url, details.capacity),
        prefix=prefix, allow_past=allow_past, current=current,
    )


# What a calendar shows; a change to any of them bumps the session's SEQUENCE.
SHOWN = ("title", "starts_at", "ends_at", "location", "join_url")
# What people must be told about by email.
TOLD = ("starts_at", "ends_at", "location", "join_url")


def apply_changes(session: Session, values: dict) -> set[str]:
    """Set a session's fields; bump its sequence if a calendar would show the change.
    Returns the names that changed."""
    changed = {name for name, value in values.items() if getattr(session, name) != value}
    for name in changed:
        setattr(session, name, values[name])
    if changed & set(SHOWN):
        session.sequence = (session.sequence or 0) + 1
    return changed


def announce_change(session: Session, before: dict, changed: set[str]) -> int:
    """If a session still to come moved or changed place or link, send everyone with a place
    the updated invitation. Returns how many people were emailed."""
    if not changed & set(TOLD) or session.ends_at <= utcnow():
        return 0
    calendar_updates.session_changed(session, MOVED)
    return _tell(session, "session_changed", f"Changed: {summary_of(session)}", "REQUEST",
                 before=before, changes=changed)


def summary_of(session: Session) -> str:
    return calendar.summary_of(session.offering.title, session.title)


def snapshot(session: Session) -> dict:
    """What a calendar shows of a session now, to tell people what changed."""
    return {name: getattr(session, name) for name in SHOWN}


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


def check_not_cancelled(session: Session) -> None:
    """Refuse to change a session that, or whose event, is cancelled."""
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
    strand: str = ""


def _strand(value: str | None) -> str | None:
    """One of the network's four strands, or None for an event in no strand."""
    if not value:
        return None
    if value not in STRAND_LABELS:
        raise DomainError("Select a strand from the list, or “None”", "strand")
    return value


def event_fields(errors: ErrorCollector, details, current: Offering | None) -> dict:
    """Every kind of event's own fields (``details``: a webinar's, network's or festival's),
    checked, and for an event being changed, a capacity no lower than the places taken;
    problems are collected in ``errors``."""
    values = {
        "after_session_emails": bool(details.after_session_emails),
        "title": errors.check(checked_text, details.title, "The title", "title", 200,
                              required=True),
        "summary": errors.check(checked_text, details.summary, "The summary", "summary", 500,
                                required=True),
        "description": errors.check(checked_text, details.description, "The description",
                                    "description", 10_000, one_line=False),
        "status": errors.check(_status, details.status, current.status if current else None),
        "capacity": errors.check(_capacity, details.capacity),
        "reminder_minutes": errors.check(_reminders, details.reminder_minutes),
        "strand": errors.check(_strand, details.strand),
    }
    if current is not None:
        errors.check(_check_capacity_holds, current, values["capacity"])
    return values


def _check_capacity_holds(offering: Offering, capacity: int | None) -> None:
    """Refuse a number of places lower than the places already taken."""
    if offering.id is None or capacity is None:
        return
    held = engine.count_holding(offering)
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
    values = event_fields(errors, details, None)
    checked = errors.check(check_times, _webinar_session_details(details))
    speakers = errors.check(checked_speakers, details.speakers)
    errors.raise_any()
    webinar = Webinar(booking_mode="open", **values)
    webinar.sessions.append(Session(
        title="", starts_at=checked.starts_at, ends_at=checked.ends_at,
        location=checked.location, join_url=checked.join_url, sequence=0,
    ))
    db.session.add(webinar)
    db.session.flush()
    set_speakers(webinar.sessions[0], speakers)
    db.session.flush()
    return webinar


def update_webinar(actor: User, webinar: Webinar, details: WebinarDetails) -> int:
    """Change a webinar. If its time, place or link changed, everyone with a place gets an
    updated invitation. Returns how many people were emailed."""
    if not can_manage(actor, webinar):
        raise NotAllowed("Only faculty can change webinars")
    session = webinar.session
    errors = ErrorCollector()
    values = event_fields(errors, details, webinar)
    checked = errors.check(check_times, _webinar_session_details(details), session)
    speakers = errors.check(checked_speakers, details.speakers)
    if session.is_cancelled:
        errors.errors.append((None, "The webinar's session has been cancelled"))
    errors.raise_any()
    webinar = engine.lock_offering(webinar.id)
    renamed = webinar.title != values["title"]
    for name, value in values.items():
        setattr(webinar, name, value)
    before = snapshot(session)
    changed = apply_changes(session, {"starts_at": checked.starts_at, "ends_at": checked.ends_at,
                                      "location": checked.location, "join_url": checked.join_url})
    if renamed and not changed:
        session.sequence = (session.sequence or 0) + 1
    set_speakers(session, speakers)
    db.session.flush()
    engine.promote_waitlist(webinar, actor)
    return announce_change(session, before, changed)


# ---------------------------------------------------------------------------- recordings


def missed(session: Session) -> list[Attendee]:
    """The people with a place at ``session`` who did not attend it (by the one rule of what
    counts as attended, ``lms.attendance.standing``)."""
    from lms.attendance.models import Attendance
    from lms.attendance.standing import counts_as_attended

    attended = set(db.session.scalars(
        select(Attendance.user_id).join(Session, Session.id == Attendance.session_id)
        .where(Attendance.session_id == session.id, *counts_as_attended())))
    return [a for a in attendees(session) if a.person.id not in attended]


def publish_recording(actor: User, session: Session, url: str) -> int:
    """After any session (a cohort's, a webinar, a huddle, the festival's), publish its
    recording link to the people who had a place: it shows on their agenda and the
    offering's materials, and those who missed the session are emailed. Publishing again
    replaces the link (and emails again only if it changed). Returns how many people were
    emailed."""
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
                 people=missed(session), recording=recording)


# ---------------------------------------------------------------------------- finding events


def get_event(event_id: int, kind: type[Offering] | None = None) -> Offering:
    offering = engine.load_as(kind or Offering, event_id)
    if offering is None or offering.kind not in EVENT_KINDS:
        raise NotFound("No such event")
    return offering


def get_session(session_id: int) -> Session:
    session = db.session.get(Session, session_id)
    if session is None:
        raise NotFound("No such session")
    return session


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
