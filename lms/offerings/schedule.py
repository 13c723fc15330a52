"""Sessions: the dated occurrences of an offering, entered in Europe/London, stored in UTC.

Courses use this for cohorts and events will use it for webinars and festival sessions, so it
knows offerings and sessions only (never courses or events).

Rules:

- Times are typed as London wall-clock times. A time the clocks skip in spring does not
  exist and is refused; a time the clocks pass twice in autumn means the first (BST) one.
- A session ends after it starts, on the day it starts.
- A new session may not start in the past, unless ``allow_past`` is given: faculty recording
  a session that already happened on a running or finished cohort (see ``allows_past``).
  Editing a past session without moving its start is always allowed.
- A cancelled offering's sessions cannot change, and a cancelled session cannot change.
- A change people must hear about (title, date, time, place, joining link) and a
  cancellation bump the session's iCalendar ``sequence`` and email everyone holding a place
  (except a correction to a session that is over, which only bumps the sequence).

Services validate everything before they change anything, flush, and never commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from urllib.parse import urlsplit

from sqlalchemy import select

from lms.accounts.models import User
from lms.clock import LONDON, to_london, utcnow
from lms.errors import DomainError, ErrorCollector
from lms.extensions import db
from lms.notifications.services import link, queue_email
from lms.offerings.calendar_updates import session_changed
from lms.offerings.models import (
    HOLDS_PLACE,
    Enrolment,
    Offering,
    OfferingStatus,
    Session,
    SessionStatus,
)
from lms.offerings.transitions import MOVED, SESSION_CANCELLED

MAX_SESSION_CAPACITY = 100_000


# ---------------------------------------------------------------------------- local time


def local_to_utc(day: date, at: time, field: str) -> datetime:
    """The aware UTC moment of ``at`` on ``day`` on clocks in Europe/London.

    A time skipped when the clocks go forward (01:00–01:59 on the last Sunday of March)
    raises ``DomainError`` on ``field``. A time that happens twice when they go back (01:00–
    01:59 on the last Sunday of October) is taken as the first, British Summer Time, one.
    """
    wall = datetime.combine(day, at.replace(tzinfo=None, fold=0), tzinfo=LONDON)
    moment = wall.astimezone(UTC)
    # A non-existent wall time does not survive the round trip back to London.
    if moment.astimezone(LONDON).replace(tzinfo=None) != wall.replace(tzinfo=None):
        raise DomainError(
            f"{at:%H:%M} on {day:%-d %B %Y} does not exist in the UK: the clocks go forward "
            "an hour that night. Choose another time.",
            field,
        )
    return moment


def local_day_and_time(moment: datetime) -> tuple[date, time]:
    """The London date and wall-clock time of a UTC moment (to fill in a form)."""
    local = to_london(moment)
    return local.date(), local.time().replace(tzinfo=None, fold=0)


def local_day_start(day: date) -> datetime:
    """Midnight at the start of ``day`` in London, in UTC (midnight always exists there)."""
    return local_to_utc(day, time(0, 0), "day")


# ---------------------------------------------------------------------------- validation


@dataclass
class SessionDetails:
    """A session as a form gives it: a London date and start and end times, and the rest."""

    day: date | None
    start: time | None
    end: time | None
    title: str = ""
    location: str = ""
    join_url: str = ""
    capacity: int | None = None


@dataclass(frozen=True)
class CheckedSession:
    """A session's details, validated and converted to UTC."""

    title: str
    starts_at: datetime
    ends_at: datetime
    location: str
    join_url: str
    capacity: int | None


def _one_line(raw: str | None, label: str, field: str, limit: int) -> str:
    value = " ".join((raw or "").split())
    if len(value) > limit:
        raise DomainError(f"{label} must be {limit} characters or fewer", field)
    return value


def check_join_url(raw: str | None, field: str) -> str:
    """An empty string, or a web address people can follow (http or https only, so a
    ``javascript:`` link can never reach a page)."""
    value = (raw or "").strip()
    if not value:
        return ""
    if len(value) > 500:
        raise DomainError("The joining link must be 500 characters or fewer", field)
    parts = urlsplit(value)  # which silently drops tabs and line breaks: so check first
    if any(ch.isspace() or not ch.isprintable() for ch in value) or \
            parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        raise DomainError(
            "Enter the joining link as a full web address, like https://teams.microsoft.com/…",
            field,
        )
    return value


def _capacity(value: int | None, field: str) -> int | None:
    if value is None:
        return None
    if value < 1 or value > MAX_SESSION_CAPACITY:
        raise DomainError(
            f"The session's capacity must be between 1 and {MAX_SESSION_CAPACITY:,}, "
            "or left blank for no separate limit",
            field,
        )
    return value


def _times(details: SessionDetails, prefix: str, allow_past: bool,
           check_past: bool) -> tuple[datetime, datetime] | None:
    """Both ends in UTC, or None after raising what is wrong (collected by the caller)."""
    errors = ErrorCollector()
    if details.day is None:
        errors.errors.append((f"{prefix}day", "Enter the date of the session"))
    if details.start is None:
        errors.errors.append((f"{prefix}start", "Enter the time the session starts"))
    if details.end is None:
        errors.errors.append((f"{prefix}end", "Enter the time the session ends"))
    errors.raise_any()
    starts_at = errors.check(local_to_utc, details.day, details.start, f"{prefix}start")
    ends_at = errors.check(local_to_utc, details.day, details.end, f"{prefix}end")
    errors.raise_any()
    if ends_at <= starts_at:
        raise DomainError("The session must end after it starts", f"{prefix}end")
    if check_past and not allow_past and starts_at <= utcnow():
        raise DomainError("The session must start in the future", f"{prefix}day")
    return starts_at, ends_at


def check_session(details: SessionDetails, *, prefix: str = "", allow_past: bool = False,
                  current: Session | None = None) -> CheckedSession:
    """Validate one session's details, reporting every wrong field at once (``InvalidInput``)
    on fields named ``prefix`` + day, start, end, title, location, join_url, capacity.

    ``current`` is the session being edited: keeping its start time is never refused as
    "in the past", so a past session's location can still be corrected.
    """
    errors = ErrorCollector()
    title = errors.check(_one_line, details.title, "The session title", f"{prefix}title", 200)
    location = errors.check(_one_line, details.location, "The location", f"{prefix}location",
                            300)
    join_url = errors.check(check_join_url, details.join_url, f"{prefix}join_url")
    capacity = errors.check(_capacity, details.capacity, f"{prefix}capacity")
    check_past = True
    if current is not None and details.day is not None and details.start is not None:
        try:
            check_past = local_to_utc(details.day, details.start, "start") != current.starts_at
        except DomainError:
            check_past = True
    times = errors.check(_times, details, prefix, allow_past, check_past)
    errors.raise_any()
    starts_at, ends_at = times
    return CheckedSession(title, starts_at, ends_at, location, join_url, capacity)


def allows_past(offering: Offering) -> bool:
    """Faculty may record sessions in the past on a cohort that is running or finished (a
    historic record); on one still in draft or taking bookings, a past date is a mistake."""
    return offering.status in (OfferingStatus.RUNNING, OfferingStatus.FINISHED)


def _check_changeable(offering: Offering, session: Session | None = None) -> None:
    if offering.status == OfferingStatus.CANCELLED:
        raise DomainError("This has been cancelled, so its sessions cannot be changed")
    if session is not None and session.is_cancelled:
        raise DomainError("This session has been cancelled, so it cannot be changed")


# ---------------------------------------------------------------------------- services


def add_session(offering: Offering, title: str, day: date | None, start: time | None,
                end: time | None, location: str = "", join_url: str = "",
                capacity: int | None = None, allow_past: bool = False) -> Session:
    """Add a session on London ``day`` from ``start`` to ``end``. Nobody is emailed: a new
    date is announced by whoever manages the offering."""
    _check_changeable(offering)
    checked = check_session(
        SessionDetails(day, start, end, title, location, join_url, capacity),
        allow_past=allow_past,
    )
    session = Session(
        offering=offering, title=checked.title, starts_at=checked.starts_at,
        ends_at=checked.ends_at, location=checked.location, join_url=checked.join_url,
        capacity=checked.capacity, status=SessionStatus.SCHEDULED, sequence=0,
    )
    db.session.add(session)
    db.session.flush()
    return session


def update_session(session: Session, title: str, day: date | None, start: time | None,
                   end: time | None, location: str = "", join_url: str = "",
                   capacity: int | None = None, allow_past: bool = False) -> bool:
    """Change a session. If anything people rely on changed (title, date, times, place,
    link), bump its ``sequence`` and email everyone holding a place (unless the session was
    and still is over). Returns whether anything people rely on changed."""
    offering = session.offering
    _check_changeable(offering, session)
    checked = check_session(
        SessionDetails(day, start, end, title, location, join_url, capacity),
        allow_past=allow_past, current=session,
    )
    before = {
        "title": session.title, "starts_at": session.starts_at, "ends_at": session.ends_at,
        "location": session.location, "join_url": session.join_url,
    }
    after = {
        "title": checked.title, "starts_at": checked.starts_at, "ends_at": checked.ends_at,
        "location": checked.location, "join_url": checked.join_url,
    }
    session.capacity = checked.capacity
    if before == after:
        db.session.flush()
        return False
    for name, value in after.items():
        setattr(session, name, value)
    session.sequence = (session.sequence or 0) + 1
    db.session.flush()
    # Correcting the record of a session that is over (before and after) tells nobody.
    if max(before["ends_at"], checked.ends_at) > utcnow():
        session_changed(session, MOVED)
        _tell_holders(session, "session_changed", f"Session changed: {offering.title}",
                      method="REQUEST", before=before,
                      changes={k for k in after if after[k] != before[k]})
    return True


def cancel_session(session: Session, actor: User, reason: str) -> int:
    """Cancel one session (not the offering): bump its ``sequence`` and email everyone
    holding a place with the reason. Returns how many people were emailed.

    The last remaining session cannot be cancelled this way (cancel the whole cohort or event
    instead), nor can one that has already ended.
    """
    offering = session.offering
    _check_changeable(offering, session)
    reason = " ".join((reason or "").split())
    errors = ErrorCollector()
    if not reason:
        errors.errors.append(("reason", "Give a reason for cancelling the session; it is "
                                        "included in the email to the people booked"))
    elif len(reason) > 1000:
        errors.errors.append(("reason", "The reason must be 1,000 characters or fewer"))
    if session.ends_at <= utcnow():
        errors.errors.append((None, "This session has already taken place"))
    elif [s.id for s in offering.live_sessions] == [session.id]:
        errors.errors.append(
            (None, "This is the only session left. Cancel the whole cohort or event instead.")
        )
    errors.raise_any()
    session.status = SessionStatus.CANCELLED
    session.sequence = (session.sequence or 0) + 1
    db.session.flush()
    session_changed(session, SESSION_CANCELLED, actor)
    return _tell_holders(session, "session_cancelled",
                         f"Session cancelled: {offering.title}", method="CANCEL", reason=reason,
                         cancelled_by=actor)


def holders(offering: Offering) -> list[User]:
    """Everyone whose enrolment holds one of the offering's places, by name."""
    return list(db.session.scalars(
        select(User).join(Enrolment, Enrolment.user_id == User.id)
        .where(Enrolment.offering_id == offering.id, Enrolment.state.in_(HOLDS_PLACE))
        .order_by(User.full_name, User.id)
    ))


def _tell_holders(session: Session, template: str, subject: str, method: str | None = None,
                  **context) -> int:
    """Email everyone with a place at ``session``; confirmed places get a calendar invitation
    ("REQUEST") or cancellation ("CANCEL") for the session's UID at its new SEQUENCE."""
    from lms.offerings.calendar import invitation
    from lms.offerings.calendar_updates import people_with_places

    offering = session.offering
    people = people_with_places(session)
    for person, confirmed in people:
        attachments = [invitation(session, person, method)] if method and confirmed else []
        queue_email(
            person.email, subject, f"offerings/{template}", attachments=attachments,
            person=person, offering=offering, session=session,
            my_learning_url=link("offerings.my_learning"),
            **context,
        )
    return len(people)
