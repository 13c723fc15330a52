"""Cohort competency matrices: the cohorts that have people, and a cohort's people against the
competencies its course builds."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, func, select

from lms.accounts.models import Organisation, User
from lms.competencies.models import (
    LEVEL_LABELS,
    Competency,
    CompetencyEvidence,
    CourseCompetency,
    Level,
)
from lms.competencies.services import current_levels_select
from lms.courses.models import Cohort, Course
from lms.errors import NotFound
from lms.extensions import db
from lms.offerings.models import HOLDS_PLACE, Enrolment, Offering, Session
from lms.reports.exports import Table
from lms.reports.services import _COHORT


@dataclass
class CohortLine:
    id: int
    title: str
    course: str
    status: str
    first: datetime | None
    people: int


def cohorts_for_reports() -> list[CohortLine]:
    """Cohorts that have people, newest first, with how many hold a place. One query."""
    firsts = (select(Session.offering_id, func.min(Session.starts_at).label("first"))
              .group_by(Session.offering_id).subquery())
    holders = func.count(case((Enrolment.state.in_(HOLDS_PLACE), Enrolment.id)))
    rows = db.session.execute(
        select(Offering.id, Offering.title, Course.title, Offering.status, firsts.c.first,
               holders)
        .select_from(Offering)
        .join(_COHORT, _COHORT.c.id == Offering.id)
        .join(Course, Course.id == _COHORT.c.course_id)
        .join(Enrolment, Enrolment.offering_id == Offering.id)
        .outerjoin(firsts, firsts.c.offering_id == Offering.id)
        .group_by(Offering.id, Offering.title, Course.title, Offering.status, firsts.c.first)
        .having(holders > 0)
        .order_by(firsts.c.first.desc(), Offering.id.desc())
    ).tuples()
    return [CohortLine(*row) for row in rows]


@dataclass
class MatrixColumn:
    competency: Competency
    target: int | None  # the level the course builds it to; None if the course does not

    @property
    def target_label(self) -> str:
        return LEVEL_LABELS[Level(self.target)] if self.target else ""


@dataclass
class MatrixRow:
    user_id: int
    name: str
    organisation: str
    levels: list[int | None]


@dataclass
class CohortMatrix:
    cohort: Cohort
    columns: list[MatrixColumn]
    rows: list[MatrixRow]
    mapped: bool

    @property
    def reached(self) -> list[int]:
        """Per column, how many people have reached the course's level (or any level)."""
        return [sum(1 for r in self.rows if r.levels[i] and r.levels[i] >= (c.target or 1))
                for i, c in enumerate(self.columns)]

    @property
    def table(self) -> Table:
        header = ["Name", "Organisation"] + [
            c.competency.name + (f" (builds to {c.target_label})" if c.target else "")
            for c in self.columns]
        rows = [[r.name, r.organisation, *[LEVEL_LABELS[Level(v)] if v else "" for v in
                                           r.levels]] for r in self.rows]
        return Table("matrix", f"Competency levels: {self.cohort.title}", header, rows,
                     [str(r.user_id) for r in self.rows])


def get_cohort(cohort_id: int) -> Cohort:
    """A cohort, or ``NotFound``."""
    cohort = db.session.get(Cohort, cohort_id)
    if cohort is None:
        raise NotFound("No such cohort")
    return cohort


def cohort_matrix(cohort: Cohort) -> CohortMatrix:
    """People with a place on a cohort against the competencies its course builds (or, if it
    builds none, those its people have evidence of): each cell the person's derived level.
    Three queries after the cohort (four if the course builds nothing), whatever the size."""
    members = (select(Enrolment.user_id).where(Enrolment.offering_id == cohort.id,
                                               Enrolment.state.in_(HOLDS_PLACE)))
    people = db.session.execute(
        select(User.id, User.full_name, Organisation.name)
        .join(Organisation, Organisation.id == User.organisation_id)
        .where(User.id.in_(members)).order_by(User.full_name, User.id)).tuples().all()
    mapping = db.session.execute(
        select(Competency, CourseCompetency.level)
        .join(CourseCompetency, CourseCompetency.competency_id == Competency.id)
        .where(CourseCompetency.course_id == cohort.course_id).order_by(Competency.name)
    ).tuples().all()
    levels: dict[tuple[int, int], int] = {}
    for user_id, competency_id, level in db.session.execute(
            current_levels_select().where(CompetencyEvidence.user_id.in_(members))):
        levels[(user_id, competency_id)] = level
    if mapping:
        columns = [MatrixColumn(c, level) for c, level in mapping]
    else:
        ids = sorted({competency_id for _, competency_id in levels})
        found = db.session.scalars(select(Competency).where(Competency.id.in_(ids))
                                   .order_by(Competency.name)).all() if ids else []
        columns = [MatrixColumn(c, None) for c in found]
    rows = [MatrixRow(user_id, name, org,
                      [levels.get((user_id, c.competency.id)) for c in columns])
            for user_id, name, org in people]
    return CohortMatrix(cohort, columns, rows, bool(mapping))
