"""Routes of the JSON API (v1) and of people's API token pages.

Through the browser session, as the rest of the table: the API answers 401 (not a redirect)
to anonymous calls, 403 to roles that may not, and 404 for another person's booking, another
ICS's figures and another person's token. (CSRF is off in this table, as everywhere in it;
``tests/test_api_auth.py`` checks it.) ``world`` is shared by the API's own tests.
"""

from __future__ import annotations

from datetime import timedelta

from lms.accounts.models import User
from lms.api import services as api
from lms.attendance.models import Attendance
from lms.clock import utcnow
from lms.courses.models import Cohort, Course
from lms.extensions import db
from lms.offerings import services as engine
from lms.offerings.models import Enrolment, Session
from tests.authz import (
    EVERYONE_OK,
    FACULTY_ONLY,
    FORBIDDEN,
    MISSING,
    OK,
    REDIRECT,
    SIGNED_IN_OK,
    Route,
)
from tests.conftest import ROLES

UNAUTHORISED = 401
CREATED = 201
API_SIGNED_IN = {"anonymous": UNAUTHORISED, **dict.fromkeys(ROLES[1:], OK)}
API_FACULTY = {**FACULTY_ONLY, "anonymous": UNAUTHORISED}
API_OWNER = {"anonymous": UNAUTHORISED, "learner": OK, "dsu_same": MISSING,
             "dsu_other": MISSING, "faculty": MISSING, "admin": MISSING}
API_BOOK = {"anonymous": UNAUTHORISED, **dict.fromkeys(ROLES[1:], CREATED)}
# The learner and the same-ICS lead are in Birmingham and Solihull (BSOL).
API_OWN_ICS = {"anonymous": UNAUTHORISED, "learner": FORBIDDEN, "dsu_same": OK,
               "dsu_other": MISSING, "faculty": OK, "admin": OK}
OWNER_ONLY_POST = {"anonymous": REDIRECT, "learner": REDIRECT, "dsu_same": MISSING,
                   "dsu_other": MISSING, "faculty": MISSING, "admin": MISSING}


def cohort(title: str, *, capacity: int | None = 10, mode: str = "open", status: str = "open",
           starts_in: timedelta = timedelta(days=20), sessions: int = 1,
           published: bool = True) -> Cohort:
    """An offering of a new course, with ``sessions`` weekly two-hour sessions."""
    course = Course(title=title, summary=f"About {title}", kind="short_course",
                    strand="analytical_capability", format="online", published=published)
    made = Cohort(course=course, name="A", title=f"{title}: A", capacity=capacity,
                  booking_mode=mode, status=status)
    for n in range(sessions):
        start = utcnow() + starts_in + timedelta(days=7 * n)
        made.sessions.append(Session(starts_at=start, ends_at=start + timedelta(hours=2),
                                     title=f"Session {n + 1}", join_url="https://meet.example/x"))
    db.session.add(made)
    db.session.flush()
    return made


def _project_work(faculty: User, learner: User, running) -> None:
    """Two assignments on the running course: the learner's work on one, not yet met."""
    from lms.clock import to_london
    from lms.learning import assignments as work

    for title, days in (("Project plan", 7), ("Final report", 40)):
        due = to_london(utcnow() + timedelta(days=days))
        task = work.set_assignment(faculty, running, work.AssignmentDetails(
            title=title, brief="Write it up", due_day=due.date(), counts_to_completion=True))
    first = work.submit(learner, task, "My report", [])
    work.mark(faculty, [first], "not_yet_met", "Say more", (due + timedelta(days=3)).date())


def world(app, people) -> dict:
    """An open course to book, a place the learner holds on another, a running course with a
    register, and a token of the learner's."""
    with app.test_request_context():
        learner = db.session.get(User, people.learner.id)
        faculty = db.session.get(User, people.faculty.id)
        to_book = cohort("Forecasting with R")
        held = cohort("Decision quality")
        place = engine.book(learner, held)
        running = cohort("Leadership for analysts", status="running",
                         starts_in=-timedelta(days=3))
        db.session.add(Attendance(session_id=running.sessions[0].id, user_id=learner.id,
                                  status="present", source="register",
                                  recorded_by_id=faculty.id))
        db.session.add(Enrolment(offering_id=running.id, user_id=learner.id,
                                        state="enrolled"))
        _project_work(faculty, learner, running)
        token = api.create_token(learner, "Power BI", "read")
        db.session.commit()
        return {"to_book": to_book.id, "held": held.id, "place": place.id,
                "running": running.id, "course": to_book.course_id,
                "token": token.token.id}


ROUTES: list[Route] = [
    Route("api.index", lambda p, w: "/api/v1/", EVERYONE_OK),
    Route("api.openapi", lambda p, w: "/api/v1/openapi.json", EVERYONE_OK),
    Route("api.docs", lambda p, w: "/api/v1/docs", EVERYONE_OK),
    Route("api.courses", lambda p, w: "/api/v1/courses", EVERYONE_OK),
    Route("api.course", lambda p, w: f"/api/v1/courses/{w['course']}", EVERYONE_OK),
    Route("api.offerings", lambda p, w: "/api/v1/offerings", EVERYONE_OK),
    Route("api.offering", lambda p, w: f"/api/v1/offerings/{w['to_book']}", EVERYONE_OK),
    Route("api.sessions", lambda p, w: "/api/v1/sessions", EVERYONE_OK),
    # The list answers everyone who may see the offering; what is in it follows the
    # materials' rule (tests/test_learning_api.py).
    Route("api.materials", lambda p, w: f"/api/v1/offerings/{w['to_book']}/materials",
          EVERYONE_OK),
    Route("api.me", lambda p, w: "/api/v1/me", API_SIGNED_IN),
    Route("api.my_bookings", lambda p, w: "/api/v1/me/bookings", API_SIGNED_IN),
    Route("api.my_assignments", lambda p, w: "/api/v1/me/assignments", API_SIGNED_IN),
    Route("api.my_booking", lambda p, w: f"/api/v1/me/bookings/{w['place']}", API_OWNER),
    Route("api.withdraw", lambda p, w: f"/api/v1/me/bookings/{w['place']}", API_OWNER,
          method="DELETE"),
    Route("api.book", lambda p, w: f"/api/v1/offerings/{w['to_book']}/bookings", API_BOOK,
          method="POST"),
    Route("api.my_calendar", lambda p, w: "/api/v1/me/calendar", API_SIGNED_IN),
    Route("api.attendance", lambda p, w: f"/api/v1/offerings/{w['running']}/attendance",
          API_FACULTY),
    Route("api.completions", lambda p, w: f"/api/v1/offerings/{w['running']}/completions",
          API_FACULTY),
    Route("api.offering_assignments",
          lambda p, w: f"/api/v1/offerings/{w['running']}/assignments", API_FACULTY),
    Route("api.ics_figures", lambda p, w: "/api/v1/ics/BSOL/figures", API_OWN_ICS),
    Route("api.region_figures", lambda p, w: "/api/v1/region/figures", API_FACULTY),
    Route("api_tokens.tokens", lambda p, w: "/profile/api-tokens", SIGNED_IN_OK),
    Route("api_tokens.revoke", lambda p, w: f"/profile/api-tokens/{w['token']}/revoke",
          OWNER_ONLY_POST, method="POST"),
]
