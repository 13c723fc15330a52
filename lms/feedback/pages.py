"""What the feedback pages show: offerings with their surveys, a person's answer sheet, and the
surveys open to them now."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import exists, func, select

from lms.accounts.models import User
from lms.clock import utcnow
from lms.extensions import db
from lms.feedback.models import (
    Survey,
    SurveyAnswer,
    SurveyDraft,
    SurveyQuestion,
    SurveyRespondent,
    SurveyResponse,
)
from lms.feedback.services import SurveyState, _check_can_answer, draft_of, has_responded, state_of
from lms.offerings.models import HOLDS_PLACE, Enrolment, Offering


@dataclass(frozen=True)
class OfferingSurveys:
    offering: Offering
    surveys: int


def offerings_with_surveys() -> list[OfferingSurveys]:
    """Every offering that is not a draft or cancelled, newest first, with how many surveys
    it has (one query)."""
    count = (select(func.count(Survey.id)).where(Survey.offering_id == Offering.id)
             .correlate(Offering).scalar_subquery())
    rows = db.session.execute(
        select(Offering, count)
        .where(Offering.status.not_in(("draft", "cancelled")))
        .order_by(Offering.id.desc())
    ).all()
    return [OfferingSurveys(offering, n) for offering, n in rows]


def counts_for(survey_ids: Sequence[int]) -> dict[int, int]:
    """How many people have answered each survey (one query)."""
    if not survey_ids:
        return {}
    rows = db.session.execute(
        select(SurveyRespondent.survey_id, func.count())
        .where(SurveyRespondent.survey_id.in_(survey_ids))
        .group_by(SurveyRespondent.survey_id)
    ).all()
    return dict(rows)


@dataclass
class AnswerSheet:
    """What a person's answer page shows."""

    survey: Survey
    state: SurveyState
    answered: bool
    values: dict[int, list[str]] = field(default_factory=dict)
    draft_saved_at: datetime | None = None
    # A named survey's submitted answers, to show back: (question, answer as words).
    mine: list[tuple[SurveyQuestion, str]] = field(default_factory=list)

    @property
    def can_answer(self) -> bool:
        return self.state == SurveyState.OPEN and not self.answered


def answer_sheet(user: User, survey: Survey) -> AnswerSheet:
    """A person's view of a survey: open or not, answered or not, their draft, and (for a
    named survey they answered) what they said. ``NotFound`` for people without a place."""
    _check_can_answer(user, survey)
    sheet = AnswerSheet(survey, state_of(survey), has_responded(user.id, survey.id))
    if sheet.answered:
        if not survey.anonymous:
            sheet.mine = _named_answers(user, survey)
        return sheet
    draft = draft_of(user, survey)
    if draft is not None:
        sheet.values = {int(k): list(v) for k, v in draft.answers.items()}
        sheet.draft_saved_at = draft.saved_at
    return sheet


def describe(question: SurveyQuestion, numbers: Sequence[int], text: str | None) -> str:
    """An answer in words."""
    if text is not None:
        return text
    labels = dict(question.options)
    return "; ".join(labels.get(n, str(n)) for n in numbers)


def _named_answers(user: User, survey: Survey) -> list[tuple[SurveyQuestion, str]]:
    response = db.session.scalar(select(SurveyResponse).where(
        SurveyResponse.survey_id == survey.id, SurveyResponse.user_id == user.id))
    if response is None:
        return []
    by_question: dict[int, list[SurveyAnswer]] = {}
    for answer in response.answers:
        by_question.setdefault(answer.question_id, []).append(answer)
    shown = []
    for question in survey.questions:
        rows = by_question.get(question.id, [])
        text = next((r.text for r in rows if r.text is not None), None)
        numbers = sorted(r.number for r in rows if r.number is not None)
        shown.append((question, describe(question, numbers, text) if rows else "Not answered"))
    return shown


@dataclass(frozen=True)
class OpenSurvey:
    survey: Survey
    answered: bool
    has_draft: bool


def open_surveys_for(user: User, now: datetime | None = None) -> list[OpenSurvey]:
    """Surveys open now on offerings where the person holds a place, closing soonest first,
    with whether they have answered or saved a draft (one query)."""
    now = now or utcnow()
    answered_q = exists().where(SurveyRespondent.survey_id == Survey.id,
                                SurveyRespondent.user_id == user.id)
    draft_q = exists().where(SurveyDraft.survey_id == Survey.id,
                             SurveyDraft.user_id == user.id)
    rows = db.session.execute(
        select(Survey, answered_q, draft_q)
        .join(Enrolment, Enrolment.offering_id == Survey.offering_id)
        .where(Enrolment.user_id == user.id, Enrolment.state.in_(HOLDS_PLACE),
               Survey.is_template.is_(False), Survey.opens_at <= now, Survey.closes_at > now)
        .order_by(Survey.closes_at, Survey.id)
    ).all()
    return [OpenSurvey(survey, bool(a), bool(d)) for survey, a, d in rows]
