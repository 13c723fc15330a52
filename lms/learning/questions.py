"""Registration questions: faculty ask them on an offering; people answer them as they book
(a required one unanswered books nothing); faculty of the offering read the answers and take
them away on the register CSV. Answers are about the person, so erasure deletes them."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from flask import url_for
from sqlalchemy import func, select

from lms.errors import DomainError, ErrorCollector, NotAllowed, NotFound
from lms.extensions import db
from lms.learning.questions_models import (
    QUESTION_KINDS,
    RegistrationAnswer,
    RegistrationQuestion,
)
from lms.offerings import services as engine
from lms.offerings.models import HOLDS_PLACE, STATE_LABELS, Enrolment, EnrolmentState, Offering
from lms.offerings.policy import can_manage, can_see

TEXT_MAX = 300
ANSWER_MAX = 2000
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@dataclass
class QuestionDetails:
    kind: str | None
    text: str | None
    hint: str | None = ""
    required: bool = False


def questions_of(offering_id: int) -> list[RegistrationQuestion]:
    return list(db.session.scalars(
        select(RegistrationQuestion).where(RegistrationQuestion.offering_id == offering_id)
        .order_by(RegistrationQuestion.position, RegistrationQuestion.id)))


def get_question(question_id: int) -> RegistrationQuestion:
    question = db.session.get(RegistrationQuestion, question_id)
    if question is None:
        raise NotFound("No such question")
    return question


def _checked(details: QuestionDetails) -> dict:
    errors = ErrorCollector()
    if details.kind not in QUESTION_KINDS:
        errors.errors.append(("kind", "Select what the question is about"))
    text = (details.text or "").strip()
    if not text:
        errors.errors.append(("text", "Enter the question"))
    elif len(text) > TEXT_MAX:
        errors.errors.append(("text", f"The question must be {TEXT_MAX} characters or fewer"))
    hint = (details.hint or "").strip()
    if len(hint) > TEXT_MAX:
        errors.errors.append(("hint", f"The hint must be {TEXT_MAX} characters or fewer"))
    errors.raise_any()
    return {"kind": details.kind, "text": text, "hint": hint, "required": bool(details.required)}


def add_question(actor, offering: Offering, details: QuestionDetails) -> RegistrationQuestion:
    """Ask a new question at booking (after the ones already asked)."""
    if not can_manage(actor, offering):
        raise NotAllowed("Only faculty can set registration questions")
    values = _checked(details)
    last = db.session.scalar(select(func.max(RegistrationQuestion.position))
                             .where(RegistrationQuestion.offering_id == offering.id))
    question = RegistrationQuestion(offering_id=offering.id,
                                    position=0 if last is None else last + 1, **values)
    db.session.add(question)
    db.session.flush()
    return question


def update_question(actor, question: RegistrationQuestion,
                    details: QuestionDetails) -> RegistrationQuestion:
    if not can_manage(actor):
        raise NotAllowed("Only faculty can change registration questions")
    for name, value in _checked(details).items():
        setattr(question, name, value)
    db.session.flush()
    return question


def remove_question(actor, question: RegistrationQuestion) -> str:
    """Stop asking a question; the answers already given go with it."""
    if not can_manage(actor):
        raise NotAllowed("Only faculty can remove registration questions")
    text = question.text
    db.session.delete(question)
    db.session.flush()
    return text


# ---------------------------------------------------------------------------- booking


def offering_to_book(user, offering_id: int) -> Offering:
    """An offering this person may see (anyone else: no such page)."""
    offering = db.session.get(Offering, offering_id)
    if offering is None or not can_see(user, offering):
        raise NotFound("No such offering")
    return offering


def questions_page(user, offering: Offering) -> str | None:
    """The booking step: an offering that asks questions books through its questions page."""
    has_questions = db.session.scalar(select(RegistrationQuestion.id).where(
        RegistrationQuestion.offering_id == offering.id).limit(1))
    return url_for("learning.register", offering_id=offering.id) if has_questions else None


def require_answers(user, offering: Offering) -> None:
    """The engine's check: every required question has this person's answer."""
    missing = db.session.scalars(
        select(RegistrationQuestion.text).where(
            RegistrationQuestion.offering_id == offering.id,
            RegistrationQuestion.required.is_(True),
            ~select(RegistrationAnswer.id).where(
                RegistrationAnswer.question_id == RegistrationQuestion.id,
                RegistrationAnswer.user_id == user.id, RegistrationAnswer.answer != "",
            ).exists())
        .order_by(RegistrationQuestion.position, RegistrationQuestion.id)).all()
    if missing:
        raise DomainError("Answer the registration questions before booking: "
                          + "; ".join(missing))


def book_with_answers(user, offering: Offering, answers: dict[int, str | None]) -> Enrolment:
    """Save this person's answers, then book (in the same transaction: if booking is refused,
    no answer stays). A required question left empty books nothing."""
    errors = ErrorCollector()
    cleaned: dict[int, str] = {}
    for question in questions_of(offering.id):
        text = (answers.get(question.id) or "").strip()
        field = f"answer_{question.id}"
        if question.required and not text:
            errors.errors.append((field, f"Answer “{question.text}”"))
        elif len(text) > ANSWER_MAX:
            errors.errors.append((field, f"Your answer must be {ANSWER_MAX} characters or "
                                         "fewer"))
        cleaned[question.id] = text
    errors.raise_any()
    existing = {a.question_id: a for a in db.session.scalars(
        select(RegistrationAnswer).where(RegistrationAnswer.user_id == user.id,
                                         RegistrationAnswer.question_id.in_(list(cleaned))))}
    for question_id, text in cleaned.items():
        answer = existing.get(question_id)
        if answer is None:
            db.session.add(RegistrationAnswer(question_id=question_id, user_id=user.id,
                                              answer=text))
        else:
            answer.answer = text
    db.session.flush()
    return engine.book(user, offering)


# ---------------------------------------------------------------------------- faculty


@dataclass
class AnswerRow:
    enrolment: Enrolment
    answers: list[str]


def answer_rows(actor, offering: Offering) -> tuple[list[RegistrationQuestion], list[AnswerRow]]:
    """Each person with a place or in play on ``offering``, with their answers (faculty of
    the offering only). Two queries, whatever the numbers."""
    if not can_manage(actor, offering):
        raise NotFound("No such offering")
    questions = questions_of(offering.id)
    enrolments = db.session.scalars(
        select(Enrolment).where(Enrolment.offering_id == offering.id,
                                Enrolment.state.in_([*HOLDS_PLACE, EnrolmentState.REQUESTED,
                                                     EnrolmentState.WAITLISTED]))
        .order_by(Enrolment.id)).all()
    given = {(a.question_id, a.user_id): a.answer for a in db.session.scalars(
        select(RegistrationAnswer).where(
            RegistrationAnswer.question_id.in_([q.id for q in questions])))} if questions else {}
    return questions, [AnswerRow(e, [given.get((q.id, e.user_id), "") for q in questions])
                       for e in enrolments]


def _cell(value: str) -> str:
    # A cell a spreadsheet would run as a formula is kept as text.
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def register_csv(actor, offering: Offering) -> bytes:
    """The register of people booked, with their answers, as CSV (UTF-8 with a BOM, for
    Excel)."""
    questions, rows = answer_rows(actor, offering)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["Name", "Email", "Organisation", "Place",
                     *[q.text for q in questions]])
    for row in rows:
        person = row.enrolment.user
        writer.writerow([_cell(v) for v in (
            person.full_name, person.email, person.organisation.name,
            STATE_LABELS[EnrolmentState(row.enrolment.state)], *row.answers)])
    return ("\ufeff" + out.getvalue()).encode()

