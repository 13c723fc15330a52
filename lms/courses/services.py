"""The rules for the catalogue: courses, their cohorts, and what the catalogue shows (the
listing itself is ``lms.courses.catalogue``'s).

A Cohort is the Offering of a Course; places, bookings and cancellations are the enrolment
engine's (``lms.offerings.services``) and sessions are ``lms.offerings.schedule``'s. Services
validate everything before they change anything, raise ``DomainError`` (``InvalidInput`` with
every wrong field at once), flush and never commit.

The catalogue, a course page and a cohort page each run a fixed number of SQL queries however
many courses, cohorts, sessions and enrolments there are: aggregates are computed in SQL
(GROUP BY and a window function), places left in one query by the engine.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation

from sqlalchemy import case, func, select

from lms.clock import utcnow
from lms.courses.catalogue import first_sessions
from lms.courses.models import (
    FORMAT_LABELS,
    KIND_LABELS,
    STRAND_LABELS,
    Cohort,
    Course,
)
from lms.errors import DomainError, ErrorCollector, NotFound
from lms.extensions import begin_write, db
from lms.offerings import policy
from lms.offerings import services as engine
from lms.offerings.models import (
    HOLDS_PLACE,
    BookingMode,
    Enrolment,
    OfferingStatus,
    Session,
)

BOOKING_MODE_LABELS = {
    BookingMode.OPEN: "Open booking",
    BookingMode.APPROVAL: "Booking with approval",
    BookingMode.NOMINATION: "Nomination by DSU leads",
}
STATUS_LABELS = {
    OfferingStatus.DRAFT: "Draft",
    OfferingStatus.OPEN: "Open for booking",
    OfferingStatus.CLOSED: "Booking closed",
    OfferingStatus.RUNNING: "Running",
    OfferingStatus.FINISHED: "Finished",
    OfferingStatus.CANCELLED: "Cancelled",
}

# The catalogue and cohort pages show courses and cohorts: ``init_app`` has the offer stamp
# watch them.
STAMPED_TABLES = ("course", "cohort")


# ---------------------------------------------------------------------------- permissions


def can_manage_courses(user) -> bool:
    """Faculty and admins build the catalogue."""
    return bool(user.is_authenticated and (user.is_faculty or user.is_admin))


def can_see_course(user, course: Course) -> bool:
    """Published courses are for everyone; unpublished ones only for those who manage them."""
    return course.published or can_manage_courses(user)


# ---------------------------------------------------------------------------- text


def checked_text(raw: str | None, missing: str, field_name: str, limit: int, label: str,
          one_line: bool = True) -> str:
    """Trimmed text; ``missing`` is the message when it is required and empty (None when
    optional); ``label`` names it in the length message."""
    if one_line:
        value = " ".join((raw or "").split())
    else:
        lines = (raw or "").replace("\r\n", "\n").split("\n")
        value = "\n".join(line.rstrip() for line in lines).strip()
    if missing and not value:
        raise DomainError(missing, field_name)
    if len(value) > limit:
        raise DomainError(f"{label} must be {limit:,} characters or fewer", field_name)
    return value


def checked_choice(value: str | None, allowed: dict, label: str, field_name: str) -> str:
    if value not in {str(key) for key in allowed}:
        raise DomainError(f"Select {label}", field_name)
    return str(value)


def cohort_title(course_title: str, cohort_name: str) -> str:
    """What a cohort is called in emails and on people's learning pages."""
    return f"{course_title} – {cohort_name}"


# ---------------------------------------------------------------------------- courses


@dataclass
class CourseDetails:
    """A course as the form gives it."""

    title: str
    summary: str
    kind: str | None
    strand: str | None
    format: str | None
    description: str = ""
    target_audience: str = ""
    cpd_hours: Decimal | str | None = None
    competency_ids: list[int] = field(default_factory=list)
    min_attendance_percent: int | None = 75
    requires_feedback: bool = True
    requires_signoff: bool = False
    published: bool = True


def _cpd_hours(raw: Decimal | str | int | None) -> Decimal:
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        raise DomainError("Enter the CPD hours, like 6 or 7.5 (0 if none)", "cpd_hours")
    try:
        value = Decimal(str(raw).strip())
    except InvalidOperation:
        raise DomainError("Enter the CPD hours as a number, like 6 or 7.5",
                          "cpd_hours") from None
    if not value.is_finite() or value < 0 or value > 999:
        raise DomainError("CPD hours must be between 0 and 999", "cpd_hours")
    if value != value.quantize(Decimal("0.1")):
        raise DomainError("CPD hours can have at most one decimal place, like 7.5", "cpd_hours")
    return value.quantize(Decimal("0.1"))


def _competency_ids(raw: list[int] | None) -> list[int]:
    ids = list(raw or [])
    if any(not isinstance(i, int) or isinstance(i, bool) or i < 1 for i in ids):
        raise DomainError("Competency ids must be whole numbers above 0", "competency_ids")
    if len(ids) > 100:
        raise DomainError("A course can build at most 100 competencies", "competency_ids")
    return sorted(set(ids))


def _percent(raw: int | None) -> int:
    if raw is None:
        raise DomainError("Enter the attendance needed to complete, from 0 to 100",
                          "min_attendance_percent")
    if raw < 0 or raw > 100:
        raise DomainError("The attendance needed must be between 0 and 100%",
                          "min_attendance_percent")
    return raw


def _unique_title(title: str | None, course: Course | None) -> None:
    if not title:
        return
    stmt = select(Course.id).where(func.lower(Course.title) == title.lower())
    if course is not None:
        stmt = stmt.where(Course.id != course.id)
    if db.session.scalar(stmt.limit(1)) is not None:
        raise DomainError("There is already a course with this title", "title")


def _checked_course(details: CourseDetails, course: Course | None) -> dict:
    errors = ErrorCollector()
    values = {
        "title": errors.check(checked_text, details.title, "Enter a title", "title", 200,
                              "The title"),
        "summary": errors.check(checked_text, details.summary, "Enter a summary", "summary", 500,
                                "The summary"),
        "description": errors.check(checked_text, details.description, None, "description",
                                    20_000, "The description", one_line=False),
        "kind": errors.check(checked_choice, details.kind, KIND_LABELS, "the kind of course",
                             "kind"),
        "strand": errors.check(checked_choice, details.strand, STRAND_LABELS, "a strand", "strand"),
        "target_audience": errors.check(checked_text, details.target_audience, None,
                                        "target_audience", 300, "The target audience"),
        "format": errors.check(checked_choice, details.format, FORMAT_LABELS, "a format", "format"),
        "cpd_hours": errors.check(_cpd_hours, details.cpd_hours),
        "competency_ids": errors.check(_competency_ids, details.competency_ids),
        "min_attendance_percent": errors.check(_percent, details.min_attendance_percent),
        "requires_feedback": bool(details.requires_feedback),
        "requires_signoff": bool(details.requires_signoff),
        "published": bool(details.published),
    }
    errors.check(_unique_title, values["title"], course)
    errors.raise_any()
    return values


def create_course(details: CourseDetails) -> Course:
    """Add a course to the catalogue."""
    begin_write()
    values = _checked_course(details, None)
    course = Course(**values)
    db.session.add(course)
    db.session.flush()
    return course


def update_course(course: Course, details: CourseDetails) -> Course:
    """Change a course; its cohorts' titles follow a new course title."""
    begin_write()
    values = _checked_course(details, course)
    for name, value in values.items():
        setattr(course, name, value)
    for cohort in course.cohorts:
        cohort.title = cohort_title(course.title, cohort.name)
    db.session.flush()
    return course


def get_course(course_id: int, viewer) -> Course:
    """A course this person may see, or ``NotFound``."""
    course = db.session.get(Course, course_id)
    if course is None or not can_see_course(viewer, course):
        raise NotFound("No such course")
    return course


def details_of(course: Course) -> CourseDetails:
    """A course's current details, to fill in its form."""
    return CourseDetails(
        title=course.title, summary=course.summary, kind=course.kind, strand=course.strand,
        format=course.format, description=course.description,
        target_audience=course.target_audience, cpd_hours=course.cpd_hours,
        competency_ids=list(course.competency_ids or []),
        min_attendance_percent=course.min_attendance_percent,
        requires_feedback=course.requires_feedback, requires_signoff=course.requires_signoff,
        published=course.published,
    )


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


# ---------------------------------------------------------------------------- course page


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


# ---------------------------------------------------------------------------- cohorts


def get_cohort(cohort_id: int, viewer) -> Cohort:
    """A cohort this person may see, or ``NotFound``. Its course, sessions, quotas and leads
    come with it (a fixed number of queries)."""
    cohort = load_cohort(cohort_id)
    if cohort is None or not policy.can_see(viewer, cohort):
        raise NotFound("No such cohort")
    return cohort


def load_cohort(cohort_id: int) -> Cohort | None:
    """A cohort whoever may see it, with its course, sessions, quotas and leads; or None."""
    return db.session.get(Cohort, cohort_id, options=[engine.leads_loaded()])


def get_session(session_id: int) -> Session:
    """A session of a cohort (sessions of events are the events feature's), or ``NotFound``."""
    session = db.session.get(Session, session_id)
    if session is None or not isinstance(session.offering, Cohort):
        raise NotFound("No such session")
    return session


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

