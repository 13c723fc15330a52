"""Feedback surveys: templates, surveys attached to an offering or one of its sessions,
questions, and what people answered.

Anonymity is a property of the schema, not of the pages:

- An anonymous survey's answers first go to ``SurveyPendingResponse``, a pool with a random
  key, no person and no time; every submission rewrites the survey's whole pool in a shuffled
  order, so neither the physical order nor (on PostgreSQL) the writing transaction tells the
  rows apart. A batched step (``lms.feedback.pool.release``, run by ``lms.jobs``) moves
  the pool into ``SurveyResponse``/``SurveyAnswer`` at most once a day and only with at
  least ``ANONYMITY_THRESHOLD`` new answers, or when the survey has closed: shuffled, with
  fresh random keys, all in one transaction.
- ``SurveyResponse`` of an anonymous survey holds no user and no time (a check constraint
  says so), and its id is random, so neither a column nor the order of ids says who answered
  or when.
- ``SurveyAnswer`` has no user and no time column at all.
- ``SurveyRespondent`` records only *that* a person answered a survey (so reminders go to the
  others and completion rules can count it). It has no id, no time, and no link to a response.
- On SQLite, these tables are ``WITHOUT ROWID``: rows are kept in key order (random keys, or
  survey and person), so no hidden insertion counter pairs a respondent with an answer.
- ``SurveyDraft`` keeps a person's unfinished answers; it is deleted when they submit, so
  nothing that names a person survives next to their submitted answers.
"""

from __future__ import annotations

import enum
import secrets
from datetime import datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.clock import UTCDateTime, utcnow
from lms.extensions import db
from lms.offerings.models import Offering, Session

# Results of an anonymous survey stay hidden until this many people have answered, and
# reach the results this many at a time, so no one's answers can be picked out of a handful.
ANONYMITY_THRESHOLD = 5


class QuestionKind(enum.StrEnum):
    AGREEMENT = "agreement"  # 1–5, Strongly disagree … Strongly agree
    RATING = "rating"  # 0–10
    SINGLE_CHOICE = "single_choice"
    MULTIPLE_CHOICE = "multiple_choice"
    SHORT_TEXT = "short_text"
    LONG_TEXT = "long_text"


KIND_LABELS = {
    QuestionKind.AGREEMENT: "Agreement scale (Strongly disagree to Strongly agree)",
    QuestionKind.RATING: "Rating from 0 to 10",
    QuestionKind.SINGLE_CHOICE: "Single choice (one option)",
    QuestionKind.MULTIPLE_CHOICE: "Multiple choice (any number of options)",
    QuestionKind.SHORT_TEXT: "Short text",
    QuestionKind.LONG_TEXT: "Long text",
}
# Values 1 to 5, in order.
AGREEMENT_LABELS = (
    "Strongly disagree",
    "Disagree",
    "Neither agree nor disagree",
    "Agree",
    "Strongly agree",
)
RATING_VALUES = range(0, 11)
CHOICE_KINDS = (QuestionKind.SINGLE_CHOICE, QuestionKind.MULTIPLE_CHOICE)
TEXT_KINDS = (QuestionKind.SHORT_TEXT, QuestionKind.LONG_TEXT)
SCALE_KINDS = (QuestionKind.AGREEMENT, QuestionKind.RATING)

_KINDS_SQL = ", ".join(f"'{k.value}'" for k in QuestionKind)


def random_id() -> int:
    """A random positive id that fits a JavaScript number. Responses and answers use these
    so that the order of ids does not give away the order in which people answered."""
    return secrets.randbelow(2**53 - 1) + 1


class Survey(db.Model):
    """A survey attached to an offering (or one of its sessions), or a template to start one
    from. A survey copies its template's questions; ``template_id`` remembers where it came
    from so cohorts of one course can be compared question by question."""

    __tablename__ = "survey"
    __table_args__ = (
        CheckConstraint(
            "opens_at IS NULL OR closes_at IS NULL OR closes_at > opens_at",
            name="closes_after_opening",
        ),
        CheckConstraint(
            "(is_template AND offering_id IS NULL AND session_id IS NULL "
            "AND opens_at IS NULL AND closes_at IS NULL) "
            "OR (NOT is_template AND offering_id IS NOT NULL)",
            name="template_or_attached",
        ),
        CheckConstraint("code IS NULL OR is_template", name="code_only_on_templates"),
        Index("ix_survey_window", "opens_at", "closes_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    intro: Mapped[str] = mapped_column(Text, default="")
    is_template: Mapped[bool] = mapped_column(default=False)
    # Seeded templates have a code, so seeding again finds them.
    code: Mapped[str | None] = mapped_column(String(50), unique=True)
    anonymous: Mapped[bool] = mapped_column(default=True)
    template_id: Mapped[int | None] = mapped_column(
        ForeignKey("survey.id", ondelete="SET NULL"), index=True
    )
    offering_id: Mapped[int | None] = mapped_column(
        ForeignKey("offering.id", ondelete="CASCADE"), index=True
    )
    session_id: Mapped[int | None] = mapped_column(
        ForeignKey("offering_session.id", ondelete="CASCADE"), index=True
    )
    opens_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closes_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # When the anonymous answers waiting in the pool were last moved into the results.
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    questions: Mapped[list[SurveyQuestion]] = relationship(
        back_populates="survey", cascade="all, delete-orphan",
        order_by="SurveyQuestion.position", lazy="selectin",
    )
    # Loaded with the survey: every page that shows a survey names what it is about.
    offering: Mapped[Offering | None] = relationship(lazy="joined")
    session: Mapped[Session | None] = relationship(lazy="joined")
    template: Mapped[Survey | None] = relationship(remote_side=[id])

    def __repr__(self) -> str:
        return f"<Survey {self.id}{' template' if self.is_template else ''}>"


class SurveyQuestion(db.Model):
    """One question, at a position in its survey."""

    __tablename__ = "survey_question"
    __table_args__ = (
        UniqueConstraint("survey_id", "position", name="uq_survey_question_position"),
        CheckConstraint(f"kind IN ({_KINDS_SQL})", name="kind_known"),
        CheckConstraint("position >= 1", name="position_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("survey.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column()
    kind: Mapped[str] = mapped_column(String(20))
    text: Mapped[str] = mapped_column(String(500))
    hint: Mapped[str] = mapped_column(String(500), default="")
    required: Mapped[bool] = mapped_column(default=True)
    # The options of a single- or multiple-choice question; answers store their index.
    choices: Mapped[list[str]] = mapped_column(JSON, default=list)
    # The template question this one was copied from, for comparing cohorts.
    template_question_id: Mapped[int | None] = mapped_column(
        ForeignKey("survey_question.id", ondelete="SET NULL"), index=True
    )

    survey: Mapped[Survey] = relationship(back_populates="questions")

    @property
    def kind_label(self) -> str:
        return KIND_LABELS[QuestionKind(self.kind)]

    @property
    def options(self) -> list[tuple[int, str]]:
        """(stored value, label) of every answer a person can pick, in order."""
        if self.kind == QuestionKind.AGREEMENT:
            return list(enumerate(AGREEMENT_LABELS, start=1))
        if self.kind == QuestionKind.RATING:
            return [(n, str(n)) for n in RATING_VALUES]
        if self.kind in CHOICE_KINDS:
            return list(enumerate(self.choices))
        return []


class SurveyResponse(db.Model):
    """One person's submitted answers. Anonymous ones carry no user and no time."""

    __tablename__ = "survey_response"
    __table_args__ = (
        CheckConstraint(
            "NOT anonymous OR (user_id IS NULL AND submitted_at IS NULL)",
            name="anonymous_has_no_person_or_time",
        ),
        {"sqlite_with_rowid": False},
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False,
                                    default=random_id)
    survey_id: Mapped[int] = mapped_column(ForeignKey("survey.id", ondelete="CASCADE"),
                                           index=True)
    anonymous: Mapped[bool] = mapped_column()
    # Named surveys only. A person's account being deleted keeps their answers, unnamed.
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"), index=True
    )
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    answers: Mapped[list[SurveyAnswer]] = relationship(
        back_populates="response", cascade="all, delete-orphan"
    )


class SurveyAnswer(db.Model):
    """An answer to one question: a number (scale value, rating, or the index of a choice;
    one row per option ticked in a multiple-choice question) or a text."""

    __tablename__ = "survey_answer"
    __table_args__ = (
        CheckConstraint("number IS NOT NULL OR text IS NOT NULL", name="has_a_value"),
        UniqueConstraint("response_id", "question_id", "number",
                         name="uq_survey_answer_response_question_number"),
        Index("ix_survey_answer_question_number", "question_id", "number"),
        # How many answered each question (results) is counted from this index alone: the
        # answers of a national survey (60,000) are not each read from the table.
        Index("ix_survey_answer_question_response", "question_id", "response_id"),
        {"sqlite_with_rowid": False},
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False,
                                    default=random_id)
    response_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("survey_response.id", ondelete="CASCADE"), index=True
    )
    question_id: Mapped[int] = mapped_column(
        ForeignKey("survey_question.id", ondelete="CASCADE")
    )
    number: Mapped[int | None] = mapped_column()
    text: Mapped[str | None] = mapped_column(Text)

    response: Mapped[SurveyResponse] = relationship(back_populates="answers")


class SurveyRespondent(db.Model):
    """That a person has answered a survey: nothing more (no time, no link to answers)."""

    __tablename__ = "survey_respondent"
    __table_args__ = ({"sqlite_with_rowid": False},)

    survey_id: Mapped[int] = mapped_column(
        ForeignKey("survey.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True, index=True
    )


def random_key() -> str:
    """A random key for a row of the pending pool."""
    return secrets.token_hex(16)


class SurveyPendingResponse(db.Model):
    """An anonymous survey's answers, sent but not yet released into the results: a random
    key, the survey, and the answers; no person, no time. ``answers`` is a list of
    ``[question id, number or null, text or null]``, one per ``SurveyAnswer`` to write."""

    __tablename__ = "survey_pending_response"
    __table_args__ = ({"sqlite_with_rowid": False},)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=random_key)
    survey_id: Mapped[int] = mapped_column(ForeignKey("survey.id", ondelete="CASCADE"),
                                           index=True)
    answers: Mapped[list[list]] = mapped_column(JSON, default=list)


class SurveyDraft(db.Model):
    """A person's answers saved to finish later; deleted when they submit."""

    __tablename__ = "survey_draft"

    survey_id: Mapped[int] = mapped_column(
        ForeignKey("survey.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    # {"<question id>": ["value", ...]}, as the form sent them (checked, not yet complete).
    answers: Mapped[dict[str, list[str]]] = mapped_column(JSON, default=dict)
    saved_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class SurveyReminder(db.Model):
    """The claim on reminder ``number`` to one person about one survey. Written in the same
    transaction as the email, and unique, so each reminder leaves at most once."""

    __tablename__ = "survey_reminder"
    __table_args__ = (CheckConstraint("number >= 1", name="number_positive"),)

    survey_id: Mapped[int] = mapped_column(
        ForeignKey("survey.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    number: Mapped[int] = mapped_column(primary_key=True)
