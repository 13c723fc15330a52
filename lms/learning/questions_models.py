"""Questions an offering asks at booking (access needs, dietary needs, what people hope to
get from it), and each person's answers."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.accounts.models import User
from lms.clock import UTCDateTime, utcnow
from lms.extensions import db

QUESTION_KINDS = {
    "access": "Access needs",
    "dietary": "Dietary needs",
    "hopes": "What they hope to get from it",
    "other": "Another question",
}
# What each kind asks unless faculty word it themselves.
SUGGESTED_WORDING = {
    "access": "Do you have any access needs we should know about?",
    "dietary": "Do you have any dietary needs for the day?",
    "hopes": "What do you hope to get from this?",
    "other": "",
}


class RegistrationQuestion(db.Model):
    __tablename__ = "registration_question"
    __table_args__ = (
        CheckConstraint("kind IN ('access', 'dietary', 'hopes', 'other')", name="kind_known"),
        Index("ix_registration_question_offering_position", "offering_id", "position"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    offering_id: Mapped[int] = mapped_column(ForeignKey("offering.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(10))
    text: Mapped[str] = mapped_column(String(300))
    hint: Mapped[str] = mapped_column(String(300), default="")
    required: Mapped[bool] = mapped_column(default=False)
    position: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class RegistrationAnswer(db.Model):
    """One person's answer to one question: about them (access, diet), so erased with them."""

    __tablename__ = "registration_answer"
    __table_args__ = (
        UniqueConstraint("question_id", "user_id", name="uq_registration_answer_question_user"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    question_id: Mapped[int] = mapped_column(
        ForeignKey("registration_question.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"),
                                         index=True)
    answer: Mapped[str] = mapped_column(Text, default="")
    answered_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow,
                                                  onupdate=utcnow)

    question: Mapped[RegistrationQuestion] = relationship()
    user: Mapped[User] = relationship()
