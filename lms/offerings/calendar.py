"""iCalendar (RFC 5545) for every kind of offering: downloads and invitations (a person's
subscribed feed is ``lms.offerings.feed``, written with ``write_calendar`` from here).

- Each session is one VEVENT whose UID is ``session-<id>@<host of BASE_URL>``, stable for the
  life of the session, and whose SEQUENCE is ``Session.sequence`` (bumped on each change).
- Times are written on London clocks (``DTSTART;TZID=Europe/London``) with the VTIMEZONE,
  so a 12:30 meeting stays at 12:30 across the clock changes in every calendar program.
- The joining link goes only to people with a confirmed place (and to faculty): everyone else
  gets the times and a link to the page.
- Invitations (``METHOD:REQUEST``) and cancellations (``METHOD:CANCEL``) carry one UID each,
  as RFC 5546 asks, so a change to one session updates exactly that entry.

Every calendar is written by ``write_calendar`` (the one writer) through ``lms.offerings.ics``,
our small RFC 5545 writer: it escapes text, folds long lines and leaves out a link or an
address that could break a line, so no field (a joining link, a title, a name) can add a
property or an event. A feed of 300 sessions builds in a few milliseconds, and personal feeds
are cached besides (``cached_personal_feed``). The tests read every kind of output back with
``icalendar`` and with ``vobject``.

This module knows offerings, sessions, enrolments and session bookings only. Kinds of offering
whose sessions are booked one by one (the festival) say so with ``books_sessions = True`` on
their class; kinds that want more in a session's description register a ``details`` loader.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from flask import Flask, current_app
from sqlalchemy import func, select

from lms.accounts.models import User
from lms.clock import to_london, utcnow
from lms.extensions import db
from lms.notifications.services import Attachment
from lms.offerings import ics
from lms.offerings.models import (
    Booking,
    BookingState,
    Enrolment,
    EnrolmentState,
    Offering,
    OfferingStatus,
    Session,
)

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
    "RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=3",
    "END:DAYLIGHT",
    "BEGIN:STANDARD",
    "TZOFFSETFROM:+0100",
    "TZOFFSETTO:+0000",
    "TZNAME:GMT",
    "DTSTART:19961027T020000",
    "RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=10",
    "END:STANDARD",
    "END:VTIMEZONE",
]
# How often subscribed calendars should fetch the feed again.
FEED_REFRESH_EVERY = timedelta(hours=1)
_REFRESH = ics.duration(FEED_REFRESH_EVERY)
# Enrolment states whose holders may see a joining link (a nomination or an offer is not yet
# a place; those people see the session as tentative, without the link).
CONFIRMED = (EnrolmentState.ENROLLED, EnrolmentState.COMPLETED)
# A booking confirmation carries one invitation per session up to this many; beyond it, one
# calendar file with them all (and the personal feed keeps them up to date).
MAX_INVITATIONS = 6

# What invitations say (RFC 5546): a meeting to add or update, or one that is off.
METHODS = ("REQUEST", "CANCEL")

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


def session_details(kind_of: dict[int, str]) -> dict[int, list[str]]:
    """The extra description lines of each session (``{session id: kind}``), from the
    loaders kinds of offering registered with ``add_details``."""
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


def _address(email: str, name: str, **params: str) -> str | None:
    """A CAL-ADDRESS with its parameters (``;CN="…";ROLE=…:mailto:…``), or ``None`` when the
    address could break the line."""
    uri = ics.uri(f"mailto:{email}")
    if uri is None:
        return None
    return "".join([";CN=", ics.param(name), *(f";{key}={value}" for key, value in
                                             params.items()), ":", uri])


@dataclass(slots=True)
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

    def lines(self, host: str, dtstamp: str, organizer: str | None = None,
              attendee: User | None = None) -> list[str]:
        """The VEVENT's content lines, every value escaped (text) or checked (links and
        addresses) by ``ics``: no field, however hostile, can end a line and start a property
        or an event."""
        join_url, page_url = ics.uri(self.join_url), ics.uri(self.page_url)
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
        lines = [
            "BEGIN:VEVENT",
            "UID:" + ics.text(session_uid(self.session_id, host)),
            "DTSTAMP:" + dtstamp,
            f"SEQUENCE:{int(self.sequence)}",
            f"DTSTART;TZID={TZID}:" + ics.local(to_london(self.starts_at)),
            f"DTEND;TZID={TZID}:" + ics.local(to_london(self.ends_at)),
            "SUMMARY:" + ics.text(("Cancelled: " if self.cancelled else "") + self.summary),
            "STATUS:" + status,
        ]
        if location:
            lines.append("LOCATION:" + ics.text(location))
        if description:
            # Each part escaped on its own (most need nothing), then joined by an escaped
            # line break: the same as escaping them joined, in a fraction of the time.
            lines.append("DESCRIPTION:" + "\\n".join([ics.text(part) for part in description]))
        if page_url:
            lines.append("URL:" + page_url)
        if join_url and not self.cancelled:
            # Teams, Zoom and others read this to show a "join" button.
            lines.append("X-MICROSOFT-SKYPETEAMSMEETINGURL:" + join_url)
        if organizer is not None:
            lines.append("ORGANIZER" + organizer)
        if attendee is not None:
            partstat = "DECLINED" if self.cancelled else "ACCEPTED"
            address = _address(attendee.email, attendee.full_name, ROLE="REQ-PARTICIPANT",
                               PARTSTAT=partstat, RSVP="FALSE")
            if address is not None:
                lines.append("ATTENDEE" + address)
        if self.cancelled:
            lines.append("TRANSP:TRANSPARENT")
        lines.append("END:VEVENT")
        return lines


def write_calendar(events: Iterable[CalendarEvent], *, method: str | None = None,
                   name: str | None = None, feed: bool = False,
                   attendee: User | None = None) -> bytes:
    """A whole VCALENDAR, written by ``ics`` (escaped, folded): the one writer of
    invitations, downloads and feeds. ``method`` makes it an iTIP message (REQUEST, CANCEL);
    ``feed`` adds the refresh hints subscribed calendars read."""
    host = uid_host()
    dtstamp = ics.utc(utcnow())
    organizer = None
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:" + ics.text(PRODID),
             "CALSCALE:GREGORIAN"]
    if method:
        sender = current_app.config["MAIL_SENDER"]
        address = sender.rsplit("<", 1)[-1].rstrip(">").strip()
        organizer = _address(address, "MDSN Learning & Events")
        if method not in METHODS:
            raise ValueError(f"not an iTIP method we send: {method!r}")
        lines.append("METHOD:" + method)
    if name:
        lines.append("X-WR-CALNAME:" + ics.text(name))
    if feed:
        lines.append(f"REFRESH-INTERVAL;VALUE=DURATION:{_REFRESH}")
        lines.append(f"X-PUBLISHED-TTL:{_REFRESH}")
    lines.extend(VTIMEZONE_LONDON)
    for event in events:
        lines.extend(event.lines(host, dtstamp, organizer, attendee))
    lines.append("END:VCALENDAR")
    return ics.write(lines)


# ---------------------------------------------------------------------------- sessions


def page_url(kind: str, offering_id: int) -> str:
    """The absolute address of an offering's page, outside a request too."""
    return page_urls([(kind, offering_id)])[kind, offering_id]


def page_urls(offerings: Iterable[tuple[str, int]]) -> dict[tuple[str, int], str]:
    """The absolute addresses of offerings' pages (``(kind, id)`` pairs), on ``BASE_URL`` as
    ``lms.notifications.services.link`` makes them, from one bound URL map (a feed links to
    dozens)."""
    from lms.web import offering_page

    base = current_app.config["BASE_URL"].rstrip("/")
    adapter = current_app.url_map.bind("localhost", script_name="/")
    found = {}
    for kind, offering_id in offerings:
        endpoint = offering_page(kind)
        found[kind, offering_id] = (base + adapter.build(endpoint, {"id": offering_id})
                                    if endpoint else base + "/")
    return found


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
        details=details if details is not None
        else session_details({session.id: offering.kind}).get(session.id, []),
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
    details = session_details({s.id: offering.kind for s in coming})
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


# ---------------------------------------------------------------------------- downloads


def shows_join_link(state: str) -> bool:
    """Whether a person whose place is in ``state`` sees a session's joining link (in their
    feed, invitations and home page): only a confirmed place does."""
    return state in CONFIRMED


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
    details = session_details({s.id: offering.kind for s in sessions})
    events = [event_for(s, with_join=s.id in joinable, details=details.get(s.id, []))
              for s in sessions]
    return write_calendar(events, name=offering.title)
