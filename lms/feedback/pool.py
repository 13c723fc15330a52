"""Anonymous answers on their way to the results: the pending pool and the batched release.

An anonymous survey's answers never go straight into the results, where a faculty member
comparing the results before and after one person answered would see that person's answers,
and where the order of rows on disk (SQLite's rowid, PostgreSQL's ``ctid``) or the writing
transaction (``xmin``) would pair them with the row saying that person answered.

- ``add``: the answers join the survey's pool (``SurveyPendingResponse``: a random key, the
  survey, the answers; no person, no time). The whole pool is deleted and written again,
  shuffled, with fresh keys, so every pending row comes from the latest submission's
  transaction, in no particular order.
- ``release``: at most once a day and only with at least ``ANONYMITY_THRESHOLD`` waiting, or
  once the survey has closed, the pool goes into ``SurveyResponse``/``SurveyAnswer`` in one
  transaction: shuffled, each row with a new random id. ``lms.jobs.release_answers_job`` runs
  it; under the survey's lock a second run finds nothing due.

Services here flush and never commit.
"""

from __future__ import annotations

import random
import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import delete, exists, func, insert, select, update

from lms.clock import utcnow
from lms.extensions import begin_write, db
from lms.feedback.models import (
    ANONYMITY_THRESHOLD,
    Survey,
    SurveyAnswer,
    SurveyPendingResponse,
    SurveyResponse,
)

if TYPE_CHECKING:
    from lms.feedback.services import Answer

# Anonymous answers reach the results at most this often (and when the survey closes).
RELEASE_INTERVAL = timedelta(days=1)


def lock_survey(survey_id: int) -> None:
    """Hold the survey's row until commit (PostgreSQL; on SQLite ``begin_write`` already holds
    the write lock), so a pool is never rewritten and released at the same time."""
    db.session.execute(select(Survey.id).where(Survey.id == survey_id).with_for_update())


def _key(rng: random.Random) -> str:
    return f"{rng.getrandbits(128):032x}"


def rows_of(answers: Iterable[Answer]) -> list[list]:
    """Checked answers as the pool keeps them: ``[question id, number or null, text or
    null]``, one per ``SurveyAnswer`` to write."""
    rows: list[list] = []
    for answer in answers:
        if answer.text is not None:
            rows.append([answer.question.id, None, answer.text])
        rows.extend([answer.question.id, number, None] for number in answer.numbers)
    return rows


def add(survey_id: int, rows: list[list], rng: random.Random | None = None) -> None:
    """Add one person's answers (``[question id, number or null, text or null]`` each) to the
    survey's pool, rewriting the whole pool shuffled with fresh random keys. The caller holds
    the survey's lock. ``rng`` (tests only) fixes the shuffle and keys; by default they come
    from the system's secure source."""
    rng = rng or secrets.SystemRandom()
    waiting = [row.answers for row in db.session.scalars(
        select(SurveyPendingResponse).where(SurveyPendingResponse.survey_id == survey_id))]
    waiting.append(rows)
    rng.shuffle(waiting)
    db.session.execute(delete(SurveyPendingResponse).where(
        SurveyPendingResponse.survey_id == survey_id))
    db.session.execute(insert(SurveyPendingResponse), [
        {"id": _key(rng), "survey_id": survey_id, "answers": answers} for answers in waiting])


def pending_count(survey_id: int) -> int:
    """How many anonymous answers wait to be released into the results."""
    return db.session.scalar(select(func.count()).select_from(SurveyPendingResponse).where(
        SurveyPendingResponse.survey_id == survey_id)) or 0


def release_due(survey: Survey, pending: int, now: datetime) -> bool:
    """Whether the survey's pending answers go into the results now: once it has closed, or
    when at least ``ANONYMITY_THRESHOLD`` are waiting and the last release was a day ago."""
    if pending == 0:
        return False
    if survey.closes_at is not None and survey.closes_at <= now:
        return True
    return pending >= ANONYMITY_THRESHOLD and (
        survey.released_at is None or now - survey.released_at >= RELEASE_INTERVAL)


def surveys_due_release(now: datetime | None = None) -> list[int]:
    """Surveys whose pending anonymous answers are due to be released (one query)."""
    now = now or utcnow()
    pending = (select(func.count()).where(SurveyPendingResponse.survey_id == Survey.id)
               .correlate(Survey).scalar_subquery())
    rows = db.session.execute(
        select(Survey, pending)
        .where(exists().where(SurveyPendingResponse.survey_id == Survey.id))
        .order_by(Survey.id)
    ).all()
    return [survey.id for survey, n in rows if release_due(survey, n, now)]


def release(survey_id: int, now: datetime | None = None, *,
            rng: random.Random | None = None) -> int:
    """Move a survey's pending anonymous answers into the results, if due: every response
    and answer gets a fresh random id and all are written in one shuffled batch, then the
    pool is emptied. Idempotent: under the survey's lock, a second run finds nothing due.
    Returns how many responses were released. Flushes; the job commits."""
    now = now or utcnow()
    rng = rng or secrets.SystemRandom()
    begin_write()
    lock_survey(survey_id)
    survey = db.session.get(Survey, survey_id)
    if survey is None:
        return 0
    db.session.refresh(survey)
    batches = [row.answers for row in db.session.scalars(select(SurveyPendingResponse).where(
        SurveyPendingResponse.survey_id == survey_id))]
    if not release_due(survey, len(batches), now):
        return 0
    rng.shuffle(batches)
    responses, answers = [], []
    for rows in batches:
        response_id = rng.randrange(1, 2**53)
        responses.append({"id": response_id, "survey_id": survey_id, "anonymous": True})
        answers.extend({"id": rng.randrange(1, 2**53), "response_id": response_id,
                        "question_id": question_id, "number": number, "text": text}
                       for question_id, number, text in rows)
    rng.shuffle(answers)
    db.session.execute(delete(SurveyPendingResponse).where(
        SurveyPendingResponse.survey_id == survey_id))
    db.session.execute(insert(SurveyResponse), responses)
    if answers:
        db.session.execute(insert(SurveyAnswer), answers)
    db.session.execute(update(Survey).where(Survey.id == survey_id).values(released_at=now))
    db.session.flush()
    db.session.expire(survey)
    return len(responses)
