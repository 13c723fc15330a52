"""Anonymous surveys attacked the way they were attacked (issue 16, items 1 to 3).

1. A faculty member saves the results CSV and the completion page, waits for one answer and
   fetches both again: nothing in either names who answered. Results change only in batches.
2. An attacker with the database file orders every table by every column (and SQLite's
   rowid) and pairs respondents with answers: no better than chance. The same attack on
   PostgreSQL (ctid, xmin) is in ``test_feedback_anonymity_postgres.py``.
3. Figures of fewer than five anonymous answers are never shown (results, comparison, the
   region's feedback trend under any filter).
"""

from __future__ import annotations

import json
import math
import random
import re
import sqlite3
from collections.abc import Callable, Sequence
from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import func, select

from lms.accounts.models import Role, User
from lms.clock import utcnow
from lms.extensions import db
from lms.feedback import exports, pool, results
from lms.feedback import services as svc
from lms.feedback.models import Survey, SurveyPendingResponse, SurveyResponse
from lms.jobs import release_answers_job
from lms.reports import regional
from lms.reports.services import ReportFilters
from tests.test_feedback_services import full_answers, open_survey, place, question

# ---------------------------------------------------------------------------- 1. pages


@pytest.fixture
def course_world(app, make_user, make_cohort):
    """A running cohort whose course needs feedback to complete, nine named learners with a
    place, a faculty member, and an open anonymous survey."""
    faculty = make_user(Role.FACULTY, org="SU", name="Fay Faculty")
    learners = [make_user(name=f"Learner Number{n}") for n in range(9)]
    cohort = make_cohort(status="running")
    with app.test_request_context():
        offering = db.session.get(type(cohort), cohort.id)
        for learner in learners:
            place(offering, db.session.get(User, learner.id))
        survey = open_survey(db.session.get(User, faculty.id), offering, anonymous=True)
        db.session.commit()
        return {"faculty": faculty, "learners": learners, "cohort": cohort.id,
                "survey": survey.id}


def _answer(app, client, login, learner, survey_id: int) -> None:
    with app.test_request_context():
        answers = full_answers(db.session.get(Survey, survey_id))
    login(learner)
    sent = client.post(f"/feedback/{survey_id}", data={"action": "submit", **answers})
    assert sent.status_code == 302


def _faculty_view(client, login, world) -> tuple[bytes, str]:
    login(world["faculty"])
    csv_file = client.get(f"/faculty/surveys/{world['survey']}/results.csv")
    completion = client.get(f"/faculty/offerings/{world['cohort']}/completion")
    assert csv_file.status_code == 200 and completion.status_code == 200
    return csv_file.get_data(), completion.get_data(as_text=True)


def _people(page: str) -> str:
    """The completion page's table of people (the page around it carries a fresh nonce and
    form token each time), with the sign-off forms' tokens taken out."""
    table = page[page.index("<table"):page.index("</table>")]
    return re.sub(r'name="csrf_token" value="[^"]*"', "", table)


def _released(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(SurveyResponse))


def test_one_new_answer_changes_no_export_and_flips_no_name(app, client, login, course_world):
    world = course_world
    learners = world["learners"]
    for learner in learners[:5]:
        _answer(app, client, login, learner, world["survey"])
    with app.app_context():
        assert release_answers_job() == 5  # five new answers, never released before

    csv_before, completion_before = _faculty_view(client, login, world)
    assert csv_before.decode("utf-8-sig").count("\n") == 6
    # The completion page names everyone but says of no one whether they gave feedback.
    for learner in learners:
        assert learner.full_name in completion_before
    assert "Feedback given: 5 of 9" in completion_before
    assert ">Given<" not in completion_before and "Not yet" not in completion_before

    _answer(app, client, login, learners[5], world["survey"])  # the attack: one answer
    with app.app_context():
        assert release_answers_job() == 0  # one is not a batch
    csv_after, completion_after = _faculty_view(client, login, world)
    assert csv_after == csv_before
    assert "Feedback given: 6 of 9" in completion_after
    assert _people(completion_after) == _people(completion_before)
    assert _released(app) == 5

    # Three more arrive the same day, then the next day: still no batch of five new ones.
    for learner in learners[6:9]:
        _answer(app, client, login, learner, world["survey"])
    with app.app_context():
        assert release_answers_job(utcnow() + timedelta(days=2)) == 0
        assert pool.pending_count(world["survey"]) == 4
    assert _faculty_view(client, login, world)[0] == csv_before
    # When the survey closes, whatever waits is released, in one batch.
    with app.app_context():
        closes_at = db.session.get(Survey, world["survey"]).closes_at
        assert release_answers_job(closes_at) == 4
        assert release_answers_job(closes_at) == 0  # a rerun finds nothing
    assert _faculty_view(client, login, world)[0].decode("utf-8-sig").count("\n") == 10


def test_the_api_says_nothing_of_who_gave_anonymous_feedback(app, client, login,
                                                             course_world):
    world = course_world
    _answer(app, client, login, world["learners"][0], world["survey"])
    login(world["faculty"])
    body = client.get(f"/api/v1/offerings/{world['cohort']}/completions").get_json()
    people = body["data"] if isinstance(body, dict) and "data" in body else body["items"]
    assert len(people) == 9
    assert {p["feedback_given"] for p in people} == {None}


def test_named_surveys_still_show_who_gave_feedback(app, client, login, course_world):
    world = course_world
    with app.app_context():
        db.session.get(Survey, world["survey"]).anonymous = False
        db.session.commit()
    _answer(app, client, login, world["learners"][0], world["survey"])
    _, completion = _faculty_view(client, login, world)
    assert completion.count(">Given<") == 1 and completion.count("Not yet") == 8
    assert _released(app) == 1  # named answers need no batch


def test_answers_are_released_daily_in_batches_of_five(ctx, make_user, make_cohort):
    faculty = make_user(Role.FACULTY, org="SU")
    cohort = make_cohort(status="running")
    survey = open_survey(faculty, cohort, anonymous=True, days=30)
    now = utcnow()

    def answer(n: int) -> None:
        for _ in range(n):
            person = make_user()
            place(cohort, person)
            svc.submit(person, survey, full_answers(survey))
        db.session.commit()

    answer(4)
    assert pool.surveys_due_release(now) == [] and release_answers_job(now) == 0
    answer(1)
    assert pool.surveys_due_release(now) == [survey.id]
    assert release_answers_job(now) == 5 and release_answers_job(now) == 0
    answer(7)
    # Seven new ones, but the last batch was under a day ago.
    assert release_answers_job(now + timedelta(hours=23)) == 0
    assert results.response_count(survey.id) == 5
    assert release_answers_job(now + timedelta(days=1)) == 7
    assert results.response_count(survey.id) == 12
    assert db.session.scalar(select(func.count()).select_from(SurveyPendingResponse)) == 0


# ---------------------------------------------------------------------------- 2. the database

# Twenty respondents, each with a distinct answer: the attacker's best pairing must stay at
# chance. A pairing made without knowing the answers matches a uniformly random permutation
# of 20 at about Poisson(1) places: P(7 or more right) = 1 - e^-1 (1 + 1 + 1/2 + ... + 1/6!)
# = 8.3e-5. The test tries every ordering of respondents against every ordering of answers
# (and its reverse) and checks fewer than MAX_COMBINATIONS distinct pairings were tried, so by
# the union bound chance alone exceeds BOUND in under 600 * 8.3e-5 = 5% of seeds; the seeds
# are fixed, so the test is deterministic. A leak (rowid, insertion order, xmin) scores 20.
RESPONDENTS = 20
BOUND = 6
MAX_COMBINATIONS = 600
P_SEVEN_OR_MORE = 1 - math.exp(-1) * sum(1 / math.factorial(k) for k in range(7))
assert P_SEVEN_OR_MORE < 1e-4 and MAX_COMBINATIONS * P_SEVEN_OR_MORE < 0.05

Query = Callable[[str], Sequence[tuple]]

RESPONDENT_COLUMNS = ("survey_id", "user_id")
POOL_COLUMNS = ("id", "survey_id", "answers")
ANSWER_COLUMNS = ("a.id", "a.response_id", "a.question_id", "a.number", "a.text",
                  "r.id", "r.survey_id", "r.anonymous", "r.user_id", "r.submitted_at")


def build_respondents(make_person: Callable[[int], User], survey: Survey, seed: int,
                      commit: Callable[[], None]) -> dict[int, str]:
    """Twenty people answer the survey, each a distinct text, in an order unrelated to
    their ids, a minute apart, each in a transaction of its own. Returns who wrote what."""
    picker = random.Random(seed)
    people = [make_person(n) for n in range(RESPONDENTS)]
    texts = [f"{value:06d}" for value in picker.sample(range(10**6), RESPONDENTS)]
    truth = {person.id: text for person, text in zip(people, texts, strict=True)}
    short = question(survey, "short_text")
    order = picker.sample(people, RESPONDENTS)
    start = utcnow()
    for n, person in enumerate(order):
        with time_machine.travel(start + timedelta(minutes=n), tick=False):
            svc.submit(person, survey, full_answers(survey, **{f"q{short.id}": [
                truth[person.id]]}), rng=random.Random(seed * 1000 + n))
            commit()
    return truth


def _orders(query: Query, select_sql: str, columns: Sequence[str], extra: Sequence[str],
            where: str) -> dict[str, list]:
    """The rows' first value in the table's natural order and ordered by each column (both
    ways)."""
    found = {"natural": [row[0] for row in query(f"{select_sql} WHERE {where}")]}
    for column in (*columns, *extra):
        for direction in ("ASC", "DESC"):
            found[f"{column} {direction}"] = [row[0] for row in query(
                f"{select_sql} WHERE {where} ORDER BY {column} {direction}")]
    return found


def respondent_orders(query: Query, survey_id: int, extra: Sequence[str]) -> dict[str, list]:
    return _orders(query, "SELECT user_id FROM survey_respondent", RESPONDENT_COLUMNS,
                   extra, f"survey_id = {survey_id}")


def pool_orders(query: Query, survey_id: int, question_id: int, extra: Sequence[str],
                columns: Sequence[str] = POOL_COLUMNS) -> dict[str, list]:
    """The short-text answer of each pending response, in every order."""
    def text_of(answers) -> str:
        rows = json.loads(answers) if isinstance(answers, str) else answers
        return next(text for qid, _, text in rows if qid == question_id)

    found = _orders(query, "SELECT answers FROM survey_pending_response", columns,
                    extra, f"survey_id = {survey_id}")
    return {name: [text_of(a) for a in rows] for name, rows in found.items()}


def answer_orders(query: Query, question_id: int, extra: Sequence[str]) -> dict[str, list]:
    """The released short-text answers, in every order of the answer and response rows."""
    found = _orders(query, "SELECT a.text FROM survey_answer a JOIN survey_response r "
                           "ON r.id = a.response_id", ANSWER_COLUMNS, extra,
                    f"a.question_id = {question_id}")
    found["answers alone"] = [row[0] for row in query(
        f"SELECT text FROM survey_answer WHERE question_id = {question_id}")]  # noqa: S608
    return found


def best_pairing(truth: dict[int, str], respondents: dict[str, list],
                 answers: dict[str, list]) -> tuple[int, int]:
    """The attacker pairs the i-th respondent with the i-th answer (or the i-th from the end)
    for every ordering of each: the most pairs right, and how many distinct pairings."""
    tried = set()
    for people in respondents.values():
        assert sorted(people) == sorted(truth)
        for texts in answers.values():
            assert sorted(texts) == sorted(truth.values())
            tried.add((tuple(people), tuple(texts)))
            tried.add((tuple(people), tuple(reversed(texts))))
    best = max(sum(truth[p] == t for p, t in zip(people, texts, strict=True))
               for people, texts in tried)
    return best, len(tried)


def assert_chance(truth: dict[int, str], respondents: dict[str, list],
                  answers: dict[str, list]) -> None:
    best, tried = best_pairing(truth, respondents, answers)
    assert tried <= MAX_COMBINATIONS
    assert best <= BOUND, f"{best} of {RESPONDENTS} paired right"


def _sqlite_query(path: str) -> tuple[Query, sqlite3.Connection]:
    connection = sqlite3.connect(path)
    return (lambda sql: connection.execute(sql).fetchall()), connection


def _rowid(query: Query, table: str, alias: str = "") -> tuple[str, ...]:
    """``rowid`` to order by, where the table has one (none should)."""
    try:
        query(f"SELECT rowid FROM {table} LIMIT 1")  # noqa: S608 (the test's own names)
    except sqlite3.OperationalError:
        return ()
    return (f"{alias}rowid",)


def test_the_database_file_pairs_no_respondent_with_an_answer(app, ctx, make_user,
                                                              make_cohort):
    faculty = make_user(Role.FACULTY, org="SU")
    cohort = make_cohort(status="running")
    survey = open_survey(faculty, cohort, anonymous=True)
    short = question(survey, "short_text")
    db.session.commit()

    def person(_n: int) -> User:
        user = make_user()
        place(cohort, user)
        return user

    truth = build_respondents(person, survey, seed=16, commit=db.session.commit)
    path = db.engine.url.database
    query, connection = _sqlite_query(path)
    try:
        # No table that holds answers or respondents has SQLite's hidden insertion counter.
        for table in ("survey_respondent", "survey_pending_response", "survey_response",
                      "survey_answer"):
            with pytest.raises(sqlite3.OperationalError, match="rowid"):
                query(f"SELECT rowid FROM {table}")  # noqa: S608 (the test's own names)
        # Twenty answers wait in the pool: it pairs them with no one.
        respondents = respondent_orders(query, survey.id, _rowid(query, "survey_respondent"))
        assert_chance(truth, respondents, pool_orders(
            query, survey.id, short.id, _rowid(query, "survey_pending_response")))
    finally:
        connection.close()
    assert pool.release(survey.id, utcnow(), rng=random.Random(1616)) == RESPONDENTS
    db.session.commit()
    query, connection = _sqlite_query(path)
    try:
        assert query("SELECT count(*) FROM survey_pending_response") == [(0,)]
        extra = (*_rowid(query, "survey_answer", "a."),
                 *_rowid(query, "survey_response", "r."))
        assert_chance(truth, respondent_orders(query, survey.id, _rowid(
            query, "survey_respondent")), answer_orders(query, short.id, extra))
        # No time finer than the batch: the only time is the survey's last release.
        assert query("SELECT count(*) FROM survey_response WHERE submitted_at IS NOT NULL"
                     ) == [(0,)]
    finally:
        connection.close()
    assert {row[0] for row in exports.response_rows(survey)[1]} == set(range(1, 21))


def test_the_attack_has_teeth(ctx):
    """The bound is not loose: a leak that kept answers in the respondents' order scores
    every pair."""
    truth = {n: f"{n:06d}" for n in range(RESPONDENTS)}
    people = {"leak": list(truth)}
    texts = {"leak": [truth[n] for n in truth]}
    assert best_pairing(truth, people, texts)[0] == RESPONDENTS


# ---------------------------------------------------------------------------- 3. filters


def test_no_figure_describes_fewer_than_five_anonymous_answers(ctx, make_user, make_cohort):
    faculty = make_user(Role.FACULTY, org="SU")
    cohort = make_cohort(status="running")
    survey = open_survey(faculty, cohort, anonymous=True)
    long_text = question(survey, "long_text")
    for n in range(6):
        person = make_user()
        place(cohort, person)
        # The long text is optional: only two people write one.
        svc.submit(person, survey, full_answers(survey, **{
            f"q{long_text.id}": [f"Comment {n}" if n < 2 else ""]}))
    pool.release(survey.id, survey.closes_at)
    shown = results.survey_results(survey)
    assert not shown.hidden and shown.responses == 6
    cell = shown.questions[long_text.position - 1]
    assert cell.withheld and cell.answered == 2 and cell.texts == []
    others = [r for r in shown.questions if r.question.id != long_text.id]
    assert others and not any(r.withheld for r in others)


def test_the_region_trend_never_narrows_a_survey_below_five(ctx, make_user, make_cohort):
    """The region's filters (course, dates) pick whole cohorts: a cohort's figure counts all
    its released answers or is left out; a cohort with four answers never shows."""
    faculty = make_user(Role.FACULTY, org="SU")
    counted, small = make_cohort(status="running"), make_cohort(status="running")
    for cohort, people in ((counted, 6), (small, 4)):
        survey = open_survey(faculty, cohort, anonymous=True)
        for _ in range(people):
            person = make_user()
            place(cohort, person)
            svc.submit(person, survey, full_answers(survey))
        pool.release(survey.id, survey.closes_at)
    db.session.flush()
    today = utcnow().date()
    for filters in (ReportFilters(None, today, today + timedelta(days=60)),
                    ReportFilters(counted.course_id, today, today + timedelta(days=60)),
                    ReportFilters(small.course_id, today, today + timedelta(days=60)),
                    ReportFilters(None, today + timedelta(days=29), today + timedelta(days=31))):
        rows = regional.region_dashboard(filters).feedback.rows
        assert all(row[1] != small.name for row in rows)
        assert all(row[3] >= 5 for row in rows)
        assert [row[3] for row in rows if row[1] == counted.name] in ([], [6])
    rows = regional.region_dashboard(ReportFilters(None, today, today + timedelta(days=60))
                                     ).feedback.rows
    assert [row[3] for row in rows if row[1] == counted.name] == [6]
