"""What course pages show: the faculty's course list, a course page with its cohorts, and
the figures at the top of a cohort's manage page. Each runs a fixed number of queries.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, func, select

from lms.clock import utcnow
from lms.courses.catalogue import first_sessions
from lms.courses.models import Cohort, Course
from lms.courses.services import BOOKING_MODE_LABELS, STATUS_LABELS, get_course
from lms.extensions import db
from lms.offerings import policy
from lms.offerings import services as engine
from lms.offerings.models import HOLDS_PLACE, BookingMode, Enrolment, OfferingStatus


@dataclass(frozen=True)
class ManagedCourse:
    """A row of the faculty's course list."""

    course: Course
    cohorts: int
    upcoming: int


def courses_for_faculty() -> list[ManagedCourse]:
    """Every course, published or not, with how many cohorts it has and how many are not
    yet over. One query."""
    live = (OfferingStatus.DRAFT, OfferingStatus.OPEN, OfferingStatus.CLOSED,
            OfferingStatus.RUNNING)
    counts = (
        select(Cohort.course_id.label("course_id"), func.count(Cohort.id).label("cohorts"),
               func.sum(case((Cohort.status.in_(live), 1), else_=0)).label("upcoming"))
        .group_by(Cohort.course_id)
        .subquery()
    )
    rows = db.session.execute(
        select(Course, counts.c.cohorts, counts.c.upcoming)
        .outerjoin(counts, counts.c.course_id == Course.id)
        .order_by(Course.title)
    ).all()
    return [ManagedCourse(course, cohorts or 0, int(upcoming or 0))
            for course, cohorts, upcoming in rows]


@dataclass(frozen=True)
class CohortSummary:
    """A cohort as a course page lists it."""

    id: int
    name: str
    status: str
    booking_mode: str
    capacity: int | None
    starts_at: datetime | None
    ends_at: datetime | None
    sessions: int
    places_left: int | None

    @property
    def status_label(self) -> str:
        return STATUS_LABELS[OfferingStatus(self.status)]

    @property
    def booking_mode_label(self) -> str:
        return BOOKING_MODE_LABELS[BookingMode(self.booking_mode)]

    @property
    def is_full(self) -> bool:
        return self.places_left is not None and self.places_left <= 0


@dataclass(frozen=True)
class CoursePage:
    course: Course
    cohorts: list[CohortSummary]

    @property
    def upcoming(self) -> list[CohortSummary]:
        now = utcnow()
        return [c for c in self.cohorts if c.status != OfferingStatus.CANCELLED
                and (c.ends_at is None or c.ends_at > now)
                and c.status != OfferingStatus.FINISHED]

    @property
    def past(self) -> list[CohortSummary]:
        upcoming = {c.id for c in self.upcoming}
        return [c for c in self.cohorts if c.id not in upcoming]


def cohort_summaries(course: Course, viewer) -> list[CohortSummary]:
    """A course's cohorts that ``viewer`` may see, by start date, with session dates and
    places left. Two queries."""
    firsts = first_sessions()
    stmt = (
        select(Cohort.id, Cohort.name, Cohort.status, Cohort.booking_mode, Cohort.capacity,
               firsts.c.first_start, firsts.c.last_end, firsts.c.sessions)
        .outerjoin(firsts, firsts.c.offering_id == Cohort.id)
        .where(Cohort.course_id == course.id, *policy.visible_filter(viewer))
        .order_by(firsts.c.first_start.is_(None), firsts.c.first_start, Cohort.id)
    )
    rows = db.session.execute(stmt).all()
    places = engine.places_left_for([row[0] for row in rows])
    return [CohortSummary(cid, name, status, mode, capacity, first, last, n or 0,
                          places.get(cid))
            for cid, name, status, mode, capacity, first, last, n in rows]


def course_page(course_id: int, viewer) -> CoursePage:
    """A course and its cohorts (drafts only for managers). Three queries."""
    course = get_course(course_id, viewer)
    return CoursePage(course, cohort_summaries(course, viewer))


@dataclass(frozen=True)
class CohortOverview:
    """What faculty see at the top of a cohort's manage page."""

    held: int
    places_left: int | None
    quota_used: dict[int, int]


def cohort_overview(cohort: Cohort) -> CohortOverview:
    """Places held, places left and each ICS's quota use. Three queries."""
    used = dict(db.session.execute(
        select(Enrolment.quota_organisation_id, func.count(Enrolment.id))
        .where(Enrolment.offering_id == cohort.id, Enrolment.state.in_(HOLDS_PLACE),
               Enrolment.quota_organisation_id.is_not(None))
        .group_by(Enrolment.quota_organisation_id)
    ).all())
    return CohortOverview(engine.count_holding(cohort),
                          engine.places_left_for([cohort.id]).get(cohort.id), used)
