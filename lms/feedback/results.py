"""Results of a survey, and the comparison of cohorts of one course: counted in the database,
so a page costs the same few queries whether ten people answered or ten thousand.

Results of an anonymous survey stay hidden until ``ANONYMITY_THRESHOLD`` people have
answered. Free-text answers are shown in random order (a fresh order each time), and at most
``TEXTS_SHOWN`` per question on the page; the exports hold them all.
"""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import func, select

from lms.courses.models import Cohort, Course
from lms.extensions import db
from lms.feedback.models import (
    ANONYMITY_THRESHOLD,
    SCALE_KINDS,
    TEXT_KINDS,
    QuestionKind,
    Survey,
    SurveyAnswer,
    SurveyQuestion,
    SurveyResponse,
)
from lms.feedback.services import eligible_count

TEXTS_SHOWN = 100


@dataclass(frozen=True)
class Bar:
    """One answer's count, and its share of the people who answered the question."""

    label: str
    count: int
    percent: int


@dataclass
class QuestionResult:
    question: SurveyQuestion
    answered: int = 0
    bars: list[Bar] = field(default_factory=list)
    average: float | None = None
    # Agreement questions: the share who agreed or strongly agreed.
    agreed_percent: int | None = None
    texts: list[str] = field(default_factory=list)
    # An anonymous survey's question answered by fewer than the threshold: nothing shown.
    withheld: bool = False

    @property
    def is_text(self) -> bool:
        return self.question.kind in TEXT_KINDS

    @property
    def scale_top(self) -> int | None:
        return {QuestionKind.AGREEMENT: 5, QuestionKind.RATING: 10}.get(self.question.kind)


@dataclass
class SurveyResults:
    survey: Survey
    responses: int
    eligible: int
    hidden: bool
    questions: list[QuestionResult] = field(default_factory=list)


def response_count(survey_id: int) -> int:
    """How many responses a survey has."""
    return db.session.scalar(select(func.count()).select_from(SurveyResponse).where(
        SurveyResponse.survey_id == survey_id)) or 0


def is_hidden(survey: Survey, responses: int) -> bool:
    """Whether an anonymous survey has too few answers to show without exposing people."""
    return survey.anonymous and responses < ANONYMITY_THRESHOLD


def _percent(part: int, whole: int) -> int:
    return round(100 * part / whole) if whole else 0


def _bars(question: SurveyQuestion, counts: dict[int, int], answered: int) -> list[Bar]:
    return [Bar(label, counts.get(value, 0), _percent(counts.get(value, 0), answered))
            for value, label in question.options]


def withheld(survey: Survey, answered: int) -> bool:
    """Whether an anonymous survey's figure counts too few answers to show: a filter, a
    comparison or an optional question never narrows a result below the threshold."""
    return survey.anonymous and 0 < answered < ANONYMITY_THRESHOLD


def question_result(question: SurveyQuestion, counts: dict[int, int], answered: int,
                    texts: list[str] | None = None) -> QuestionResult:
    """One question's counts as bars, with its average and share agreeing where they apply;
    nothing but the count when that would show fewer than the threshold of anonymous
    answers."""
    if withheld(question.survey, answered):
        return QuestionResult(question, answered, withheld=True)
    result = QuestionResult(question, answered, texts=texts or [])
    if question.kind in TEXT_KINDS:
        return result
    result.bars = _bars(question, counts, answered)
    if question.kind in SCALE_KINDS and answered:
        total = sum(value * n for value, n in counts.items())
        result.average = round(total / sum(counts.values()), 1)
    if question.kind == QuestionKind.AGREEMENT:
        result.agreed_percent = _percent(counts.get(4, 0) + counts.get(5, 0), answered)
    return result


def survey_results(survey: Survey, *, rng: random.Random | None = None) -> SurveyResults:
    """Counts, averages and distributions per question, and free text in random order.

    Queries: the response count and the people with a place, then (unless hidden) one for the
    counts of every answer, one for how many answered each question, and one for a random
    sample of free text; none depends on the number of responses.
    """
    responses = response_count(survey.id)
    results = SurveyResults(survey, responses, eligible_count(survey),
                            is_hidden(survey, responses))
    if results.hidden or not survey.questions:
        return results
    question_ids = [q.id for q in survey.questions]
    counts: dict[int, dict[int, int]] = defaultdict(dict)
    for question_id, number, n in db.session.execute(
        select(SurveyAnswer.question_id, SurveyAnswer.number, func.count())
        .where(SurveyAnswer.question_id.in_(question_ids), SurveyAnswer.number.is_not(None))
        .group_by(SurveyAnswer.question_id, SurveyAnswer.number)
    ):
        counts[question_id][number] = n
    answered = dict(db.session.execute(
        select(SurveyAnswer.question_id, func.count(func.distinct(SurveyAnswer.response_id)))
        .where(SurveyAnswer.question_id.in_(question_ids))
        .group_by(SurveyAnswer.question_id)
    ).all())
    texts = _text_sample([q.id for q in survey.questions if q.kind in TEXT_KINDS], rng)
    results.questions = [
        question_result(q, counts.get(q.id, {}), answered.get(q.id, 0), texts.get(q.id))
        for q in survey.questions
    ]
    return results


def _text_sample(question_ids: list[int], rng: random.Random | None) -> dict[int, list[str]]:
    """Up to ``TEXTS_SHOWN`` free-text answers per question, chosen and ordered at random, so
    neither the order of answering nor one person's answers across questions line up."""
    if not question_ids:
        return {}
    ranked = (
        select(SurveyAnswer.question_id, SurveyAnswer.text,
               func.row_number().over(partition_by=SurveyAnswer.question_id,
                                      order_by=func.random()).label("n"))
        .where(SurveyAnswer.question_id.in_(question_ids), SurveyAnswer.text.is_not(None))
        .subquery()
    )
    texts: dict[int, list[str]] = defaultdict(list)
    for question_id, text in db.session.execute(
        select(ranked.c.question_id, ranked.c.text).where(ranked.c.n <= TEXTS_SHOWN)
    ):
        texts[question_id].append(text)
    shuffle = (rng or random.Random()).shuffle
    for values in texts.values():
        shuffle(values)
    return texts


# ---------------------------------------------------------------------------- comparison


@dataclass
class CompareColumn:
    survey: Survey
    cohort: Cohort
    responses: int
    hidden: bool


@dataclass
class CompareRow:
    """A template question, and its result in each cohort (``None``: not asked there, or
    asked differently, or hidden)."""

    question: SurveyQuestion
    cells: list[QuestionResult | None]


@dataclass
class Comparison:
    survey: Survey
    template: Survey
    course: Course
    columns: list[CompareColumn]
    rows: list[CompareRow]


def can_compare(survey: Survey) -> bool:
    """Surveys of cohorts made from a template can be compared across the course's cohorts."""
    return (not survey.is_template and survey.template_id is not None
            and isinstance(survey.offering, Cohort))


def comparison(survey: Survey) -> Comparison | None:
    """The surveys made from the same template for every cohort of the same course, side by
    side, question by question (the closed questions: scales and choices). A fixed number of
    queries, whatever the number of cohorts or responses."""
    if not can_compare(survey):
        return None
    template = db.session.get(Survey, survey.template_id)
    if template is None:
        return None
    siblings = db.session.execute(
        select(Survey, Cohort).join(Cohort, Cohort.id == Survey.offering_id)
        .where(Survey.template_id == template.id, Survey.is_template.is_(False),
               Cohort.course_id == survey.offering.course_id)
        .order_by(Survey.opens_at.is_(None), Survey.opens_at, Survey.id)
    ).all()
    ids = [s.id for s, _ in siblings]
    responses = dict(db.session.execute(
        select(SurveyResponse.survey_id, func.count()).where(SurveyResponse.survey_id.in_(ids))
        .group_by(SurveyResponse.survey_id)
    ).all())
    columns = [CompareColumn(s, c, responses.get(s.id, 0), is_hidden(s, responses.get(s.id, 0)))
               for s, c in siblings]
    closed = [q for q in template.questions if q.kind not in TEXT_KINDS]
    # A copy counts only while it asks the same thing in the same way as the template.
    copies = {
        (q.survey_id, q.template_question_id): q
        for q in db.session.scalars(select(SurveyQuestion).where(
            SurveyQuestion.survey_id.in_(ids),
            SurveyQuestion.template_question_id.in_([q.id for q in closed])))
    }
    counts: dict[tuple[int, int], dict[int, int]] = defaultdict(dict)
    answered: dict[tuple[int, int], int] = {}
    copy_ids = [q.id for q in copies.values()]
    for survey_id, tq_id, number, n in db.session.execute(
        select(SurveyQuestion.survey_id, SurveyQuestion.template_question_id,
               SurveyAnswer.number, func.count())
        .join(SurveyAnswer, SurveyAnswer.question_id == SurveyQuestion.id)
        .where(SurveyQuestion.id.in_(copy_ids), SurveyAnswer.number.is_not(None))
        .group_by(SurveyQuestion.survey_id, SurveyQuestion.template_question_id,
                  SurveyAnswer.number)
    ):
        counts[(survey_id, tq_id)][number] = n
    for survey_id, tq_id, n in db.session.execute(
        select(SurveyQuestion.survey_id, SurveyQuestion.template_question_id,
               func.count(func.distinct(SurveyAnswer.response_id)))
        .join(SurveyAnswer, SurveyAnswer.question_id == SurveyQuestion.id)
        .where(SurveyQuestion.id.in_(copy_ids))
        .group_by(SurveyQuestion.survey_id, SurveyQuestion.template_question_id)
    ):
        answered[(survey_id, tq_id)] = n
    rows = []
    for question in closed:
        cells: list[QuestionResult | None] = []
        for column in columns:
            copy = copies.get((column.survey.id, question.id))
            same = copy is not None and copy.kind == question.kind and (
                copy.choices == question.choices)
            if column.hidden or not same:
                cells.append(None)
                continue
            key = (column.survey.id, question.id)
            cell = question_result(copy, counts.get(key, {}), answered.get(key, 0))
            cells.append(None if cell.withheld else cell)
        rows.append(CompareRow(question, cells))
    course = next(c.course for s, c in siblings if s.id == survey.id)
    return Comparison(survey, template, course, columns, rows)
