"""Routes of reports: a DSU lead's own ICS (another ICS is 404), the region and cohort
matrices (faculty and admins)."""

from __future__ import annotations

from datetime import timedelta

from lms.accounts.models import User
from lms.clock import utcnow
from lms.courses.models import Cohort, Course
from lms.extensions import db
from lms.offerings.models import Enrolment, Session
from tests.authz import FACULTY_ONLY, FORBIDDEN, MISSING, OK, REDIRECT, Route

# The learner and the same-ICS lead are in Birmingham and Solihull (BSOL).
OWN_ICS = {"anonymous": REDIRECT, "learner": FORBIDDEN, "dsu_same": OK, "dsu_other": MISSING,
           "faculty": OK, "admin": OK}
LEADS_TO_THEIR_ICS = {"anonymous": REDIRECT, "learner": FORBIDDEN, "dsu_same": REDIRECT,
                      "dsu_other": REDIRECT, "faculty": FORBIDDEN, "admin": FORBIDDEN}


def world(app, people) -> dict:
    """A running cohort with the learner booked on it."""
    with app.test_request_context():
        learner = db.session.get(User, people.learner.id)
        course = Course(title="Forecasting", summary="s", kind="short_course",
                        strand="analytical_capability", format="online")
        cohort = Cohort(course=course, name="Spring", title="Forecasting: Spring",
                        capacity=10, status="running")
        start = utcnow() - timedelta(days=3)
        cohort.sessions.append(Session(starts_at=start, ends_at=start + timedelta(hours=2)))
        db.session.add(cohort)
        db.session.flush()
        db.session.add(Enrolment(offering_id=cohort.id, user_id=learner.id, state="enrolled"))
        db.session.commit()
        return {"cohort": cohort.id}


ROUTES: list[Route] = [
    Route("reports.my_ics", lambda p, w: "/ics", LEADS_TO_THEIR_ICS),
    Route("reports.ics_dashboard", lambda p, w: "/ics/BSOL", OWN_ICS),
    Route("reports.ics_table", lambda p, w: "/ics/BSOL/people.csv", OWN_ICS),
    Route("reports.region", lambda p, w: "/reports", FACULTY_ONLY),
    Route("reports.region_table", lambda p, w: "/reports/participation.xlsx", FACULTY_ONLY),
    Route("reports.cohorts", lambda p, w: "/reports/cohorts", FACULTY_ONLY),
    Route("reports.cohort_matrix", lambda p, w: f"/reports/cohorts/{w['cohort']}",
          FACULTY_ONLY),
    Route("reports.cohort_matrix_table",
          lambda p, w: f"/reports/cohorts/{w['cohort']}/matrix.csv", FACULTY_ONLY),
]
