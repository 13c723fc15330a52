"""Routes of competencies: the framework, course mapping, ratings, self-assessments and the
learning record."""

from __future__ import annotations

from sqlalchemy import select

from lms.competencies import services
from lms.competencies.models import Competency
from lms.courses.models import Course
from lms.extensions import db
from tests.authz import EVERYONE_OK, FACULTY_ONLY, SIGNED_IN_OK, Route
from tests.authz.offerings import FACULTY_POST


def world(app, people) -> dict:
    """The seeded framework, a course building one competency, a competency nothing uses
    and one that is retired."""
    with app.test_request_context():
        services.ensure_framework()
        used = db.session.scalar(select(Competency).where(Competency.code == "forecasting"))
        course = Course(title="Forecasting", summary="s", kind="short_course",
                        strand="analytical_capability", format="online")
        db.session.add(course)
        db.session.flush()
        services.set_course_levels(course, {used.id: 3})
        unused = services.create_competency(services.CompetencyDetails(
            "Causal inference", "analytical_capability", "d", "a", "w", "p", "e"))
        retired = db.session.scalar(select(Competency).where(
            Competency.code == "machine-learning"))
        services.retire_competency(retired)
        db.session.commit()
        return {"used": used.id, "unused": unused.id, "retired": retired.id,
                "course": course.id}


ROUTES: list[Route] = [
    Route("competencies.framework", lambda p, w: "/competencies", EVERYONE_OK),
    Route("competencies.competency", lambda p, w: f"/competencies/{w['used']}", EVERYONE_OK),
    Route("competencies.new_competency", lambda p, w: "/faculty/competencies/new",
          FACULTY_ONLY),
    Route("competencies.edit_competency",
          lambda p, w: f"/faculty/competencies/{w['used']}/edit", FACULTY_ONLY),
    Route("competencies.retire_competency",
          lambda p, w: f"/faculty/competencies/{w['used']}/retire", FACULTY_POST,
          method="POST"),
    Route("competencies.restore_competency",
          lambda p, w: f"/faculty/competencies/{w['retired']}/restore", FACULTY_POST,
          method="POST"),
    Route("competencies.delete_competency",
          lambda p, w: f"/faculty/competencies/{w['unused']}/delete", FACULTY_POST,
          method="POST"),
    Route("competencies.course_mapping",
          lambda p, w: f"/faculty/courses/{w['course']}/competencies", FACULTY_ONLY),
    Route("competencies.rate", lambda p, w: f"/faculty/people/{p.learner.id}/rate",
          FACULTY_ONLY),
    Route("competencies.self_assess", lambda p, w: "/learning-record/self-assessment",
          SIGNED_IN_OK),
    Route("competencies.learning_record", lambda p, w: "/learning-record", SIGNED_IN_OK),
    Route("competencies.learning_record_download", lambda p, w: "/learning-record.csv",
          SIGNED_IN_OK),
    Route("competencies.person_record",
          lambda p, w: f"/faculty/people/{p.learner.id}/learning-record", FACULTY_ONLY),
    Route("competencies.person_record_download",
          lambda p, w: f"/faculty/people/{p.learner.id}/learning-record.csv", FACULTY_ONLY),
]
