"""The INSIGHT festival: its days and tracks, and the sessions of its programme, each with
its own track, speakers and capacity.

Booking those sessions is ``session_bookings``; services flush and never commit."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, time

from sqlalchemy import func, select

from lms.accounts.models import User
from lms.clock import date_text, to_london
from lms.errors import DomainError, ErrorCollector, NotAllowed, NotFound
from lms.events.models import Festival, FestivalSession, FestivalTrack
from lms.events.services import (
    EventSessionDetails,
    SpeakerDetails,
    announce_change,
    apply_changes,
    can_manage,
    check_not_cancelled,
    check_times,
    checked_speakers,
    checked_text,
    event_fields,
    set_speakers,
    snapshot,
)
from lms.extensions import db
from lms.offerings import services as engine
from lms.offerings import waitlist
from lms.offerings.models import Booking, BookingState, OfferingStatus, Session

MAX_TRACKS = 8
MAX_FESTIVAL_DAYS = 14


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
    strand: str = ""


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
    values = event_fields(errors, details, current)
    days = errors.check(_festival_days, details.first_day, details.last_day)
    tracks = errors.check(_tracks, details.tracks)
    errors.raise_any()
    if current is not None:
        outside = [s for s in current.live_sessions
                   if not days[0] <= to_london(s.starts_at).date() <= days[1]]
        if outside:
            raise DomainError(
                f"“{outside[0].title}” is on {date_text(outside[0].starts_at)}, "
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
    description = errors.check(checked_text, details.description, "The description", "description",
                               5000, one_line=False)
    speakers = errors.check(checked_speakers, details.speakers)
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
        checked = errors.check(check_times, EventSessionDetails(
            details.day, details.start, details.end, details.title, details.location,
            details.join_url, details.capacity), current)
    errors.raise_any()
    if current is not None and checked.capacity is not None:
        booked = db.session.scalar(select(func.count(Booking.id)).where(
            Booking.session_id == current.id, Booking.state == BookingState.BOOKED)) or 0
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
    set_speakers(session, speakers)
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
    check_not_cancelled(session)
    row = festival_session_of(session)
    track, description, speakers, checked = _check_festival_session(festival, details,
                                                                    session)
    engine.lock_offering(festival.id)
    before = snapshot(session)
    changed = apply_changes(session, {"title": checked.title, "starts_at": checked.starts_at,
                                      "ends_at": checked.ends_at, "location": checked.location,
                                      "join_url": checked.join_url})
    session.capacity = checked.capacity
    row.track_id, row.description = track.id, description
    set_speakers(session, speakers)
    db.session.flush()
    waitlist.offer_session_places(session)
    return announce_change(session, before, changed)
