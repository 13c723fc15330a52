"""Registration questions: asked as people book (a required one unanswered books nothing,
whichever way they book), seen by faculty only, on the register CSV, erased with the person."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from lms.accounts.models import Role, User
from lms.courses.models import Cohort
from lms.errors import DomainError
from lms.extensions import db
from lms.learning import questions
from lms.learning.questions_models import RegistrationAnswer
from lms.offerings import services as engine
from lms.offerings.models import Enrolment


def count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def asked(app, make_cohort, make_user):
    """A cohort asking a required access question and an optional hopes question."""
    cohort = make_cohort()
    faculty = make_user(Role.FACULTY)
    with app.app_context():
        offering = db.session.get(Cohort, cohort.id)
        author = db.session.get(User, faculty.id)
        access = questions.add_question(author, offering, questions.QuestionDetails(
            "access", "Do you have any access needs?", required=True))
        hopes = questions.add_question(author, offering, questions.QuestionDetails(
            "hopes", "What do you hope to get from this?"))
        db.session.commit()
        return cohort.id, access.id, hopes.id, faculty


def test_the_book_button_leads_to_the_questions_and_a_missing_answer_books_nothing(
        app, client, login, make_user, asked):
    cohort_id, access, hopes, _ = asked
    lena = make_user(name="Lena Learner")
    login(lena)
    response = client.post(f"/offerings/{cohort_id}/book")
    assert response.status_code == 302
    assert response.location.endswith(f"/offerings/{cohort_id}/register")
    page = client.get(f"/offerings/{cohort_id}/register").get_data(as_text=True)
    assert "Do you have any access needs?" in page
    assert "What do you hope to get from this? (optional)" in page

    refused = client.post(f"/offerings/{cohort_id}/register",
                          data={f"answer_{access}": "  ", f"answer_{hopes}": "Skills"})
    assert refused.status_code == 200
    assert "Answer “Do you have any access needs?”" in refused.get_data(as_text=True)
    assert count(app, Enrolment) == 0 and count(app, RegistrationAnswer) == 0

    booked = client.post(f"/offerings/{cohort_id}/register",
                         data={f"answer_{access}": "Step-free access", f"answer_{hopes}": ""})
    assert booked.status_code == 302
    with app.app_context():
        enrolment = db.session.scalar(select(Enrolment))
        assert enrolment.user_id == lena.id and enrolment.state == "enrolled"
        assert db.session.scalar(select(RegistrationAnswer.answer).where(
            RegistrationAnswer.question_id == access)) == "Step-free access"


def test_the_engine_refuses_a_booking_without_the_required_answers(ctx, make_cohort,
                                                                   make_user):
    cohort = make_cohort()
    questions.add_question(make_user(Role.FACULTY), cohort, questions.QuestionDetails(
        "dietary", "Any dietary needs?", required=True))
    with pytest.raises(DomainError, match="Answer the registration questions before booking"):
        engine.book(make_user(), cohort)


def test_the_api_cannot_skip_the_questions(app, client, login, make_user, asked):
    cohort_id, *_ = asked
    login(make_user())
    response = client.post(f"/api/v1/offerings/{cohort_id}/bookings")
    assert response.status_code in (409, 422)
    assert "registration questions" in response.get_json()["detail"]
    assert count(app, Enrolment) == 0


def test_answers_are_for_faculty_only_and_on_the_register_csv(app, client, login, make_user,
                                                              asked):
    cohort_id, access, hopes, faculty = asked
    lena = make_user(name="Lena Learner")
    login(lena)
    client.post(f"/offerings/{cohort_id}/register",
                data={f"answer_{access}": "=HYPERLINK(\"x\")", f"answer_{hopes}": "Forecasting"})
    assert client.get(f"/faculty/offerings/{cohort_id}/answers").status_code == 403
    assert client.get(f"/faculty/offerings/{cohort_id}/register.csv").status_code == 403

    login(faculty)
    page = client.get(f"/faculty/offerings/{cohort_id}/answers").get_data(as_text=True)
    assert "Lena Learner" in page and "Forecasting" in page
    download = client.get(f"/faculty/offerings/{cohort_id}/register.csv")
    assert download.headers["Content-Disposition"].startswith("attachment")
    lines = download.data.decode("utf-8-sig").splitlines()
    assert lines[0] == ("Name,Email,Organisation,Place,Do you have any access needs?,"
                        "What do you hope to get from this?")
    assert lines[1].startswith("Lena Learner,") and lines[1].endswith(
        ',"\'=HYPERLINK(""x"")",Forecasting')


def test_faculty_add_change_and_remove_questions(app, client, login, asked):
    cohort_id, access, hopes, faculty = asked
    login(faculty)
    empty = client.post(f"/faculty/offerings/{cohort_id}/questions", data={})
    page = empty.get_data(as_text=True)
    assert "Select what the question is about" in page and "Enter the question" in page
    assert client.post(f"/faculty/registration-questions/{hopes}/edit", data={
        "kind": "hopes", "text": "What would make this worthwhile?"}).status_code == 302
    assert "What would make this worthwhile?" in client.get(
        f"/faculty/offerings/{cohort_id}/questions").get_data(as_text=True)
    assert client.post(f"/faculty/registration-questions/{hopes}/remove").status_code == 302
    with app.app_context():
        assert [q.id for q in questions.questions_of(cohort_id)] == [access]


def test_erasure_deletes_the_answers(app, make_user, asked):
    from flask_login import login_user

    from lms.privacy import services as privacy

    cohort_id, access, hopes, _ = asked
    lena = make_user(name="Lena Learner")
    admin = make_user(Role.ADMIN)
    with app.app_context():
        person = db.session.get(User, lena.id)
        questions.book_with_answers(person, db.session.get(Cohort, cohort_id),
                                    {access: "Wheelchair user", hopes: ""})
        db.session.commit()
    with app.test_request_context("/admin", method="POST"):
        login_user(db.session.get(User, admin.id))
        privacy.erase_person(db.session.get(User, admin.id), db.session.get(User, lena.id))
        db.session.commit()
    assert count(app, RegistrationAnswer) == 0
