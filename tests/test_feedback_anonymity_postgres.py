"""The "attacker with the database" of issue 16 on PostgreSQL, what production runs on: besides
every column, the attacker orders rows by their physical place (``ctid``) and by the
transaction that wrote them (``xmin``), and must still pair respondents with answers no better
than chance, both while the answers wait in the pool and once they are released. The bound
and the heuristics are those of ``test_feedback_anonymity.py``."""

from __future__ import annotations

import random

import pytest
from flask import Flask
from sqlalchemy import text

from lms.accounts.models import User
from lms.clock import utcnow
from lms.extensions import db
from lms.feedback import pool
from lms.feedback import services as svc
from tests.test_feedback_anonymity import (
    RESPONDENTS,
    answer_orders,
    assert_chance,
    build_respondents,
    pool_orders,
    respondent_orders,
)
from tests.test_feedback_postgres import _world
from tests.test_feedback_services import full_answers, question

pytestmark = pytest.mark.postgres

XMIN = "xmin::text::bigint"


def _query(sql: str) -> list[tuple]:
    return [tuple(row) for row in db.session.execute(text(sql)).all()]


def test_postgresql_pairs_no_respondent_with_an_answer(pg_app: Flask):
    with pg_app.test_request_context():
        survey_id, user_ids = _world(RESPONDENTS)
        survey = svc.get_survey(survey_id)
        short = question(survey, "short_text")
        truth = build_respondents(lambda n: db.session.get(User, user_ids[n]), survey,
                                  seed=16, commit=db.session.commit)
        respondents = respondent_orders(_query, survey_id, ("ctid", XMIN))
        # Every pending row was rewritten by the last submission: one transaction id for all.
        assert len(_query("SELECT DISTINCT xmin::text FROM survey_pending_response")) == 1
        assert_chance(truth, respondents, pool_orders(
            _query, survey_id, short.id, ("ctid", XMIN), ("id", "survey_id", "answers::text")))

        assert pool.release(survey_id, utcnow(), rng=random.Random(1616)) == RESPONDENTS
        db.session.commit()
        assert _query("SELECT count(*) FROM survey_pending_response") == [(0,)]
        assert len(_query("SELECT DISTINCT xmin::text FROM survey_answer")) == 1
        assert_chance(truth, respondent_orders(_query, survey_id, ("ctid", XMIN)),
                      answer_orders(_query, short.id, ("a.ctid", f"a.{XMIN}", "r.ctid",
                                                       f"r.{XMIN}")))
        assert _query("SELECT count(*) FROM survey_response WHERE submitted_at IS NOT NULL"
                      ) == [(0,)]


def test_the_release_job_runs_on_postgresql(pg_app: Flask):
    from lms.jobs import release_answers_job

    with pg_app.test_request_context():
        survey_id, user_ids = _world(5)
        survey = svc.get_survey(survey_id)
        for user_id in user_ids:
            svc.submit(db.session.get(User, user_id), survey, full_answers(survey))
        db.session.commit()
        assert pool.surveys_due_release(utcnow()) == [survey_id]
        assert release_answers_job(utcnow()) == 5
        assert release_answers_job(utcnow()) == 0
        assert _query("SELECT count(*) FROM survey_response") == [(5,)]
        assert _query("SELECT count(*) FROM survey_pending_response") == [(0,)]
