"""Builders for the events tests (no tests here): webinars, networks and festivals made through
the real services, inside the caller's app context. Every builder flushes; callers commit
when another connection must see the data."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import icalendar
import vobject
from sqlalchemy import select

from lms.accounts.models import Role, User, UserRole
from lms.accounts.services import hash_password
from lms.clock import LONDON, to_london, utcnow
from lms.events import festival as festivals
from lms.events import networks
from lms.events import services as ev
from lms.events.models import Festival, NetworkSeries, Webinar
from lms.events.recurrence import RuleInput
from lms.extensions import db
from lms.notifications.models import OutboxMessage
from lms.offerings.models import Session
from tests.conftest import organisation


def faculty() -> User:
    """The faculty member who builds events (one per database)."""
    found = db.session.scalar(select(User).where(User.email == "events.faculty@example.nhs.uk"))
    if found:
        return found
    user = User(email="events.faculty@example.nhs.uk", full_name="Eve Events",
                organisation=organisation("SU"), password_hash=hash_password("x" * 12),
                email_verified_at=utcnow())
    user.role_rows.extend([UserRole(role=Role.LEARNER), UserRole(role=Role.FACULTY)])
    db.session.add(user)
    db.session.flush()
    return user


def person(n: int | str, org: str = "BSOL") -> User:
    """Learner ``n`` (the same one when asked again)."""
    email = f"p{n}@example.nhs.uk".lower().replace(" ", "-")
    found = db.session.scalar(select(User).where(User.email == email))
    if found:
        return found
    user = User(email=email, full_name=f"Person {n}",
                organisation=organisation(org), email_verified_at=utcnow())
    user.role_rows.append(UserRole(role=Role.LEARNER))
    db.session.add(user)
    db.session.flush()
    return user


def london_day(days_ahead: int) -> date:
    return to_london(utcnow()).date() + timedelta(days=days_ahead)


def make_webinar(capacity: int | None = None, status: str = "open", days_ahead: int = 10,
                 join_url: str = "https://teams.example.com/l/webinar-1",
                 title: str = "Decision quality in practice", speakers=None) -> Webinar:
    details = ev.WebinarDetails(
        title=title, summary="Guest speakers on decision quality", status=status,
        capacity=capacity,
        session=ev.EventSessionDetails(london_day(days_ahead), time(12, 30), time(13, 30),
                                       join_url=join_url),
        speakers=speakers if speakers is not None else [
            ev.SpeakerDetails("Dr Amara Okafor", "Director of Analytics", "NHS England",
                              "Leads national work on decision support.")],
    )
    return ev.create_webinar(faculty(), details)


def make_network(title: str = "Midlands Analyst Network huddles", first_day: date | None = None,
                 frequency: str = "WEEKLY", interval: int = 2, weekdays=("WE",),
                 ordinal: int | None = None, count: int | None = 10, until: date | None = None,
                 local_start: time = time(12, 30), duration: int = 60, status: str = "open",
                 allow_past: bool = False,
                 join_url: str = "https://teams.example.com/l/huddle") -> NetworkSeries:
    details = networks.NetworkDetails(
        title=title, summary="Fortnightly huddles for analysts", status=status,
        first_day=first_day or london_day(1), local_start=local_start,
        duration_minutes=duration,
        rule=RuleInput(frequency, interval, list(weekdays), ordinal,
                       "count" if count is not None else "until", count, until),
        join_url=join_url,
    )
    return networks.create_network(faculty(), details, allow_past=allow_past)


def make_festival(days_ahead: int = 30, length: int = 3, tracks=("Data science",
                  "Leadership", "Evaluation"), capacity: int | None = None,
                  status: str = "open", title: str = "INSIGHT festival") -> Festival:
    first = london_day(days_ahead)
    return festivals.create_festival(faculty(), festivals.FestivalDetails(
        title=title, summary="The annual festival", status=status, capacity=capacity,
        first_day=first, last_day=first + timedelta(days=length - 1), tracks=list(tracks)))


def add_session(festival: Festival, title: str, day: int = 0, start: time = time(10, 0),
                end: time = time(11, 0), track: int = 0, capacity: int | None = None,
                join_url: str = "https://teams.example.com/l/fest") -> Session:
    return festivals.add_festival_session(faculty(), festival, festivals.FestivalSessionDetails(
        track_id=festival.tracks[track].id, title=title,
        day=festival.first_day + timedelta(days=day), start=start, end=end,
        capacity=capacity, join_url=join_url,
        speakers=[ev.SpeakerDetails("Sam Speaker", "Analyst", "The Strategy Unit")]))


def subjects_to(user: User) -> list[str]:
    return list(db.session.scalars(
        select(OutboxMessage.subject).where(OutboxMessage.to_address == user.email)
        .order_by(OutboxMessage.id)))


def messages_to(user: User) -> list[OutboxMessage]:
    return list(db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.to_address == user.email)
        .order_by(OutboxMessage.id)))


# ---------------------------------------------------------------------------- parsing


def parse_both(content: bytes) -> tuple[icalendar.Calendar, object]:
    """Read iCalendar text with two independent parsers; both must accept it."""
    first = icalendar.Calendar.from_ical(content)
    second = vobject.readOne(content.decode("utf-8"))
    return first, second


def vevents(content: bytes) -> list:
    """The VEVENTs as vobject reads them (the independent parser)."""
    cal = vobject.readOne(content.decode("utf-8"))
    return list(getattr(cal, "vevent_list", []))


def local_start(vevent) -> datetime:
    """A vobject VEVENT's start on London clocks."""
    return vevent.dtstart.value.astimezone(LONDON)
