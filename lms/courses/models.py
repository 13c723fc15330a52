"""Courses in the catalogue, and Cohorts: the Offering of a Course."""

from __future__ import annotations

import enum
from datetime import datetime
from decimal import Decimal

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from lms.clock import UTCDateTime, utcnow
from lms.extensions import db
from lms.offerings.models import Offering


class CourseKind(enum.StrEnum):
    PROGRAMME = "programme"
    SHORT_COURSE = "short_course"


class Strand(enum.StrEnum):
    DECISION_MAKING = "decision_making"
    ANALYTICAL_LEADERS = "analytical_leaders"
    ANALYTICAL_CAPABILITY = "analytical_capability"
    BEYOND_NUMBERS = "beyond_numbers"


class CourseFormat(enum.StrEnum):
    ONLINE = "online"
    IN_PERSON = "in_person"
    BLENDED = "blended"


KIND_LABELS = {
    CourseKind.PROGRAMME: "Development programme",
    CourseKind.SHORT_COURSE: "Short course",
}
STRAND_LABELS = {
    Strand.DECISION_MAKING: "Improving decision-making practice",
    Strand.ANALYTICAL_LEADERS: "Developing analytical leaders",
    Strand.ANALYTICAL_CAPABILITY: "Strengthening analytical capability",
    Strand.BEYOND_NUMBERS: "Moving beyond the numbers",
}
FORMAT_LABELS = {
    CourseFormat.ONLINE: "Online",
    CourseFormat.IN_PERSON: "In person",
    CourseFormat.BLENDED: "Blended",
}


def _in(column: str, values) -> str:
    return f"{column} IN ({', '.join(repr(v.value) for v in values)})"


class Course(db.Model):
    """An entry in the catalogue."""

    __tablename__ = "course"
    __table_args__ = (
        CheckConstraint(_in("kind", CourseKind), name="kind_known"),
        CheckConstraint(_in("strand", Strand), name="strand_known"),
        CheckConstraint(_in("format", CourseFormat), name="format_known"),
        CheckConstraint("cpd_hours >= 0", name="cpd_hours_not_negative"),
        CheckConstraint(
            "min_attendance_percent >= 0 AND min_attendance_percent <= 100",
            name="attendance_percent_range",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200), unique=True)
    summary: Mapped[str] = mapped_column(String(500))
    description: Mapped[str] = mapped_column(Text, default="")
    kind: Mapped[str] = mapped_column(String(20))
    strand: Mapped[str] = mapped_column(String(30))
    target_audience: Mapped[str] = mapped_column(String(300), default="")
    format: Mapped[str] = mapped_column(String(12))
    cpd_hours: Mapped[Decimal] = mapped_column(Numeric(5, 1), default=Decimal("0"))
    # Competency ids until the competencies feature lands.
    competency_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    # Completion rule (see the attendance feature).
    min_attendance_percent: Mapped[int] = mapped_column(default=75)
    requires_feedback: Mapped[bool] = mapped_column(default=True)
    requires_signoff: Mapped[bool] = mapped_column(default=False)
    published: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    cohorts: Mapped[list[Cohort]] = relationship(
        back_populates="course", foreign_keys="Cohort.course_id"
    )

    @validates("published")
    def _publish_cohorts(self, key: str, published: bool) -> bool:
        """Each cohort carries whether its course is published, for the offerings' policy
        on who may see it (it reads the offering, not the course)."""
        for cohort in self.cohorts:
            cohort.published = published
        return published

    @property
    def kind_label(self) -> str:
        return KIND_LABELS[CourseKind(self.kind)]

    @property
    def strand_label(self) -> str:
        return STRAND_LABELS[Strand(self.strand)]

    @property
    def format_label(self) -> str:
        return FORMAT_LABELS[CourseFormat(self.format)]


class Cohort(Offering):
    """A run of a course: an Offering with a name such as "Spring 2027"."""

    __tablename__ = "cohort"
    __table_args__ = (UniqueConstraint("course_id", "name", name="uq_cohort_course_name"),)

    id: Mapped[int] = mapped_column(ForeignKey("offering.id", ondelete="CASCADE"),
                                    primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("course.id", ondelete="RESTRICT"),
                                           index=True)
    name: Mapped[str] = mapped_column(String(100))

    course: Mapped[Course] = relationship(back_populates="cohorts", lazy="joined",
                                          innerjoin=True, foreign_keys=[course_id])

    __mapper_args__ = {"polymorphic_identity": "cohort"}

    @validates("course")
    def _follow_course(self, key: str, course: Course) -> Course:
        """A cohort is published when its course is (see ``Course._publish_cohorts``)."""
        if course is not None:
            self.published = bool(course.published if course.published is not None else True)
        return course
