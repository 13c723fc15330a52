"""iCalendar (RFC 5545) for every kind of offering: downloads, invitations, personal feeds.

- Each session is one VEVENT whose UID is ``session-<id>@<host of BASE_URL>``, stable for the
  life of the session, and whose SEQUENCE is ``Session.sequence`` (bumped on each change).
- Times are written on London clocks (``DTSTART;TZID=Europe/London``) with the VTIMEZONE,
  so a 12:30 meeting stays at 12:30 across the clock changes in every calendar program.
- The joining link goes only to people with a confirmed place (and to faculty): everyone else
  gets the times and a link to the page.
- Invitations (``METHOD:REQUEST``) and cancellations (``METHOD:CANCEL``) carry one UID each,
  as RFC 5546 asks, so a change to one session updates exactly that entry.

Every calendar is written by ``icalendar`` (``write_calendar``, the one writer): it escapes
text, folds long lines and refuses a line break where one cannot be, so no field (a joining
link, a title, a name) can add a property or an event. Personal feeds stay fast through their
cache (``cached_personal_feed``). The tests read every kind of output back with ``icalendar``
and with ``vobject``.

This module knows offerings, sessions, enrolments and session bookings only. Kinds of offering
whose sessions are booked one by one (the festival) say so with ``books_sessions = True`` on
their class; kinds that want more in a session's description register a ``details`` loader.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from flask import Flask, current_app
from icalendar import Calendar, Event, Timezone, vCalAddress, vDuration, vUri
from sqlalchemy import bindparam, func, literal, select, union_all, update

from lms.accounts.models import User
from lms.clock import to_london, utcnow
from lms.extensions import db
from lms.listeners import notify
from lms.notifications.services import Attachment, link, queue_email
from lms.offerings import policy
from lms.offerings.models import (
    HOLDS_PLACE,
    Booking,
    BookingState,
    Enrolment,
    EnrolmentState,
    Offering,
    OfferingStatus,
    Session,
    SessionStatus,
)
from lms.offerings.transitions import SESSION, PlaceChanged

PRODID = "-//Midlands Decision Support Network//MDSN Learning & Events//EN"
TZID = "Europe/London"
# Europe/London since 1996 (EU rules): BST from 01:00 UTC on the last Sunday of March,
# GMT from 01:00 UTC on the last Sunday of October.
VTIMEZONE_LONDON = [
    "BEGIN:VTIMEZONE",
    f"TZID:{TZID}",
    "BEGIN:DAYLIGHT",
    "TZOFFSETFROM:+0000",
    "TZOFFSETTO:+0100",
    "TZNAME:BST",
    "DTSTART:19960331T010000",
    "RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU",
    "END:DAYLIGHT",
    "BEGIN:STANDARD",
    "TZOFFSETFROM:+0100",
    "TZOFFSETTO:+0000",
    "TZNAME:GMT",
    "DTSTART:19961027T020000",
    "RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU",
    "END:STANDARD",
    "END:VTIMEZONE",
]
# How often subscribed calendars should fetch the feed again.
FEED_REFRESH_EVERY = timedelta(hours=1)
# Sessions that ended longer ago than this drop out of personal feeds.
FEED_HISTORY = timedelta(days=180)
# Change when the feed's layout changes, so every ETag changes with it.
FEED_VERSION = "2"
# Enrolment states whose holders may see a joining link (a nomination or an offer is not yet
# a place; those people see the session as tentative, without the link).
CONFIRMED = (EnrolmentState.ENROLLED, EnrolmentState.COMPLETED)
# A booking confirmation carries one invitation per session up to this many; beyond it, one
# calendar file with them all (and the personal feed keeps them up to date).
MAX_INVITATIONS = 6

CALENDAR_MIME = "text/calendar; charset=UTF-8"


def invitation_mime(method: str) -> str:
    return f"text/calendar; method={method}; charset=UTF-8"


# ---------------------------------------------------------------------------- kinds


def session_booked_kinds() -> list[str]:
    """Kinds of offering whose sessions are booked one by one (``books_sessions = True``)."""
    return sorted(
        mapper.polymorphic_identity
        for mapper in Offering.__mapper__.self_and_descendants
        if getattr(mapper.class_, "books_sessions", False)
    )


def books_sessions(offering: Offering) -> bool:
    return bool(getattr(offering, "books_sessions", False))


DetailsLoader = Callable[[list[int]], dict[int, list[str]]]
_DETAILS = "lms.calendar_details"


def add_details(app: Flask, kind: str, loader: DetailsLoader) -> None:
    """A kind of offering adds lines to its sessions' descriptions in ``app`` (a presenter,
    speakers, a track): ``loader(session_ids)`` returns the lines per session id, in one
    query. Called from the kind's feature's ``init_app``."""
    app.extensions.setdefault(_DETAILS, {})[kind] = loader


def _details(kind_of: dict[int, str]) -> dict[int, list[str]]:
    loaders: dict[str, DetailsLoader] = current_app.extensions.get(_DETAILS, {})
    by_kind: dict[str, list[int]] = {}
    for session_id, kind in kind_of.items():
        if kind in loaders:
            by_kind.setdefault(kind, []).append(session_id)
    found: dict[int, list[str]] = {}
    for kind, ids in by_kind.items():
        found.update(loaders[kind](ids))
    return found


# ---------------------------------------------------------------------------- writing


def uid_host() -> str:
    return urlsplit(current_app.config["BASE_URL"]).hostname or "localhost"


def session_uid(session_id: int, host: str | None = None) -> str:
    """The UID of a session's VEVENT: the same for the whole life of the session."""
    return f"session-{session_id}@{host or uid_host()}"


def _uri(value: str) -> str | None:
    """A URI property's value, or ``None`` (left out) when it holds a space or a control
    character: a line break there would end the property and start another."""
    if not value or any(ch.isspace() or not ch.isprintable() for ch in value):
        return None
    return value


def _text(value: str) -> str:
    """A text value as ``icalendar`` should see it: line breaks of any kind as "\\n" (which
    it escapes; a lone carriage return it would write raw), other control characters gone."""
    value = value.replace("\r\n", "\n").replace("\r", "\n").replace("\u2028", "\n") \
        .replace("\u2029", "\n")
    return "".join(ch for ch in value if ch == "\n" or ch.isprintable())


def _name(text: str) -> str:
    """A person's name for a CN parameter: on one line (icalendar quotes and escapes it)."""
    return " ".join("".join(ch if ch.isprintable() else " " for ch in text).split())


def _address(email: str, name: str, **params: str) -> vCalAddress | None:
    uri = _uri(f"mailto:{email}")
    if uri is None:
        return None
    address = vCalAddress(uri)
    address.params["CN"] = _name(name)
    for key, value in params.items():
        address.params[key] = value
    return address


@dataclass
class CalendarEvent:
    """What one VEVENT says."""

    session_id: int
    sequence: int
    starts_at: datetime
    ends_at: datetime
    summary: str
    cancelled: bool = False
    tentative: bool = False
    location: str = ""
    join_url: str = ""  # only when the reader may have it
    page_url: str = ""
    details: list[str] = field(default_factory=list)

    def component(self, host: str, dtstamp: datetime, organizer: vCalAddress | None = None,
                  attendee: User | None = None) -> Event:
        """The VEVENT, every value escaped (text) or checked (addresses) by ``icalendar``:
        no field, however hostile, can end a line and start a property or an event."""
        join_url, page_url = _uri(self.join_url), _uri(self.page_url)
        description = [*self.details]
        if join_url:
            description.append(f"Joining link: {join_url}")
        if page_url:
            description.append(f"Details: {page_url}")
        if self.cancelled:
            status = "CANCELLED"
        elif self.tentative:
            status = "TENTATIVE"
        else:
            status = "CONFIRMED"
        location = self.location or (join_url and "Online") or ""
        event = Event()
        event.add("uid", session_uid(self.session_id, host))
        event.add("dtstamp", dtstamp)
        event.add("sequence", self.sequence)
        event.add("dtstart", to_london(self.starts_at))
        event.add("dtend", to_london(self.ends_at))
        event.add("summary", _text(("Cancelled: " if self.cancelled else "") + self.summary))
        event.add("status", status)
        if location:
            event.add("location", _text(location))
        if description:
            event.add("description", _text("\n".join(description)))
        if page_url:
            event.add("url", vUri(page_url))
        if join_url and not self.cancelled:
            # Teams, Zoom and others read this to show a "join" button.
            event.add("x-microsoft-skypeteamsmeetingurl", vUri(join_url))
        if organizer is not None:
            event.add("organizer", organizer)
        if attendee is not None:
            partstat = "DECLINED" if self.cancelled else "ACCEPTED"
            address = _address(attendee.email, attendee.full_name, ROLE="REQ-PARTICIPANT",
                               PARTSTAT=partstat, RSVP="FALSE")
            if address is not None:
                event.add("attendee", address)
        if self.cancelled:
            event.add("transp", "TRANSPARENT")
        return event


_TIMEZONE = Timezone.from_ical("\r\n".join(VTIMEZONE_LONDON) + "\r\n")


def write_calendar(events: Iterable[CalendarEvent], *, method: str | None = None,
                   name: str | None = None, feed: bool = False,
                   attendee: User | None = None) -> bytes:
    """A whole VCALENDAR, written by ``icalendar`` (escaped, folded, validated): the one
    writer of invitations, downloads and feeds. ``method`` makes it an iTIP message
    (REQUEST, CANCEL); ``feed`` adds the refresh hints subscribed calendars read."""
    host = uid_host()
    dtstamp = utcnow().astimezone(UTC).replace(microsecond=0)
    organizer = None
    if method:
        sender = current_app.config["MAIL_SENDER"]
        address = sender.rsplit("<", 1)[-1].rstrip(">").strip()
        organizer = _address(address, "MDSN Learning & Events")
    calendar = Calendar()
    calendar.add("version", "2.0")
    calendar.add("prodid", PRODID)
    calendar.add("calscale", "GREGORIAN")
    if method:
        calendar.add("method", method)
    if name:
        calendar.add("x-wr-calname", _text(name))
    if feed:
        calendar.add("refresh-interval", vDuration(FEED_REFRESH_EVERY),
                      parameters={"VALUE": "DURATION"})
        calendar.add("x-published-ttl", vDuration(FEED_REFRESH_EVERY))
    calendar.add_component(_TIMEZONE)
    for event in events:
        calendar.add_component(event.component(host, dtstamp, organizer, attendee))
    return calendar.to_ical(sorted=False)


# ---------------------------------------------------------------------------- sessions


def page_url(kind: str, offering_id: int) -> str:
    """The absolute address of an offering's page, outside a request too."""
    from lms.web import offering_page

    endpoint = offering_page(kind)
    base = current_app.config["BASE_URL"].rstrip("/")
    return link(endpoint, id=offering_id) if endpoint else base + "/"


def summary_of(offering_title: str, session_title: str) -> str:
    if session_title and session_title != offering_title:
        return f"{offering_title}: {session_title}"
    return offering_title


def event_for(session: Session, *, with_join: bool, tentative: bool = False,
              details: list[str] | None = None) -> CalendarEvent:
    """The VEVENT of one session, for someone who may (``with_join``) see its link."""
    offering = session.offering
    return CalendarEvent(
        session_id=session.id, sequence=session.sequence or 0,
        starts_at=session.starts_at, ends_at=session.ends_at,
        summary=summary_of(offering.title, session.title),
        cancelled=session.is_cancelled or offering.status == OfferingStatus.CANCELLED,
        tentative=tentative, location=session.location,
        join_url=session.join_url if with_join else "",
        page_url=page_url(offering.kind, offering.id),
        details=details if details is not None else _details({session.id: offering.kind}).get(
            session.id, []),
    )


def invitation(session: Session, person: User, method: str = "REQUEST") -> Attachment:
    """One session's invitation (or, with ``CANCEL``, its cancellation) for one person with
    a place: an email attachment."""
    event = event_for(session, with_join=method != "CANCEL")
    if method == "CANCEL":
        event.cancelled = True
    content = write_calendar([event], method=method, attendee=person)
    name = "cancellation.ics" if method == "CANCEL" else "invitation.ics"
    return name, invitation_mime(method), content


def invitations_for_place(offering: Offering, person: User) -> list[Attachment]:
    """What a booking confirmation carries: an invitation for each session still to come, or,
    when there are many, one calendar file with them all. Nothing for offerings whose
    sessions are booked one by one (each booking sends its own)."""
    if books_sessions(offering):
        return []
    now = utcnow()
    coming = [s for s in offering.live_sessions if s.ends_at > now]
    if not coming:
        return []
    if len(coming) <= MAX_INVITATIONS:
        attachments = []
        for number, session in enumerate(coming, start=1):
            name, mime, content = invitation(session, person)
            if len(coming) > 1:
                name = f"invitation-{number}-{to_london(session.starts_at):%Y-%m-%d}.ics"
            attachments.append((name, mime, content))
        return attachments
    # Many sessions (a network's huddles): one invitation holding them all, still an iTIP
    # REQUEST, so calendar programs add them as meetings they will hear about again.
    details = _details({s.id: offering.kind for s in coming})
    events = [event_for(s, with_join=True, details=details.get(s.id, [])) for s in coming]
    return [("sessions.ics", invitation_mime("REQUEST"),
             write_calendar(events, method="REQUEST", name=offering.title, attendee=person))]


def cancellations(sessions: list[Session], person: User) -> list[Attachment]:
    """A calendar cancellation (``METHOD:CANCEL``, the session's UID, its current SEQUENCE)
    for each session ``person`` no longer attends; one file with them all when there are
    many."""
    if len(sessions) <= MAX_INVITATIONS:
        attachments = []
        for number, session in enumerate(sessions, start=1):
            name, mime, content = invitation(session, person, "CANCEL")
            if len(sessions) > 1:
                name = f"cancellation-{number}-{to_london(session.starts_at):%Y-%m-%d}.ics"
            attachments.append((name, mime, content))
        return attachments
    events = []
    for session in sessions:
        event = event_for(session, with_join=False)
        event.cancelled = True
        events.append(event)
    return [("cancellations.ics", invitation_mime("CANCEL"),
             write_calendar(events, method="CANCEL", attendee=person))]


# ---------------------------------------------------------------------------- place changes


def follow_place_change(event: PlaceChanged) -> None:
    """The calendar side of every change to a person's place (connected in
    ``lms.offerings.init_app``).

    When the person no longer attends, each session concerned gets a higher SEQUENCE and
    they are sent a ``METHOD:CANCEL`` at it for every session still to come (a cancelled
    session has had its own): the SEQUENCE only grows, so the cancellation is above any
    invitation they were sent. When a place comes back after such a cancellation, the
    SEQUENCE grows again, so the next invitation is above the cancellation and puts the
    meeting back. Changes to a session itself (moved, cancelled) bump the SEQUENCE where
    they are made and carry the calendar message in their own email, so they need nothing
    here; nor does a first booking (its confirmation carries the invitation)."""
    if not event.changes_place or not event.session_ids:
        return
    if not (event.loses_sessions or event.comes_back):
        return
    # In SQL, not read-modify-write: a faculty edit of the session (which does not take the
    # offering's lock) cannot lose this bump, nor this one lose theirs.
    db.session.execute(
        update(Session).where(Session.id.in_(event.session_ids))
        .values(sequence=Session.sequence + 1)
        .execution_options(synchronize_session="fetch")
    )
    if not event.loses_sessions:
        return
    sessions = [s for s in (db.session.get(Session, sid) for sid in event.session_ids)
                if s is not None]
    now = utcnow()
    lost = [s for s in sessions if not s.is_cancelled and s.ends_at > now]
    person = db.session.get(User, event.person_id)
    if not lost or person is None:
        return
    offering = lost[0].offering
    queue_email(
        person.email, f"Removed from your calendar: {offering.title}",
        "offerings/calendar_cancelled", attachments=cancellations(lost, person),
        person=person, offering=offering, sessions=lost,
        my_learning_url=link("offerings.my_learning"),
    )


def places_at(session: Session) -> list[tuple[User, str]]:
    """Everyone with a place at ``session``, with the state of that place: for sessions
    booked one by one, those who booked it (``booked``) and are still registered; otherwise
    everyone holding a place on the offering (their enrolment's state)."""
    offering = session.offering
    if books_sessions(offering):
        people = db.session.scalars(
            select(User).join(Booking, Booking.user_id == User.id)
            .join(Enrolment, (Enrolment.user_id == User.id)
                  & (Enrolment.offering_id == offering.id))
            .where(Booking.session_id == session.id, Booking.state == BookingState.BOOKED,
                   Enrolment.state.in_(CONFIRMED))
            .order_by(User.full_name, User.id)
        ).all()
        return [(person, str(BookingState.BOOKED)) for person in people]
    rows = db.session.execute(
        select(User, Enrolment.state).join(Enrolment, Enrolment.user_id == User.id)
        .where(Enrolment.offering_id == offering.id, Enrolment.state.in_(HOLDS_PLACE))
        .order_by(User.full_name, User.id)
    ).all()
    return [(person, state) for person, state in rows]


def people_with_places(session: Session) -> list[tuple[User, bool]]:
    """Everyone to tell about a change to ``session``, with whether their place is confirmed
    (only confirmed places get calendar invitations and joining links)."""
    return [(person, state in CONFIRMED or state == BookingState.BOOKED)
            for person, state in places_at(session)]


def session_changed(session: Session, reason: str, actor: User | None = None) -> None:
    """A session moved or was cancelled under everyone's places: one ``PlaceChanged`` per
    person at it (their state unchanged), for the app's listeners. The change's own email
    carries the calendar message (``invitation``) at the session's new SEQUENCE."""
    for person, state in places_at(session):
        notify(PlaceChanged(
            person_id=person.id, offering_id=session.offering_id, session_ids=(session.id,),
            from_state=state, to_state=state, actor_id=actor.id if actor else None,
            reason=reason, what=SESSION,
        ))


def has_confirmed_place(user, offering: Offering) -> bool:
    """Whether ``user`` holds a confirmed place on the offering."""
    if not getattr(user, "is_authenticated", False):
        return False
    return db.session.scalar(
        select(func.count(Enrolment.id)).where(
            Enrolment.offering_id == offering.id, Enrolment.user_id == user.id,
            Enrolment.state.in_(CONFIRMED))
    ) > 0


def booked_session_ids(user, offering: Offering) -> set[int]:
    """The sessions of an offering ``user`` has booked one by one."""
    if not getattr(user, "is_authenticated", False):
        return set()
    return set(db.session.scalars(
        select(Booking.session_id).join(Session, Session.id == Booking.session_id)
        .where(Session.offering_id == offering.id, Booking.user_id == user.id,
               Booking.state == BookingState.BOOKED)
    ))


def offering_calendar(offering: Offering, viewer, sessions: list[Session] | None = None,
                      can_manage: bool = False) -> bytes:
    """A download of an offering's sessions (or some of them). Joining links only for faculty
    and for people with a place (at that session, for sessions booked one by one)."""
    sessions = offering.sessions if sessions is None else sessions
    if can_manage:
        joinable = {s.id for s in sessions}
    elif books_sessions(offering):
        joinable = booked_session_ids(viewer, offering) if has_confirmed_place(
            viewer, offering) else set()
    else:
        joinable = {s.id for s in sessions} if has_confirmed_place(viewer, offering) else set()
    details = _details({s.id: offering.kind for s in sessions})
    events = [event_for(s, with_join=s.id in joinable, details=details.get(s.id, []))
              for s in sessions]
    return write_calendar(events, name=offering.title)


# ---------------------------------------------------------------------------- personal feeds


def _feed_rows(user_id: int, cutoff: datetime):
    """Every session the person has a place at, as plain columns, in one statement: through
    an enrolment (offerings whose place covers every session) or a booking (sessions booked
    one by one, while the person still holds a place on the offering)."""
    per_session = session_booked_kinds()
    columns = (Session.id, Session.title, Session.starts_at, Session.ends_at,
               Session.location, Session.join_url, Session.status, Session.sequence,
               Offering.id.label("offering_id"), Offering.title.label("offering_title"),
               Offering.kind, Offering.status.label("offering_status"),
               Offering.updated_at.label("offering_updated"))
    by_enrolment = (
        select(*columns, Enrolment.state.label("state"),
               Enrolment.updated_at.label("changed_at"))
        .join(Offering, Offering.id == Session.offering_id)
        .join(Enrolment, Enrolment.offering_id == Offering.id)
        .where(Enrolment.user_id == user_id, Enrolment.state.in_(HOLDS_PLACE),
               Offering.kind.not_in(per_session), Session.ends_at >= cutoff)
        .where(*policy.public_filter())
    )
    by_booking = (
        select(*columns, literal(EnrolmentState.ENROLLED.value).label("state"),
               Booking.updated_at.label("changed_at"))
        .join(Offering, Offering.id == Session.offering_id)
        .join(Booking, Booking.session_id == Session.id)
        .join(Enrolment, Enrolment.offering_id == Offering.id)
        .where(Booking.user_id == user_id, Booking.state == BookingState.BOOKED,
               Enrolment.user_id == user_id, Enrolment.state.in_(CONFIRMED),
               Session.ends_at >= cutoff)
        .where(*policy.public_filter())
    )
    return union_all(by_enrolment, by_booking).subquery()


def feed_cutoff(now: datetime | None = None) -> datetime:
    """Feeds hold sessions that ended after this (a day boundary, so it moves once a day)."""
    now = now or utcnow()
    day = (now - FEED_HISTORY).replace(hour=0, minute=0, second=0, microsecond=0)
    return day


_prebuilt: dict[str, object] = {}


def _feed_statements():
    """The feed's two statements, built once with the person and the cutoff as parameters
    (``feed_user``, ``feed_cutoff``): building a union this size, and its cache key, cost
    more than running it, on every request."""
    if not _prebuilt:
        rows = _feed_rows(bindparam("feed_user"), bindparam("feed_cutoff"))
        _prebuilt["etag"] = select(
            func.count(), func.coalesce(func.sum(rows.c.sequence), 0),
            func.coalesce(func.max(rows.c.id), 0), func.max(rows.c.changed_at),
            func.max(rows.c.offering_updated))
        _prebuilt["feed"] = select(rows).order_by(rows.c.starts_at, rows.c.id)
    return _prebuilt["etag"], _prebuilt["feed"]


def feed_etag(user_id: int, token: str, now: datetime | None = None) -> str:
    """A strong validator for a person's feed from one aggregate query, without building it:
    it changes when a session is added, dropped, changed (its sequence), when a place changes
    or an offering is renamed."""
    cutoff = feed_cutoff(now)
    statement, _ = _feed_statements()
    count, sequences, top, changed, renamed = db.session.execute(
        statement, {"feed_user": user_id, "feed_cutoff": cutoff}).one()
    seed = "|".join(str(part) for part in (
        FEED_VERSION, user_id, token, cutoff.date(), count, sequences, top,
        changed.isoformat() if changed else "", renamed.isoformat() if renamed else "",
    ))
    return hashlib.sha256(seed.encode()).hexdigest()[:32]


# Built feeds, by person and ETag, least recently used first. A feed whose ETag has not
# changed has not changed (``feed_etag`` covers everything it shows: places, sessions through
# their SEQUENCE, offering titles, the day), so a fetch without ``If-None-Match`` (many
# calendar programs poll hourly without one) is answered from here, not built again. Per
# process and bounded by ``FEED_CACHE_BYTES`` (0 turns it off).
_feed_cache: OrderedDict[tuple[int, str], bytes] = OrderedDict()
_feed_cache_lock = threading.Lock()


def cached_personal_feed(user_id: int, etag: str, build: Callable[[], bytes]) -> bytes:
    """The person's feed (``build()``, e.g. ``personal_feed(user)``), built at most once per
    ETag in this process."""
    limit = int(current_app.config.get("FEED_CACHE_BYTES", 16 * 1024 * 1024))
    key = (user_id, etag)
    with _feed_cache_lock:
        body = _feed_cache.get(key)
        if body is not None:
            _feed_cache.move_to_end(key)
            return body
    body = build()
    if 0 < len(body) <= limit:
        with _feed_cache_lock:
            _feed_cache[key] = body
            size = sum(len(cached) for cached in _feed_cache.values())
            while size > limit:
                _, dropped = _feed_cache.popitem(last=False)
                size -= len(dropped)
    return body


def personal_feed(user: User, now: datetime | None = None) -> bytes:
    """The person's calendar: every session they have a place at (the joining link where the
    place is confirmed; tentative where it is not yet), cancelled ones marked cancelled."""
    _, statement = _feed_statements()
    records = db.session.execute(statement, {"feed_user": user.id,
                                             "feed_cutoff": feed_cutoff(now)}).all()
    details = _details({r.id: r.kind for r in records})
    pages: dict[tuple[str, int], str] = {}
    events = []
    for r in records:
        key = (r.kind, r.offering_id)
        if key not in pages:
            pages[key] = page_url(r.kind, r.offering_id)
        confirmed = r.state in CONFIRMED
        events.append(CalendarEvent(
            session_id=r.id, sequence=r.sequence or 0, starts_at=r.starts_at,
            ends_at=r.ends_at, summary=summary_of(r.offering_title, r.title),
            cancelled=(r.status == SessionStatus.CANCELLED
                       or r.offering_status == OfferingStatus.CANCELLED),
            tentative=not confirmed, location=r.location,
            join_url=r.join_url if confirmed else "", page_url=pages[key],
            details=details.get(r.id, []),
        ))
    return write_calendar(events, name=f"MDSN Learning & Events: {user.full_name}", feed=True)
