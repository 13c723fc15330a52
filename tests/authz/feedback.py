"""Routes of feedback: faculty's survey builder and results, learners' answers."""

from __future__ import annotations

from datetime import timedelta

from lms.accounts.models import User
from lms.clock import utcnow
from lms.courses.models import Cohort, Course
from lms.extensions import db
from lms.feedback import builder
from lms.feedback import services as svc
from lms.feedback.models import Survey
from lms.offerings.models import Enrolment, Session
from tests.authz import FACULTY_ONLY, FORBIDDEN, MISSING, OK, REDIRECT, SIGNED_IN_OK, Route

FACULTY_POST = {"anonymous": REDIRECT, "learner": FORBIDDEN, "dsu_same": FORBIDDEN,
                "dsu_other": FORBIDDEN, "faculty": REDIRECT, "admin": REDIRECT}
# Only the learner holds a place; for everyone else the survey does not exist.
PLACE_HOLDER_ONLY = {"anonymous": REDIRECT, "learner": OK, "dsu_same": MISSING,
                     "dsu_other": MISSING, "faculty": MISSING, "admin": MISSING}
PLACE_HOLDER_POST = {**PLACE_HOLDER_ONLY, "learner": REDIRECT}


def world(app, people) -> dict:
    """A cohort the learner has a place on, with an open anonymous survey, a survey not open
    yet (its questions can still change), and a closed named survey the learner answered;
    all made from the standard template."""
    with app.test_request_context():
        learner = db.session.get(User, people.learner.id)
        faculty = db.session.get(User, people.faculty.id)
        course = Course(title="Forecasting", summary="s", kind="short_course",
                        strand="analytical_capability", format="online")
        cohort = Cohort(course=course, name="Spring", title="Forecasting: Spring",
                        capacity=10, status="running")
        start = utcnow() - timedelta(days=3)
        cohort.sessions.append(Session(starts_at=start, ends_at=start + timedelta(hours=2)))
        db.session.add(cohort)
        db.session.flush()
        db.session.add(Enrolment(offering_id=cohort.id, user_id=learner.id, state="enrolled"))
        builder.ensure_standard_templates()
        template = svc.templates()[0]
        now = utcnow()

        def survey(opens: timedelta, closes: timedelta, anonymous: bool = True) -> Survey:
            made = builder.create_survey(faculty, cohort, str(template.id))
            made.opens_at, made.closes_at, made.anonymous = now + opens, now + closes, anonymous
            return made

        open_survey = survey(timedelta(days=-1), timedelta(days=6))
        later = survey(timedelta(days=10), timedelta(days=20))
        closed = survey(timedelta(days=-1), timedelta(days=6), anonymous=False)
        db.session.flush()
        svc.submit(learner, closed, {f"q{q.id}": "4" if q.kind == "agreement" else "8"
                                     for q in closed.questions
                                     if q.kind in ("agreement", "rating")})
        closed.closes_at = now - timedelta(minutes=1)
        db.session.commit()
        return {"cohort": cohort.id, "open": open_survey.id, "later": later.id,
                "closed": closed.id, "template": template.id,
                "question": later.questions[1].id}


ROUTES: list[Route] = [
    Route("feedback.my_surveys", lambda p, w: "/feedback", SIGNED_IN_OK),
    Route("feedback.answer", lambda p, w: f"/feedback/{w['open']}", PLACE_HOLDER_ONLY),
    Route("feedback.answer", lambda p, w: f"/feedback/{w['open']}", PLACE_HOLDER_POST,
          method="POST", data={"action": "save"}),
    Route("feedback.faculty_home", lambda p, w: "/faculty/surveys", FACULTY_ONLY),
    Route("feedback.templates", lambda p, w: "/faculty/survey-templates", FACULTY_ONLY),
    Route("feedback.new_template", lambda p, w: "/faculty/survey-templates/new", FACULTY_ONLY),
    Route("feedback.offering_surveys", lambda p, w: f"/faculty/offerings/{w['cohort']}/surveys",
          FACULTY_ONLY),
    Route("feedback.new_survey", lambda p, w: f"/faculty/offerings/{w['cohort']}/surveys/new",
          FACULTY_ONLY),
    Route("feedback.survey", lambda p, w: f"/faculty/surveys/{w['later']}", FACULTY_ONLY),
    Route("feedback.preview", lambda p, w: f"/faculty/surveys/{w['later']}/preview",
          FACULTY_ONLY),
    Route("feedback.survey_settings", lambda p, w: f"/faculty/surveys/{w['later']}/settings",
          FACULTY_ONLY),
    Route("feedback.delete_survey", lambda p, w: f"/faculty/surveys/{w['later']}/delete",
          FACULTY_ONLY),
    Route("feedback.save_as_template",
          lambda p, w: f"/faculty/surveys/{w['later']}/save-as-template", FACULTY_ONLY),
    Route("feedback.new_question",
          lambda p, w: f"/faculty/surveys/{w['later']}/questions/new", FACULTY_ONLY),
    Route("feedback.edit_question", lambda p, w: f"/faculty/questions/{w['question']}/edit",
          FACULTY_ONLY),
    Route("feedback.move_question", lambda p, w: f"/faculty/questions/{w['question']}/move/up",
          FACULTY_POST, method="POST"),
    Route("feedback.delete_question",
          lambda p, w: f"/faculty/questions/{w['question']}/delete", FACULTY_POST,
          method="POST"),
    Route("feedback.results_page", lambda p, w: f"/faculty/surveys/{w['closed']}/results",
          FACULTY_ONLY),
    Route("feedback.export_csv", lambda p, w: f"/faculty/surveys/{w['closed']}/results.csv",
          FACULTY_ONLY),
    Route("feedback.export_xlsx", lambda p, w: f"/faculty/surveys/{w['closed']}/results.xlsx",
          FACULTY_ONLY),
    Route("feedback.compare", lambda p, w: f"/faculty/surveys/{w['closed']}/compare",
          FACULTY_ONLY),
]
