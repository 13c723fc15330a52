"""Feedback on PostgreSQL, what production runs on: the schema's anonymity constraint, answers
and results counted in SQL (with the random sample of free text), exports, reminders
claimed once, and two people racing to send the same person's answers twice."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError

from lms.accounts.models import Organisation, User
from lms.clock import utcnow
from lms.courses.models import Cohort, Course
from lms.extensions import db
from lms.feedback import builder, exports, pool, results
from lms.feedback import services as svc
from lms.feedback.models import (
    SurveyPendingResponse,
    SurveyReminder,
    SurveyRespondent,
    SurveyResponse,
)
from lms.offerings.models import Enrolment, Session
from tests.test_feedback_services import full_answers, question

pytestmark = pytest.mark.postgres


def _world(people: int) -> tuple[int, list[int]]:
    """A running cohort with ``people`` places and an open anonymous survey."""
    organisation = db.session.scalar(select(Organisation).where(Organisation.code == "BSOL"))
    course = Course(title="Forecasting", summary="s", kind="short_course",
                    strand="analytical_capability", format="online")
    cohort = Cohort(course=course, name="Spring", title="Forecasting: Spring", status="running")
    start = utcnow() - timedelta(days=2)
    cohort.sessions.append(Session(starts_at=start, ends_at=start + timedelta(hours=2)))
    db.session.add(cohort)
    users = [User(email=f"pg{n}@example.nhs.uk", full_name=f"Pg {n}", job_title="",
                  organisation=organisation) for n in range(people)]
    db.session.add_all(users)
    db.session.flush()
    for user in users:
        db.session.add(Enrolment(offering_id=cohort.id, user_id=user.id, state="enrolled"))
    builder.ensure_standard_templates()
    survey = builder.create_survey(None, cohort, str(svc.templates()[0].id))
    survey.opens_at, survey.closes_at = utcnow() - timedelta(hours=1), utcnow() + timedelta(
        days=9)
    db.session.commit()
    return survey.id, [u.id for u in users]


def test_answers_results_and_exports_on_postgresql(pg_app: Flask):
    with pg_app.test_request_context():
        survey_id, user_ids = _world(6)
        survey = svc.get_survey(survey_id)
        short = question(survey, "short_text")
        for n, user_id in enumerate(user_ids):
            svc.submit(db.session.get(User, user_id), survey,
                       full_answers(survey, **{f"q{short.id}": [f"=cmd {n}"]}))
        db.session.commit()
        assert pool.release(survey_id, survey.closes_at) == 6
        db.session.commit()
        row = db.session.execute(text("SELECT user_id, submitted_at FROM survey_response "
                                      "LIMIT 1")).one()
        assert tuple(row) == (None, None)
        found = results.survey_results(svc.get_survey(survey_id))
        assert not found.hidden and found.responses == 6
        assert sorted(found.questions[short.position - 1].texts) == sorted(
            f"=cmd {n}" for n in range(6))
        assert found.questions[0].average == 4.0
        data = exports.to_csv(svc.get_survey(survey_id)).decode("utf-8-sig")
        assert "'=cmd 0" in data and "Pg 0" not in data
        with pytest.raises(IntegrityError), db.session.begin_nested():
            db.session.add(SurveyResponse(survey_id=survey_id, anonymous=True,
                                          user_id=user_ids[0]))
            db.session.flush()


def test_reminders_are_claimed_once_on_postgresql(pg_app: Flask):
    with pg_app.test_request_context():
        survey_id, user_ids = _world(3)
        due = svc.reminder_due_at(svc.get_survey(survey_id), 1)
        db.session.commit()
        assert svc.send_reminders(due) == 3
        assert svc.send_reminders(due) == 0
        assert db.session.scalar(select(func.count()).select_from(SurveyReminder)) == 3


def test_two_submissions_racing_store_one_response(pg_app: Flask):
    with pg_app.test_request_context():
        survey_id, (user_id,) = _world(1)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def send() -> None:
        with pg_app.test_request_context():
            survey = svc.get_survey(survey_id)
            person = db.session.get(User, user_id)
            form = full_answers(survey)
            barrier.wait()
            try:
                svc.submit(person, survey, form)
                db.session.commit()
                outcomes.append("sent")
            except svc.AlreadyAnswered:
                db.session.rollback()
                outcomes.append("refused")
            finally:
                db.session.remove()

    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes) == ["refused", "sent"]
    with pg_app.app_context():
        assert db.session.scalar(select(func.count()).select_from(SurveyPendingResponse)) == 1
        assert db.session.scalar(select(func.count()).select_from(SurveyRespondent)) == 1
