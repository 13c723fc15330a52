"""Who came to each session, how we know, and who has completed."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.accounts.models import User
from lms.clock import UTCDateTime, utcnow
from lms.extensions import db
from lms.offerings.models import Enrolment, Session


class Mark(enum.StrEnum):
    PRESENT = "present"
    LATE = "late"
    ABSENT = "absent"
    EXCUSED = "excused"


class Source(enum.StrEnum):
    REGISTER = "register"
    CHECK_IN = "check_in"
    IMPORT = "import"


MARK_LABELS = {Mark.PRESENT: "Present", Mark.LATE: "Late", Mark.ABSENT: "Absent",
               Mark.EXCUSED: "Excused"}
ATTENDED = (Mark.PRESENT, Mark.LATE)


class Attendance(db.Model):
    """One person at one session."""

    __tablename__ = "attendance"
    __table_args__ = (
        UniqueConstraint("session_id", "user_id", name="uq_attendance_session_user"),
        CheckConstraint("status IN ('present', 'late', 'absent', 'excused')",
                        name="status_known"),
        CheckConstraint("source IN ('register', 'check_in', 'import')", name="source_known"),
        CheckConstraint("minutes IS NULL OR minutes >= 0", name="minutes_not_negative"),
        # Covering indexes for the dashboards: a person's (or an ICS's people's) attendances
        # and a session's attendances are counted by status from the index alone, without
        # reading each row (on SQLite, and index-only scans on PostgreSQL).
        Index("ix_attendance_user_status_session", "user_id", "status", "session_id"),
        Index("ix_attendance_session_status_user", "session_id", "status", "user_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(
        ForeignKey("offering_session.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(10))
    source: Mapped[str] = mapped_column(String(10))
    minutes: Mapped[int | None] = mapped_column()
    note: Mapped[str] = mapped_column(String(500), default="")
    recorded_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow,
                                                  onupdate=utcnow)

    session: Mapped[Session] = relationship()
    user: Mapped[User] = relationship(foreign_keys=[user_id], lazy="joined", innerjoin=True)

    @property
    def label(self) -> str:
        return MARK_LABELS[Mark(self.status)]


class CheckInCode(db.Model):
    """The short code people type (or scan as a QR code) to check in to a session."""

    __tablename__ = "check_in_code"

    session_id: Mapped[int] = mapped_column(
        ForeignKey("offering_session.id", ondelete="CASCADE"), primary_key=True)
    code: Mapped[str] = mapped_column(String(12), unique=True)
    # No longer read: check-in opens when the session starts (``policy.check_in_window``),
    # as attendance belongs to sessions that have begun. Kept so no migration is needed.
    opens_minutes_before: Mapped[int] = mapped_column(default=15)

    session: Mapped[Session] = relationship()


class AttendanceImport(db.Model):
    """One uploaded Teams or Zoom attendance report for a session."""

    __tablename__ = "attendance_import"
    __table_args__ = (
        UniqueConstraint("session_id", "sha256", name="uq_attendance_import_session_file"),
        CheckConstraint("kind IN ('teams', 'zoom')", name="kind_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(
        ForeignKey("offering_session.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(5))
    filename: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64))
    min_percent: Mapped[int] = mapped_column(default=50)
    imported_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"))
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    matched: Mapped[int] = mapped_column(default=0)

    session: Mapped[Session] = relationship()
    unmatched: Mapped[list[UnmatchedRow]] = relationship(
        back_populates="attendance_import", cascade="all, delete-orphan",
        order_by="UnmatchedRow.name")


class UnmatchedRow(db.Model):
    """A row of a report whose email matched nobody: faculty match it by hand or ignore it."""

    __tablename__ = "attendance_unmatched_row"
    __table_args__ = (
        CheckConstraint("resolution IN ('open', 'matched', 'ignored')",
                        name="resolution_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    import_id: Mapped[int] = mapped_column(
        ForeignKey("attendance_import.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(254), default="")
    minutes: Mapped[int] = mapped_column()
    resolution: Mapped[str] = mapped_column(String(8), default="open")
    matched_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"))

    attendance_import: Mapped[AttendanceImport] = relationship(back_populates="unmatched")


class Completion(db.Model):
    """A person met the completion rule of an offering. Written once, when first reached."""

    __tablename__ = "completion"

    id: Mapped[int] = mapped_column(primary_key=True)
    enrolment_id: Mapped[int] = mapped_column(
        ForeignKey("enrolment.id", ondelete="CASCADE"), unique=True)
    completed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    attendance_percent: Mapped[int] = mapped_column()

    enrolment: Mapped[Enrolment] = relationship()


class SignOff(db.Model):
    """Faculty sign-off, where a course's rule needs it."""

    __tablename__ = "completion_sign_off"

    enrolment_id: Mapped[int] = mapped_column(
        ForeignKey("enrolment.id", ondelete="CASCADE"), primary_key=True)
    signed_off_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"))
    signed_off_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    note: Mapped[str] = mapped_column(Text, default="")


class AttendanceWarning(db.Model):
    """How many times a person has been warned that their attendance is below the rule."""

    __tablename__ = "attendance_warning"
    __table_args__ = (CheckConstraint("sent >= 0", name="sent_not_negative"),)

    enrolment_id: Mapped[int] = mapped_column(
        ForeignKey("enrolment.id", ondelete="CASCADE"), primary_key=True)
    sent: Mapped[int] = mapped_column(default=0)
    # The number of held sessions when last warned: one warning per new session at most.
    sessions_held: Mapped[int] = mapped_column(default=0)
    last_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
