"""What counts as attended, and as completed: the one home of both answers.

- **Attended**: a person marked present or late at a session that was not cancelled and has
  been held (ended) by "now". ``counts_as_attended`` gives it as SQL conditions, for the
  dashboards, the learning record's events and the certificates' sessions, which count it over
  many people at once.
- **Attendance share** of a place: of the offering's sessions held so far, leaving out those
  the person was excused from, the share they attended. ``shares`` works it out for many
  places at once (two queries, whatever the number); ``share_of`` is the same for one place.
  The progress pages, the completion page, the learning record (page, PDF and CSV), the
  completion rule and the API all read it from here.
- **Completed**: a place has a ``Completion`` row, written once when the rule was first met
  (the place's state becomes "completed" in the same change). ``completions`` looks them up.

The percentage a ``Completion`` row stores is the figure when it fired (said in the email
then); pages show the share as it stands, so a register corrected later shows everywhere.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from sqlalchemy import ColumnElement, Subquery, and_, case, func, select

from lms.attendance.models import ATTENDED, Attendance, Completion, Mark
from lms.clock import utcnow
from lms.extensions import db
from lms.offerings.models import Session, SessionStatus


def held_conditions(now: datetime | None = None) -> list[ColumnElement[bool]]:
    """SQL conditions on ``Session``: not cancelled, and ended by ``now``."""
    return [Session.status != SessionStatus.CANCELLED, Session.ends_at <= (now or utcnow())]


def counts_as_attended(now: datetime | None = None) -> list[ColumnElement[bool]]:
    """SQL conditions on ``Attendance`` joined to its ``Session`` for a mark that counts as
    attended: present or late, at a session held by ``now``."""
    return [Attendance.status.in_(ATTENDED), *held_conditions(now)]


def is_held(session: Session, now: datetime | None = None) -> bool:
    """The same as ``held_conditions``, for a session already loaded."""
    return session.status != SessionStatus.CANCELLED and session.ends_at <= (now or utcnow())


@dataclass(frozen=True)
class Share:
    """A place's attendance so far: sessions held and in all, attended and excused, and the
    person's marks at the held sessions (session id -> status)."""

    held: int
    total: int
    attended: int
    excused: int
    marks: Mapping[int, str] = field(default_factory=dict)

    @property
    def percent(self) -> int | None:
        """The share of held sessions attended (excused ones left out); None before any
        session is held; 100 if excused from every one."""
        if self.held == 0:
            return None
        counted = self.held - self.excused
        if counted <= 0:
            return 100
        return round(100 * self.attended / counted)


class Place(Protocol):
    """What ``shares`` needs of a place: an ``Enrolment``, or a row of those columns."""

    id: int
    user_id: int
    offering_id: int


def shares(places: Iterable[Place], now: datetime | None = None) -> dict[int, Share]:
    """Each place's attendance share, by place (enrolment) id, in two queries however many
    places and offerings."""
    now = now or utcnow()
    places = list(places)
    if not places:
        return {}
    offering_ids = {p.offering_id for p in places}
    total: dict[int, int] = dict.fromkeys(offering_ids, 0)
    held: dict[int, int] = dict.fromkeys(offering_ids, 0)
    for offering_id, ends_at in db.session.execute(
        select(Session.offering_id, Session.ends_at)
        .where(Session.offering_id.in_(offering_ids),
               Session.status != SessionStatus.CANCELLED)
    ).tuples():
        total[offering_id] += 1
        held[offering_id] += ends_at <= now
    marks: dict[tuple[int, int], dict[int, str]] = {}
    for user_id, offering_id, session_id, status in db.session.execute(
        select(Attendance.user_id, Session.offering_id, Attendance.session_id,
               Attendance.status)
        .join(Session, Session.id == Attendance.session_id)
        .where(Session.offering_id.in_(offering_ids),
               Attendance.user_id.in_({p.user_id for p in places}), *held_conditions(now))
    ).tuples():
        marks.setdefault((user_id, offering_id), {})[session_id] = status
    result = {}
    for place in places:
        mine = marks.get((place.user_id, place.offering_id), {})
        result[place.id] = Share(
            held=held[place.offering_id], total=total[place.offering_id],
            attended=sum(1 for status in mine.values() if status in ATTENDED),
            excused=sum(1 for status in mine.values() if status == Mark.EXCUSED),
            marks=mine)
    return result


@dataclass(frozen=True)
class Tallied:
    """How many places of one group have the same attendance share and completion."""

    group: object
    share: Share
    completed: bool
    places: int


def tallied(places: Subquery, now: datetime | None = None,
            offering_ids: list[int] | None = None) -> list[Tallied]:
    """``shares`` and ``completions`` of many places at once, counted in the database: for a
    CTE (or subquery) of places with columns ``id``, ``user_id``, ``offering_id`` and
    ``group``, each distinct (group, share, completed) with how many places have it. The same
    figures as ``shares`` (the share is a ``Share``, whose ``percent`` is the one rule),
    without loading every place: what Python does grows with the number of different shares
    (a few hundred), not with the number of places (tens of thousands on a national
    dashboard). Marks are not returned. One query. ``offering_ids``: the offerings of the
    places, when the caller knows them: PostgreSQL cannot estimate a CTE's rows, so given
    as values it finds the few sessions and their marks by index instead of reading every
    attendance (31 ms to 4 on the benchmark's region)."""
    now = now or utcnow()
    offerings = offering_ids if offering_ids is not None else select(places.c.offering_id)
    sessions = (select(Session.offering_id.label("offering_id"),
                       func.count().label("total"),
                       func.sum(case((Session.ends_at <= now, 1), else_=0)).label("held"))
                .where(Session.offering_id.in_(offerings),
                       Session.status != SessionStatus.CANCELLED)
                .group_by(Session.offering_id).subquery())
    # Marks per person and offering, from the attendances at the offerings' held sessions
    # (found by the sessions' index), then matched to the places.
    marks = (select(Attendance.user_id.label("user_id"),
                    Session.offering_id.label("offering_id"),
                    func.count(case((Attendance.status.in_(ATTENDED), 1))).label("attended"),
                    func.count(case((Attendance.status == Mark.EXCUSED, 1))).label("excused"))
             .join(Session, Session.id == Attendance.session_id)
             .where(Session.offering_id.in_(offerings), *held_conditions(now))
             .group_by(Attendance.user_id, Session.offering_id).subquery())
    held = func.coalesce(sessions.c.held, 0)
    total = func.coalesce(sessions.c.total, 0)
    attended = func.coalesce(marks.c.attended, 0)
    excused = func.coalesce(marks.c.excused, 0)
    completed = case((Completion.id.is_(None), 0), else_=1)
    return [Tallied(group, Share(held=int(h), total=int(t), attended=int(a), excused=int(e)),
                    bool(c), n)
            for group, h, t, a, e, c, n in db.session.execute(
                select(places.c.group, held, total, attended, excused, completed, func.count())
                .select_from(places)
                .outerjoin(sessions, sessions.c.offering_id == places.c.offering_id)
                .outerjoin(marks, and_(marks.c.user_id == places.c.user_id,
                                       marks.c.offering_id == places.c.offering_id))
                .outerjoin(Completion, Completion.enrolment_id == places.c.id)
                .group_by(places.c.group, held, total, attended, excused, completed)
            ).tuples()]


def share_of(place: Place, now: datetime | None = None) -> Share:
    """One place's attendance share (``shares`` for one)."""
    return shares([place], now)[place.id]


def completions(enrolment_ids: Iterable[int]) -> dict[int, Completion]:
    """The completions of these places, by place id: a place is completed when it has one."""
    ids = list(enrolment_ids)
    if not ids:
        return {}
    return {c.enrolment_id: c for c in db.session.scalars(
        select(Completion).where(Completion.enrolment_id.in_(ids)))}
