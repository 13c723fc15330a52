"""The competency framework, what each course builds, and the evidence of people's levels.

A person's current level is never stored: it is derived from their evidence (see
``lms.competencies.services.derive_level``), so there is one place it can come from.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.accounts.models import User
from lms.clock import UTCDateTime, utcnow
from lms.courses.models import STRAND_LABELS, Course, Strand
from lms.extensions import db


class Level(enum.IntEnum):
    """The proficiency scale, lowest first. Stored as its number."""

    AWARE = 1
    WORKING = 2
    PRACTITIONER = 3
    EXPERT = 4

    @property
    def label(self) -> str:
        return LEVEL_LABELS[self]


LEVEL_LABELS = {
    Level.AWARE: "Aware",
    Level.WORKING: "Working",
    Level.PRACTITIONER: "Practitioner",
    Level.EXPERT: "Expert",
}
LEVEL_MEANINGS = {
    Level.AWARE: "Knows what it is, when it matters and who to ask",
    Level.WORKING: "Does it with guidance on routine work",
    Level.PRACTITIONER: "Does it independently and well, and adapts it to new problems",
    Level.EXPERT: "Leads it, develops others and advances practice across the system",
}


class EvidenceSource(enum.StrEnum):
    COURSE = "course"  # completing a course that builds the competency
    FACULTY = "faculty"  # a faculty member's rating, with a note
    SELF = "self"  # the person's own assessment


SOURCE_LABELS = {
    EvidenceSource.COURSE: "Course completed",
    EvidenceSource.FACULTY: "Faculty rating",
    EvidenceSource.SELF: "Self-assessment",
}

_STRANDS_SQL = ", ".join(f"'{s.value}'" for s in Strand)
_LEVEL_RANGE = f"BETWEEN {Level.AWARE.value} AND {Level.EXPERT.value}"


class Competency(db.Model):
    """One competency of the framework, under one of the network's four strands (its domain),
    with the behaviours that show each level. A competency in use is retired, not deleted."""

    __tablename__ = "competency"
    __table_args__ = (
        CheckConstraint(f"domain IN ({_STRANDS_SQL})", name="domain_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Seeded competencies have a code, so seeding again finds them.
    code: Mapped[str | None] = mapped_column(String(50), unique=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    domain: Mapped[str] = mapped_column(String(30))
    description: Mapped[str] = mapped_column(Text)
    behaviours_aware: Mapped[str] = mapped_column(Text, default="")
    behaviours_working: Mapped[str] = mapped_column(Text, default="")
    behaviours_practitioner: Mapped[str] = mapped_column(Text, default="")
    behaviours_expert: Mapped[str] = mapped_column(Text, default="")
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow,
                                                 onupdate=utcnow)

    @property
    def domain_label(self) -> str:
        return STRAND_LABELS[Strand(self.domain)]

    @property
    def is_retired(self) -> bool:
        return self.retired_at is not None

    def behaviours(self, level: int) -> str:
        """What a person at ``level`` does."""
        return getattr(self, f"behaviours_{Level(level).name.lower()}")

    @property
    def levels(self) -> list[tuple[Level, str]]:
        """Every level of the scale with this competency's behaviours at it."""
        return [(level, self.behaviours(level)) for level in Level]

    def __repr__(self) -> str:
        return f"<Competency {self.id} {self.name!r}>"


class CourseCompetency(db.Model):
    """A competency a course builds, and the level it builds it to. Completing the course adds
    evidence at that level."""

    __tablename__ = "course_competency"
    __table_args__ = (
        CheckConstraint(f"level {_LEVEL_RANGE}", name="level_on_scale"),
    )

    course_id: Mapped[int] = mapped_column(
        ForeignKey("course.id", ondelete="CASCADE"), primary_key=True
    )
    competency_id: Mapped[int] = mapped_column(
        ForeignKey("competency.id", ondelete="RESTRICT"), primary_key=True, index=True
    )
    level: Mapped[int] = mapped_column()

    course: Mapped[Course] = relationship()
    competency: Mapped[Competency] = relationship(lazy="joined", innerjoin=True)


class CompetencyEvidence(db.Model):
    """One piece of evidence of a person's level on a competency: who recorded it, when, and
    why. Never changed once written; a new rating is a new row.

    Course evidence points at the completion that earned it; the unique constraint means a
    completion adds evidence for each competency at most once, whatever runs twice."""

    __tablename__ = "competency_evidence"
    __table_args__ = (
        CheckConstraint(f"level {_LEVEL_RANGE}", name="level_on_scale"),
        CheckConstraint("source IN ('course', 'faculty', 'self')", name="source_known"),
        CheckConstraint("(source = 'course') = (completion_id IS NOT NULL)",
                        name="completion_only_for_course"),
        UniqueConstraint("completion_id", "competency_id",
                         name="uq_competency_evidence_completion_competency"),
        # Covering: current levels (the highest counted level per person and competency)
        # are worked out from the index alone.
        Index("ix_competency_evidence_user_competency_level", "user_id", "competency_id",
              "source", "level"),
        Index("ix_competency_evidence_competency_source", "competency_id", "source"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    competency_id: Mapped[int] = mapped_column(
        ForeignKey("competency.id", ondelete="RESTRICT")
    )
    level: Mapped[int] = mapped_column()
    source: Mapped[str] = mapped_column(String(10))
    # Why: the course completed, or the rater's or person's own words.
    note: Mapped[str] = mapped_column(Text, default="")
    completion_id: Mapped[int | None] = mapped_column(
        ForeignKey("completion.id", ondelete="CASCADE")
    )
    course_id: Mapped[int | None] = mapped_column(
        ForeignKey("course.id", ondelete="SET NULL")
    )
    # Who: the faculty member, the person themselves, or nobody for automatic evidence.
    recorded_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    competency: Mapped[Competency] = relationship(lazy="joined", innerjoin=True)
    recorded_by: Mapped[User | None] = relationship(foreign_keys=[recorded_by_id],
                                                    lazy="joined")
    course: Mapped[Course | None] = relationship(lazy="joined")

    @property
    def level_label(self) -> str:
        return LEVEL_LABELS[Level(self.level)]

    @property
    def source_label(self) -> str:
        return SOURCE_LABELS[EvidenceSource(self.source)]
