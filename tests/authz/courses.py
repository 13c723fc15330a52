"""Routes of courses: the public catalogue, course and cohort pages, and faculty's pages for
courses, cohorts and sessions."""

from __future__ import annotations

from datetime import timedelta

from lms.clock import utcnow
from lms.extensions import db
from tests import catalogue_builders as build
from tests.authz import (
    EVERYONE_OK,
    FACULTY_ONLY,
    FORBIDDEN,
    MISSING,
    OK,
    REDIRECT,
    Route,
)

# Unpublished courses and draft cohorts do not exist for anyone who cannot manage them.
MANAGERS_SEE = {"anonymous": MISSING, "learner": MISSING, "dsu_same": MISSING,
                "dsu_other": MISSING, "faculty": OK, "admin": OK}
# A valid POST: faculty and admins are sent on; others are sent to sign in or refused.
FACULTY_POST = {"anonymous": REDIRECT, "learner": FORBIDDEN, "dsu_same": FORBIDDEN,
                "dsu_other": FORBIDDEN, "faculty": REDIRECT, "admin": REDIRECT}


def world(app, people) -> dict:
    """A published course with an open cohort of two sessions, a draft cohort, and an
    unpublished course."""
    with app.app_context():
        now = utcnow()
        course = build.course("Time-series forecasting with R")
        cohort = build.cohort(course, "Spring", starts=[now + timedelta(days=20),
                                                        now + timedelta(days=27)])
        draft = build.cohort(course, "Draft", status="draft")
        hidden = build.course("Systems thinking", published=False)
        db.session.commit()
        return {"course": course.id, "cohort": cohort.id, "draft": draft.id,
                "hidden": hidden.id, "session": cohort.sessions[1].id}


def _first_day() -> str:
    return (utcnow() + timedelta(days=60)).date().isoformat()


ROUTES: list[Route] = [
    Route("courses.catalogue", lambda p, w: "/courses", EVERYONE_OK),
    Route("courses.catalogue", lambda p, w: "/courses?q=forecast&has_places=y", EVERYONE_OK),
    Route("courses.course", lambda p, w: f"/courses/{w['course']}", EVERYONE_OK),
    Route("courses.course", lambda p, w: f"/courses/{w['hidden']}", MANAGERS_SEE),
    Route("courses.cohort", lambda p, w: f"/cohorts/{w['cohort']}", EVERYONE_OK),
    Route("courses.cohort", lambda p, w: f"/cohorts/{w['draft']}", MANAGERS_SEE),
    Route("courses.manage_courses", lambda p, w: "/faculty/courses", FACULTY_ONLY),
    Route("courses.new_course", lambda p, w: "/faculty/courses/new", FACULTY_ONLY),
    # An empty form comes back with its errors.
    Route("courses.new_course", lambda p, w: "/faculty/courses/new", FACULTY_ONLY,
          method="POST", data={}),
    Route("courses.edit_course", lambda p, w: f"/faculty/courses/{w['course']}/edit",
          FACULTY_ONLY),
    Route("courses.edit_course", lambda p, w: f"/faculty/courses/{w['hidden']}/edit",
          FACULTY_ONLY),
    Route("courses.new_cohort", lambda p, w: f"/faculty/courses/{w['course']}/cohorts/new",
          FACULTY_ONLY),
    Route("courses.manage_cohort", lambda p, w: f"/faculty/cohorts/{w['cohort']}",
          FACULTY_ONLY),
    Route("courses.manage_cohort", lambda p, w: f"/faculty/cohorts/{w['draft']}",
          FACULTY_ONLY),
    Route("courses.duplicate_cohort", lambda p, w: f"/faculty/cohorts/{w['cohort']}/duplicate",
          FACULTY_ONLY),
    Route("courses.duplicate_cohort", lambda p, w: f"/faculty/cohorts/{w['cohort']}/duplicate",
          FACULTY_POST, method="POST", data={"name": "Autumn", "first_day": _first_day()}),
    Route("courses.cancel_cohort", lambda p, w: f"/faculty/cohorts/{w['cohort']}/cancel",
          FACULTY_ONLY),
    Route("courses.cancel_cohort", lambda p, w: f"/faculty/cohorts/{w['cohort']}/cancel",
          FACULTY_POST, method="POST", data={"reason": "Trainer unwell"}),
    Route("courses.new_session", lambda p, w: f"/faculty/cohorts/{w['cohort']}/sessions/new",
          FACULTY_ONLY),
    Route("courses.edit_session", lambda p, w: f"/faculty/sessions/{w['session']}/edit",
          FACULTY_ONLY),
    Route("courses.cancel_session", lambda p, w: f"/faculty/sessions/{w['session']}/cancel",
          FACULTY_ONLY),
    Route("courses.cancel_session", lambda p, w: f"/faculty/sessions/{w['session']}/cancel",
          FACULTY_POST, method="POST", data={"reason": "Room unavailable"}),
]
