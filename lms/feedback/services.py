"""Feedback surveys: answering them once, anonymity, reminding the people who have not
answered, and what completion rules ask. Building surveys is in ``lms.feedback.builder``.

Services validate everything before they change anything, raise ``DomainError``, flush, and
never commit (the scheduler's job, or the command, commits ``send_reminders``). Rules:

- Faculty and admins build surveys and read results (``can_manage_surveys``).
- People whose enrolment on the offering holds a place answer, once, while the survey is
  open. They may save a draft and come back; once sent, answers never change.
- Bad input (a question not in the survey, a choice not offered, a value out of range, a
  missing required answer, a second submission, a closed survey) stores nothing.
- An anonymous survey's answers are stored with no person and no time; a separate row
  records only that the person answered, and their draft is deleted on submit.
- An anonymous survey's answers wait in a pool and reach the results in batches (see
  ``lms.feedback.pool``): one person answering changes no result.
"""

from __future__ import annotations

import enum
import random
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import exists, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from lms.accounts.models import User
from lms.clock import utcnow, when_text
from lms.errors import DomainError, ErrorCollector, NotFound
from lms.extensions import begin_write, db
from lms.feedback import pool
from lms.feedback.models import (
    AGREEMENT_LABELS,
    TEXT_KINDS,
    QuestionKind,
    Survey,
    SurveyAnswer,
    SurveyDraft,
    SurveyQuestion,
    SurveyReminder,
    SurveyRespondent,
    SurveyResponse,
)
from lms.listeners import notify
from lms.notifications.services import link, queue_email
from lms.offerings.models import HOLDS_PLACE, Enrolment, Offering
from lms.offerings.policy import can_manage
from lms.offerings.services import leads_loaded

SHORT_TEXT_LIMIT = 300
LONG_TEXT_LIMIT = 5000
# Reminders: at most this many, spread evenly over the time the survey is open (the first a
# third of the way through, the second two thirds), and none for surveys open under a day.
MAX_REMINDERS = 2
MIN_WINDOW_FOR_REMINDERS = timedelta(days=1)


@dataclass(frozen=True)
class FeedbackGiven:
    """A person's answers to a survey of an offering are flushed (notified in the same
    transaction): completion rules listen."""

    user_id: int
    offering_id: int


class AlreadyAnswered(DomainError):
    """A second submission."""


class SurveyNotOpen(DomainError):
    """Answers before a survey opens or after it closes."""


# ---------------------------------------------------------------------------- permissions


def can_manage_surveys(user) -> bool:
    """Faculty and admins build surveys and read results (as they manage offerings)."""
    return can_manage(user)


def holds_place(user_id: int, offering_id: int) -> bool:
    """Whether the person's enrolment on the offering holds a place."""
    return bool(db.session.scalar(select(exists().where(
        Enrolment.user_id == user_id, Enrolment.offering_id == offering_id,
        Enrolment.state.in_(HOLDS_PLACE)))))


# ---------------------------------------------------------------------------- loading


def get_survey(survey_id: int) -> Survey:
    """A survey or template by id, or ``NotFound``."""
    survey = db.session.get(Survey, survey_id,
                            options=[leads_loaded(joinedload(Survey.offering))])
    if survey is None:
        raise NotFound("No such survey")
    return survey


def get_question(question_id: int) -> SurveyQuestion:
    """A question by id, or ``NotFound``."""
    question = db.session.get(SurveyQuestion, question_id)
    if question is None:
        raise NotFound("No such question")
    return question


def templates() -> list[Survey]:
    """Every template, the standard ones first, then by title."""
    return list(db.session.scalars(
        select(Survey).where(Survey.is_template.is_(True))
        .order_by(Survey.code.is_(None), func.lower(Survey.title))
    ))


def template_title(survey: Survey) -> str | None:
    """The name of the template a survey was made from, if any (without loading it)."""
    if survey.template_id is None:
        return None
    return db.session.scalar(select(Survey.title).where(Survey.id == survey.template_id))


def surveys_of(offering: Offering) -> list[Survey]:
    """The surveys attached to an offering or its sessions, earliest opening first."""
    return list(db.session.scalars(
        select(Survey).where(Survey.offering_id == offering.id)
        .order_by(Survey.opens_at.is_(None), Survey.opens_at, Survey.id)
    ))


# ---------------------------------------------------------------------------- state


class SurveyState(enum.StrEnum):
    TEMPLATE = "template"
    NOT_SCHEDULED = "not_scheduled"
    SCHEDULED = "scheduled"
    OPEN = "open"
    CLOSED = "closed"


STATE_LABELS = {
    SurveyState.TEMPLATE: "Template",
    SurveyState.NOT_SCHEDULED: "Not scheduled",
    SurveyState.SCHEDULED: "Not open yet",
    SurveyState.OPEN: "Open",
    SurveyState.CLOSED: "Closed",
}


def state_of(survey: Survey, now: datetime | None = None) -> SurveyState:
    """Where a survey is in its life: not scheduled, scheduled, open or closed."""
    if survey.is_template:
        return SurveyState.TEMPLATE
    if survey.opens_at is None or survey.closes_at is None:
        return SurveyState.NOT_SCHEDULED
    now = now or utcnow()
    if now < survey.opens_at:
        return SurveyState.SCHEDULED
    if now < survey.closes_at:
        return SurveyState.OPEN
    return SurveyState.CLOSED


# ---------------------------------------------------------------------------- answering


@dataclass(frozen=True)
class Answer:
    """One question's answer, checked: numbers (scale, rating, choice indexes) or a text."""

    question: SurveyQuestion
    numbers: tuple[int, ...] = ()
    text: str | None = None


def _question_id(name: str) -> int | None:
    match = re.fullmatch(r"q([0-9]{1,12})", name)
    return int(match.group(1)) if match else None


def _clean(values: Sequence[str] | str) -> list[str]:
    if isinstance(values, str):
        values = [values]
    return [v for v in values if v is not None and v.strip()]


def _check_one(question: SurveyQuestion, values: list[str], complete: bool) -> Answer | None:
    """One question's values, checked. ``None`` means unanswered."""
    label, where = question.text, f"q{question.id}"
    if question.kind in TEXT_KINDS:
        text = "\n".join(v.strip() for v in values).strip()
        limit = SHORT_TEXT_LIMIT if question.kind == QuestionKind.SHORT_TEXT else LONG_TEXT_LIMIT
        if len(text) > limit:
            raise DomainError(f"Your answer to ‘{label}’ must be {limit:,} characters or "
                              "fewer", where)
        if not text:
            if complete and question.required:
                raise DomainError(f"Enter an answer to ‘{label}’", where)
            return None
        return Answer(question, text=text)
    if not values:
        if complete and question.required:
            what = ("Select at least one option for" if question.kind
                    == QuestionKind.MULTIPLE_CHOICE else "Select an answer to")
            raise DomainError(f"{what} ‘{label}’", where)
        return None
    offered = {value for value, _ in question.options}
    try:
        numbers = [int(v.strip()) for v in values]
    except ValueError:
        numbers = [-1]
    if question.kind != QuestionKind.MULTIPLE_CHOICE and len(numbers) > 1:
        raise DomainError(f"Select only one answer to ‘{label}’", where)
    if len(set(numbers)) != len(numbers) or not set(numbers) <= offered:
        if question.kind == QuestionKind.AGREEMENT:
            message = (f"Select an answer between ‘{AGREEMENT_LABELS[0]}’ and "
                       f"‘{AGREEMENT_LABELS[-1]}’ for ‘{label}’")
        elif question.kind == QuestionKind.RATING:
            message = f"Select a number between 0 and 10 for ‘{label}’"
        else:
            message = f"Select one of the options shown for ‘{label}’"
        raise DomainError(message, where)
    return Answer(question, numbers=tuple(sorted(numbers)))


def check_answers(survey: Survey, form: Mapping[str, Sequence[str] | str], *,
                  complete: bool) -> tuple[dict[int, list[str]], list[Answer]]:
    """Read answers from form fields named ``q<question id>``; other fields are ignored.

    Returns what was given per question (to show again or keep as a draft) and the checked
    answers. Raises ``InvalidInput`` listing every problem: a question that is not in this
    survey, a choice not offered, a value out of range, and, when ``complete``, a required
    question left unanswered.
    """
    questions = {q.id: q for q in survey.questions}
    errors = ErrorCollector()
    given: dict[int, list[str]] = {}
    for name, values in form.items():
        question_id = _question_id(name)
        if question_id is None:
            continue
        if question_id not in questions:
            errors.errors.append((None, "Some answers were for a question that is not in this "
                                        "survey. Reload the page and try again."))
            continue
        given[question_id] = _clean(values)
    answers = []
    for question in survey.questions:
        answer = errors.check(_check_one, question, given.get(question.id, []), complete)
        if answer is not None:
            answers.append(answer)
    errors.raise_any()
    return given, answers


def _check_can_answer(user: User, survey: Survey) -> None:
    """Only people with a place on the survey's offering may see or answer it; for everyone
    else it does not exist."""
    if survey.is_template or survey.offering_id is None or not holds_place(
            user.id, survey.offering_id):
        raise NotFound("No such survey")


def _check_open(survey: Survey) -> None:
    state = state_of(survey)
    if state == SurveyState.OPEN:
        return
    if state == SurveyState.CLOSED:
        when = when_text(survey.closes_at)
        raise SurveyNotOpen(f"This survey closed on {when}. Your answers have not been saved.")
    if state == SurveyState.SCHEDULED:
        when = when_text(survey.opens_at)
        raise SurveyNotOpen(f"This survey opens on {when}. Your answers have not been saved.")
    raise SurveyNotOpen("This survey is not open. Your answers have not been saved.")


def has_responded(user_id: int, survey_id: int) -> bool:
    """Whether the person has sent their answers to this survey."""
    return bool(db.session.scalar(select(exists().where(
        SurveyRespondent.survey_id == survey_id, SurveyRespondent.user_id == user_id))))


def _check_not_answered(user: User, survey: Survey) -> None:
    if has_responded(user.id, survey.id):
        raise AlreadyAnswered("You have already answered this survey. Answers cannot change "
                              "once they are sent.")


def form_values(survey: Survey, form: Mapping[str, Sequence[str] | str]
                ) -> dict[int, list[str]]:
    """What a form gave for each of the survey's questions, unchecked (to show it again)."""
    ids = {q.id for q in survey.questions}
    values = {}
    for name, given in form.items():
        question_id = _question_id(name)
        if question_id in ids:
            values[question_id] = _clean(given)
    return values


def draft_of(user: User, survey: Survey) -> SurveyDraft | None:
    """The person's saved, unsent answers, if any."""
    return db.session.get(SurveyDraft, (survey.id, user.id))


def save_draft(user: User, survey: Survey, form: Mapping[str, Sequence[str] | str]
               ) -> SurveyDraft:
    """Keep the person's answers so far, checked except for completeness, to finish later."""
    begin_write()
    _check_can_answer(user, survey)
    _check_open(survey)
    _check_not_answered(user, survey)
    given, _ = check_answers(survey, form, complete=False)
    values = {str(qid): values for qid, values in given.items() if values}
    draft = draft_of(user, survey)
    if draft is None:
        draft = SurveyDraft(survey_id=survey.id, user_id=user.id, answers=values)
        db.session.add(draft)
    else:
        draft.answers = values
        draft.saved_at = utcnow()
    db.session.flush()
    return draft


def submit(user: User, survey: Survey, form: Mapping[str, Sequence[str] | str], *,
           rng: random.Random | None = None) -> None:
    """Send the person's answers, once. An anonymous survey's join its pending pool (``rng``:
    see ``pool.add``) and the draft is deleted; the only trace of the person is the row
    saying they answered, which links to nothing."""
    begin_write()
    pool.lock_survey(survey.id)
    _check_can_answer(user, survey)
    _check_open(survey)
    _check_not_answered(user, survey)
    _, answers = check_answers(survey, form, complete=True)
    try:
        # The primary key makes a second submission (even a simultaneous one) fail here,
        # before anything else is written.
        with db.session.begin_nested():
            db.session.add(SurveyRespondent(survey_id=survey.id, user_id=user.id))
    except IntegrityError:
        raise AlreadyAnswered("You have already answered this survey. Answers cannot change "
                              "once they are sent.") from None
    if survey.anonymous:
        pool.add(survey.id, pool.rows_of(answers), rng)
    else:
        _store_response(survey, user, answers, utcnow())
    draft = db.session.get(SurveyDraft, (survey.id, user.id))  # a row: renews their pages
    if draft is not None:                                      # (a bulk delete renewed all)
        db.session.delete(draft)
    db.session.flush()
    notify(FeedbackGiven(user.id, survey.offering_id))


def _store_response(survey: Survey, person: User | None, answers: Sequence[Answer],
                    at: datetime) -> SurveyResponse:
    """Write a response and its answers (the caller has done every check)."""
    named = not survey.anonymous
    response = SurveyResponse(survey_id=survey.id, anonymous=survey.anonymous,
                              user_id=person.id if named and person else None,
                              submitted_at=at if named else None)
    for answer in answers:
        if answer.text is not None:
            response.answers.append(SurveyAnswer(question_id=answer.question.id,
                                                 text=answer.text))
        for number in answer.numbers:
            response.answers.append(SurveyAnswer(question_id=answer.question.id,
                                                 number=number))
    db.session.add(response)
    db.session.flush()
    return response


# ---------------------------------------------------------------------------- completion rules


def has_answered(user_id: int, offering_id: int) -> bool:
    """Whether the person has sent answers to any survey of the offering or its sessions."""
    return bool(db.session.scalar(select(exists().where(
        SurveyRespondent.user_id == user_id,
        SurveyRespondent.survey_id == Survey.id,
        Survey.offering_id == offering_id,
    ))))


def answered_user_ids(offering_id: int) -> set[int]:
    """Everyone who has sent answers to any survey of the offering or its sessions (one
    query)."""
    return set(db.session.scalars(
        select(SurveyRespondent.user_id).distinct()
        .join(Survey, Survey.id == SurveyRespondent.survey_id)
        .where(Survey.offering_id == offering_id)
    ))


def answers_are_anonymous(offering_id: int) -> bool:
    """Whether any survey of the offering is anonymous. Then no page or API shows *who* has
    given feedback (only how many): "feedback given" changing for one person, next to the
    results, would name the author of an answer."""
    return bool(db.session.scalar(select(exists().where(
        Survey.offering_id == offering_id, Survey.anonymous.is_(True)))))


def has_survey(offering_id: int) -> bool:
    """Whether the offering (or one of its sessions) has a survey at all."""
    return bool(db.session.scalar(select(exists().where(Survey.offering_id == offering_id))))


def eligible_count(survey: Survey) -> int:
    """How many people hold a place on the survey's offering (those who may answer)."""
    if survey.offering_id is None:
        return 0
    return db.session.scalar(select(func.count(Enrolment.id)).where(
        Enrolment.offering_id == survey.offering_id, Enrolment.state.in_(HOLDS_PLACE))) or 0


# ---------------------------------------------------------------------------- reminders


def reminder_due_at(survey: Survey, number: int) -> datetime | None:
    """When reminder ``number`` (1-based) falls due, or ``None`` if the survey gets none."""
    if survey.opens_at is None or survey.closes_at is None or not 1 <= number <= MAX_REMINDERS:
        return None
    window = survey.closes_at - survey.opens_at
    if window < MIN_WINDOW_FOR_REMINDERS:
        return None
    return survey.opens_at + window * number / (MAX_REMINDERS + 1)


def _due_number(survey: Survey, now: datetime) -> int:
    due = 0
    for number in range(1, MAX_REMINDERS + 1):
        at = reminder_due_at(survey, number)
        if at is not None and at <= now:
            due = number
    return due


def send_reminders(now: datetime | None = None) -> int:
    """Email people with a place who have not answered an open survey, at most
    ``MAX_REMINDERS`` times each, spread over the time it is open. If the job missed a
    reminder, only the latest one due is sent, so nobody gets two at once.

    Returns how many were queued (not people who switched them off). Each is claimed by a
    ``SurveyReminder`` row (unique per survey, person and number) in the same transaction,
    so a second scheduler or a rerun sends nothing twice. Flushes; the job commits.
    """
    now = now or utcnow()
    survey_ids = db.session.scalars(
        select(Survey.id).where(Survey.is_template.is_(False), Survey.opens_at <= now,
                                Survey.closes_at > now).order_by(Survey.id)
    ).all()
    sent = 0
    for survey_id in survey_ids:
        begin_write()
        survey = db.session.get(Survey, survey_id)
        number = _due_number(survey, now) if survey else 0
        if number == 0:
            continue
        people = db.session.scalars(
            select(User).join(Enrolment, Enrolment.user_id == User.id)
            .where(Enrolment.offering_id == survey.offering_id,
                   Enrolment.state.in_(HOLDS_PLACE), User.is_active_account.is_(True),
                   ~exists().where(SurveyRespondent.survey_id == survey.id,
                                   SurveyRespondent.user_id == User.id),
                   ~exists().where(SurveyReminder.survey_id == survey.id,
                                   SurveyReminder.user_id == User.id,
                                   SurveyReminder.number >= number))
            .order_by(User.id)
        ).all()
        for person in people:
            try:
                with db.session.begin_nested():
                    db.session.add(SurveyReminder(survey_id=survey.id, user_id=person.id,
                                                  number=number))
            except IntegrityError:
                continue
            if _remind(survey, person, number):
                sent += 1
    return sent


def _remind(survey: Survey, person: User, number: int) -> bool:
    offering = survey.offering
    return queue_email(
        person.email, f"Reminder: tell us what you thought of {offering.title}",
        "feedback/reminder", optional="feedback_reminders", person=person,
        survey=survey, offering=offering, number=number, last=number == MAX_REMINDERS,
        closes=when_text(survey.closes_at),
        answer_url=link("feedback.answer", id=survey.id),
    ) is not None
