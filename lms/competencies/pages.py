"""What the competency pages show: the framework grouped by domain, and every course with the
competencies it builds."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from lms.competencies.models import Competency, CourseCompetency
from lms.courses.models import STRAND_LABELS, Course, Strand
from lms.extensions import db


@dataclass
class DomainGroup:
    strand: str
    label: str
    competencies: list[Competency]


def framework(include_retired: bool = False) -> list[DomainGroup]:
    """The framework by domain (the four strands, in the network's order), competencies by
    name. One query."""
    stmt = select(Competency).order_by(Competency.name)
    if not include_retired:
        stmt = stmt.where(Competency.retired_at.is_(None))
    groups = {s.value: DomainGroup(s.value, STRAND_LABELS[s], []) for s in Strand}
    for competency in db.session.scalars(stmt):
        groups[competency.domain].competencies.append(competency)
    return list(groups.values())


def picker_groups(chosen: list[int] | None = None) -> list[tuple[str, list[tuple[int, str]]]]:
    """The competencies a course form offers, by strand and name: those in use, and retired
    ones only where the course already lists them (marked so). One query."""
    chosen_ids = set(chosen or [])
    groups = []
    for group in framework(include_retired=True):
        items = [(c.id, f"{c.name} (retired)" if c.is_retired else c.name)
                 for c in group.competencies if not c.is_retired or c.id in chosen_ids]
        if items:
            groups.append((group.label, items))
    return groups


@dataclass
class CourseMappingRow:
    course: Course
    mapping: list[CourseCompetency]


def courses_with_mappings() -> list[CourseMappingRow]:
    """Every course with what it builds, for faculty. Two queries."""
    courses = db.session.scalars(select(Course).order_by(Course.title)).all()
    by_course: dict[int, list[CourseCompetency]] = {}
    for row in db.session.scalars(select(CourseCompetency).join(CourseCompetency.competency)
                                  .order_by(Competency.name)):
        by_course.setdefault(row.course_id, []).append(row)
    return [CourseMappingRow(course, by_course.get(course.id, [])) for course in courses]
