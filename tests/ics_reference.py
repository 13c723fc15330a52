"""The ``icalendar`` writer our own (``lms.offerings.ics``) replaced, kept here only as the
oracle: tests/test_ics_writer.py builds the same calendars with both and compares what
``icalendar`` parses back from each, property by property and in order.

This is the old ``lms.offerings.calendar.CalendarEvent.component`` and ``write_calendar``,
unchanged but for taking the event as an argument.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC

from flask import current_app
from icalendar import Calendar, Event, Timezone, vCalAddress, vDuration, vUri

from lms.accounts.models import User
from lms.clock import to_london, utcnow
from lms.offerings.calendar import (
    FEED_REFRESH_EVERY,
    PRODID,
    VTIMEZONE_LONDON,
    CalendarEvent,
    session_uid,
    uid_host,
)

_SPACE = re.compile(r"\s")


def _uri(value: str) -> str | None:
    if not value or not value.isprintable() or _SPACE.search(value):
        return None
    return value


def _text(value: str) -> str:
    value = value.replace("\r\n", "\n").replace("\r", "\n").replace("\u2028", "\n") \
        .replace("\u2029", "\n")
    return "\n".join(line if line.isprintable() else "".join(ch for ch in line
                                                              if ch.isprintable())
                     for line in value.split("\n"))


def _name(text: str) -> str:
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


def component(self: CalendarEvent, host, dtstamp, organizer=None, attendee=None) -> Event:
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


def write_calendar(events: Iterable[CalendarEvent], *, method: str | None = None,
                   name: str | None = None, feed: bool = False,
                   attendee: User | None = None) -> bytes:
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
    calendar.add_component(Timezone.from_ical("\r\n".join(VTIMEZONE_LONDON) + "\r\n"))
    for event in events:
        calendar.add_component(component(event, host, dtstamp, organizer, attendee))
    return calendar.to_ical(sorted=False)
