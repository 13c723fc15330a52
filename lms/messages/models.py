"""A message faculty sent to the people of an offering: who sent it, when, to whom, how many."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.clock import UTCDateTime, utcnow
from lms.extensions import db


class Audience(enum.StrEnum):
    EVERYONE = "everyone"
    SESSION = "session"
    WAITLIST = "waitlist"


class FacultyMessage(db.Model):
    __tablename__ = "faculty_message"
    __table_args__ = (
        CheckConstraint("audience IN ('everyone', 'session', 'waitlist')",
                        name="audience_known"),
        CheckConstraint("(audience = 'session') = (session_id IS NOT NULL)",
                        name="session_when_for_a_session"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    offering_id: Mapped[int] = mapped_column(
        ForeignKey("offering.id", ondelete="CASCADE"), index=True)
    session_id: Mapped[int | None] = mapped_column(
        ForeignKey("offering_session.id", ondelete="CASCADE"))
    audience: Mapped[str] = mapped_column(String(10))
    subject: Mapped[str] = mapped_column(String(150))
    body: Mapped[str] = mapped_column(Text)
    sent_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"))
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # Emails queued, and people on the list who have switched faculty messages off.
    recipient_count: Mapped[int] = mapped_column(default=0)
    switched_off_count: Mapped[int] = mapped_column(default=0)

    sent_by = relationship("User", foreign_keys=[sent_by_id])
    session = relationship("Session", foreign_keys=[session_id])
