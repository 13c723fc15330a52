"""Routes of places: booking, answers, My learning, nominations, faculty's people page."""

from __future__ import annotations

from datetime import timedelta

from lms.accounts.models import User
from lms.clock import utcnow
from lms.courses.models import Cohort, Course
from lms.extensions import db
from lms.offerings import services as svc
from lms.offerings.models import OfferingQuota, Session
from tests.authz import (
    DSU_LEAD_ONLY,
    FACULTY_ONLY,
    FORBIDDEN,
    MISSING,
    OK,
    REDIRECT,
    SIGNED_IN_OK,
    Route,
)
from tests.conftest import ROLES, organisation

SIGNED_IN_REDIRECT = dict.fromkeys(ROLES, REDIRECT)
OWNER_ONLY_POST = {"anonymous": REDIRECT, "learner": REDIRECT, "dsu_same": MISSING,
                   "dsu_other": MISSING, "faculty": MISSING, "admin": MISSING}
FACULTY_POST = {"anonymous": REDIRECT, "learner": FORBIDDEN, "dsu_same": FORBIDDEN,
                "dsu_other": FORBIDDEN, "faculty": REDIRECT, "admin": REDIRECT}
LEAD_OF_SAME_ICS_POST = {"anonymous": REDIRECT, "learner": FORBIDDEN, "dsu_same": REDIRECT,
                         "dsu_other": MISSING, "faculty": FORBIDDEN, "admin": FORBIDDEN}


def _cohort(title: str, mode: str, capacity: int, quotas: dict[str, int] | None = None):
    course = Course(title=title, summary="s", kind="short_course",
                    strand="analytical_capability", format="online")
    cohort = Cohort(course=course, name="A", title=f"{title}: A", capacity=capacity,
                    booking_mode=mode, status="open")
    start = utcnow() + timedelta(days=20)
    cohort.sessions.append(Session(starts_at=start, ends_at=start + timedelta(hours=2)))
    for code, places in (quotas or {}).items():
        cohort.quotas.append(OfferingQuota(organisation_id=organisation(code).id,
                                           places=places))
    db.session.add(cohort)
    db.session.flush()
    return cohort


def world(app, people) -> dict:
    """An open course the learner has a place on (with two people waiting behind a full
    cohort), an approval course with a request, and a programme with a nomination."""
    with app.test_request_context():
        learner = db.session.get(User, people.learner.id)
        lead = db.session.get(User, people.dsu_same.id)
        extra = [User(email=f"w{i}@example.nhs.uk", full_name=f"Waiting {i}",
                      organisation=organisation("BSOL"), job_title="",
                      email_verified_at=utcnow()) for i in range(2)]
        db.session.add_all(extra)
        full = _cohort("Full course", "open", 1)
        place = svc.book(learner, full)
        waiting = [svc.book(person, full) for person in extra]
        approval = _cohort("Approval course", "approval", 10)
        request = svc.book(extra[0], approval)
        programme = _cohort("Programme", "nomination", 10, {"BSOL": 2})
        nomination = svc.nominate(lead, programme, extra[1])
        db.session.commit()
        return {"full": full.id, "place": place.id, "waiting": waiting[1].id,
                "request": request.id, "programme": programme.id,
                "nomination": nomination.id}


ROUTES: list[Route] = [
    Route("offerings.book", lambda p, w: f"/offerings/{w['full']}/book", SIGNED_IN_REDIRECT,
          method="POST"),
    Route("offerings.answer", lambda p, w: f"/enrolments/{w['place']}/withdraw",
          OWNER_ONLY_POST, method="POST"),
    Route("offerings.answer", lambda p, w: f"/enrolments/{w['place']}/withdraw",
          {**OWNER_ONLY_POST, "learner": OK}),
    Route("offerings.my_learning", lambda p, w: "/my-learning", SIGNED_IN_OK),
    Route("offerings.nominations", lambda p, w: "/nominations", DSU_LEAD_ONLY),
    Route("offerings.nominate", lambda p, w: f"/nominations/{w['programme']}", DSU_LEAD_ONLY),
    Route("offerings.withdraw_nomination",
          lambda p, w: f"/nominations/enrolments/{w['nomination']}/withdraw",
          LEAD_OF_SAME_ICS_POST, method="POST"),
    Route("offerings.withdraw_nomination",
          lambda p, w: f"/nominations/enrolments/{w['nomination']}/withdraw",
          {**LEAD_OF_SAME_ICS_POST, "dsu_same": OK}),
    Route("offerings.people", lambda p, w: f"/faculty/offerings/{w['full']}/people",
          FACULTY_ONLY),
    Route("offerings.approve", lambda p, w: f"/faculty/enrolments/{w['request']}/approve",
          FACULTY_POST, method="POST"),
    Route("offerings.reject", lambda p, w: f"/faculty/enrolments/{w['request']}/reject",
          FACULTY_POST, method="POST", data={"reason": "Not this time"}),
    Route("offerings.move", lambda p, w: f"/faculty/enrolments/{w['waiting']}/move",
          FACULTY_POST, method="POST", data={"position": "1", "reason": "Speaker"}),
    Route("offerings.message_waitlist",
          lambda p, w: f"/faculty/offerings/{w['full']}/message-waitlist", FACULTY_POST,
          method="POST", data={"subject": "Hello", "body": "News"}),
]
