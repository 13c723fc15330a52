"""A person's calendar feed: every session they have a place at, for calendar programs to
subscribe to, with the ETag that says whether it changed and the per-process cache of built
feeds. The iCalendar text is ``lms.offerings.calendar``'s.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import bindparam, func, literal, select, union_all

from lms.accounts.models import User
from lms.clock import utcnow
from lms.extensions import db
from lms.offerings import calendar, policy
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

# Sessions that ended longer ago than this drop out of personal feeds.
FEED_HISTORY = timedelta(days=180)
# Change when the feed's layout changes, so every ETag changes with it.
FEED_VERSION = "2"


def _feed_rows(user_id: int, cutoff: datetime):
    """Every session the person has a place at, as plain columns, in one statement: through
    an enrolment (offerings whose place covers every session) or a booking (sessions booked
    one by one, while the person still holds a place on the offering)."""
    per_session = calendar.session_booked_kinds()
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
               Enrolment.user_id == user_id, Enrolment.state.in_(calendar.CONFIRMED),
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
        # What a feed's events show, and nothing more: each column read is a conversion
        # (two more dates a row) on hundreds of rows.
        _prebuilt["events"] = select(*(rows.c[name] for name in _EVENT_COLUMNS)).order_by(
            rows.c.starts_at, rows.c.id)
    return _prebuilt["etag"], _prebuilt["feed"]


_EVENT_COLUMNS = ("id", "title", "starts_at", "ends_at", "location", "join_url", "status",
                  "sequence", "offering_id", "offering_title", "kind", "offering_status",
                  "state")


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


def sessions_with_place(user_id: int, since: datetime) -> list:
    """The feed's rows (every session the person has a place at, or a nomination or offer
    of one, with the place's ``state``) that end after ``since``, soonest first: what a
    person's home lists as their next sessions. Whether a row shows its joining link is
    ``calendar.shows_join_link(row.state)``, as in the feed."""
    _, statement = _feed_statements()
    return list(db.session.execute(statement, {"feed_user": user_id, "feed_cutoff": since}))


def feed_events(user_id: int, now: datetime | None = None) -> list[calendar.CalendarEvent]:
    """The events of a person's calendar: every session they have a place at (the joining
    link where the place is confirmed; tentative where it is not yet), cancelled ones marked
    cancelled, soonest first."""
    _feed_statements()
    records = db.session.execute(_prebuilt["events"], {"feed_user": user_id,
                                                       "feed_cutoff": feed_cutoff(now)}).all()
    # (Row columns are read by position: reading one by name is a Python call, and a feed
    # has hundreds of rows.)
    kind_of = {row[0]: row[10] for row in records}
    details = calendar.session_details(kind_of)
    pages = calendar.page_urls({(row[10], row[8]) for row in records})
    shows_join_link, summary_of, event = (calendar.shows_join_link, calendar.summary_of,
                                          calendar.CalendarEvent)
    no_details: list[str] = []
    events = []
    # Events are built with positional arguments: a feed holds hundreds.
    for (session_id, title, starts_at, ends_at, location, join_url, status, sequence,
         offering_id, offering_title, kind, offering_status, state) in records:
        confirmed = shows_join_link(state)
        events.append(event(
            session_id, sequence or 0, starts_at, ends_at, summary_of(offering_title, title),
            status == SessionStatus.CANCELLED or offering_status == OfferingStatus.CANCELLED,
            not confirmed, location, join_url if confirmed else "", pages[kind, offering_id],
            details.get(session_id, no_details)))
    return events


def personal_feed(user: User, now: datetime | None = None) -> bytes:
    """The person's calendar (``feed_events``), for calendar programs to subscribe to."""
    return calendar.write_calendar(feed_events(user.id, now),
                                   name=f"MDSN Learning & Events: {user.full_name}", feed=True)
