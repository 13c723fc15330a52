"""Imports of Teams and Zoom attendance reports into a session, and matching the rows no one
was found for.

All or nothing: services validate, raise domain errors and flush; the view commits once, so a
bad file leaves nothing behind. A mark faculty made on the register is kept.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from lms.accounts.models import User
from lms.accounts.services import get_user_by_email
from lms.attendance import completion, policy, reports, services
from lms.attendance.models import ATTENDED, Attendance, AttendanceImport, Mark, Source, UnmatchedRow
from lms.errors import DomainError, NotAllowed, NotFound
from lms.extensions import db
from lms.offerings.models import HOLDS_PLACE, Enrolment, Session

# ``_apply_minutes``'s caller did not load the person's mark (``None`` means they have none).
_NOT_LOADED = object()


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
                   actor: User, existing=_NOT_LOADED) -> int:
    """``existing``: the person's mark if the caller loaded it (``None``: none)."""
    if existing is _NOT_LOADED:
        existing = db.session.scalar(select(Attendance).where(
            Attendance.session_id == session.id, Attendance.user_id == user_id))
    if existing is not None and existing.source == Source.REGISTER:
        existing.minutes = minutes
        return int(existing.status in ATTENDED)
    status = Mark.PRESENT if minutes >= needed else Mark.ABSENT
    services.set_mark(session, user_id, status, Source.IMPORT, actor, minutes=minutes, row=existing)
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
        .options(selectinload(AttendanceImport.unmatched)).order_by(AttendanceImport.id.desc())))
