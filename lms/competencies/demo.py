"""Demo competencies: the framework, what the demo courses build, evidence for every demo
completion, and a few faculty ratings and self-assessments. Idempotent: competencies are
keyed by code, mappings by course and competency, and ratings and self-assessments are only
added for people who have none of that kind yet. Flushes; ``lms.demo`` commits."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from lms.accounts.models import User
from lms.clock import utcnow
from lms.competencies import services
from lms.competencies.models import CompetencyEvidence, CourseCompetency, EvidenceSource
from lms.courses.models import Cohort
from lms.extensions import db
from lms.offerings.models import HOLDS_PLACE, Enrolment, OfferingStatus

RATING_NOTES = [
    "Led the group's work on this in the module project and explained the choices clearly.",
    "Presented their ICS case study to the cohort; the method was sound and well judged.",
    "Coached two colleagues through this during action learning; ready for more stretch.",
    "Did this well with some prompting; next step is to do it unaided on live work.",
]
SELF_NOTES = [
    "I use this every week in my team's reporting and others come to me for help with it.",
    "I have done this on one project with support from my manager.",
    "I understand the ideas from the course but have not used them at work yet.",
]
RATED_PEOPLE = 12


def _ratings(faculty: User) -> int:
    """One rating by the demo faculty member for each of a dozen people on finished and
    running cohorts of mapped courses, on a competency the course builds; none if they have
    rated anyone already."""
    if db.session.scalar(select(CompetencyEvidence.id).where(
            CompetencyEvidence.source == EvidenceSource.FACULTY,
            CompetencyEvidence.recorded_by_id == faculty.id).limit(1)):
        return 0
    rows = db.session.execute(
        select(Enrolment.user_id, CourseCompetency.competency_id, CourseCompetency.level)
        .join(Cohort, Cohort.id == Enrolment.offering_id)
        .join(CourseCompetency, CourseCompetency.course_id == Cohort.course_id)
        .where(Cohort.status.in_((OfferingStatus.FINISHED, OfferingStatus.RUNNING)),
               Enrolment.state.in_(HOLDS_PLACE), Enrolment.user_id != faculty.id)
        .order_by(Enrolment.id, CourseCompetency.competency_id)
    ).tuples().all()
    added, seen = 0, set()
    for index, (user_id, competency_id, level) in enumerate(rows):
        if user_id in seen or len(seen) >= RATED_PEOPLE:
            continue
        seen.add(user_id)
        person = db.session.get(User, user_id)
        rating = services.rate(faculty, person, competency_id,
                               min(4, level + (index % 3 == 0)),
                               RATING_NOTES[index % len(RATING_NOTES)])
        rating.recorded_at = utcnow() - timedelta(days=7 + 3 * index)
        added += 1
    return added


def _self_assessments(people: list[User]) -> int:
    """Two or three self-assessments each for people who have none."""
    competencies = services.active_competencies()
    if not competencies:
        return 0
    assessed = set(db.session.scalars(select(CompetencyEvidence.user_id).where(
        CompetencyEvidence.source == EvidenceSource.SELF)))
    added = 0
    for n, person in enumerate(people):
        if person.id in assessed:
            continue
        for k in range(2 + n % 2):
            competency = competencies[(n * 5 + k * 7) % len(competencies)]
            row = services.self_assess(person, competency.id, 1 + (n + k) % 3,
                                       SELF_NOTES[(n + k) % len(SELF_NOTES)])
            row.recorded_at = utcnow() - timedelta(days=20 + 11 * k)
            added += 1
    return added


def seed() -> dict[str, int]:
    """Load the demo's competencies (idempotent)."""
    added = services.ensure_framework()
    mapped = services.map_courses_by_title()
    evidence = services.record_missing_course_evidence()
    faculty = db.session.scalar(select(User).where(User.email == "faculty@example.nhs.uk"))
    learner = db.session.scalar(select(User).where(User.email == "learner@example.nhs.uk"))
    ratings = _ratings(faculty) if faculty else 0
    others = db.session.scalars(
        select(User).where(User.email.like("%@example.nhs.uk"),
                           User.email != "learner@example.nhs.uk")
        .order_by(User.id).limit(60)).all()
    people = ([learner] if learner else []) + list(others[10::10])
    selves = _self_assessments(people)
    db.session.flush()
    return {"competencies": added, "course competency links": mapped,
            "competency evidence": evidence + ratings + selves}
