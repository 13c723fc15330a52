"""Certificates: one live certificate per completion, its PDF, the template each course or
event uses, and the bulk-issue jobs that faculty start for a whole offering."""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    LargeBinary,
    Numeric,
    String,
    Text,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.accounts.models import User
from lms.attendance.models import Completion
from lms.clock import UTCDateTime, utcnow
from lms.extensions import db
from lms.offerings.models import Offering


class CertificateTemplate(enum.StrEnum):
    PROGRAMME = "programme"
    COURSE = "course"
    WEBINAR = "webinar"
    FESTIVAL = "festival"


TEMPLATE_LABELS = {
    CertificateTemplate.PROGRAMME: "Programme completion",
    CertificateTemplate.COURSE: "Course completion",
    CertificateTemplate.WEBINAR: "Webinar attendance",
    CertificateTemplate.FESTIVAL: "Festival attendance",
}


class CertificateStatus(enum.StrEnum):
    ISSUED = "issued"
    REVOKED = "revoked"


class BatchStatus(enum.StrEnum):
    PENDING = "pending"  # waiting for the scheduler (or a CLI run) to pick it up
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"  # stopped on an error; starting again finishes what is left


def _in(column: str, values) -> str:
    return f"{column} IN ({', '.join(repr(v.value) for v in values)})"


class Certificate(db.Model):
    """A certificate issued for a completion. What it says (name, title, date, CPD hours,
    sessions) is copied at issue, so the PDF and the verification page keep saying what was
    certified. Revoking keeps the row; reissuing adds a new row that ``replaces`` it."""

    __tablename__ = "certificate"
    __table_args__ = (
        CheckConstraint(_in("status", CertificateStatus), name="status_known"),
        CheckConstraint(_in("template", CertificateTemplate), name="template_known"),
        CheckConstraint("cpd_hours >= 0", name="cpd_hours_not_negative"),
        CheckConstraint("(status = 'revoked') = (revoked_at IS NOT NULL)",
                        name="revoked_at_only_when_revoked"),
        # At most one live certificate per completion: whatever runs twice, at the same time
        # or after a crash, cannot issue a second.
        Index("uq_certificate_live_completion", "completion_id", unique=True,
              sqlite_where=text("status = 'issued'"),
              postgresql_where=text("status = 'issued'")),
        Index("ix_certificate_offering_status", "offering_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Empty for a presenter certificate (``lms.certificates.presenters``): it certifies a
    # talk given, not a completion.
    completion_id: Mapped[int | None] = mapped_column(
        ForeignKey("completion.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"),
                                         index=True)
    offering_id: Mapped[int] = mapped_column(ForeignKey("offering.id", ondelete="CASCADE"))
    # Human-readable, e.g. MDSN-2026-000123; printed on the certificate.
    serial: Mapped[str] = mapped_column(String(20), unique=True)
    # Unguessable: the key of the public verification page.
    code: Mapped[str] = mapped_column(String(43), unique=True)
    template: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(10), default=CertificateStatus.ISSUED)
    holder_name: Mapped[str] = mapped_column(String(120))
    # "Completed the development programme" / "Attended the webinar" ...
    achievement: Mapped[str] = mapped_column(String(200))
    # The course or event, e.g. "Leadership for Analysts (Cohort 4)".
    title: Mapped[str] = mapped_column(String(300))
    achieved_on: Mapped[date] = mapped_column(Date)
    cpd_hours: Mapped[Decimal] = mapped_column(Numeric(5, 1), default=Decimal("0"))
    # Anything else the template prints: the sessions attended (festival), the strand ...
    details: Mapped[dict] = mapped_column(JSON, default=dict)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # None when issued automatically on completion.
    issued_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"))
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"))
    revoked_reason: Mapped[str] = mapped_column(Text, default="")
    # The certificate this one was reissued in place of.
    replaces_id: Mapped[int | None] = mapped_column(
        ForeignKey("certificate.id", ondelete="SET NULL"), unique=True)

    completion: Mapped[Completion | None] = relationship()
    user: Mapped[User] = relationship(foreign_keys=[user_id], lazy="joined", innerjoin=True)
    offering: Mapped[Offering] = relationship()
    issued_by: Mapped[User | None] = relationship(foreign_keys=[issued_by_id])
    revoked_by: Mapped[User | None] = relationship(foreign_keys=[revoked_by_id])
    replaces: Mapped[Certificate | None] = relationship(
        remote_side=[id], foreign_keys=[replaces_id], back_populates="replaced_by")
    replaced_by: Mapped[Certificate | None] = relationship(
        foreign_keys=[replaces_id], back_populates="replaces", uselist=False)

    @property
    def is_live(self) -> bool:
        return self.status == CertificateStatus.ISSUED

    @property
    def template_label(self) -> str:
        return TEMPLATE_LABELS[CertificateTemplate(self.template)]

    def __repr__(self) -> str:
        return f"<Certificate {self.serial} {self.status}>"


class CertificatePdf(db.Model):
    """A certificate's rendered PDF. Kept in the database, beside its certificate, so every
    web worker on every host serves the same file, a backup holds certificates and PDFs
    together, and storing one commits with the rest of a step. Its own table keeps lists of
    certificates from ever loading the bytes."""

    __tablename__ = "certificate_pdf"

    certificate_id: Mapped[int] = mapped_column(
        ForeignKey("certificate.id", ondelete="CASCADE"), primary_key=True)
    pdf: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    size: Mapped[int] = mapped_column()
    rendered_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class TemplateChoice(db.Model):
    """The template a course (for all its cohorts) or an event has picked, where it is not
    the default for its kind."""

    __tablename__ = "certificate_template_choice"
    __table_args__ = (
        CheckConstraint("(course_id IS NULL) <> (offering_id IS NULL)",
                        name="course_or_offering"),
        CheckConstraint(_in("template", CertificateTemplate), name="template_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int | None] = mapped_column(
        ForeignKey("course.id", ondelete="CASCADE"), unique=True)
    offering_id: Mapped[int | None] = mapped_column(
        ForeignKey("offering.id", ondelete="CASCADE"), unique=True)
    template: Mapped[str] = mapped_column(String(20))


class SerialCounter(db.Model):
    """The last serial number given in each year (MDSN-<year>-<number>)."""

    __tablename__ = "certificate_serial_counter"

    year: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    last: Mapped[int] = mapped_column()


class CertificateBatch(db.Model):
    """Faculty asked for every certificate of an offering: issue what is missing, render the
    PDFs, email each person. ``total`` and ``done`` drive the progress bar. A runner holds it
    with a lease (``claimed_until``), renewed as it goes, so a crashed run is taken over."""

    __tablename__ = "certificate_batch"
    __table_args__ = (
        CheckConstraint(_in("status", BatchStatus), name="status_known"),
        CheckConstraint("total >= 0 AND done >= 0", name="counts_not_negative"),
        # One batch in play per offering: asking twice joins the running one.
        Index("uq_certificate_batch_active_offering", "offering_id", unique=True,
              sqlite_where=text("status IN ('pending', 'running')"),
              postgresql_where=text("status IN ('pending', 'running')")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    offering_id: Mapped[int] = mapped_column(ForeignKey("offering.id", ondelete="CASCADE"),
                                             index=True)
    requested_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(10), default=BatchStatus.PENDING)
    total: Mapped[int] = mapped_column(default=0)
    done: Mapped[int] = mapped_column(default=0)
    issued: Mapped[int] = mapped_column(default=0)  # new certificates this batch issued
    error: Mapped[str] = mapped_column(Text, default="")
    claimed_by: Mapped[str] = mapped_column(String(120), default="")
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    offering: Mapped[Offering] = relationship()

    @property
    def is_active(self) -> bool:
        return self.status in (BatchStatus.PENDING, BatchStatus.RUNNING)

    @property
    def percent(self) -> int:
        if self.total == 0:
            return 100 if self.status == BatchStatus.DONE else 0
        return min(100, round(100 * self.done / self.total))
