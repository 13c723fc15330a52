"""Project work on a cohort: assignments, the competencies they evidence, extensions, groups
and submissions (with their files and the faculty's feedback)."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.accounts.models import User
from lms.clock import UTCDateTime, utcnow
from lms.competencies.models import Competency
from lms.extensions import db
from lms.offerings.models import Offering


class Outcome(enum.StrEnum):
    MET = "met"
    NOT_YET_MET = "not_yet_met"


OUTCOME_LABELS = {Outcome.MET: "Met", Outcome.NOT_YET_MET: "Not yet met"}


class Assignment(db.Model):
    """A piece of project work set on a cohort (any offering), individual or for groups."""

    __tablename__ = "assignment"

    id: Mapped[int] = mapped_column(primary_key=True)
    offering_id: Mapped[int] = mapped_column(ForeignKey("offering.id", ondelete="CASCADE"),
                                             index=True)
    title: Mapped[str] = mapped_column(String(200))
    brief: Mapped[str] = mapped_column(Text, default="")  # formatted text (Markdown)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    for_groups: Mapped[bool] = mapped_column(default=False)
    counts_to_completion: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    # Loaded when asked for: usually already in the session (the page's cohort).
    offering: Mapped[Offering] = relationship()
    competency_rows: Mapped[list[AssignmentCompetency]] = relationship(
        back_populates="assignment", cascade="all, delete-orphan", lazy="selectin")


class AssignmentCompetency(db.Model):
    """A competency an assignment evidences, at the level faculty chose: a "met" outcome
    records evidence at that level."""

    __tablename__ = "assignment_competency"
    __table_args__ = (CheckConstraint("level BETWEEN 1 AND 4", name="level_on_scale"),)

    assignment_id: Mapped[int] = mapped_column(
        ForeignKey("assignment.id", ondelete="CASCADE"), primary_key=True)
    competency_id: Mapped[int] = mapped_column(
        ForeignKey("competency.id", ondelete="RESTRICT"), primary_key=True, index=True)
    level: Mapped[int] = mapped_column()

    assignment: Mapped[Assignment] = relationship(back_populates="competency_rows")
    competency: Mapped[Competency] = relationship(lazy="joined", innerjoin=True)


class AssignmentExtension(db.Model):
    """A later deadline for one person (or, on a group assignment, their group)."""

    __tablename__ = "assignment_extension"

    assignment_id: Mapped[int] = mapped_column(
        ForeignKey("assignment.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"),
                                         primary_key=True, index=True)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    granted_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"))
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ProjectGroup(db.Model):
    """A small group on a cohort for group assignments; each person is in at most one group
    per cohort."""

    __tablename__ = "project_group"
    __table_args__ = (UniqueConstraint("offering_id", "name",
                                       name="uq_project_group_offering_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    offering_id: Mapped[int] = mapped_column(ForeignKey("offering.id", ondelete="CASCADE"),
                                             index=True)
    name: Mapped[str] = mapped_column(String(100))

    members: Mapped[list[GroupMember]] = relationship(
        back_populates="group", cascade="all, delete-orphan", lazy="selectin")


class GroupMember(db.Model):
    __tablename__ = "project_group_member"
    __table_args__ = (UniqueConstraint("offering_id", "user_id",
                                       name="uq_project_group_member_offering_user"),)

    group_id: Mapped[int] = mapped_column(ForeignKey("project_group.id", ondelete="CASCADE"),
                                          primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"),
                                         primary_key=True, index=True)
    # The group's cohort, repeated so the schema keeps one group per person per cohort.
    offering_id: Mapped[int] = mapped_column(ForeignKey("offering.id", ondelete="CASCADE"))

    group: Mapped[ProjectGroup] = relationship(back_populates="members")
    user: Mapped[User] = relationship(lazy="joined", innerjoin=True)


class Submission(db.Model):
    """One person's (or one group's) work for an assignment, replaced until it is marked,
    and the faculty's feedback and outcome."""

    __tablename__ = "submission"
    __table_args__ = (
        UniqueConstraint("assignment_id", "user_id", name="uq_submission_assignment_user"),
        UniqueConstraint("assignment_id", "group_id", name="uq_submission_assignment_group"),
        CheckConstraint("(user_id IS NULL) <> (group_id IS NULL)", name="one_owner"),
        CheckConstraint("outcome IS NULL OR outcome IN ('met', 'not_yet_met')",
                        name="outcome_known"),
        Index("ix_submission_assignment_outcome", "assignment_id", "outcome"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("assignment.id", ondelete="CASCADE"))
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    group_id: Mapped[int | None] = mapped_column(
        ForeignKey("project_group.id", ondelete="CASCADE"), index=True)
    # Who in the group sent it (the owner, for individual work).
    submitted_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"))
    text: Mapped[str] = mapped_column(Text, default="")
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    late: Mapped[bool] = mapped_column(default=False)
    outcome: Mapped[str | None] = mapped_column(String(12))
    feedback: Mapped[str] = mapped_column(Text, default="")
    resubmit_by: Mapped[datetime | None] = mapped_column(UTCDateTime())
    marked_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"))
    marked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    assignment: Mapped[Assignment] = relationship()
    group: Mapped[ProjectGroup | None] = relationship()
    files: Mapped[list[SubmissionFile]] = relationship(
        back_populates="submission", cascade="all, delete-orphan", lazy="selectin",
        order_by="SubmissionFile.id")

    @property
    def outcome_label(self) -> str:
        return OUTCOME_LABELS[Outcome(self.outcome)] if self.outcome else "Not marked yet"


class SubmissionFile(db.Model):
    """A file of a submission: its bytes live in the storage under ``storage_key``."""

    __tablename__ = "submission_file"

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(
        ForeignKey("submission.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column()
    storage_key: Mapped[str] = mapped_column(String(300), unique=True)

    submission: Mapped[Submission] = relationship(back_populates="files")
