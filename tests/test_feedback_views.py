"""Feedback through the pages: answering with a draft, bad input shown with an error summary,
faculty building and scheduling a survey, results with charts and tables, downloads, and a
results page whose queries do not grow with the number of answers."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from openpyxl import load_workbook
from sqlalchemy import func, select

from lms.accounts.models import Role, User
from lms.clock import utcnow
from lms.extensions import db
from lms.feedback import services as svc
from lms.feedback.models import Survey, SurveyQuestion, SurveyRespondent
from tests.test_feedback_services import (
    full_answers,
    open_survey,
    place,
    question,
    release_all,
)


def survey_ids(app, survey_id: int) -> dict[str, int]:
    """The ids of a standard-template survey's questions, by kind (first of each)."""
    with app.app_context():
        survey = db.session.get(Survey, survey_id)
        ids: dict[str, int] = {}
        for q in survey.questions:
            ids.setdefault(q.kind, q.id)
        return ids


@pytest.fixture
def setting(app, make_user, make_cohort):
    """A running cohort with an open survey, a faculty member and a learner with a place."""
    faculty = make_user(Role.FACULTY, org="SU", name="Fay Faculty")
    learner = make_user(name="Lena Learner")
    cohort = make_cohort(status="running")

    def make(anonymous: bool = True, answers: int = 0) -> dict:
        with app.test_request_context():
            offering = db.session.get(type(cohort), cohort.id)
            place(offering, db.session.get(User, learner.id))
            survey = open_survey(db.session.get(User, faculty.id), offering,
                                 anonymous=anonymous)
            add_answers(offering, survey, answers)
            db.session.commit()
            return {"survey": survey.id, "cohort": cohort.id, "faculty": faculty,
                    "learner": learner, "title": cohort.title}

    return make


_others = iter(range(10**6))


def add_answers(offering, survey, n: int) -> None:
    for _ in range(n):
        person = User(email=f"other{next(_others)}@example.nhs.uk", full_name="Other Person",
                      organisation_id=db.session.scalar(select(User.organisation_id)),
                      job_title="")
        db.session.add(person)
        db.session.flush()
        place(offering, person)
        svc.submit(person, survey, full_answers(survey))
    if survey.anonymous:
        release_all(survey)


def responses(app) -> int:
    """How many people have sent answers (an anonymous survey's wait in the pending pool)."""
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(SurveyRespondent))


def title_of(page: str) -> str:
    return re.search(r"<title>(.*?)</title>", page, re.S).group(1).strip()


# ---------------------------------------------------------------------------- learners


def test_a_learner_saves_a_draft_comes_back_and_sends_once(app, client, login, setting):
    world = setting(anonymous=True)
    ids = survey_ids(app, world["survey"])
    login(world["learner"])
    listing = client.get("/feedback").get_data(as_text=True)
    assert "Network evaluation form" in listing and "Not started" in listing
    url = f"/feedback/{world['survey']}"
    page = client.get(url).get_data(as_text=True)
    assert title_of(page).startswith("Network evaluation form")
    assert "This survey is anonymous" in page
    assert f'id="q{ids["agreement"]}"' in page and "Strongly agree" in page

    saved = client.post(url, data={"action": "save", f"q{ids['rating']}": "7"})
    assert saved.status_code == 302 and saved.location.endswith(url)
    again = client.get(url).get_data(as_text=True)
    assert re.search(rf'name="q{ids["rating"]}" type="radio" value="7" checked', again)
    assert "You last saved your answers" in again
    assert "Saved, not sent" in client.get("/feedback").get_data(as_text=True)

    missing = client.post(url, data={"action": "submit", f"q{ids['rating']}": "7"})
    page = missing.get_data(as_text=True)
    assert missing.status_code == 200 and title_of(page).startswith("Error: ")
    assert "There is a problem" in page
    assert f'href="#q{ids["agreement"]}"' in page
    assert "Select an answer to ‘The session met its stated objectives’" in page
    assert re.search(rf'name="q{ids["rating"]}" type="radio" value="7" checked', page)
    assert responses(app) == 0

    with app.test_request_context():
        answers = full_answers(db.session.get(Survey, world["survey"]))
    sent = client.post(url, data={"action": "submit", **answers}, follow_redirects=True)
    assert "Thank you. Your answers have been sent." in sent.get_data(as_text=True)
    assert responses(app) == 1
    assert "Sent" in client.get("/feedback").get_data(as_text=True)
    done = client.get(url).get_data(as_text=True)
    assert "You have answered this survey" in done and 'name="action"' not in done

    twice = client.post(url, data={"action": "submit", **answers}).get_data(as_text=True)
    assert "You have already answered this survey" in twice and "Error: " in title_of(twice)
    assert responses(app) == 1


def test_a_named_survey_shows_the_person_their_answers(app, client, login, setting):
    world = setting(anonymous=False)
    login(world["learner"])
    with app.test_request_context():
        answers = full_answers(db.session.get(Survey, world["survey"]))
    client.post(f"/feedback/{world['survey']}", data={"action": "submit", **answers})
    page = client.get(f"/feedback/{world['survey']}").get_data(as_text=True)
    assert "Your answers" in page and "Presentations; Practical exercises" in page


def test_answers_after_closing_are_refused_on_the_page(app, client, login, setting):
    world = setting()
    ids = survey_ids(app, world["survey"])
    login(world["learner"])
    with app.app_context():
        db.session.get(Survey, world["survey"]).closes_at = utcnow() - timedelta(minutes=1)
        db.session.commit()
    page = client.post(f"/feedback/{world['survey']}",
                       data={"action": "submit", f"q{ids['rating']}": "7"})
    text = page.get_data(as_text=True)
    assert "This survey closed on" in text and "not been saved" in text
    assert responses(app) == 0


def test_a_question_not_in_the_survey_is_refused(app, client, login, setting):
    world = setting()
    login(world["learner"])
    with app.test_request_context():
        answers = full_answers(db.session.get(Survey, world["survey"]), q999999=["3"])
    page = client.post(f"/feedback/{world['survey']}", data={"action": "submit", **answers})
    assert "not in this survey" in page.get_data(as_text=True)
    assert responses(app) == 0


def test_someone_without_a_place_gets_404(app, client, login, setting, make_user):
    world = setting()
    login(make_user())
    assert client.get(f"/feedback/{world['survey']}").status_code == 404
    assert client.post(f"/feedback/{world['survey']}",
                       data={"action": "save"}).status_code == 404


def test_feedback_is_linked_from_my_learning(client, login, make_user):
    login(make_user())
    assert 'href="/feedback"' in client.get("/my-learning").get_data(as_text=True)


# ---------------------------------------------------------------------------- faculty: building


# The survey below is scheduled for 1 July 2027 and its questions edited before it opens.
@time_machine.travel(datetime(2027, 6, 2, 10, 0, tzinfo=UTC))
def test_faculty_build_and_schedule_a_survey(app, client, login, setting):
    world = setting()
    login(world["faculty"])
    new_url = f"/faculty/offerings/{world['cohort']}/surveys/new"
    page = client.get(new_url).get_data(as_text=True)
    assert "Network evaluation form" in page and "A blank survey" in page
    created = client.post(new_url, data={"start_from": "blank", "title": "Webinar check"})
    assert created.status_code == 302 and created.location.endswith("/settings")
    with app.app_context():
        survey = db.session.scalar(select(Survey).where(Survey.title == "Webinar check"))
        survey_id = survey.id
    settings_url = f"/faculty/surveys/{survey_id}/settings"
    form = {"title": "Webinar check", "intro": "", "anonymous": "yes", "session_id": "",
            "opens_day": "2027-03-28", "opens_time": "01:30",
            "closes_day": "2027-04-04", "closes_time": "17:00"}
    bad = client.post(settings_url, data=form).get_data(as_text=True)
    assert title_of(bad).startswith("Error: ") and 'href="#opens_time"' in bad
    assert "does not exist in the UK" in bad
    form.update(opens_day="1/7/2027", opens_time="09:00", closes_day="8/7/2027")
    assert client.post(settings_url, data=form).status_code == 302
    with app.app_context():
        survey = db.session.get(Survey, survey_id)
        assert survey.opens_at == datetime(2027, 7, 1, 8, 0, tzinfo=UTC)
        assert survey.closes_at == datetime(2027, 7, 8, 16, 0, tzinfo=UTC)

    add_url = f"/faculty/surveys/{survey_id}/questions/new"
    empty = client.post(add_url, data={"kind": "single_choice", "text": "", "choices": "One"})
    page = empty.get_data(as_text=True)
    assert title_of(page).startswith("Error: ")
    assert 'href="#text"' in page and 'href="#choices"' in page
    for text in ("First question", "Second question"):
        client.post(add_url, data={"kind": "agreement", "text": text, "required": "y"})
    client.post(add_url, data={"kind": "multiple_choice", "text": "Which?",
                               "choices": "Talks\nExercises"})
    with app.app_context():
        questions = db.session.scalars(select(SurveyQuestion).where(
            SurveyQuestion.survey_id == survey_id).order_by(SurveyQuestion.position)).all()
        assert [q.required for q in questions] == [True, True, False]
        last = questions[-1].id
    client.post(f"/faculty/questions/{last}/move/up")
    page = client.get(f"/faculty/surveys/{survey_id}").get_data(as_text=True)
    assert page.index("Which?") < page.index("Second question")
    client.post(f"/faculty/questions/{last}/delete")
    assert "Which?" not in client.get(f"/faculty/surveys/{survey_id}").get_data(as_text=True)

    saved = client.post(f"/faculty/surveys/{survey_id}/save-as-template",
                        data={"title": "Short webinar form"}, follow_redirects=True)
    assert "Saved as the template ‘Short webinar form’" in saved.get_data(as_text=True)
    assert "Short webinar form" in client.get("/faculty/survey-templates").get_data(
        as_text=True)
    clash = client.post("/faculty/survey-templates/new",
                        data={"title": "short webinar FORM", "anonymous": "yes"})
    assert "already a template with that name" in clash.get_data(as_text=True)


def test_questions_of_an_open_survey_cannot_be_changed_from_the_pages(app, client, login,
                                                                      setting):
    world = setting()
    ids = survey_ids(app, world["survey"])
    login(world["faculty"])
    page = client.get(f"/faculty/surveys/{world['survey']}").get_data(as_text=True)
    assert "its questions can no longer change" in page and "Move up" not in page
    response = client.get(f"/faculty/surveys/{world['survey']}/questions/new",
                          follow_redirects=True)
    assert "its questions cannot change" in response.get_data(as_text=True)
    moved = client.post(f"/faculty/questions/{ids['rating']}/move/up", follow_redirects=True)
    assert "its questions can no longer change" in moved.get_data(as_text=True)


# ---------------------------------------------------------------------------- faculty: results


def test_results_show_each_chart_with_a_table_of_the_same_numbers(app, client, login, setting):
    world = setting(anonymous=False, answers=2)
    login(world["faculty"])
    page = client.get(f"/faculty/surveys/{world['survey']}/results").get_data(as_text=True)
    assert title_of(page).startswith("Results: Network evaluation form")
    assert page.count("<h1") == 1
    assert page.count('class="lms-chart"') == 7  # 4 agreement, 1 rating, 2 choice questions
    agreement = page.split("1. The session met its stated objectives")[1].split("</section>")[0]
    assert '<title id="chart-' in agreement and "2 (100%)" in agreement
    assert re.search(r'<th scope="row" class="nhsuk-table__header">Agree</th>\s*'
                     r'<td[^>]*>2</td>\s*<td[^>]*>100%</td>', agreement)
    assert "Average 4.0 out of 5" in agreement and "100% agree or strongly agree" in agreement
    assert "More exercises" in page and "Shown in random order" in page


def test_small_anonymous_results_are_hidden_and_cannot_be_downloaded(app, client, login,
                                                                     setting):
    world = setting(anonymous=True, answers=4)
    login(world["faculty"])
    page = client.get(f"/faculty/surveys/{world['survey']}/results").get_data(as_text=True)
    assert "Results hidden" in page and 'class="lms-chart"' not in page
    for suffix in ("csv", "xlsx"):
        download = client.get(f"/faculty/surveys/{world['survey']}/results.{suffix}")
        assert download.status_code == 302 and download.location.endswith("/results")


def test_downloads_are_spreadsheets_without_names(app, client, login, setting):
    world = setting(anonymous=True, answers=5)
    login(world["faculty"])
    csv_file = client.get(f"/faculty/surveys/{world['survey']}/results.csv")
    assert csv_file.mimetype == "text/csv"
    assert "attachment" in csv_file.headers["Content-Disposition"]
    text = csv_file.get_data().decode("utf-8-sig")
    assert text.count("\n") == 6 and "Other Person" not in text
    xlsx = client.get(f"/faculty/surveys/{world['survey']}/results.xlsx")
    workbook = load_workbook(io.BytesIO(xlsx.get_data()))
    assert workbook["Responses"].max_row == 6


@pytest.mark.parametrize("anonymous", [True, False])
def test_the_results_page_costs_the_same_queries_at_ten_times_the_answers(
        app, client, login, setting, count_queries, anonymous):
    world = setting(anonymous=anonymous, answers=6)
    login(world["faculty"])
    url = f"/faculty/surveys/{world['survey']}/results"
    client.get(url)  # warm up
    # The page as built (not as kept: answers arriving renew it, and the kept page costs
    # a few queries whatever it holds, tests/test_cache_faculty_pages.py).
    kept = app.extensions.setdefault("lms_fragment_caches", {})
    kept.pop("survey_results", None)
    with count_queries() as small:
        assert client.get(url).status_code == 200
    with app.test_request_context():
        survey = db.session.get(Survey, world["survey"])
        add_answers(survey.offering, survey, 54)
        db.session.commit()
    client.get("/help")  # the faculty member kept again (the new people renewed everything)
    with count_queries() as large:
        page = client.get(url).get_data(as_text=True)
    assert "60 of 61 people with a place have answered" in page
    assert small.n == large.n, (small.statements, large.statements)
    assert large.n <= 20


def test_cohorts_of_a_course_are_compared_from_the_results(app, client, login, setting):
    world = setting(anonymous=False, answers=1)
    login(world["faculty"])
    results = client.get(f"/faculty/surveys/{world['survey']}/results").get_data(as_text=True)
    assert "Compare the course's cohorts" in results
    page = client.get(f"/faculty/surveys/{world['survey']}/compare").get_data(as_text=True)
    assert "Compare cohorts" in page and "Average (out of 5)" in page
    with app.app_context():
        blank = Survey(title="Blank", offering_id=world["cohort"])
        db.session.add(blank)
        db.session.commit()
        blank_id = blank.id
    assert client.get(f"/faculty/surveys/{blank_id}/compare").status_code == 404


def test_faculty_lists_offerings_and_their_surveys(app, client, login, setting):
    world = setting()
    login(world["faculty"])
    home = client.get("/faculty/surveys").get_data(as_text=True)
    assert world["title"] in home
    listing = client.get(f"/faculty/offerings/{world['cohort']}/surveys").get_data(as_text=True)
    assert "Network evaluation form" in listing and ">Open<" in listing


def test_a_survey_nobody_answered_can_be_deleted_after_confirming(app, client, login, setting):
    world = setting()
    login(world["faculty"])
    url = f"/faculty/surveys/{world['survey']}/delete"
    page = client.get(f"/faculty/surveys/{world['survey']}").get_data(as_text=True)
    assert f'href="{url}"' in page and 'id="cannot-delete"' not in page
    assert "Are you sure" in client.get(url).get_data(as_text=True)
    assert client.post(url).status_code == 302
    with app.app_context():
        assert db.session.get(Survey, world["survey"]) is None


def test_a_survey_with_answers_cannot_be_deleted(app, client, login, setting):
    world = setting(answers=1)
    login(world["faculty"])
    survey_page = client.get(f"/faculty/surveys/{world['survey']}").get_data(as_text=True)
    assert f"/faculty/surveys/{world['survey']}/delete" not in survey_page  # no link...
    assert "People have answered this survey, so it cannot be deleted." in survey_page  # why
    page = client.post(f"/faculty/surveys/{world['survey']}/delete").get_data(as_text=True)
    assert "cannot be deleted" in page and title_of(page).startswith("Error: ")
    assert question is not None  # the helper module is shared with the service tests


def test_the_feedback_list_costs_the_same_queries_for_more_surveys(app, client, login,
                                                                   setting, make_cohort,
                                                                   count_queries):
    world = setting()
    login(world["learner"])
    client.get("/feedback")
    with count_queries() as one:
        client.get("/feedback")
    for _ in range(3):
        cohort = make_cohort(status="running")
        with app.test_request_context():
            offering = db.session.get(type(cohort), cohort.id)
            place(offering, db.session.get(User, world["learner"].id))
            open_survey(db.session.get(User, world["faculty"].id), offering)
            db.session.commit()
    client.get("/help")  # the learner kept again (the new cohorts renewed everything)
    with count_queries() as four:
        page = client.get("/feedback").get_data(as_text=True)
    assert page.count("Not started") == 4
    assert one.n == four.n


def test_a_template_is_built_with_the_same_pages(app, client, login, make_user):
    login(make_user(Role.FACULTY, org="SU"))
    created = client.post("/faculty/survey-templates/new",
                          data={"title": "Huddle check-in", "intro": "Two minutes.",
                                "anonymous": "no"})
    assert created.status_code == 302
    template_id = int(created.location.rstrip("/").split("/")[-1])
    page = client.get(created.location).get_data(as_text=True)
    assert "Survey template" in page and "Add a question" in page and "Results" not in page
    settings = client.get(f"/faculty/surveys/{template_id}/settings").get_data(as_text=True)
    assert "When people can answer" not in settings
    saved = client.post(f"/faculty/surveys/{template_id}/settings",
                        data={"title": "Huddle pulse", "intro": "", "anonymous": "yes"})
    assert saved.status_code == 302
    client.post(f"/faculty/surveys/{template_id}/questions/new",
                data={"kind": "rating", "text": "How useful was today?", "required": "y"})
    with app.app_context():
        template = db.session.get(Survey, template_id)
        assert (template.title, template.anonymous, template.is_template) == (
            "Huddle pulse", True, True)
        assert [q.text for q in template.questions] == ["How useful was today?"]
    assert client.get(f"/faculty/surveys/{template_id}/results").status_code == 404
    assert client.get(f"/feedback/{template_id}").status_code == 404
    client.post(f"/faculty/surveys/{template_id}/delete")
    with app.app_context():
        assert db.session.get(Survey, template_id) is None


def test_faculty_preview_a_survey_as_a_learner_sees_it_and_cannot_send_it(
        app, client, login, setting):
    world = setting()
    with app.app_context():
        survey = db.session.get(Survey, world["survey"])
        survey.opens_at = utcnow() + timedelta(days=3)  # not open yet
        survey.closes_at = utcnow() + timedelta(days=10)
        questions = [q.text for q in survey.questions]
        db.session.commit()
    login(world["faculty"])
    builder_page = client.get(f"/faculty/surveys/{world['survey']}").get_data(as_text=True)
    assert f'href="/faculty/surveys/{world["survey"]}/preview"' in builder_page
    page = client.get(f"/faculty/surveys/{world['survey']}/preview").get_data(as_text=True)
    assert title_of(page).startswith("Preview: ")
    assert "nhsuk-warning-callout" in page and "You cannot send answers from a preview" in page
    assert all(text in page for text in questions)
    assert 'type="radio"' in page  # the questions are drawn as learners get them
    main = page.split("<main", 1)[1].split("</main>", 1)[0]
    assert "<form" not in main and 'type="submit"' not in main  # nothing to send
    assert "Send your answers</button>" not in page
    with app.app_context():
        assert responses(app) == 0
    login(world["learner"])
    assert client.get(f"/faculty/surveys/{world['survey']}/preview").status_code == 403
