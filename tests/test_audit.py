"""The audit log: every faculty and admin change (and the command line's) is recorded with
who, what, when, before and after, in the change's own transaction; learners' own actions
and anonymous answers are not; secrets never reach it; admins can search it."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from flask_login import login_user
from sqlalchemy import delete, func, select, update

from lms.accounts.models import Organisation, Role, User
from lms.audit.models import AuditEntry
from lms.audit.services import acting_as
from lms.clock import utcnow
from lms.courses.models import Course
from lms.extensions import db
from lms.feedback.models import (
    Survey,
    SurveyAnswer,
    SurveyQuestion,
    SurveyRespondent,
    SurveyResponse,
)
from lms.offerings.models import Enrolment
from tests.conftest import PASSWORD, organisation


def entries(app) -> list[AuditEntry]:
    with app.app_context():
        found = list(db.session.scalars(select(AuditEntry).order_by(AuditEntry.id)))
        db.session.expunge_all()
        return found


def org_id(app, code: str) -> int:
    with app.app_context():
        return organisation(code).id


def test_an_admin_changing_roles_is_logged_with_before_and_after(app, client, login, people):
    login(people.admin)
    response = client.post(f"/admin/users/{people.learner.id}",
                           data={"roles": ["faculty"], "organisation_id": org_id(app, "BC")})
    assert response.status_code == 302
    log = entries(app)
    user_entry = next(e for e in log if e.model == "User")
    assert user_entry.action == "updated"
    assert user_entry.actor_id == people.admin.id
    assert user_entry.subject_user_id == people.learner.id
    assert user_entry.row_key == str(people.learner.id)
    assert user_entry.request == f"POST /admin/users/{people.learner.id}"
    assert user_entry.before == {"organisation_id": org_id(app, "BSOL"),
                                 "role_rows": ["learner"]}
    assert user_entry.after == {"organisation_id": org_id(app, "BC"),
                                "role_rows": ["faculty", "learner"]}
    role_entry = next(e for e in log if e.model == "UserRole")
    assert (role_entry.action, role_entry.after) == (
        "created", {"user_id": people.learner.id, "role": "faculty"})
    assert abs(user_entry.at - utcnow()) < timedelta(minutes=1)

    page = client.get("/admin/audit").get_data(as_text=True)
    assert "Ada Admin" in page and "POST /admin/users/" in page
    assert "About <a href=\"/admin/audit?subject=" in page and "Lena Learner" in page
    # A sentence says what happened; the values stay behind "Details".
    sentence = re.search(r"Ada Admin moved Lena Learner to [^<]*", page).group(0)
    assert sentence.endswith("and gave Lena Learner the faculty role.")
    assert "<summary" in page and '<strong>roles</strong>: learner → faculty, learner' in page


def test_removing_a_role_is_logged_as_a_deletion(app, client, login, people):
    login(people.admin)
    client.post(f"/admin/users/{people.faculty.id}",
                data={"roles": [], "organisation_id": org_id(app, "SU")})
    removed = [e for e in entries(app) if e.model == "UserRole"]
    assert [(e.action, e.before) for e in removed] == [
        ("deleted", {"user_id": people.faculty.id, "role": "faculty"})]


def test_a_learners_own_booking_is_not_audited(app, client, login, people, make_cohort):
    cohort = make_cohort()
    login(people.learner)
    assert client.post(f"/offerings/{cohort.id}/book").status_code == 302
    with app.app_context():
        assert db.session.scalar(select(func.count(Enrolment.id))) == 1
    assert entries(app) == []


def test_a_faculty_approval_is_audited(app, client, login, people, make_cohort):
    cohort = make_cohort(mode="approval")
    login(people.learner)
    client.post(f"/offerings/{cohort.id}/book")
    with app.app_context():
        enrolment_id = db.session.scalar(select(Enrolment.id))
    assert entries(app) == []
    login(people.faculty)
    assert client.post(f"/faculty/enrolments/{enrolment_id}/approve").status_code == 302
    log = entries(app)
    change = next(e for e in log if e.model == "Enrolment")
    assert change.actor_id == people.faculty.id
    assert change.before["state"] == "requested" and change.after["state"] == "enrolled"
    assert change.subject_user_id == people.learner.id
    assert any(e.model == "EnrolmentEvent" and e.action == "created" for e in log)


def test_a_change_that_is_rolled_back_leaves_no_entry(app, make_user):
    admin = make_user(Role.ADMIN)
    with app.test_request_context("/admin/users/1", method="POST"):
        login_user(db.session.get(User, admin.id))
        db.session.get(User, admin.id).job_title = "Head of nothing"
        db.session.flush()
        assert db.session.scalar(select(func.count(AuditEntry.id))) == 1
        db.session.rollback()
    assert entries(app) == []


def test_secrets_are_never_written(app, client, login, make_user):
    admin = make_user(Role.ADMIN, email="ada@example.nhs.uk")
    login(admin)
    response = client.post("/profile/password", data={
        "current_password": PASSWORD, "password": "a new long passphrase",
        "confirm": "a new long passphrase"})
    assert response.status_code == 302
    [entry] = entries(app)
    assert entry.after == {"password_hash": "[redacted]"}
    assert entry.before == {"password_hash": "[redacted]"}
    with app.app_context():
        stored = db.session.get(User, admin.id).password_hash
        dumped = str(db.session.execute(select(AuditEntry.before, AuditEntry.after)).all())
    assert stored not in dumped and "scrypt" not in dumped


def test_update_statements_are_recorded_row_by_row(app, make_user):
    faculty = make_user(Role.FACULTY)
    with app.app_context():
        db.session.add_all([Course(title=f"Course {n}", summary="s", kind="short_course",
                                   strand="analytical_capability", format="online")
                            for n in range(3)])
        db.session.commit()
    with app.test_request_context("/faculty/courses", method="POST"):
        login_user(db.session.get(User, faculty.id))
        db.session.execute(update(Course).where(Course.title != "Course 0")
                           .values(summary="Rewritten"))
        db.session.execute(delete(Course).where(Course.title == "Course 0"))
        db.session.commit()
    log = entries(app)
    assert sorted((e.action, e.before.get("summary"), e.after and e.after.get("summary"))
                  for e in log) == [("deleted", "s", None), ("updated", "s", "Rewritten"),
                                    ("updated", "s", "Rewritten")]
    assert {e.actor_id for e in log} == {faculty.id}


def test_anonymous_answers_by_faculty_leave_no_trace(app, make_user, make_cohort):
    faculty = make_user(Role.FACULTY)
    cohort = make_cohort()
    with app.test_request_context("/surveys/1", method="POST"):
        login_user(db.session.get(User, faculty.id))
        survey = Survey(title="Feedback", anonymous=True, offering_id=cohort.id)
        survey.questions.append(SurveyQuestion(position=1, kind="agreement", text="Useful?"))
        db.session.add(survey)
        db.session.flush()
        before = db.session.scalar(select(func.count(AuditEntry.id)))
        response = SurveyResponse(survey_id=survey.id, anonymous=True)
        response.answers.append(SurveyAnswer(question_id=survey.questions[0].id, number=4))
        db.session.add_all([response, SurveyRespondent(survey_id=survey.id,
                                                       user_id=faculty.id)])
        db.session.flush()
        assert db.session.scalar(select(func.count(AuditEntry.id))) == before
        db.session.commit()
    assert {e.model for e in entries(app)} == {"Survey", "SurveyQuestion"}


def test_the_command_line_is_an_actor(app, runner):
    with app.app_context():
        db.session.execute(delete(Organisation).where(Organisation.code == "OTHER"))
        db.session.commit()
    result = runner.invoke(args=["lms", "seed-organisations"])
    assert result.exit_code == 0, result.output
    [entry] = entries(app)
    assert (entry.model, entry.action, entry.actor_id) == ("Organisation", "created", None)
    assert entry.actor_label.startswith("Command line (") and "seed-organisations" in \
        entry.actor_label
    assert entry.after["code"] == "OTHER"


def test_demo_data_and_the_scheduler_are_not_actors(app):
    from lms.audit.services import current_actor

    with app.app_context():
        assert current_actor() is None
        with acting_as("Script: fix titles"):
            assert current_actor().label == "Script: fix titles"


# ---------------------------------------------------------------------------- the page


@pytest.fixture
def busy_log(app, people):
    """Sixty changes by the admin to the learner over two days, and one by faculty."""
    with app.app_context():
        start = utcnow() - timedelta(days=1)
        for n in range(60):
            db.session.add(AuditEntry(at=start + timedelta(minutes=n), actor_id=people.admin.id,
                                      action="updated", model="User", table_name="user_account",
                                      row_key=str(people.learner.id),
                                      subject_user_id=people.learner.id,
                                      before={"job_title": f"Old {n}"},
                                      after={"job_title": f"New {n}"}))
        db.session.add(AuditEntry(at=start - timedelta(days=3), actor_id=people.faculty.id,
                                  action="created", model="Course", table_name="course",
                                  row_key="9", after={"title": "<script>alert(1)</script>"}))
        db.session.commit()


def test_the_page_is_paginated_newest_first(client, login, people, busy_log):
    login(people.admin)
    first = client.get("/admin/audit").get_data(as_text=True)
    assert "61 changes found" in first
    assert "→ New 59</li>" in first and "→ New 10</li>" in first
    assert "→ New 9</li>" not in first
    assert "Page 2 of 2" in first
    second = client.get("/admin/audit?page=2").get_data(as_text=True)
    assert "→ New 9</li>" in second and "→ New 10</li>" not in second
    assert "<title>Audit log (page 2 of 2)" in second
    assert second.count("<h1") == 1


def test_the_page_filters_by_person_record_and_dates(client, login, people, busy_log):
    login(people.admin)
    by_faculty = client.get("/admin/audit?person=fay").get_data(as_text=True)
    assert "1 change found" in by_faculty
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in by_faculty
    assert "<script>alert(1)" not in by_faculty
    courses = client.get("/admin/audit?model=Course").get_data(as_text=True)
    assert "1 change found" in courses
    about = client.get(f"/admin/audit?subject={people.learner.id}").get_data(as_text=True)
    assert "60 changes found" in about
    today = client.get(f"/admin/audit?starts={(utcnow() - timedelta(days=2)).date()}"
                       ).get_data(as_text=True)
    assert "60 changes found" in today
    old = client.get(f"/admin/audit?ends={(utcnow() - timedelta(days=3)).date()}"
                     ).get_data(as_text=True)
    assert "1 change found" in old


@pytest.mark.parametrize("query", ["starts=31/2/2026", "page=abc", "page=99999999999999999999",
                                   "ends=yesterday&starts=%00", "subject=-1", "model=%27--"])
def test_odd_filters_never_fail(client, login, people, busy_log, query):
    login(people.admin)
    response = client.get(f"/admin/audit?{query}")
    assert response.status_code == 200
    if "31/2" in query or "yesterday" in query:
        assert "There is a problem" in response.get_data(as_text=True)


def test_london_dates_pick_the_london_day(app, client, login, people):
    """An entry at 23:30 UTC on 30 June is on 1 July in London (summer time)."""
    with app.app_context():
        db.session.add(AuditEntry(at=utcnow().replace(year=2026, month=6, day=30, hour=23,
                                                      minute=30), actor_id=people.admin.id,
                                  action="updated", model="User", table_name="user_account"))
        db.session.commit()
    login(people.admin)
    assert "1 change found" in client.get("/admin/audit?starts=1/7/2026&ends=1/7/2026"
                                          ).get_data(as_text=True)
    assert "0 changes found" in client.get("/admin/audit?starts=30/6/2026&ends=30/6/2026"
                                           ).get_data(as_text=True)
