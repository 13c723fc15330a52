"""Assignments in the JSON API (read-only): a person's own, with where their work stands, and
a cohort's for faculty, with how many have submitted and met them."""

from __future__ import annotations

from sqlalchemy import func, select

from lms.accounts.models import User
from lms.extensions import db
from lms.learning.assignments import ON_COHORT, deadline_for, own_submission
from lms.learning.assignments_models import Assignment, Outcome, Submission
from lms.offerings.models import Enrolment, Offering


def _brief(assignment: Assignment, offering_ref) -> dict:
    return {
        "id": assignment.id,
        "offering": offering_ref(assignment.offering),
        "title": assignment.title,
        "brief": assignment.brief,
        "due_at": assignment.due_at.isoformat(),
        "for_groups": assignment.for_groups,
        "counts_to_completion": assignment.counts_to_completion,
        "competencies": [{"id": r.competency_id, "name": r.competency.name, "level": r.level}
                         for r in assignment.competency_rows],
    }


def mine(user: User, offering_ref) -> list[dict]:
    """The assignments of every cohort the person is on, by deadline, with their work."""
    assignments = db.session.scalars(
        select(Assignment).join(Enrolment, Enrolment.offering_id == Assignment.offering_id)
        .where(Enrolment.user_id == user.id, Enrolment.state.in_(ON_COHORT))
        .order_by(Assignment.due_at, Assignment.id)).all()
    out = []
    for assignment in assignments:
        submission = own_submission(user, assignment)
        item = _brief(assignment, offering_ref)
        item["your_deadline"] = deadline_for(user.id, assignment, submission).isoformat()
        item["submission"] = None if submission is None else {
            "id": submission.id,
            "submitted_at": submission.submitted_at.isoformat(),
            "late": submission.late,
            "outcome": submission.outcome,
            "feedback": submission.feedback or None,
            "resubmit_by": submission.resubmit_by.isoformat() if submission.resubmit_by
            else None,
            "files": [f.filename for f in submission.files],
        }
        out.append(item)
    return out


def of_cohort(offering: Offering, offering_ref) -> list[dict]:
    """The cohort's assignments with how many pieces of work came in and were met."""
    assignments = db.session.scalars(select(Assignment).where(
        Assignment.offering_id == offering.id).order_by(Assignment.due_at, Assignment.id)).all()
    counts = {(a, o): n for a, o, n in db.session.execute(
        select(Submission.assignment_id, Submission.outcome, func.count())
        .where(Submission.assignment_id.in_([a.id for a in assignments]))
        .group_by(Submission.assignment_id, Submission.outcome))}
    out = []
    for assignment in assignments:
        item = _brief(assignment, offering_ref)
        item["submitted"] = sum(n for (a, _), n in counts.items() if a == assignment.id)
        item["met"] = counts.get((assignment.id, Outcome.MET.value), 0)
        item["not_yet_met"] = counts.get((assignment.id, Outcome.NOT_YET_MET.value), 0)
        out.append(item)
    return out
