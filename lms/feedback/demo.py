"""Demo feedback: the standard template, and surveys with realistic answers on the running
and finished offerings the other demos made (most anonymous, some named). Idempotent:
offerings that already have a survey are left alone. Flushes; ``lms.demo`` commits."""

from __future__ import annotations

import random
from datetime import timedelta

from sqlalchemy import select

from lms.accounts.models import User
from lms.clock import utcnow
from lms.extensions import db
from lms.feedback import builder, services
from lms.feedback.models import (
    AGREEMENT_LABELS,
    QuestionKind,
    Survey,
    SurveyQuestion,
    SurveyRespondent,
)
from lms.offerings.models import HOLDS_PLACE, Enrolment, Offering, OfferingStatus

TAKEAWAYS = [
    "Start with the decision, not the data.",
    "Plot the data before modelling it.",
    "Prediction intervals matter more than the point forecast.",
    "Ask what would change the decision.",
    "Write the question down before opening R.",
    "Talk to the service before building the dashboard.",
    "Seasonality in A&E is stronger than I thought.",
    "Sharing code with other ICSs saves weeks.",
    "Use simple models first and explain them well.",
    "Scenario planning beats a single number.",
]
BETTER = [
    "More time for the practical exercises, please.",
    "The pre-reading arrived late.",
    "Some slides were hard to read on a laptop screen.",
    "Break-out groups were too big to discuss properly.",
    "Would like the recording shared sooner.",
    "A little more on how to present uncertainty to boards.",
    "Sound quality dropped in the second half.",
    "Longer breaks in the afternoon.",
    "Examples from primary care as well as acute trusts.",
    "Nothing, it was excellent.",
]
OTHER = [
    "Thank you to the facilitators, really well run.",
    "Great to meet analysts from across the Midlands.",
    "I will share the materials with my team.",
    "Please run this again for new starters.",
    "The case study from Nottinghamshire was very useful.",
    "Looking forward to the next module.",
]
# Answers lean positive, as real course feedback does.
AGREEMENT_WEIGHTS = [2, 5, 13, 45, 35]
RATING_WEIGHTS = [1, 0, 1, 1, 2, 4, 6, 14, 26, 24, 21]


def _answers(rng: random.Random, question: SurveyQuestion) -> list[str]:
    kind = question.kind
    if kind == QuestionKind.AGREEMENT:
        return [str(rng.choices(range(1, len(AGREEMENT_LABELS) + 1), AGREEMENT_WEIGHTS)[0])]
    if kind == QuestionKind.RATING:
        return [str(rng.choices(range(11), RATING_WEIGHTS)[0])]
    if kind == QuestionKind.SINGLE_CHOICE:
        weights = ([5, 3] + [1] * len(question.choices))[: len(question.choices)]
        return [str(rng.choices(range(len(question.choices)), weights)[0])]
    if kind == QuestionKind.MULTIPLE_CHOICE:
        picked = rng.sample(range(len(question.choices)), k=rng.randint(1, 3))
        return [str(n) for n in sorted(picked)]
    if not question.required and rng.random() < 0.55:
        return []
    pool = TAKEAWAYS if kind == QuestionKind.SHORT_TEXT else (
        BETTER if "better" in question.text.lower() else OTHER)
    return [rng.choice(pool)]


def _holders(offering_id: int) -> list[User]:
    return list(db.session.scalars(
        select(User).join(Enrolment, Enrolment.user_id == User.id)
        .where(Enrolment.offering_id == offering_id, Enrolment.state.in_(HOLDS_PLACE))
        .order_by(User.id)
    ))


def _answer(rng: random.Random, survey: Survey, person: User) -> None:
    form = {f"q{q.id}": _answers(rng, q) for q in survey.questions}
    _, answers = services.check_answers(survey, form, complete=True)
    at = survey.opens_at + (survey.closes_at - survey.opens_at) * rng.random() / 2
    db.session.add(SurveyRespondent(survey_id=survey.id, user_id=person.id))
    services._store_response(survey, person, answers, min(at, utcnow()))


def seed(rng: random.Random | None = None) -> dict[str, int]:
    """The standard template, then a survey (from it) for each running or finished offering
    without one. Finished ones closed with most people answered; running ones open now, with
    the demo learner left to answer for themselves."""
    rng = rng or random.Random(2028)
    added = builder.ensure_standard_templates()
    template = db.session.scalar(select(Survey).where(
        Survey.code == builder.STANDARD_TEMPLATE_CODE))
    faculty = db.session.scalar(select(User).where(User.email == "faculty@example.nhs.uk"))
    offerings = db.session.scalars(
        select(Offering).where(Offering.status.in_((OfferingStatus.FINISHED,
                                                    OfferingStatus.RUNNING)))
        .order_by(Offering.id)
    ).all()
    now = utcnow()
    surveys = responses = 0
    for index, offering in enumerate(offerings):
        if services.has_survey(offering.id):
            continue
        survey = builder.create_survey(faculty, offering, str(template.id))
        # Most surveys anonymous, every third one named.
        survey.anonymous = index % 3 != 2
        finished = offering.status == OfferingStatus.FINISHED
        if finished:
            ended = offering.ends_at or now - timedelta(days=30)
            survey.opens_at = min(ended, now - timedelta(days=15))
            survey.closes_at = survey.opens_at + timedelta(days=14)
        else:
            survey.opens_at, survey.closes_at = now - timedelta(days=2), now + timedelta(days=12)
        db.session.flush()
        surveys += 1
        share = 0.8 if finished else 0.45
        for person in _holders(offering.id):
            if not finished and person.email == "learner@example.nhs.uk":
                continue
            if rng.random() < share:
                _answer(rng, survey, person)
                responses += 1
    db.session.flush()
    return {"survey templates": added, "surveys": surveys, "survey responses": responses}
