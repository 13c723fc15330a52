"""The rules for the catalogue: courses, their cohorts, and what the catalogue shows.

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
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation

from sqlalchemy import and_, case, func, or_, select

from lms.accounts.models import Organisation, OrganisationKind, Role, User, UserRole
from lms.clock import to_london, utcnow
from lms.courses.models import (
    FORMAT_LABELS,
    KIND_LABELS,
    STRAND_LABELS,
    Cohort,
    Course,
)
from lms.errors import DomainError, ErrorCollector, NotAllowed, NotFound
from lms.extensions import begin_write, db
from lms.offerings import places as offering_places
from lms.offerings import policy
from lms.offerings import services as engine
from lms.offerings.models import (
    ACTIVE,
    HOLDS_PLACE,
    BookingMode,
    Enrolment,
    OfferingLead,
    OfferingQuota,
    OfferingStatus,
    Session,
    SessionStatus,
)
from lms.offerings.schedule import (
    SessionDetails,
    check_session,
    local_day_and_time,
    local_day_start,
    local_to_utc,
)

MAX_CAPACITY = 10_000
MAX_OFFER_HOURS = 720
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
# Where a cohort's status may go next (cancelling is ``cancel_cohort``'s alone).
STATUS_CHANGES = {
    OfferingStatus.DRAFT: {OfferingStatus.OPEN},
    OfferingStatus.OPEN: {OfferingStatus.CLOSED, OfferingStatus.RUNNING},
    OfferingStatus.CLOSED: {OfferingStatus.OPEN, OfferingStatus.RUNNING},
    OfferingStatus.RUNNING: {OfferingStatus.FINISHED},
    OfferingStatus.FINISHED: set(),
    OfferingStatus.CANCELLED: set(),
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


def _text(raw: str | None, missing: str, field_name: str, limit: int, label: str,
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


def _choice(value: str | None, allowed: dict, label: str, field_name: str) -> str:
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
        "title": errors.check(_text, details.title, "Enter a title", "title", 200, "The title"),
        "summary": errors.check(_text, details.summary, "Enter a summary", "summary", 500,
                                "The summary"),
        "description": errors.check(_text, details.description, None, "description", 20_000,
                                    "The description", one_line=False),
        "kind": errors.check(_choice, details.kind, KIND_LABELS, "the kind of course", "kind"),
        "strand": errors.check(_choice, details.strand, STRAND_LABELS, "a strand", "strand"),
        "target_audience": errors.check(_text, details.target_audience, None,
                                        "target_audience", 300, "The target audience"),
        "format": errors.check(_choice, details.format, FORMAT_LABELS, "a format", "format"),
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


# ---------------------------------------------------------------------------- the catalogue


@dataclass(frozen=True)
class CatalogueFilters:
    """What a person narrows the catalogue by. Empty values mean "any"."""

    kind: str | None = None
    strand: str | None = None
    format: str | None = None
    has_places: bool = False
    starts_after: date | None = None
    text: str = ""


@dataclass(frozen=True)
class CatalogueEntry:
    """One course in the catalogue and its next run: the earliest cohort open for booking
    whose first session is still to come (on or after ``starts_after`` when filtered)."""

    course: Course
    next_cohort_id: int | None = None
    next_cohort_name: str | None = None
    next_starts_at: datetime | None = None
    next_booking_mode: str | None = None
    places_left: int | None = None  # of the next run; None is unlimited

    @property
    def has_next_run(self) -> bool:
        return self.next_cohort_id is not None

    @property
    def is_full(self) -> bool:
        return self.has_next_run and self.places_left is not None and self.places_left <= 0


def _first_sessions():
    """Per offering, when its first session that is not cancelled starts, and how many live
    sessions it has and when the last ends."""
    return (
        select(Session.offering_id.label("offering_id"),
               func.min(Session.starts_at).label("first_start"),
               func.max(Session.ends_at).label("last_end"),
               func.count(Session.id).label("sessions"))
        .where(Session.status == SessionStatus.SCHEDULED)
        .group_by(Session.offering_id)
        .subquery()
    )


def _like(words: str) -> list:
    """Each word must appear (any case) in the title, summary or description."""
    conditions = []
    for word in words[:100].lower().split()[:8]:
        escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        pattern = f"%{escaped}%"
        conditions.append(or_(*(func.lower(column).like(pattern, escape="\\")
                                for column in (Course.title, Course.summary,
                                               Course.description))))
    return conditions


@dataclass(frozen=True)
class CatalogueListing:
    """The catalogue's entries, and until when they hold as time passes: the first start of
    any next run found (when it starts, the course's next run is another one)."""

    entries: list[CatalogueEntry]
    valid_until: datetime | None


def catalogue(filters: CatalogueFilters) -> list[CatalogueEntry]:
    """Published courses matching the filters, by title, each with its next run and the
    places left on it. Two queries, however much data there is.

    "Has places" means the next run has a place free (or no limit); "starts after" moves the
    horizon of the next run to that London date, and both leave out courses with no such run.
    """
    return catalogue_listing(filters).entries


def catalogue_listing(filters: CatalogueFilters) -> CatalogueListing:
    """``catalogue(filters)`` and until when it holds if nothing is changed."""
    now = utcnow()
    horizon = now
    if filters.starts_after is not None:
        horizon = max(now, local_day_start(filters.starts_after))
    firsts = _first_sessions()
    ranked = (
        select(Cohort.course_id.label("course_id"), Cohort.id.label("cohort_id"),
               Cohort.name.label("name"), Cohort.booking_mode.label("booking_mode"),
               firsts.c.first_start.label("first_start"),
               func.row_number().over(partition_by=Cohort.course_id,
                                      order_by=(firsts.c.first_start, Cohort.id))
               .label("rank"))
        .join(firsts, firsts.c.offering_id == Cohort.id)
        .where(Cohort.status == OfferingStatus.OPEN, firsts.c.first_start > horizon)
        .subquery()
    )
    stmt = (
        select(Course, ranked.c.cohort_id, ranked.c.name, ranked.c.first_start,
               ranked.c.booking_mode)
        .outerjoin(ranked, and_(ranked.c.course_id == Course.id, ranked.c.rank == 1))
        .where(Course.published.is_(True))
        .order_by(Course.title, Course.id)
    )
    # A value that is not one of the choices (an old or edited link) means "any".
    if filters.kind in KIND_LABELS:
        stmt = stmt.where(Course.kind == filters.kind)
    if filters.strand in STRAND_LABELS:
        stmt = stmt.where(Course.strand == filters.strand)
    if filters.format in FORMAT_LABELS:
        stmt = stmt.where(Course.format == filters.format)
    if filters.text:
        stmt = stmt.where(*_like(filters.text))
    if filters.starts_after is not None or filters.has_places:
        stmt = stmt.where(ranked.c.cohort_id.is_not(None))
    rows = db.session.execute(stmt).all()
    places = offering_places.places_left_for([row[1] for row in rows if row[1] is not None])
    entries = [
        CatalogueEntry(course, cohort_id, name, first_start, mode,
                       places.get(cohort_id) if cohort_id is not None else None)
        for course, cohort_id, name, first_start, mode in rows
    ]
    starts = [e.next_starts_at for e in entries if e.next_starts_at is not None]
    if filters.has_places:
        entries = [e for e in entries if not e.is_full]
    return CatalogueListing(entries, min(starts) if starts else None)


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
    firsts = _first_sessions()
    stmt = (
        select(Cohort.id, Cohort.name, Cohort.status, Cohort.booking_mode, Cohort.capacity,
               firsts.c.first_start, firsts.c.last_end, firsts.c.sessions)
        .outerjoin(firsts, firsts.c.offering_id == Cohort.id)
        .where(Cohort.course_id == course.id, *policy.visible_filter(viewer))
        .order_by(firsts.c.first_start.is_(None), firsts.c.first_start, Cohort.id)
    )
    rows = db.session.execute(stmt).all()
    places = offering_places.places_left_for([row[0] for row in rows])
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


@dataclass
class CohortSettings:
    """A cohort's settings as the form gives them. Dates are London dates: nominations open
    at the start of ``nomination_opens`` and close at the end of ``nomination_closes``;
    unused quota places are released at the start of ``quota_release``. ``quotas`` maps an
    ICS's organisation id to the places reserved for it (an ICS left out has no quota: its
    nominees take places from the open pool)."""

    name: str
    capacity: int | None
    booking_mode: str
    offer_hours: int | None = 48
    nomination_opens: date | None = None
    nomination_closes: date | None = None
    quota_release: date | None = None
    quotas: dict[int, int] = field(default_factory=dict)
    lead_ids: list[int] = field(default_factory=list)


def settings_of(cohort: Cohort) -> CohortSettings:
    """A cohort's current settings, to fill in its form."""
    def day(moment: datetime | None) -> date | None:
        return to_london(moment).date() if moment else None

    closes = cohort.nomination_closes_at
    return CohortSettings(
        name=cohort.name, capacity=cohort.capacity, booking_mode=cohort.booking_mode,
        offer_hours=cohort.offer_hours, nomination_opens=day(cohort.nomination_opens_at),
        # Stored as the midnight that ends the day.
        nomination_closes=day(closes - timedelta(minutes=1)) if closes else None,
        quota_release=day(cohort.quota_release_at),
        quotas={q.organisation_id: q.places for q in cohort.quotas},
        lead_ids=[row.user_id for row in cohort.lead_rows],
    )


def ics_organisations() -> list[Organisation]:
    """The 11 ICSs, by name: the organisations a quota can be for."""
    return list(db.session.scalars(
        select(Organisation).where(Organisation.kind == OrganisationKind.ICS)
        .order_by(Organisation.name)
    ))


def faculty_people() -> list[User]:
    """Everyone who can lead a cohort, by name."""
    return list(db.session.scalars(
        select(User).where(User.role_rows.any(UserRole.role == Role.FACULTY),
                           User.is_active_account.is_(True))
        .order_by(User.full_name, User.id)
    ))


def _name(name: str | None, course: Course, cohort: Cohort | None,
          field_name: str = "name") -> str:
    value = _text(name, "Enter a name for the cohort, like Spring 2027", field_name, 100,
                  "The name")
    stmt = select(Cohort.id).where(Cohort.course_id == course.id,
                                   func.lower(Cohort.name) == value.lower())
    if cohort is not None:
        stmt = stmt.where(Cohort.id != cohort.id)
    if db.session.scalar(stmt.limit(1)) is not None:
        raise DomainError("This course already has a cohort with this name", field_name)
    return value


def _capacity(capacity: int | None, booking_mode: str | None) -> int | None:
    if capacity is None:
        if booking_mode == BookingMode.NOMINATION:
            raise DomainError("Enter the number of places: nominations need a capacity",
                              "capacity")
        return None
    if capacity < 1 or capacity > MAX_CAPACITY:
        raise DomainError(f"The number of places must be between 1 and {MAX_CAPACITY:,}, "
                          "or left blank for no limit", "capacity")
    return capacity


def _offer_hours(hours: int | None) -> int:
    if hours is None:
        raise DomainError("Enter how many hours people have to accept an offered place",
                          "offer_hours")
    if hours < 1 or hours > MAX_OFFER_HOURS:
        raise DomainError(f"The time to accept an offer must be between 1 and "
                          f"{MAX_OFFER_HOURS} hours", "offer_hours")
    return hours


def _window(settings: CohortSettings, booking_mode: str | None) -> None:
    dates = (settings.nomination_opens, settings.nomination_closes, settings.quota_release)
    if booking_mode != BookingMode.NOMINATION:
        if any(dates):
            raise DomainError("Nomination dates apply only to nomination by DSU leads. Clear "
                              "them, or choose nomination.", "nomination_opens")
        return
    opens, closes, release = dates
    if opens and closes and closes < opens:
        raise DomainError("Nominations must close on or after the day they open",
                          "nomination_closes")
    if opens and release and release < opens:
        raise DomainError("Unused quota places cannot be released before nominations open",
                          "quota_release")


def _quotas(settings: CohortSettings, booking_mode: str | None, capacity: int | None,
            cohort: Cohort | None) -> dict[int, int]:
    quotas = dict(settings.quotas or {})
    if not quotas:
        return {}
    if booking_mode != BookingMode.NOMINATION:
        raise DomainError("ICS quotas apply only to nomination by DSU leads. Clear them, or "
                          "choose nomination.", "quotas")
    icss = {o.id: o for o in ics_organisations()}
    if any(org_id not in icss for org_id in quotas):
        raise DomainError("Quotas can only be for the 11 ICSs", "quotas")
    if any(places is None or places < 0 for places in quotas.values()):
        raise DomainError("Each ICS quota must be 0 or more places", "quotas")
    total = sum(quotas.values())
    if capacity is not None and total > capacity:
        raise DomainError(f"The ICS quotas add up to {total} places, more than the "
                          f"{capacity} places on the cohort", "quotas")
    if cohort is not None and cohort.id is not None:
        used = dict(db.session.execute(
            select(Enrolment.quota_organisation_id, func.count(Enrolment.id))
            .where(Enrolment.offering_id == cohort.id, Enrolment.state.in_(HOLDS_PLACE),
                   Enrolment.quota_organisation_id.is_not(None))
            .group_by(Enrolment.quota_organisation_id)
        ).all())
        for org_id, places in quotas.items():
            if places < used.get(org_id, 0):
                raise DomainError(
                    f"{icss[org_id].name} already has {used[org_id]} places nominated, so "
                    f"its quota cannot be lower than {used[org_id]}", "quotas")
    return quotas


def _leads(lead_ids: list[int]) -> list[User]:
    ids = sorted(set(lead_ids or []))
    if not ids:
        return []
    leads = list(db.session.scalars(
        select(User).where(User.id.in_(ids), User.role_rows.any(UserRole.role == Role.FACULTY))
    ))
    if len(leads) != len(ids):
        raise DomainError("Cohort leads must be faculty members", "lead_ids")
    return leads


def _checked_settings(course: Course, settings: CohortSettings,
                      cohort: Cohort | None) -> tuple[ErrorCollector, dict]:
    errors = ErrorCollector()
    mode = errors.check(_choice, settings.booking_mode, BOOKING_MODE_LABELS,
                        "how people get a place", "booking_mode")
    values = {
        "name": errors.check(_name, settings.name, course, cohort),
        "booking_mode": mode,
        "capacity": errors.check(_capacity, settings.capacity, mode),
        "offer_hours": errors.check(_offer_hours, settings.offer_hours),
    }
    errors.check(_window, settings, mode)
    values["quotas"] = errors.check(_quotas, settings, mode, values["capacity"], cohort)
    values["leads"] = errors.check(_leads, settings.lead_ids)
    return errors, values


def _apply_settings(cohort: Cohort, course: Course, settings: CohortSettings,
                    values: dict) -> None:
    """Write checked settings onto a cohort (not its capacity when it already exists: the
    engine changes that under the cohort's lock)."""
    cohort.name = values["name"]
    cohort.title = cohort_title(course.title, values["name"])
    cohort.booking_mode = values["booking_mode"]
    cohort.offer_hours = values["offer_hours"]
    opens, closes = settings.nomination_opens, settings.nomination_closes
    cohort.nomination_opens_at = local_day_start(opens) if opens else None
    cohort.nomination_closes_at = (local_day_start(closes + timedelta(days=1))
                                   if closes else None)
    release = local_day_start(settings.quota_release) if settings.quota_release else None
    if release != cohort.quota_release_at:
        cohort.quota_release_at = release
        # A new release date in the future holds the places back again.
        cohort.quotas_released = bool(release and release <= utcnow()
                                      and cohort.quotas_released)
    wanted = values["quotas"]
    for row in list(cohort.quotas):
        if row.organisation_id not in wanted:
            cohort.quotas.remove(row)
    have = {row.organisation_id: row for row in cohort.quotas}
    for org_id, places in wanted.items():
        if org_id in have:
            have[org_id].places = places
        else:
            cohort.quotas.append(OfferingQuota(organisation_id=org_id, places=places))
    lead_ids = {user.id for user in values["leads"]}
    for row in list(cohort.lead_rows):
        if row.user_id not in lead_ids:
            cohort.lead_rows.remove(row)
    current = {row.user_id for row in cohort.lead_rows}
    for user in values["leads"]:
        if user.id not in current:
            cohort.lead_rows.append(OfferingLead(user=user))


def create_cohort(course: Course, settings: CohortSettings,
                  sessions: list[SessionDetails]) -> Cohort:
    """A new cohort of ``course``, in draft, with at least one session (London times, none in
    the past). Errors on the n-th session name fields ``session{n}_day``, ``…_start`` etc."""
    begin_write()
    errors, values = _checked_settings(course, settings, None)
    checked = []
    if not sessions:
        errors.errors.append(("session1_day", "Add at least one session"))
    for number, details in enumerate(sessions, start=1):
        checked.append(errors.check(check_session, details, prefix=f"session{number}_"))
    errors.raise_any()
    cohort = Cohort(course=course, status=OfferingStatus.DRAFT,
                    capacity=values["capacity"], quotas_released=False)
    _apply_settings(cohort, course, settings, values)
    for session in checked:
        cohort.sessions.append(Session(
            title=session.title, starts_at=session.starts_at, ends_at=session.ends_at,
            location=session.location, join_url=session.join_url, capacity=session.capacity,
            status=SessionStatus.SCHEDULED, sequence=0,
        ))
    db.session.add(cohort)
    db.session.flush()
    return cohort


def _status(cohort: Cohort, status: str | None) -> str:
    if status is None or status == cohort.status:
        return cohort.status
    if status == OfferingStatus.CANCELLED:
        raise DomainError("To cancel a cohort, use “Cancel this cohort”, which tells the "
                          "people booked", "status")
    if status not in STATUS_CHANGES.get(OfferingStatus(cohort.status), set()):
        allowed = STATUS_CHANGES.get(OfferingStatus(cohort.status), set())
        choices = " or ".join(f"“{STATUS_LABELS[s]}”" for s in sorted(allowed))
        raise DomainError(
            f"A cohort that is “{STATUS_LABELS[OfferingStatus(cohort.status)]}” can only "
            + (f"become {choices}" if allowed else "stay as it is"), "status")
    if status == OfferingStatus.OPEN and not cohort.live_sessions:
        raise DomainError("Add a session before opening the cohort for booking", "status")
    return status


def update_cohort(cohort: Cohort, settings: CohortSettings, status: str | None = None) -> None:
    """Change a cohort's settings and status. Capacity never goes below the places already
    held, the booking mode cannot change once people are in play, and a cancelled cohort
    cannot change. More places are offered to people waiting (by the engine)."""
    begin_write()
    if cohort.status == OfferingStatus.CANCELLED:
        raise DomainError("This cohort has been cancelled, so it cannot be changed")
    course = cohort.course
    errors, values = _checked_settings(course, settings, cohort)
    values["status"] = errors.check(_status, cohort, status)
    capacity = values["capacity"]
    if capacity is not None and capacity != cohort.capacity:
        held = offering_places.count_holding(cohort)
        if capacity < held:
            errors.errors.append((
                "capacity",
                f"{held} places are already taken, so the cohort needs at least {held} places",
            ))
    mode = values["booking_mode"]
    if mode and mode != cohort.booking_mode:
        in_play = db.session.scalar(
            select(func.count(Enrolment.id)).where(Enrolment.offering_id == cohort.id,
                                                   Enrolment.state.in_(ACTIVE))
        )
        if in_play:
            errors.errors.append((
                "booking_mode",
                "People have already booked, asked for or been nominated to places, so how "
                "people get a place cannot change now",
            ))
    errors.raise_any()
    _apply_settings(cohort, course, settings, values)
    cohort.status = values["status"]
    db.session.flush()
    if capacity != cohort.capacity:
        # Under the cohort's lock, the engine checks the places held again and offers any
        # new places to the waiting list.
        engine.change_capacity(cohort, capacity)


def duplicate_cohort(cohort: Cohort, new_name: str, first_day: date | None) -> Cohort:
    """A new draft cohort like ``cohort``: the same settings, quotas and leads, and its
    sessions moved so the first falls on ``first_day``, each at the same London wall-clock
    times (so a 10:00 session stays at 10:00 across a change of the clocks). Nomination and
    quota release dates move by the same number of days. Cancelled sessions are left out."""
    begin_write()
    course = cohort.course
    errors = ErrorCollector()
    name = errors.check(_name, new_name, course, None)
    live = cohort.live_sessions
    if first_day is None:
        errors.errors.append(("first_day", "Enter the date of the new cohort's first session"))
    if not live:
        errors.errors.append((None, "This cohort has no sessions to copy"))
    if first_day is None or not live:
        errors.raise_any()
    shift = first_day - local_day_and_time(live[0].starts_at)[0]

    def moved(moment: datetime | None) -> datetime | None:
        """The same London wall-clock time, ``shift`` days later."""
        if moment is None:
            return None
        day, at = local_day_and_time(moment)
        return errors.check(local_to_utc, day + shift, at, "first_day")

    sessions = [(s, moved(s.starts_at), moved(s.ends_at)) for s in live]
    if sessions[0][1] is not None and sessions[0][1] <= utcnow():
        errors.errors.append(("first_day", "The new cohort's first session must be in the "
                                           "future"))
    windows = [moved(moment) for moment in (cohort.nomination_opens_at,
                                            cohort.nomination_closes_at,
                                            cohort.quota_release_at)]
    errors.raise_any()

    copy = Cohort(
        course=course, name=name, title=cohort_title(course.title, name),
        status=OfferingStatus.DRAFT, booking_mode=cohort.booking_mode,
        capacity=cohort.capacity, offer_hours=cohort.offer_hours,
        nomination_opens_at=windows[0], nomination_closes_at=windows[1],
        quota_release_at=windows[2], quotas_released=False,
    )
    copy.quotas = [OfferingQuota(organisation_id=q.organisation_id, places=q.places)
                   for q in cohort.quotas]
    copy.lead_rows = [OfferingLead(user_id=row.user_id) for row in cohort.lead_rows]
    copy.sessions = [
        Session(title=s.title, starts_at=starts_at, ends_at=ends_at, location=s.location,
                join_url=s.join_url, capacity=s.capacity, status=SessionStatus.SCHEDULED,
                sequence=0)
        for s, starts_at, ends_at in sessions
    ]
    db.session.add(copy)
    db.session.flush()
    return copy


def cancel_cohort(cohort: Cohort, actor: User, reason: str) -> int:
    """Cancel a cohort: the engine cancels every active place, records why and tells each
    person. Returns how many people were told."""
    if not policy.can_manage(actor, cohort):
        raise NotAllowed("Only faculty can cancel a cohort")
    return engine.cancel_offering(cohort, actor, reason)


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
    return CohortOverview(offering_places.count_holding(cohort),
                          offering_places.places_left_for([cohort.id]).get(cohort.id), used)

