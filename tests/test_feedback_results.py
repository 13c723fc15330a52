"""Results, the comparison of cohorts, charts and exports: counted in SQL, hidden for small
anonymous surveys, free text in random order, spreadsheet cells that cannot run."""

from __future__ import annotations

import csv
import io
import random
from datetime import UTC, datetime

import pytest
from openpyxl import load_workbook

from lms.accounts.models import Role
from lms.clock import utcnow
from lms.courses.models import Cohort
from lms.extensions import db
from lms.feedback import builder, exports, results
from lms.feedback import services as svc
from lms.feedback.charts import bar_chart
from tests.test_feedback_services import (
    full_answers,
    open_survey,
    place,
    question,
    release_all,
)


@pytest.fixture
def faculty(ctx, make_user):
    return make_user(Role.FACULTY, org="SU")


@pytest.fixture
def cohort(ctx, make_cohort):
    return make_cohort(status="running")


def answer_many(survey, cohort, make_user, answers: list[dict]) -> list:
    """One new person with a place per item of ``answers``, each sending those changes to
    the full set of answers; an anonymous survey's answers are then released into its
    results, as the release job does once the survey has closed."""
    people = []
    for changes in answers:
        person = make_user(name=changes.pop("name", None))
        place(cohort, person)
        svc.submit(person, survey, full_answers(survey, **changes))
        people.append(person)
    if survey.anonymous:
        release_all(survey)
    return people


def test_counts_averages_and_distributions(ctx, faculty, cohort, make_user):
    survey = open_survey(faculty, cohort, anonymous=False)
    agree, rating = question(survey, "agreement"), question(survey, "rating")
    multiple, long_text = question(survey, "multiple_choice"), question(survey, "long_text")
    answer_many(survey, cohort, make_user, [
        {f"q{agree.id}": ["5"], f"q{rating.id}": ["10"], f"q{multiple.id}": ["0", "1"]},
        {f"q{agree.id}": ["4"], f"q{rating.id}": ["6"], f"q{multiple.id}": ["1"]},
        {f"q{agree.id}": ["2"], f"q{rating.id}": ["8"], f"q{multiple.id}": [],
         f"q{long_text.id}": []},
    ])
    place(cohort, make_user())  # a place, no answer
    found = results.survey_results(survey)
    assert (found.responses, found.eligible, found.hidden) == (3, 4, False)
    by_id = {r.question.id: r for r in found.questions}
    agreement = by_id[agree.id]
    assert [(b.label, b.count, b.percent) for b in agreement.bars] == [
        ("Strongly disagree", 0, 0), ("Disagree", 1, 33), ("Neither agree nor disagree", 0, 0),
        ("Agree", 1, 33), ("Strongly agree", 1, 33)]
    assert agreement.average == 3.7 and agreement.agreed_percent == 67
    assert by_id[rating.id].average == 8.0 and len(by_id[rating.id].bars) == 11
    ticks = by_id[multiple.id]
    assert ticks.answered == 2  # the third person ticked nothing (it is optional)
    assert [(b.count, b.percent) for b in ticks.bars[:2]] == [(1, 50), (2, 100)]
    assert by_id[long_text.id].answered == 2
    assert sorted(by_id[long_text.id].texts) == ["More exercises", "More exercises"]


def test_anonymous_results_stay_hidden_until_five_people_have_answered(ctx, faculty, cohort,
                                                                      make_user):
    survey = open_survey(faculty, cohort, anonymous=True)
    answer_many(survey, cohort, make_user, [{} for _ in range(4)])
    hidden = results.survey_results(survey)
    assert hidden.hidden and hidden.responses == 4 and hidden.questions == []
    answer_many(survey, cohort, make_user, [{}])
    shown = results.survey_results(survey)
    assert not shown.hidden and shown.questions[0].answered == 5
    named = open_survey(faculty, cohort, anonymous=False)
    answer_many(named, cohort, make_user, [{}])
    assert not results.survey_results(named).hidden


def test_free_text_comes_in_random_order_and_is_sampled(ctx, faculty, cohort, make_user,
                                                        monkeypatch):
    survey = open_survey(faculty, cohort, anonymous=True)
    short = question(survey, "short_text")
    written = [f"Comment {n}" for n in range(12)]
    answer_many(survey, cohort, make_user, [{f"q{short.id}": [w]} for w in written])
    orders = {tuple(results.survey_results(survey, rng=random.Random(seed)).questions[
        short.position - 1].texts) for seed in range(3)}
    assert all(sorted(order) == sorted(written) for order in orders)
    assert len(orders) > 1 and tuple(written) not in orders
    monkeypatch.setattr(results, "TEXTS_SHOWN", 5)
    sample = results.survey_results(survey).questions[short.position - 1]
    assert len(sample.texts) == 5 and set(sample.texts) <= set(written)
    assert sample.answered == 12


def test_result_queries_do_not_grow_with_responses(app, ctx, faculty, cohort, make_user,
                                                   count_queries):
    survey = open_survey(faculty, cohort, anonymous=True)
    counts, total = [], 0
    for batch in (5, 45):
        answer_many(survey, cohort, make_user, [{} for _ in range(batch)])
        total += batch
        survey_id = survey.id
        db.session.commit()
        db.session.expire_all()
        with count_queries() as counted:
            loaded = svc.get_survey(survey_id)
            found = results.survey_results(loaded)
            assert found.responses == total and not found.hidden
        counts.append(counted.n)
    assert counts[0] == counts[1] <= 10


# ---------------------------------------------------------------------------- comparison


def sibling(cohort, name: str) -> Cohort:
    other = Cohort(course=cohort.course, name=name, title=f"{cohort.course.title}: {name}",
                   capacity=20, status="finished")
    db.session.add(other)
    db.session.flush()
    return other


def test_cohorts_of_one_course_compare_side_by_side(ctx, faculty, cohort, make_user,
                                                    make_cohort):
    spring, autumn, winter = cohort, sibling(cohort, "Autumn"), sibling(cohort, "Winter")
    first = open_survey(faculty, spring, anonymous=False)
    second = open_survey(faculty, autumn, anonymous=False)
    small = open_survey(faculty, winter, anonymous=True)  # 1 answer: hidden
    unrelated = open_survey(faculty, make_cohort())  # another course
    agree = question(first, "agreement")
    answer_many(first, spring, make_user, [{f"q{agree.id}": ["5"]}, {f"q{agree.id}": ["3"]}])
    agree2 = question(second, "agreement")
    answer_many(second, autumn, make_user, [{f"q{agree2.id}": ["2"]}])
    answer_many(small, winter, make_user, [{}])
    answer_many(unrelated, unrelated.offering, make_user, [{}])
    # The autumn copy changed one question's options before it opened: not comparable.
    single = question(second, "single_choice")
    single.choices = ["Teams", "Zoom", "Room"]
    found = results.comparison(first)
    assert [c.cohort.name for c in found.columns] == [spring.name, "Autumn", "Winter"]
    assert [c.hidden for c in found.columns] == [False, False, True]
    rows = {row.question.text: row for row in found.rows}
    assert "What could we do better?" not in rows  # free text is not compared
    met = rows["The session met its stated objectives"].cells
    assert [met[0].average, met[1].average, met[2]] == [4.0, 2.0, None]
    assert [b.percent for b in met[0].bars] == [0, 0, 50, 0, 50]
    took_part = rows["How did you take part?"].cells
    assert took_part[0] is not None and took_part[1] is None


def test_only_cohort_surveys_made_from_a_template_can_be_compared(ctx, faculty, cohort):
    blank = builder.create_survey(faculty, cohort, "blank")
    assert not results.can_compare(blank) and results.comparison(blank) is None


# ---------------------------------------------------------------------------- charts


def test_a_chart_is_one_labelled_image_with_escaped_text(ctx):
    bars = [results.Bar("<script>alert(1)</script>", 3, 75), results.Bar("No", 1, 25)]
    svg = str(bar_chart("chart-1", "Answers to ‘Q’ & more", bars))
    assert svg.startswith("<svg") and 'role="img"' in svg
    assert 'aria-labelledby="chart-1"' in svg
    assert '<title id="chart-1">Answers to ‘Q’ &amp; more</title>' in svg
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    assert "3 (75%)" in svg and "1 (25%)" in svg


# ---------------------------------------------------------------------------- exports

# (Answers are trimmed, so a leading tab or carriage return never reaches an export; the
# unit test of ``neutralise`` covers them.)
NASTY = ["=HYPERLINK(\"http://evil\",\"x\")", "+1+1", "-2+3", "@SUM(A1)", "=cmd|' /C calc'!A0"]


def nasty_survey(faculty, cohort, make_user, anonymous: bool = True):
    survey = open_survey(faculty, cohort, anonymous=anonymous)
    short = question(survey, "short_text")
    answer_many(survey, cohort, make_user, [
        {f"q{short.id}": [value], "name": f"Secret Name {n}"} for n, value in enumerate(NASTY)])
    return survey


def test_csv_cells_that_would_run_as_formulas_are_neutralised(ctx, faculty, cohort, make_user):
    survey = nasty_survey(faculty, cohort, make_user)
    data = exports.to_csv(survey).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(data)))
    header, body = rows[0], rows[1:]
    column = header.index("In a few words, what will you take away?")
    assert sorted(row[column] for row in body) == sorted("'" + value for value in NASTY)
    for row in body:
        for cell in row:
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r"))
    assert "Secret Name" not in data and "@example.nhs.uk" not in data
    assert "Sent (UK time)" not in header  # anonymous: no time
    assert header[0] == "Response" and len(body) == len(NASTY)


def test_xlsx_cells_that_would_run_as_formulas_are_neutralised(ctx, faculty, cohort, make_user):
    survey = nasty_survey(faculty, cohort, make_user, anonymous=False)
    data = exports.to_xlsx(survey, results.survey_results(survey))
    workbook = load_workbook(io.BytesIO(data))
    assert workbook.sheetnames == ["Responses", "Summary"]
    sheet = workbook["Responses"]
    rows = list(sheet.iter_rows())
    header = [cell.value for cell in rows[0]]
    assert header[:2] == ["Response", "Sent (UK time)"]
    column = header.index("In a few words, what will you take away?")
    values = sorted(row[column].value for row in rows[1:])
    assert values == sorted("'" + value for value in NASTY)
    for row in rows:
        for cell in row:
            assert cell.data_type != "f"
            if isinstance(cell.value, str):
                assert not cell.value.startswith(("=", "+", "-", "@", "\t", "\r"))
    everything = " ".join(str(cell.value) for ws in workbook for row in ws.iter_rows()
                          for cell in row)
    assert "Secret Name" not in everything and "@example.nhs.uk" not in everything
    summary = [[c.value for c in row] for row in workbook["Summary"].iter_rows()]
    assert ["The session met its stated objectives", "Agree", len(NASTY), 100] in summary
    # Numbers stay numbers.
    rating = header.index("How likely are you to recommend this to a colleague? (0 to 10)")
    assert rows[1][rating].value == 9


def test_named_exports_are_in_the_order_sent_with_the_time_but_no_name(ctx, faculty, cohort,
                                                                       make_user):
    survey = open_survey(faculty, cohort, anonymous=False)
    answer_many(survey, cohort, make_user, [{"name": "Named Person"}])
    header, rows = exports.response_rows(survey)
    assert header[1] == "Sent (UK time)" and rows[0][1].startswith(str(utcnow().year))
    assert "Named Person" not in str(rows)


def test_neutralise_leaves_numbers_and_plain_text_alone():
    assert exports.neutralise(-3) == -3 and exports.neutralise(None) is None
    assert exports.neutralise("Fine - really") == "Fine - really"
    assert exports.neutralise("-rf") == "'-rf"
    assert exports.neutralise("\tTab") == "'\tTab" and exports.neutralise("\rCR") == "'\rCR"


def test_times_in_exports_are_uk_time(ctx, faculty, cohort, make_user):
    survey = open_survey(faculty, cohort, anonymous=False)
    answer_many(survey, cohort, make_user, [{}])
    response = db.session.scalar(db.select(svc.SurveyResponse))
    response.submitted_at = datetime(2026, 7, 1, 12, 0, tzinfo=UTC)
    _, rows = exports.response_rows(survey)
    assert rows[0][1].endswith("13:00")  # BST
