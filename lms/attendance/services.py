"""Registers, self check-in, report import and completion.

Services validate, raise domain errors and flush; views commit once, so an import is one
transaction: a bad file leaves nothing behind.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from lms.accounts import throttle
from lms.accounts.models import User
from lms.accounts.services import get_user_by_email
from lms.attendance import policy, reports, standing
from lms.attendance.models import (
    ATTENDED,
    Attendance,
    AttendanceImport,
    AttendanceWarning,
    CheckInCode,
    Completion,
    Mark,
    SignOff,
    Source,
    UnmatchedRow,
)
from lms.attendance.standing import Share
from lms.clock import utcnow
from lms.errors import DomainError, NotAllowed, NotFound
from lms.extensions import db
from lms.listeners import notify
from lms.notifications.services import link, queue_email
from lms.offerings.models import (
    HOLDS_PLACE,
    Enrolment,
    EnrolmentEvent,
    EnrolmentState,
    Offering,
    Session,
)
from lms.offerings.services import can_manage, leads_loaded

if TYPE_CHECKING:
    from lms.feedback.services import FeedbackGiven

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I
MAX_WARNINGS = 2


# ---------------------------------------------------------------------------- look-ups


def get_session(session_id: int) -> Session:
    """A session, with its offering (every page about a session names it)."""
    session = db.session.get(Session, session_id,
                             options=[leads_loaded(selectinload(Session.offering))])
    if session is None:
        raise NotFound("No such session")
    return session


def _holders(offering_id: int) -> list[Enrolment]:
    return list(db.session.scalars(
        select(Enrolment).join(User, Enrolment.user_id == User.id)
        .where(Enrolment.offering_id == offering_id, Enrolment.state.in_(HOLDS_PLACE))
        .order_by(User.full_name)
    ))


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


def _mark(session: Session, user_id: int, status: str, source: str, actor: User | None,
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
        _mark(session, user_id, status, Source.REGISTER, actor, " ".join((note or "").split()))
    db.session.flush()
    refresh_completion(session.offering)
    return len(marks)


def mark_all_present(actor: User, session: Session) -> int:
    """Everyone with a place and no mark yet is marked present (once the session has
    started)."""
    policy.may_take_register(actor, session).enforce()
    unmarked = [row.user.id for row in register(session) if row.attendance is None]
    for user_id in unmarked:
        _mark(session, user_id, Mark.PRESENT, Source.REGISTER, actor)
    db.session.flush()
    refresh_completion(session.offering)
    return len(unmarked)


def add_to_register(actor: User, session: Session, email: str, status: str = Mark.LATE) -> User:
    """Add someone who came without a place (a late arrival) by their email address."""
    policy.may_take_register(actor, session).enforce()
    if status not in (Mark.PRESENT, Mark.LATE):
        raise DomainError("Choose present or late", "status")
    person = get_user_by_email(email or "")
    if person is None:
        raise DomainError("No one has an account with that email address", "email")
    _mark(session, person.id, status, Source.REGISTER, actor, "Added to the register")
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
        _mark(session, user.id, Mark.PRESENT, Source.CHECK_IN, user)
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
    refresh_completion(session.offering)
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
    _mark(session, user_id, status, Source.IMPORT, actor, minutes=minutes, row=existing)
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
    refresh_completion(session.offering)


# ---------------------------------------------------------------------------- completion


@dataclass(frozen=True)
class CompletionRule:
    min_attendance_percent: int = 50
    requires_feedback: bool = False
    requires_signoff: bool = False
    # Courses warn people falling behind; a network's huddles, a webinar or a festival are
    # drop-in, so nobody is told off for missing some.
    warns: bool = False


def rule_for(offering: Offering) -> CompletionRule:
    """A course's cohorts use the course's rule (and warn); other offerings need half the
    sessions and send no warnings."""
    course = getattr(offering, "course", None)
    if course is not None:
        return CompletionRule(course.min_attendance_percent, course.requires_feedback,
                              course.requires_signoff, warns=True)
    return CompletionRule()


@dataclass
class Progress:
    """A place against its offering's completion rule. The attendance figures are the
    ``standing.Share`` every page reads."""

    enrolment: Enrolment
    rule: CompletionRule
    share: Share
    feedback_given: bool
    signed_off: bool
    completed: Completion | None

    @property
    def held(self) -> int:
        return self.share.held

    @property
    def total(self) -> int:
        return self.share.total

    @property
    def attended(self) -> int:
        return self.share.attended

    @property
    def excused(self) -> int:
        return self.share.excused

    @property
    def marks(self) -> Mapping[int, str]:
        """Session id -> status, at the sessions held."""
        return self.share.marks

    @property
    def percent(self) -> int | None:
        return self.share.percent

    @property
    def attendance_ok(self) -> bool:
        return self.percent is not None and self.percent >= self.rule.min_attendance_percent

    @property
    def all_held(self) -> bool:
        return self.total > 0 and self.held == self.total

    @property
    def complete(self) -> bool:
        return (self.all_held and self.attendance_ok
                and (self.feedback_given or not self.rule.requires_feedback)
                and (self.signed_off or not self.rule.requires_signoff))

    @property
    def below_threshold(self) -> bool:
        return self.percent is not None and not self.attendance_ok


def _answered(offering_id: int) -> set[int]:
    from lms.feedback.services import answered_user_ids

    return answered_user_ids(offering_id)


def progress_for(offering: Offering, enrolments: list[Enrolment] | None = None,
                 now: datetime | None = None) -> list[Progress]:
    """Each person's progress against the rule, in a fixed number of queries."""
    enrolments = enrolments if enrolments is not None else list(_holders(offering.id))
    if not enrolments:
        return []
    figures = standing.shares(enrolments, now)
    enrolment_ids = [e.id for e in enrolments]
    signed = set(db.session.scalars(select(SignOff.enrolment_id).where(
        SignOff.enrolment_id.in_(enrolment_ids))))
    done = standing.completions(enrolment_ids)
    rule = rule_for(offering)
    answered = _answered(offering.id) if rule.requires_feedback else set()
    return [Progress(enrolment=e, rule=rule, share=figures[e.id],
                     feedback_given=e.user_id in answered, signed_off=e.id in signed,
                     completed=done.get(e.id))
            for e in enrolments]


@dataclass(frozen=True)
class Completed:
    """Someone has completed an offering: ``completion`` is flushed, and listeners (the
    certificate, competency evidence) write in the completing transaction."""

    completion: Completion


def refresh_completion(offering: Offering) -> list[Completion]:
    """Fire completion once for everyone who has reached it, and warn (a capped number of
    times) those whose attendance has fallen below the rule. Returns new completions."""
    fired: list[Completion] = []
    progress = progress_for(offering)
    # The warnings already sent, in one query (not one per person).
    warned = {w.enrolment_id: w for w in db.session.scalars(
        select(AttendanceWarning).where(AttendanceWarning.enrolment_id.in_(
            [p.enrolment.id for p in progress if p.below_threshold])))}
    for p in progress:
        if p.completed is None and p.complete and p.enrolment.state == EnrolmentState.ENROLLED:
            fired.append(_complete(p))
        elif p.rule.warns and p.below_threshold and p.completed is None and p.held >= 1:
            with db.session.no_autoflush:
                _warn(p, warned.get(p.enrolment.id))
    db.session.flush()
    return fired


def _complete(p: Progress) -> Completion:
    enrolment = p.enrolment
    completion = Completion(enrolment_id=enrolment.id, attendance_percent=p.percent or 0)
    db.session.add(completion)
    db.session.add(EnrolmentEvent(enrolment_id=enrolment.id, from_state=enrolment.state,
                                  to_state=EnrolmentState.COMPLETED,
                                  reason="Completion rule met"))
    enrolment.state = EnrolmentState.COMPLETED
    db.session.flush()
    queue_email(enrolment.user.email, f"You have completed {enrolment.offering.title}",
                "attendance/completed", person=enrolment.user, offering=enrolment.offering,
                percent=p.percent, my_learning_url=link("offerings.my_learning"))
    notify(Completed(completion))
    return completion


def _warn(p: Progress, warning: AttendanceWarning | None) -> None:
    """Warn a person below the threshold, unless warned enough or since the last session
    held. ``warning``: their warning row, if they have one."""
    if warning is None:
        warning = AttendanceWarning(enrolment_id=p.enrolment.id, sent=0, sessions_held=0)
        db.session.add(warning)
    if warning.sent >= MAX_WARNINGS or warning.sessions_held >= p.held:
        return
    warning.sent += 1
    warning.sessions_held = p.held
    warning.last_sent_at = utcnow()
    queue_email(p.enrolment.user.email,
                f"Your attendance on {p.enrolment.offering.title}",
                "attendance/below_threshold", flush=False, person=p.enrolment.user,
                offering=p.enrolment.offering, percent=p.percent,
                needed=p.rule.min_attendance_percent, held=p.held,
                my_learning_url=link("offerings.my_learning"))


def sign_off(actor: User, enrolment: Enrolment, note: str = "") -> None:
    """Faculty sign a person off (where the rule needs it); completion may then fire."""
    if not can_manage(actor, enrolment.offering):
        raise NotAllowed("Only faculty can sign people off")
    if enrolment.state not in (EnrolmentState.ENROLLED, EnrolmentState.COMPLETED):
        raise DomainError("Only people with a place can be signed off")
    if db.session.get(SignOff, enrolment.id) is None:
        db.session.add(SignOff(enrolment_id=enrolment.id, signed_off_by_id=actor.id,
                               note=" ".join((note or "").split())[:1000]))
        db.session.flush()
    refresh_completion(enrolment.offering)


def my_progress(user: User, enrolment_id: int) -> Progress:
    """A person's own progress on one of their enrolments (404 for anyone else's)."""
    enrolment = db.session.get(Enrolment, enrolment_id)
    if enrolment is None or enrolment.user_id != user.id:
        raise NotFound("No such booking")
    return progress_for(enrolment.offering, [enrolment])[0]


def offerings_just_held(now: datetime) -> list[int]:
    """The completion job's list: offerings with a session that ended in the last two days."""
    return list(db.session.scalars(
        select(Session.offering_id).where(Session.ends_at <= now,
                                          Session.ends_at > now - timedelta(days=2)).distinct()
    ))


def imports_for(session: Session) -> list[AttendanceImport]:
    """A session's imports, newest first, with their unmatched rows."""
    return list(db.session.scalars(
        select(AttendanceImport).where(AttendanceImport.session_id == session.id)
        .order_by(AttendanceImport.id.desc())))


def complete_on_feedback(event: FeedbackGiven) -> None:
    """Giving feedback may be the last thing someone needed to complete (a listener,
    connected by the attendance feature's ``init_app``)."""
    offering = db.session.get(Offering, event.offering_id)
    if offering is not None:
        refresh_completion(offering)
