"""Project work, reflection and CPD through the pages and the API."""

from __future__ import annotations

import io
import zipfile

import pytest
from sqlalchemy import func, select

from lms.accounts.models import Role, User
from lms.clock import to_london, utcnow
from lms.competencies.models import Competency, CompetencyEvidence
from lms.competencies.services import ensure_framework
from lms.extensions import db
from lms.learning import assignments as work
from lms.learning import groups
from lms.learning.assignments_models import Assignment, Submission
from tests.learning_work_builders import PDF, cohort_with, entry, person, set_work


@pytest.fixture(autouse=True)
def _empty_store(app):
    import shutil

    shutil.rmtree(app.config["UPLOAD_DIR"], ignore_errors=True)


@pytest.fixture
def course(app, people):
    """A cohort the learner and two others (another ICS) are on, and its ids."""
    with app.test_request_context():
        learner = db.session.get(User, people.learner.id)
        others = [person("Bea Other", "BC"), person("Cal Other", "LLR")]
        cohort = cohort_with([learner, *others])
        db.session.commit()
        return {"cohort": cohort.id, "others": [o.id for o in others]}


def test_faculty_set_an_assignment_and_see_every_problem_at_once(app, client, login, people,
                                                                 course):
    with app.app_context():
        ensure_framework()
        db.session.commit()
        forecasting = db.session.scalar(select(Competency.id).where(
            Competency.code == "forecasting"))
    login(people.faculty)
    url = f"/faculty/offerings/{course['cohort']}/assignments/new"
    refused = client.post(url, data={"title": "", "brief": "", "due_day": "31/2/2027"})
    page = refused.get_data(as_text=True)
    assert refused.status_code == 200
    assert "Enter a title" in page and "Enter the brief" in page and "must be a real date" in page
    due = to_london(utcnow()).date().replace(year=to_london(utcnow()).year + 1)
    done = client.post(url, data={"title": "Project plan", "brief": "Write a **plan**",
                                  "due_day": due.strftime("%d/%m/%Y"), "due_time": "12:00",
                                  "counts_to_completion": "y",
                                  f"level_{forecasting}": "3"})
    assert done.status_code == 302
    with app.app_context():
        assignment = db.session.scalar(select(Assignment))
        assert assignment.counts_to_completion and not assignment.for_groups
        assert [(r.competency_id, r.level) for r in assignment.competency_rows] == [
            (forecasting, 3)]
    board = client.get(f"/faculty/offerings/{course['cohort']}/marking").get_data(as_text=True)
    assert "Project plan" in board and "0 of 3 submitted" in board


def test_a_learner_submits_a_file_and_a_bad_one_is_refused_on_the_page(app, client, login,
                                                                         people, course):
    with app.test_request_context():
        assignment = set_work(db.session.get(User, people.faculty.id),
                              db.session.get(work.Offering, course["cohort"]))
        db.session.commit()
        assignment_id = assignment.id
    login(people.learner)
    page = client.get(f"/assignments/{assignment_id}").get_data(as_text=True)
    assert "Write a <strong>plan</strong>" in page, "the brief is formatted text"
    bad = client.post(f"/assignments/{assignment_id}", content_type="multipart/form-data",
                      data={"text": "", "files": (io.BytesIO(b"<svg onload=x>"), "pic.svg")})
    assert bad.status_code == 200 and "The file must be" in bad.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Submission)) == 0
    good = client.post(f"/assignments/{assignment_id}", content_type="multipart/form-data",
                       data={"text": "My plan", "files": (io.BytesIO(PDF), "plan.pdf")})
    assert good.status_code == 302
    with app.app_context():
        submission = db.session.scalar(select(Submission))
        file_id = submission.files[0].id
    download = client.get(f"/submissions/{submission.id}/files/{file_id}")
    assert download.data == PDF
    assert download.headers["Content-Disposition"].startswith("attachment")
    assert download.headers["X-Content-Type-Options"] == "nosniff"


def test_faculty_mark_several_at_once_and_learners_are_emailed(app, client, login, people,
                                                               course, mailbox):
    with app.test_request_context():
        faculty = db.session.get(User, people.faculty.id)
        cohort = db.session.get(work.Offering, course["cohort"])
        assignment = set_work(faculty, cohort)
        everyone = [db.session.get(User, i) for i in [people.learner.id, *course["others"]]]
        ids = [work.submit(p, assignment, f"work of {p.full_name}", []).id for p in everyone]
        db.session.commit()
    login(people.faculty)
    done = client.post(f"/faculty/offerings/{course['cohort']}/marking",
                       data={"submissions": ids[:2], "outcome": "met",
                             "feedback": "Clear and well argued"})
    assert done.status_code == 302
    with app.app_context():
        outcomes = dict(db.session.execute(select(Submission.id, Submission.outcome)).all())
    assert outcomes == {ids[0]: "met", ids[1]: "met", ids[2]: None}
    told = mailbox.to(people.learner.email)
    assert [m["Subject"] for m in told] == ["Feedback on Project plan"]
    assert "Outcome: Met" in told[0].get_body(("plain",)).get_content()


def test_the_zip_of_everything_is_streamed(app, client, login, people, course):
    with app.test_request_context():
        faculty = db.session.get(User, people.faculty.id)
        assignment = set_work(faculty, db.session.get(work.Offering, course["cohort"]))
        learner = db.session.get(User, people.learner.id)
        from tests.learning_work_builders import pdf_upload

        work.submit(learner, assignment, "notes", [pdf_upload("plan.pdf")])
        db.session.commit()
        assignment_id = assignment.id
    login(people.faculty)
    response = client.get(f"/faculty/assignments/{assignment_id}/submissions.zip")
    assert response.is_streamed
    assert response.mimetype == "application/zip"
    names = zipfile.ZipFile(io.BytesIO(response.data)).namelist()
    assert any(n.endswith("plan.pdf") for n in names) and any("Lena Learner" in n for n in names)


def test_a_member_of_another_group_gets_404_for_a_groups_work(app, client, login, people,
                                                              course):
    with app.test_request_context():
        faculty = db.session.get(User, people.faculty.id)
        cohort = db.session.get(work.Offering, course["cohort"])
        learner = db.session.get(User, people.learner.id)
        mine = groups.add_group(faculty, cohort, "Team A", [learner.id, course["others"][0]])
        groups.add_group(faculty, cohort, "Team B", [course["others"][1]])
        assignment = set_work(faculty, cohort, for_groups=True)
        ours = work.submit(db.session.get(User, course["others"][0]), assignment, "ours", [])
        db.session.commit()
        assert ours.group_id == mine.id
        outsider = db.session.get(User, course["others"][1])
        _ = outsider.organisation
        db.session.expunge(outsider)
    login(people.learner)
    page = client.get(f"/submissions/{ours.id}")
    assert page.status_code == 200 and "Team A" in page.get_data(as_text=True)
    login(outsider)
    assert client.get(f"/submissions/{ours.id}").status_code == 404


def test_groups_are_spread_across_icss_from_the_page(app, client, login, people, course):
    login(people.faculty)
    done = client.post(f"/faculty/offerings/{course['cohort']}/groups",
                       data={"spread-count": "1"})
    assert done.status_code == 302
    page = client.get(f"/faculty/offerings/{course['cohort']}/groups").get_data(as_text=True)
    assert "Group 1" in page and "Black Country" in page


def test_a_shared_reflection_reaches_faculty_who_accept_it(app, client, login, people,
                                                           course):
    with app.test_request_context():
        ensure_framework()
        learner = db.session.get(User, people.learner.id)
        private = entry(learner, "Private thoughts")
        linked = entry(learner, "After day 1", link=f"offering:{course['cohort']}")
        competency = db.session.scalar(select(Competency.id).where(
            Competency.code == "forecasting"))
        db.session.commit()
        private_id, linked_id = private.id, linked.id
    login(people.learner)
    assert client.post(f"/reflection/{linked_id}/share").status_code == 302
    login(people.faculty)
    shared = client.get("/faculty/reflections").get_data(as_text=True)
    assert "After day 1" in shared and "Private thoughts" not in shared
    assert client.get(f"/reflection/{private_id}").status_code == 404
    client.post(f"/faculty/reflections/{linked_id}/accept",
                data={"competency": str(competency), "level": "2"})
    with app.app_context():
        evidence = db.session.scalar(select(CompetencyEvidence))
        assert (evidence.user_id, evidence.level) == (people.learner.id, 2)


def test_cpd_recorded_with_evidence_is_on_the_learning_record(client, login, people):
    login(people.learner)
    day = to_london(utcnow()).date().strftime("%d/%m/%Y")
    done = client.post("/cpd/new", content_type="multipart/form-data",
                       data={"title": "NHS-R conference", "done_on": day, "hours": "6.5",
                             "evidence": (io.BytesIO(PDF), "certificate.pdf")})
    assert done.status_code == 302
    record = client.get("/learning-record").get_data(as_text=True)
    assert "NHS-R conference" in record and "6.5" in record


def test_the_api_lists_your_assignments_and_a_cohorts_for_faculty(app, client, login,
                                                                  people, course):
    with app.test_request_context():
        faculty = db.session.get(User, people.faculty.id)
        assignment = set_work(faculty, db.session.get(work.Offering, course["cohort"]))
        work.submit(db.session.get(User, people.learner.id), assignment, "mine", [])
        db.session.commit()
    login(people.learner)
    mine = client.get("/api/v1/me/assignments").get_json()["data"]
    assert [(a["title"], a["submission"]["outcome"]) for a in mine] == [("Project plan", None)]
    login(people.faculty)
    theirs = client.get(f"/api/v1/offerings/{course['cohort']}/assignments").get_json()["data"]
    assert [(a["title"], a["submitted"], a["met"]) for a in theirs] == [("Project plan", 1, 0)]
    login(people.dsu_same)  # a DSU lead is no faculty
    assert client.get(f"/api/v1/offerings/{course['cohort']}/assignments").status_code == 403


def test_nothing_role_based_is_offered_to_a_learner_not_on_the_cohort(app, client, login,
                                                                       make_user, course):
    stranger = make_user(Role.LEARNER)
    login(stranger)
    assert client.get(f"/offerings/{course['cohort']}/assignments").status_code == 404


def test_progress_and_completion_pages_name_the_assignments_requirement(app, client, login,
                                                                        people, course):
    from lms.offerings.models import Enrolment

    with app.test_request_context():
        faculty = db.session.get(User, people.faculty.id)
        set_work(faculty, db.session.get(work.Offering, course["cohort"]),
                 counts_to_completion=True)
        db.session.commit()
        enrolment_id = db.session.scalar(select(Enrolment.id).where(
            Enrolment.user_id == people.learner.id))
    login(people.learner)
    mine = client.get(f"/my-learning/{enrolment_id}/progress").get_data(as_text=True)
    assert "Not all met yet" in mine
    login(people.faculty)
    theirs = client.get(f"/faculty/offerings/{course['cohort']}/completion").get_data(
        as_text=True)
    assert "have every assignment that counts marked as met" in theirs
