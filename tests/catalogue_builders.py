"""Builders for catalogue tests: courses, cohorts with sessions at given times, and people
holding places (rows written straight into the database). Call inside an app context; each
flushes and returns the object."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from itertools import count

from lms.accounts.models import User, UserRole
from lms.clock import utcnow
from lms.courses.models import Cohort, Course
from lms.extensions import db
from lms.offerings.models import Enrolment, OfferingQuota, Session, SessionStatus
from tests.conftest import organisation

_serial = count(1)


def course(title: str | None = None, **fields) -> Course:
    n = next(_serial)
    values = {
        "title": title or f"Course {n}", "summary": f"Summary of course {n}",
        "description": "", "kind": "short_course", "strand": "analytical_capability",
        "format": "online", "cpd_hours": Decimal("6"), "published": True,
    }
    values.update(fields)
    made = Course(**values)
    db.session.add(made)
    db.session.flush()
    return made


def cohort(of: Course, name: str | None = None, status: str = "open",
           starts: list[datetime] | None = None, capacity: int | None = 20,
           mode: str = "open", hours: float = 2, cancelled: tuple[int, ...] = (),
           quotas: dict[str, int] | None = None, **fields) -> Cohort:
    """A cohort with a session starting at each of ``starts`` (default: one in 30 days);
    the sessions whose index is in ``cancelled`` are cancelled."""
    name = name or f"Cohort {next(_serial)}"
    quota_rows = [OfferingQuota(organisation_id=organisation(code).id, places=places)
                  for code, places in (quotas or {}).items()]
    made = Cohort(course=of, name=name, title=f"{of.title} – {name}", status=status,
                  booking_mode=mode, capacity=capacity, **fields)
    for index, start in enumerate(starts or [utcnow() + timedelta(days=30)]):
        made.sessions.append(Session(
            title=f"Session {index + 1}", starts_at=start,
            ends_at=start + timedelta(hours=hours), location="Room 1",
            status=SessionStatus.CANCELLED if index in cancelled else SessionStatus.SCHEDULED,
        ))
    made.quotas.extend(quota_rows)
    db.session.add(made)
    db.session.flush()
    return made


def person(org: str = "BSOL", role: str | None = None) -> User:
    n = next(_serial)
    user = User(email=f"holder{n}@example.nhs.uk", full_name=f"Holder {n}",
                organisation=organisation(org), password_hash="x")
    user.role_rows.append(UserRole(role="learner"))
    if role:
        user.role_rows.append(UserRole(role=role))
    db.session.add(user)
    db.session.flush()
    return user


def enrol(on: Cohort, who: User | None = None, state: str = "enrolled",
          **fields) -> Enrolment:
    """An enrolment row as the engine would leave it (no history: tests of places only)."""
    if state == "waitlisted":
        fields.setdefault("waitlist_position", 1)
    if state == "offered":
        fields.setdefault("offer_expires_at", utcnow() + timedelta(hours=48))
    made = Enrolment(offering=on, user=who or person(), state=state, **fields)
    db.session.add(made)
    db.session.flush()
    return made


def region(scale: int) -> dict:
    """A catalogue that grows with ``scale``: 3×scale courses with four cohorts each (open,
    draft, finished, cancelled), four sessions per cohort, 3×scale people holding places on
    each open cohort; and a ``target`` course whose cohorts, sessions and enrolments also
    grow, for the course and cohort pages. Returns the target ids."""
    now = utcnow()
    for _ in range(3 * scale):
        c = course()
        for status, offset in (("open", 20), ("draft", 40), ("finished", -60),
                               ("cancelled", 30)):
            made = cohort(c, status=status,
                          starts=[now + timedelta(days=offset + 7 * k) for k in range(4)])
            if status == "open":
                for _ in range(3 * scale):
                    enrol(made)
    target = course("Target course")
    # Never full at either scale, so the booking panel offers the same thing.
    cohorts = [cohort(target, status="open", capacity=1000,
                      starts=[now + timedelta(days=10 + k, hours=i) for i in range(3 * scale)])
               for k in range(2 * scale)]
    for made in cohorts:
        for _ in range(2 * scale):
            enrol(made)
        enrol(made, state="waitlisted", waitlist_position=1)
    return {"course_id": target.id, "cohort_id": cohorts[0].id}
