"""What course pages show: the catalogue's listing and a cohort's page (rendered fragments
kept in the page cache, ``lms.cache``), the faculty's course list, a course page
with its cohorts, and the figures at the top of a cohort's manage page. Each runs a fixed
number of queries.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from flask import render_template
from flask_login import AnonymousUserMixin
from markupsafe import Markup
from sqlalchemy import case, func, select
from werkzeug.datastructures import MultiDict

from lms.cache import OFFER, cached, offering
from lms.clock import utcnow
from lms.courses import cohorts
from lms.courses.catalogue import CatalogueFilters, catalogue_listing, first_sessions
from lms.courses.forms import CatalogueFilterForm
from lms.courses.models import Cohort, Course
from lms.courses.services import (
    BOOKING_MODE_LABELS,
    STATUS_LABELS,
    can_see_course,
    get_course,
    load_cohort,
)
from lms.errors import NotFound
from lms.extensions import db
from lms.learning.materials_pages import materials_section
from lms.offerings import pages as offering_pages
from lms.offerings import places as offering_places
from lms.offerings import policy
from lms.offerings import services as engine
from lms.offerings.models import BookingMode, OfferingStatus
from lms.web import page_number, shown_page

# ---------------------------------------------------------------------------- cached fragments


@dataclass(frozen=True)
class CataloguePage:
    """The catalogue's title and listing, the same for everyone sending the same filters."""

    title: str
    body: Markup


# Courses a page of the catalogue shows, so the page stays the same size however many there are.
CATALOGUE_PAGE_SIZE = 20


def catalogue_page(args: MultiDict) -> CataloguePage:
    """The catalogue for these filters (GET parameters), kept under the offer's version: one
    query when nothing has changed."""
    key = tuple(sorted(args.items(multi=True)))
    return cached("catalogue", key, depends_on=OFFER, build=lambda: _catalogue_listing(args))


def _catalogue_listing(args: MultiDict) -> tuple[CataloguePage, datetime | None]:
    form = CatalogueFilterForm(args)
    form.validate()
    starts_after = form.starts_after.data
    filters = CatalogueFilters(
        kind=form.kind.data or None, strand=form.strand.data or None,
        format=form.format.data or None, has_places=bool(form.has_places.data),
        starts_after=starts_after if isinstance(starts_after, date) else None,
        text=form.q.data or "",
    )
    found = catalogue_listing(filters)
    filtered = filters != CatalogueFilters()
    shown = shown_page(found.entries, page_number(args.get("page")), CATALOGUE_PAGE_SIZE,
                       {key: value for key, value in args.items() if key != "page"})
    title = ("Error: " if form.errors else "") + "Courses and programmes" + (
        " (filtered)" if filtered else "") + (
        f" (page {shown.page} of {shown.pages})" if shown.pages > 1 else "")
    body = Markup(render_template(  # noqa: S704 - autoescaped template output
        "courses/_catalogue_listing.html", form=form, shown=shown, filtered=filtered))
    return CataloguePage(title, body), found.valid_until



@dataclass(frozen=True)
class CohortPage:
    """A cohort's page as everyone sees it, but for the booking panel: the main column for
    each (joining links shown, may manage)."""

    public: bool
    title: str
    course_id: int
    course_title: str
    main: dict[tuple[bool, bool], Markup]
    standing: offering_pages.Standing
    holders_materials: Markup    # the materials section everyone with a place sees


def cohort_page(cohort_id: int) -> CohortPage | None:
    """A cohort's page (None if there is no such cohort) whoever asks, kept under the
    offering's version: one query when nothing has changed. Who may see it is the view's
    to check."""
    return cached("cohort", cohort_id, depends_on=offering(cohort_id),
                  build=lambda: _cohort_page(cohort_id))


def _cohort_page(cohort_id: int) -> tuple[CohortPage | None, datetime | None]:
    cohort = load_cohort(cohort_id)
    if cohort is None:
        return None, None
    standing = offering_pages.standing(cohort)
    settings = cohorts.settings_of(cohort)
    main = {
        (links, manage): Markup(render_template(  # noqa: S704 - autoescaped template output
            "courses/_cohort_main.html", cohort=cohort, places_left=standing.places_left,
            can_manage=manage, show_join_links=links, settings=settings))
        for links, manage in ((False, False), (True, False), (True, True))
    }
    holders = materials_section(AnonymousUserMixin(), cohort, place=True)
    page = CohortPage(policy.is_public(cohort), f"{cohort.course.title}: {cohort.name}",
                      cohort.course_id, cohort.course.title, main, standing,
                      Markup(render_template(  # noqa: S704 - autoescaped template output
                          "learning/_materials_section.html", materials=holders)))
    # Materials show to people with a place as sessions start and end.
    now = utcnow()
    moments = [m for s in cohort.sessions for m in (s.starts_at, s.ends_at) if m > now]
    if standing.until is not None:
        moments.append(standing.until)
    return page, min(moments, default=None)


# ---------------------------------------------------------------------------- course pages


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
    return [ManagedCourse(course, count or 0, int(upcoming or 0))
            for course, count, upcoming in rows]


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
    places = offering_places.places_left_for([row[0] for row in rows])
    return [CohortSummary(cid, name, status, mode, capacity, first, last, n or 0,
                          places.get(cid))
            for cid, name, status, mode, capacity, first, last, n in rows]


def course_page(course_id: int, viewer) -> CoursePage:
    """A course and its cohorts (drafts only for managers). Three queries."""
    course = get_course(course_id, viewer)
    return CoursePage(course, cohort_summaries(course, viewer))


@dataclass(frozen=True)
class RenderedCourse:
    """A course's page as everyone of one audience (managers or not) sees it."""

    title: str
    body: Markup


def rendered_course(course_id: int, viewer) -> RenderedCourse:
    """The course's page for ``viewer``'s audience, kept under the offer's version (its
    cohorts' places are listings' places) until one of its cohorts ends; ``NotFound`` as
    ``get_course``. One query when nothing has changed."""
    manage = policy.can_manage(viewer)
    page = cached("course", (course_id, manage), depends_on=OFFER,
                  build=lambda: _rendered_course(course_id, viewer, manage))
    if page is None:
        raise NotFound("No such course")
    return page


def _rendered_course(course_id: int, viewer, manage: bool
                     ) -> tuple[RenderedCourse | None, datetime | None]:
    course = db.session.get(Course, course_id)
    if course is None or not can_see_course(viewer, course):
        return None, None
    page = CoursePage(course, cohort_summaries(course, viewer))
    body = Markup(render_template(  # noqa: S704 - autoescaped template output
        "courses/_course_main.html", page=page, course=page.course, can_manage=manage))
    now = utcnow()
    ends = [c.ends_at for c in page.cohorts if c.ends_at is not None and c.ends_at > now]
    return RenderedCourse(page.course.title, body), min(ends, default=None)


@dataclass(frozen=True)
class CohortOverview:
    """What faculty see at the top of a cohort's manage page."""

    held: int
    places_left: int | None
    quota_used: dict[int, int]
    # Session id -> (register, check-in screen, import), each the attendance policy's answer.
    tools: dict = field(default_factory=dict)


def cohort_overview(cohort: Cohort, viewer=None) -> CohortOverview:
    """Places held, places left and each ICS's quota use (three queries), and for ``viewer``
    each session's register, check-in screen and import, where the policy allows them."""
    from lms.attendance.policy import session_tools

    used = offering_places.quota_use(cohort.id)
    now = utcnow()
    tools = ({s.id: session_tools(viewer, s, now) for s in cohort.sessions}
             if viewer is not None else {})
    return CohortOverview(engine.count_holding(cohort),
                          offering_places.places_left_for([cohort.id]).get(cohort.id), used,
                          tools)
