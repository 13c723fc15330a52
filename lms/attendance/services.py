"""Registers and self check-in (report imports are ``lms.attendance.imports``, completion
``lms.attendance.completion``).

Services validate, raise domain errors and flush; views commit once, so an import is one
transaction: a bad file leaves nothing behind.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from lms.accounts import throttle
from lms.accounts.models import Organisation, User
from lms.accounts.services import get_user_by_email
from lms.attendance import completion, policy
from lms.attendance.models import (
    ATTENDED,
    Attendance,
    CheckInCode,
    Mark,
    Source,
)
from lms.errors import DomainError, NotFound
from lms.extensions import db
from lms.offerings.models import (
    HOLDS_PLACE,
    Enrolment,
    Session,
)
from lms.offerings.services import leads_loaded

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I


# ---------------------------------------------------------------------------- look-ups


def get_session(session_id: int) -> Session:
    """A session, with its offering (every page about a session names it)."""
    session = db.session.get(Session, session_id,
                             options=[leads_loaded(selectinload(Session.offering))])
    if session is None:
        raise NotFound("No such session")
    return session



# ---------------------------------------------------------------------------- registers


@dataclass(frozen=True)
class RegisterPerson:
    """Who a row of a register is about: all a register shows or posts of them."""

    id: int
    full_name: str
    email: str = ""
    organisation: str = ""


@dataclass(frozen=True)
class RegisterMark:
    """A mark already on the register: all the page shows of it."""

    status: str
    note: str
    minutes: int | None


@dataclass
class RegisterRow:
    user: RegisterPerson
    attendance: RegisterMark | None
    has_place: bool


def register(session: Session) -> list[RegisterRow]:
    """Everyone with a place, plus anyone else recorded at the session, by name.

    Two queries of plain columns, whatever the size: a network's register lists hundreds of
    members, and loading each as a full account (organisation, roles), or each mark as an
    ``Attendance`` entity, cost more than the page itself."""
    marks: dict[int, RegisterMark] = {}
    people: dict[int, RegisterPerson] = {}
    for user_id, name, email, org, status, note, minutes in db.session.execute(
        select(Attendance.user_id, User.full_name, User.email, Organisation.name,
               Attendance.status, Attendance.note, Attendance.minutes)
        .join(User, User.id == Attendance.user_id)
        .join(Organisation, Organisation.id == User.organisation_id)
        .where(Attendance.session_id == session.id)
    ).tuples():
        marks[user_id] = RegisterMark(status, note, minutes)
        people[user_id] = RegisterPerson(user_id, name, email, org)
    holders = db.session.execute(
        select(User.id, User.full_name, User.email, Organisation.name)
        .join(Enrolment, Enrolment.user_id == User.id)
        .join(Organisation, Organisation.id == User.organisation_id)
        .where(Enrolment.offering_id == session.offering_id,
               Enrolment.state.in_(HOLDS_PLACE))
    ).tuples().all()
    rows = [RegisterRow(RegisterPerson(user_id, name, email, org), marks.pop(user_id, None),
                        True) for user_id, name, email, org in holders]
    rows += [RegisterRow(people[user_id], mark, False) for user_id, mark in marks.items()]
    rows.sort(key=lambda r: (r.user.full_name.lower(), r.user.id))
    return rows


_UNKNOWN = object()


def set_mark(session: Session, user_id: int, status: str, source: str, actor: User | None,
             note: str = "", minutes: int | None = None, row=_UNKNOWN) -> Attendance:
    """Set a person's mark. ``row``: their mark already loaded (``None``: they have none), so
    a caller marking many people looks them up in one query."""
    if row is _UNKNOWN:
        row = db.session.scalar(select(Attendance).where(Attendance.session_id == session.id,
                                                         Attendance.user_id == user_id))
    if row is None:
        row = Attendance(session_id=session.id, user_id=user_id, status=status, source=source)
        db.session.add(row)
    row.status, row.source, row.note = status, source, note
    if minutes is not None:
        row.minutes = minutes
    row.recorded_by_id = actor.id if actor else None
    return row


def record_register(actor: User, session: Session, marks: dict[int, tuple[str, str]]) -> int:
    """Save a register: ``marks`` maps user ids to (status, note). Only people on the
    register may be marked, once the session has started. Returns how many marks were
    saved."""
    policy.may_take_register(actor, session).enforce()
    allowed = {row.user.id for row in register(session)}
    errors = []
    for user_id, (status, note) in marks.items():
        if user_id not in allowed:
            raise NotFound("That person is not on this register")
        if status not in set(Mark):
            errors.append("Choose present, late, absent or excused for every person")
        if len(note or "") > 500:
            errors.append("Notes must be 500 characters or fewer")
    if errors:
        raise DomainError(errors[0], "marks")
    for user_id, (status, note) in marks.items():
        set_mark(session, user_id, status, Source.REGISTER, actor, " ".join((note or "").split()))
    db.session.flush()
    completion.refresh_completion(session.offering)
    return len(marks)


def mark_all_present(actor: User, session: Session) -> int:
    """Everyone with a place and no mark yet is marked present (once the session has
    started)."""
    policy.may_take_register(actor, session).enforce()
    unmarked = [row.user.id for row in register(session) if row.attendance is None]
    for user_id in unmarked:
        set_mark(session, user_id, Mark.PRESENT, Source.REGISTER, actor)
    db.session.flush()
    completion.refresh_completion(session.offering)
    return len(unmarked)


def add_to_register(actor: User, session: Session, email: str, status: str = Mark.LATE) -> User:
    """Add someone who came without a place (a late arrival) by their email address."""
    policy.may_take_register(actor, session).enforce()
    if status not in (Mark.PRESENT, Mark.LATE):
        raise DomainError("Choose present or late", "status")
    person = get_user_by_email(email or "")
    if person is None:
        raise DomainError("No one has an account with that email address", "email")
    set_mark(session, person.id, status, Source.REGISTER, actor, "Added to the register")
    db.session.flush()
    return person


# ---------------------------------------------------------------------------- check-in


def check_in_code(session: Session) -> CheckInCode:
    """The session's check-in code, made on first use."""
    code = db.session.get(CheckInCode, session.id)
    if code is None:
        while True:
            candidate = "".join(secrets.choice(CODE_ALPHABET) for _ in range(6))
            taken = db.session.scalar(select(CheckInCode).where(CheckInCode.code == candidate))
            if taken is None:
                break
        code = CheckInCode(session_id=session.id, code=candidate)
        db.session.add(code)
        db.session.flush()
    return code


@dataclass(frozen=True)
class CheckInCount:
    checked_in: int
    places: int

    @property
    def text(self) -> str:
        """"12 of 30 checked in": short enough to read from the back of the room."""
        if not self.places:
            return f"{self.checked_in} checked in"
        return f"{self.checked_in} of {self.places} checked in"


def check_in_count(session: Session) -> CheckInCount:
    """How many people have checked in themselves (and are marked as attending), out of the
    people with a place: what the check-in screen shows as it fills. Two counts."""
    checked_in = db.session.scalar(select(func.count(Attendance.user_id)).where(
        Attendance.session_id == session.id, Attendance.source == Source.CHECK_IN,
        Attendance.status.in_(ATTENDED))) or 0
    places = db.session.scalar(select(func.count(Enrolment.id)).where(
        Enrolment.offering_id == session.offering_id, Enrolment.state.in_(HOLDS_PLACE))) or 0
    return CheckInCount(checked_in, max(places, checked_in))


def check_in(user: User, raw_code: str, address: str = "unknown") -> Session:
    """Mark a signed-in person present by a session's code, while it runs
    (``policy.may_check_in``), if they have a place. Checking in twice changes nothing.
    Paused after repeated wrong codes from the person or their address (the check-in bucket
    of ``lms.accounts.throttle``), so codes cannot be guessed."""
    throttle.refuse_if_limited(throttle.CHECK_IN, user.email, address, "code")
    cleaned = "".join(ch for ch in (raw_code or "").upper() if ch.isalnum())
    if not cleaned:
        raise DomainError("Enter the code shown in the session", "code")
    code = db.session.scalar(select(CheckInCode).where(CheckInCode.code == cleaned))
    if code is None:
        raise DomainError("That code is not right. Check it and try again", "code")
    session = code.session
    has_place = db.session.scalar(select(func.count(Enrolment.id)).where(
        Enrolment.offering_id == session.offering_id, Enrolment.user_id == user.id,
        Enrolment.state.in_(HOLDS_PLACE)))
    policy.may_check_in(session, bool(has_place)).enforce("code")
    existing = db.session.scalar(select(Attendance).where(
        Attendance.session_id == session.id, Attendance.user_id == user.id))
    if existing is None or existing.status not in ATTENDED:
        set_mark(session, user.id, Mark.PRESENT, Source.CHECK_IN, user)
        db.session.flush()
    return session
