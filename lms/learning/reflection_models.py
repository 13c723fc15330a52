"""A learner's reflective log (private unless shared with faculty) and CPD for learning done
elsewhere."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.accounts.models import User
from lms.clock import UTCDateTime, utcnow
from lms.competencies.models import Competency
from lms.extensions import db
from lms.offerings.models import Offering, Session


class ReflectionEntry(db.Model):
    """One dated entry: the guided questions plus free text, linked (optionally) to a
    session, an offering or a competency. Only its writer sees it until they share it."""

    __tablename__ = "reflection_entry"
    __table_args__ = (Index("ix_reflection_entry_user_day", "user_id", "happened_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    happened_on: Mapped[date] = mapped_column(Date)
    title: Mapped[str] = mapped_column(String(200))
    what_happened: Mapped[str] = mapped_column(Text, default="")
    what_learned: Mapped[str] = mapped_column(Text, default="")
    do_differently: Mapped[str] = mapped_column(Text, default="")
    notes: Mapped[str] = mapped_column(Text, default="")
    offering_id: Mapped[int | None] = mapped_column(
        ForeignKey("offering.id", ondelete="SET NULL"), index=True)
    session_id: Mapped[int | None] = mapped_column(
        ForeignKey("offering_session.id", ondelete="SET NULL"))
    competency_id: Mapped[int | None] = mapped_column(
        ForeignKey("competency.id", ondelete="SET NULL"))
    shared_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Set when faculty accepted the shared entry as competency evidence.
    evidence_id: Mapped[int | None] = mapped_column(
        ForeignKey("competency_evidence.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    user: Mapped[User] = relationship(lazy="joined", innerjoin=True)
    offering: Mapped[Offering | None] = relationship(lazy="joined")
    session: Mapped[Session | None] = relationship(lazy="joined")
    competency: Mapped[Competency | None] = relationship(lazy="joined")
    comments: Mapped[list[ReflectionComment]] = relationship(
        back_populates="entry", cascade="all, delete-orphan", lazy="selectin",
        order_by="ReflectionComment.id")

    @property
    def shared(self) -> bool:
        return self.shared_at is not None


class ReflectionComment(db.Model):
    """Faculty's comment on a shared entry."""

    __tablename__ = "reflection_comment"

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("reflection_entry.id", ondelete="CASCADE"),
                                          index=True)
    author_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    entry: Mapped[ReflectionEntry] = relationship(back_populates="comments")
    author: Mapped[User | None] = relationship(lazy="joined")


class CPDActivity(db.Model):
    """Learning done elsewhere (a conference, reading), with its hours and, optionally, an
    evidence file in the storage."""

    __tablename__ = "cpd_activity"
    __table_args__ = (CheckConstraint("hours > 0 AND hours <= 1000", name="hours_sensible"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"),
                                         index=True)
    title: Mapped[str] = mapped_column(String(200))
    done_on: Mapped[date] = mapped_column(Date)
    hours: Mapped[Decimal] = mapped_column(Numeric(5, 1))
    description: Mapped[str] = mapped_column(Text, default="")
    evidence_filename: Mapped[str | None] = mapped_column(String(255))
    evidence_content_type: Mapped[str | None] = mapped_column(String(100))
    evidence_key: Mapped[str | None] = mapped_column(String(300), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
