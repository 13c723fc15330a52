"""Data for the project-work and reflection tests: a cohort with people on it, assignments,
submissions, reflections and CPD (shared by the route table and the feature's tests)."""

from __future__ import annotations

import io
from datetime import timedelta

from werkzeug.datastructures import FileStorage

from lms.accounts.models import User
from lms.clock import to_london, utcnow
from lms.courses.models import Cohort, Course
from lms.extensions import db
from lms.learning import assignments as work
from lms.learning import cpd, reflection
from lms.offerings.models import Enrolment, Session
from tests.conftest import organisation

PDF = b"%PDF-1.4\n% a tiny test PDF\n"


def pdf_upload(name: str = "work.pdf", body: bytes = PDF) -> FileStorage:
    return FileStorage(stream=io.BytesIO(body), filename=name, content_type="application/pdf")


def cohort_with(people: list[User], title: str = "Leadership for Analysts",
                session_days: int = -10) -> Cohort:
    """A cohort (one session ``session_days`` from now) with ``people`` enrolled."""
    course = Course(title=title, summary="s", kind="programme",
                    strand="analytical_leaders", format="online", min_attendance_percent=50,
                    requires_feedback=False)
    cohort = Cohort(course=course, name="Spring", title=f"{title}: Spring", capacity=40,
                    booking_mode="open", status="open")
    start = utcnow() + timedelta(days=session_days)
    cohort.sessions.append(Session(starts_at=start, ends_at=start + timedelta(hours=2),
                                   title="Day 1"))
    db.session.add(cohort)
    db.session.flush()
    for person in people:
        db.session.add(Enrolment(offering_id=cohort.id, user_id=person.id, state="enrolled"))
    db.session.flush()
    return cohort


def set_work(faculty: User, cohort: Cohort, title: str = "Project plan", days: int = 14,
             **fields) -> work.Assignment:
    due = to_london(utcnow() + timedelta(days=days))
    details = work.AssignmentDetails(title=title, brief="Write a **plan**.", due_day=due.date(),
                                     due_time=due.time().replace(second=0, microsecond=0),
                                     **fields)
    return work.set_assignment(faculty, cohort, details)


def person(name: str, org: str = "BSOL") -> User:
    user = User(email=f"{name.lower().replace(' ', '.')}@example.nhs.uk", full_name=name,
                organisation=organisation(org), job_title="Analyst", email_verified_at=utcnow())
    db.session.add(user)
    db.session.flush()
    return user


def entry(user: User, title: str = "A hard meeting", link: str = "") -> reflection.ReflectionEntry:
    return reflection.write_entry(user, reflection.EntryDetails(
        happened_on=to_london(utcnow()).date(), title=title, what_happened="We disagreed.",
        what_learned="Listen first.", link=link))


def activity(user: User) -> cpd.CPDActivity:
    return cpd.record_activity(user, cpd.ActivityDetails(
        "Conference", to_london(utcnow()).date() - timedelta(days=3), "6.5", "NHS-R"),
        pdf_upload("certificate.pdf"))
