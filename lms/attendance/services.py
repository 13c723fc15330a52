"""Registers, self check-in and report import (completion is ``lms.attendance.completion``).

Services validate, raise domain errors and flush; views commit once, so an import is one
transaction: a bad file leaves nothing behind.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from lms.accounts.models import User
from lms.accounts.services import get_user_by_email
from lms.attendance import completion, policy, reports
from lms.attendance.models import (
    ATTENDED,
    Attendance,
    AttendanceImport,
    CheckInCode,
    Mark,
    Source,
    UnmatchedRow,
)
from lms.errors import DomainError, NotAllowed, NotFound
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
    names: dict[int, str] = {}
    for user_id, name, status, note, minutes in db.session.execute(
        select(Attendance.user_id, User.full_name, Attendance.status, Attendance.note,
               Attendance.minutes)
        .join(User, User.id == Attendance.user_id)
        .where(Attendance.session_id == session.id)
    ).tuples():
        marks[user_id] = RegisterMark(status, note, minutes)
        names[user_id] = name
    holders = db.session.execute(
        select(User.id, User.full_name).join(Enrolment, Enrolment.user_id == User.id)
        .where(Enrolment.offering_id == session.offering_id,
               Enrolment.state.in_(HOLDS_PLACE))
    ).tuples().all()
    rows = [RegisterRow(RegisterPerson(user_id, name), marks.pop(user_id, None), True)
            for user_id, name in holders]
    rows += [RegisterRow(RegisterPerson(user_id, names[user_id]), mark, False)
             for user_id, mark in marks.items()]
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


def check_in(user: User, raw_code: str) -> Session:
    """Mark a signed-in person present by a session's code, while it runs
    (``policy.may_check_in``), if they have a place. Checking in twice changes nothing."""
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


# ---------------------------------------------------------------------------- import


@dataclass
class ImportResult:
    attendance_import: AttendanceImport
    matched: int
    present: int
    unmatched: int


def session_minutes(session: Session) -> int:
    return max(1, int((session.ends_at - session.starts_at).total_seconds() // 60))


def import_report(actor: User, session: Session, data: bytes, filename: str,
                  min_percent: int | None = None) -> ImportResult:
    """Import a Teams or Zoom attendance report for a session, all or nothing. People are
    matched by email regardless of case; the rest are kept for faculty to match or ignore.
    A mark faculty made on the register is kept; only its minutes are filled in.

    Refused, before anything is written, for a session that has not started, for a report
    of a meeting that started at another time (``policy.report_fits_session``) and for a
    report already imported here: the same people and minutes, however the file's bytes
    differ (line endings, blank lines), change nothing."""
    decision = policy.may_import(actor, session)
    if decision.error is NotAllowed:
        decision.enforce()
    if min_percent is None:
        min_percent = current_app.config.get("ATTENDANCE_MIN_PERCENT", 50)
    if not 0 < min_percent <= 100:
        raise DomainError("Enter a share of the session from 1 to 100 percent", "min_percent")
    decision.enforce("report")
    report = reports.read_report(data or b"", filename or "")
    policy.report_fits_session(report.starts, session).enforce("report")
    # The column keeps its name; it holds the digest of the report's content.
    digest = report.fingerprint()
    if db.session.scalar(select(AttendanceImport).where(
            AttendanceImport.session_id == session.id, AttendanceImport.sha256 == digest)):
        raise DomainError("This report has already been imported for this session. "
                          "Nothing has changed", "report")
    by_email, no_email = reports.merge(report.rows)
    record = AttendanceImport(session_id=session.id, kind=report.kind,
                              filename=(filename or "")[:255], sha256=digest,
                              min_percent=min_percent, imported_by_id=actor.id)
    db.session.add(record)
    needed = session_minutes(session) * min_percent / 100
    users = {u.email: u for u in db.session.scalars(
        select(User).where(User.email.in_(list(by_email))))} if by_email else {}
    holders = set(db.session.scalars(select(Enrolment.user_id).where(
        Enrolment.offering_id == session.offering_id, Enrolment.state.in_(HOLDS_PLACE))))
    # Every mark the session has, in one query: hundreds of rows need no query each.
    marks = {a.user_id: a for a in db.session.scalars(
        select(Attendance).where(Attendance.session_id == session.id))}
    present = 0
    with db.session.no_autoflush:
        for email, row in by_email.items():
            person = users.get(email)
            if person is not None and person.id not in holders and (person.is_faculty
                                                                    or person.is_admin):
                continue  # the organiser or host running the session, not a participant
            if person is None:
                record.unmatched.append(UnmatchedRow(name=row.name, email=email,
                                                     minutes=row.minutes))
                continue
            present += _apply_minutes(session, person.id, row.minutes, needed, actor,
                                      marks.get(person.id))
            record.matched += 1
    for row in no_email:
        record.unmatched.append(UnmatchedRow(name=row.name, email="", minutes=row.minutes))
    db.session.flush()
    completion.refresh_completion(session.offering)
    return ImportResult(record, record.matched, present, len(record.unmatched))


def _apply_minutes(session: Session, user_id: int, minutes: int, needed: float,
                   actor: User, existing=_UNKNOWN) -> int:
    """``existing``: the person's mark if the caller loaded it (``None``: none)."""
    if existing is _UNKNOWN:
        existing = db.session.scalar(select(Attendance).where(
            Attendance.session_id == session.id, Attendance.user_id == user_id))
    if existing is not None and existing.source == Source.REGISTER:
        existing.minutes = minutes
        return int(existing.status in ATTENDED)
    status = Mark.PRESENT if minutes >= needed else Mark.ABSENT
    set_mark(session, user_id, status, Source.IMPORT, actor, minutes=minutes, row=existing)
    return int(status == Mark.PRESENT)


def get_unmatched(row_id: int) -> UnmatchedRow:
    row = db.session.get(UnmatchedRow, row_id)
    if row is None:
        raise NotFound("No such row")
    return row


def resolve_unmatched(actor: User, row: UnmatchedRow, email: str | None) -> None:
    """Match a report row to a person by their email, or ignore it (``email`` None)."""
    session = row.attendance_import.session
    policy.may_take_register(actor, session).enforce()
    if row.resolution != "open":
        raise DomainError("This row has already been dealt with")
    if email is None:
        row.resolution = "ignored"
        db.session.flush()
        return
    person = get_user_by_email(email)
    if person is None:
        raise DomainError("No one has an account with that email address", "email")
    needed = session_minutes(session) * row.attendance_import.min_percent / 100
    _apply_minutes(session, person.id, row.minutes, needed, actor)
    row.resolution, row.matched_user_id = "matched", person.id
    row.attendance_import.matched += 1
    db.session.flush()
    completion.refresh_completion(session.offering)


def imports_for(session: Session) -> list[AttendanceImport]:
    """A session's imports, newest first, with their unmatched rows."""
    return list(db.session.scalars(
        select(AttendanceImport).where(AttendanceImport.session_id == session.id)
        .order_by(AttendanceImport.id.desc())))
