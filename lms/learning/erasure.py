"""Erasure of what a person wrote or uploaded in project work, reflection and CPD."""

from __future__ import annotations

from sqlalchemy import delete, select, update

from lms.extensions import db
from lms.learning.assignments_models import (
    AssignmentExtension,
    GroupMember,
    Submission,
    SubmissionFile,
)
from lms.learning.cpd import erase_activities
from lms.learning.reflection import erase_reflections
from lms.learning.storage import discard_after_commit


def erase_person_work(person_id: int) -> int:
    """Delete the person's individual submissions (and their stored files), reflections,
    comments, CPD (and evidence files), extensions and group memberships; a group's work
    they sent loses their name. Returns how many files go from the store when this commits."""
    own = select(Submission.id).where(Submission.user_id == person_id)
    keys = list(db.session.scalars(select(SubmissionFile.storage_key).where(
        SubmissionFile.submission_id.in_(own))))
    db.session.execute(delete(SubmissionFile).where(SubmissionFile.submission_id.in_(own)))
    db.session.execute(delete(Submission).where(Submission.user_id == person_id))
    for column in (Submission.submitted_by_id, Submission.marked_by_id):
        db.session.execute(update(Submission).where(column == person_id).values(
            {column.key: None}))
    db.session.execute(delete(AssignmentExtension).where(
        AssignmentExtension.user_id == person_id))
    db.session.execute(update(AssignmentExtension).where(
        AssignmentExtension.granted_by_id == person_id).values(granted_by_id=None))
    db.session.execute(delete(GroupMember).where(GroupMember.user_id == person_id))
    for key in keys:  # the files go only when the erasure commits
        discard_after_commit(key)
    erase_reflections(person_id)
    keys += erase_activities(person_id)
    db.session.flush()
    return len(keys)
