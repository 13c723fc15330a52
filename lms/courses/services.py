"""The rules for courses: what a course is and who may see or build one, the labels shared by
the feature, and loading a course, cohort or session for a page.

A Cohort is the Offering of a Course; places, bookings and cancellations are the enrolment
engine's (``lms.offerings.services``) and sessions are ``lms.offerings.schedule``'s. A cohort's
own rules are ``lms.courses.cohorts``'s, the catalogue listing ``lms.courses.catalogue``'s and
what course pages show ``lms.courses.pages``'. Services validate everything before they change
anything, raise ``DomainError`` (``InvalidInput`` with every wrong field at once), flush and
never commit.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from sqlalchemy import func, select

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
    BookingMode,
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
    return engine.load_as(Cohort, cohort_id)


def get_session(session_id: int) -> Session:
    """A session of a cohort (sessions of events are the events feature's), or ``NotFound``."""
    session = db.session.get(Session, session_id)
    if session is None or not isinstance(session.offering, Cohort):
        raise NotFound("No such session")
    return session





