"""Routes of attendance: registers, check-in, imports, completion, progress."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import time_machine

from lms.accounts.models import User
from lms.attendance import imports as attendance_imports
from lms.clock import utcnow
from lms.courses.models import Cohort, Course
from lms.extensions import db
from lms.offerings import services as places
from lms.offerings.models import Session
from tests.authz import FACULTY_ONLY, MISSING, OK, REDIRECT, SIGNED_IN_OK, Route
from tests.authz.offerings import FACULTY_POST

OWNER_ONLY = {"anonymous": REDIRECT, "learner": OK, "dsu_same": MISSING, "dsu_other": MISSING,
              "faculty": MISSING, "admin": MISSING}
TEAMS = (Path(__file__).parents[1] / "data" / "teams_attendance_report.csv").read_bytes()
MEETING = datetime(2027, 1, 12, 10, 0, tzinfo=UTC)  # the Teams sample's meeting


def world(app, people) -> dict:
    """A course the learner has a place on, with a session running now and an imported
    report."""
    with app.test_request_context():
        learner = db.session.get(User, people.learner.id)
        db.session.add(User(email="walkin@example.nhs.uk", full_name="Walk In",
                            organisation=learner.organisation, job_title=""))
        faculty = db.session.get(User, people.faculty.id)
        course = Course(title="Registers", summary="s", kind="short_course",
                        strand="analytical_capability", format="online",
                        requires_signoff=True, requires_feedback=False)
        cohort = Cohort(course=course, name="A", title="Registers: A", capacity=10,
                        status="open")
        start = utcnow() + timedelta(days=3)
        cohort.sessions.append(Session(starts_at=start, ends_at=start + timedelta(hours=2)))
        db.session.add(cohort)
        db.session.flush()
        enrolment = places.book(learner, cohort)
        session = cohort.sessions[0]
        # The session is the sample report's meeting, and its report is imported after it.
        session.starts_at, session.ends_at = MEETING, MEETING + timedelta(hours=2)
        with time_machine.travel(MEETING + timedelta(hours=3), tick=False):
            result = attendance_imports.import_report(faculty, session, TEAMS, "report.csv")
        # Then it runs now, so its register can be taken whatever the clock says.
        now = utcnow()
        session.starts_at, session.ends_at = now - timedelta(hours=1), now + timedelta(hours=1)
        db.session.commit()
        return {"session": session.id, "offering": cohort.id, "enrolment": enrolment.id,
                "row": result.attendance_import.unmatched[0].id,
                "learner_email": learner.email}


ROUTES: list[Route] = [
    Route("attendance.register", lambda p, w: f"/faculty/sessions/{w['session']}/register",
          FACULTY_ONLY),
    Route("attendance.all_present",
          lambda p, w: f"/faculty/sessions/{w['session']}/register/all-present", FACULTY_POST,
          method="POST"),
    Route("attendance.add_person",
          lambda p, w: f"/faculty/sessions/{w['session']}/register/add", FACULTY_POST,
          method="POST", data={"email": "walkin@example.nhs.uk"}),
    Route("attendance.check_in_display",
          lambda p, w: f"/faculty/sessions/{w['session']}/check-in", FACULTY_ONLY),
    Route("attendance.check_in_count",
          lambda p, w: f"/faculty/sessions/{w['session']}/check-in/count", FACULTY_ONLY),
    Route("attendance.check_in", lambda p, w: "/check-in", SIGNED_IN_OK),
    Route("attendance.check_in_code", lambda p, w: "/check-in/ABCDEF", SIGNED_IN_OK),
    Route("attendance.import_report", lambda p, w: f"/faculty/sessions/{w['session']}/import",
          FACULTY_ONLY),
    Route("attendance.resolve_row", lambda p, w: f"/faculty/attendance-rows/{w['row']}/ignore",
          FACULTY_POST, method="POST"),
    Route("attendance.completion", lambda p, w: f"/faculty/offerings/{w['offering']}/completion",
          FACULTY_ONLY),
    Route("attendance.sign_off", lambda p, w: f"/faculty/enrolments/{w['enrolment']}/sign-off",
          FACULTY_POST, method="POST"),
    Route("attendance.progress", lambda p, w: f"/my-learning/{w['enrolment']}/progress",
          OWNER_ONLY),
]
