"""The catalogue: published courses found by filters and words, each with its next run and
the places left on it, in a fixed number of queries (aggregates in SQL, places left by the
engine in one query).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import and_, func, or_, select

from lms.clock import utcnow
from lms.courses.models import FORMAT_LABELS, KIND_LABELS, STRAND_LABELS, Cohort, Course
from lms.extensions import db
from lms.offerings import places as offering_places
from lms.offerings.models import OfferingStatus, Session, SessionStatus
from lms.offerings.schedule import local_day_start


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


def first_sessions():
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
    firsts = first_sessions()
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
