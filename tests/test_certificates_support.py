"""Builders the certificate tests share (finished cohorts and festivals with completions),
and PDF reading helpers; plus tests of the builders' own assumptions."""

from __future__ import annotations

import shutil
import subprocess
from datetime import timedelta
from decimal import Decimal
from itertools import count
from pathlib import Path

from sqlalchemy import select

from lms.accounts.models import Organisation, User
from lms.attendance.models import Attendance, Completion
from lms.clock import utcnow
from lms.courses.models import Cohort, Course
from lms.extensions import db
from lms.offerings.models import Booking, Enrolment, EnrolmentState, Offering, Session

_n = count(1)


def _org() -> Organisation:
    return db.session.scalar(select(Organisation).where(Organisation.code == "BSOL"))


def person(name: str | None = None) -> User:
    """A learner, made directly (no password: quick for dozens of people)."""
    n = next(_n)
    user = User(email=f"holder{n}@example.nhs.uk", full_name=name or f"Holder {n:03d}",
                organisation=_org(), job_title="Analyst")
    db.session.add(user)
    return user


def finished_cohort(people: int = 3, *, kind: str = "short_course", cpd: str = "6.5",
                    complete: int | None = None, names: list[str] | None = None,
                    title: str | None = None) -> tuple[Cohort, list[Enrolment]]:
    """A finished cohort whose session ended ten days ago. The first ``complete`` (default:
    all) people completed, as rows written directly (no completion hook fires)."""
    n = next(_n)
    course = Course(title=title or f"Forecasting with time series {n}", summary="s", kind=kind,
                    strand="analytical_capability", format="online",
                    cpd_hours=Decimal(cpd), requires_feedback=False)
    cohort = Cohort(course=course, name="Spring 2026", title=f"Cohort {n}", capacity=None,
                    status="finished")
    start = utcnow() - timedelta(days=10)
    cohort.sessions.append(Session(starts_at=start, ends_at=start + timedelta(hours=3),
                                   title="Session 1"))
    db.session.add(cohort)
    db.session.flush()
    names = names or [None] * people
    enrolments = []
    complete = len(names) if complete is None else complete
    for index, name in enumerate(names):
        user = person(name)
        db.session.flush()
        done = index < complete
        enrolment = Enrolment(offering=cohort, user=user,
                              state=EnrolmentState.COMPLETED if done else EnrolmentState.ENROLLED)
        db.session.add(enrolment)
        db.session.flush()
        if done:
            db.session.add(Completion(enrolment_id=enrolment.id, attendance_percent=100,
                                      completed_at=start + timedelta(days=1)))
        enrolments.append(enrolment)
    db.session.flush()
    return cohort, enrolments


def finished_festival(holder_name: str = "Festival Goer") -> tuple[Offering, Enrolment]:
    """A finished festival with four sessions; the holder attended two (on the register),
    booked a third and missed it, and completed."""
    from lms.events.models import Festival

    today = utcnow().date()
    festival = Festival(title="INSIGHT festival 2025", status="finished", booking_mode="open",
                        capacity=None, first_day=today - timedelta(days=30),
                        last_day=today - timedelta(days=29))
    day1 = utcnow() - timedelta(days=30)
    talks = [("Opening keynote: decisions under uncertainty", 60),
             ("Workshop: forecasting A&E demand", 90),
             ("Panel: analysts in the boardroom", 45),
             ("Closing plenary", 30)]
    sessions = []
    for index, (title, minutes) in enumerate(talks):
        start = day1 + timedelta(hours=2 * index)
        sessions.append(Session(offering=festival, title=title, starts_at=start,
                                ends_at=start + timedelta(minutes=minutes)))
    db.session.add(festival)
    db.session.flush()
    user = person(holder_name)
    db.session.flush()
    enrolment = Enrolment(offering=festival, user=user, state=EnrolmentState.COMPLETED)
    db.session.add(enrolment)
    for session in sessions[:3]:
        db.session.add(Booking(session=session, user=user, state="booked"))
    for session in sessions[:2]:
        db.session.add(Attendance(session_id=session.id, user_id=user.id, status="present",
                                  source="register"))
    db.session.add(Attendance(session_id=sessions[2].id, user_id=user.id, status="absent",
                              source="register"))
    db.session.flush()
    db.session.add(Completion(enrolment_id=enrolment.id, attendance_percent=50,
                              completed_at=sessions[-1].ends_at + timedelta(hours=1)))
    db.session.flush()
    return festival, enrolment


def completion_of(enrolment: Enrolment) -> Completion:
    return db.session.scalar(select(Completion).where(Completion.enrolment_id == enrolment.id))


def pdf_text(pdf: bytes, tmp_path: Path) -> str:
    """The text of a PDF, by poppler's ``pdftotext`` (Debian poppler-utils)."""
    assert shutil.which("pdftotext"), "pdftotext is missing: scripts/system-packages.sh test"
    path = tmp_path / f"certificate-{next(_n)}.pdf"
    path.write_bytes(pdf)
    result = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True,
                            check=True, text=True)
    return " ".join(result.stdout.split())


def pdf_attachments(pdf: bytes, tmp_path: Path) -> str:
    """What ``pdfdetach -list`` says about the files embedded in a PDF."""
    path = tmp_path / f"attachments-{next(_n)}.pdf"
    path.write_bytes(pdf)
    return subprocess.run(["pdfdetach", "-list", str(path)], capture_output=True, check=True,
                          text=True).stdout


def test_builders_make_completions_without_firing_hooks(ctx):
    from lms.certificates.models import Certificate

    cohort, enrolments = finished_cohort(3, complete=2)
    assert [completion_of(e) is not None for e in enrolments] == [True, True, False]
    assert db.session.scalars(select(Certificate)).all() == []
