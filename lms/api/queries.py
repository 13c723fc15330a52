"""What the API reads and does, through each feature's own services and rules.

Lists come a page at a time in a stable order (a column that may repeat, then the id), each
page in a fixed number of queries. Who may see an offering is the offerings' policy (the same
answer as the pages, calendars and feeds): drafts and cohorts of unpublished courses are for
faculty and admins only; bookings are through the enrolment engine's ``book`` and
``withdraw``, exactly as the pages do it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import exists, func, select

from lms.accounts.models import Organisation, User
from lms.api.params import DateRange, InvalidParameters, Paging
from lms.attendance import completion as attendance_completion
from lms.attendance.models import Attendance
from lms.courses import services as courses
from lms.courses.models import Cohort, Course
from lms.errors import InvalidInput, NotFound
from lms.extensions import db
from lms.offerings import calendar, policy
from lms.offerings import feed as offering_feed
from lms.offerings import places as offering_places
from lms.offerings import services as engine
from lms.offerings.models import (
    HOLDS_PLACE,
    Booking,
    BookingState,
    Enrolment,
    Offering,
    Session,
    SessionStatus,
)

_COHORT = Cohort.__table__
# The beginning of time for "every session ever": before any session on the platform.
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Page:
    """One page of a list, and how long the whole list is."""

    items: list
    total: int
    paging: Paging

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.paging.per_page))


def _page(stmt, paging: Paging, scalars: bool = True) -> Page:
    """Run ``stmt`` (already in its stable order) for one page, and count the whole list."""
    total = db.session.scalar(
        select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    limited = stmt.limit(paging.per_page).offset(paging.offset)
    rows = db.session.scalars(limited).all() if scalars else db.session.execute(limited).all()
    return Page(list(rows), total, paging)


# ---------------------------------------------------------------------------- who sees what


def get_offering(offering_id: int, viewer) -> Offering:
    """An offering ``viewer`` may see, or ``NotFound``."""
    offering = db.session.get(Offering, offering_id)
    if offering is None or not policy.can_see(viewer, offering):
        raise NotFound("No such course, cohort or event")
    return offering


def _in_range(column, dates: DateRange) -> list:
    start, end = dates.window
    conditions = []
    if start is not None:
        conditions.append(column >= start)
    if end is not None:
        conditions.append(column < end)
    return conditions


# ---------------------------------------------------------------------------- the catalogue


def courses_list(viewer, paging: Paging, kind: str | None = None,
                 strand: str | None = None) -> Page:
    """Courses in the catalogue by title (unpublished ones only for faculty and admins)."""
    stmt = select(Course).order_by(Course.title, Course.id)
    if not courses.can_manage_courses(viewer):
        stmt = stmt.where(Course.published.is_(True))
    if kind:
        stmt = stmt.where(Course.kind == kind)
    if strand:
        stmt = stmt.where(Course.strand == strand)
    return _page(stmt, paging)


def get_course(course_id: int, viewer) -> Course:
    """A course ``viewer`` may see, or ``NotFound``."""
    return courses.get_course(course_id, viewer)


@dataclass(frozen=True)
class OfferingLine:
    """An offering with the dates of its sessions and the places left on it."""

    offering: Offering
    course_id: int | None
    starts_at: datetime | None
    ends_at: datetime | None
    sessions: int
    places_left: int | None


def _session_spans():
    return (select(Session.offering_id.label("offering_id"),
                   func.min(Session.starts_at).label("first"),
                   func.max(Session.ends_at).label("last"),
                   func.count(Session.id).label("n"))
            .where(Session.status == SessionStatus.SCHEDULED)
            .group_by(Session.offering_id).subquery())


def _offering_lines(stmt) -> tuple:
    spans = _session_spans()
    return (stmt.add_columns(_COHORT.c.course_id, spans.c.first, spans.c.last, spans.c.n)
            .outerjoin(_COHORT, _COHORT.c.id == Offering.id)
            .outerjoin(spans, spans.c.offering_id == Offering.id))


def _lines(rows) -> list[OfferingLine]:
    left = offering_places.places_left_for([row[0].id for row in rows])
    return [OfferingLine(offering, course_id, first, last, n or 0, left.get(offering.id))
            for offering, course_id, first, last, n in rows]


def offerings_list(viewer, paging: Paging, dates: DateRange, kind: str | None = None,
                   status: str | None = None, course_id: int | None = None) -> Page:
    """Cohorts and events by id, with their session dates and places left. ``dates`` keeps
    those with a session (not cancelled) starting in the range. Three queries."""
    stmt = select(Offering).where(*policy.visible_filter(viewer)).order_by(Offering.id)
    if kind:
        stmt = stmt.where(Offering.kind == kind)
    if status:
        stmt = stmt.where(Offering.status == status)
    if course_id is not None:
        stmt = stmt.where(Offering.id.in_(
            select(_COHORT.c.id).where(_COHORT.c.course_id == course_id)))
    if dates.starts or dates.ends:
        stmt = stmt.where(exists(
            select(Session.id).where(Session.offering_id == Offering.id,
                                     Session.status == SessionStatus.SCHEDULED,
                                     *_in_range(Session.starts_at, dates))))
    page = _page(_offering_lines(stmt), paging, scalars=False)
    return Page(_lines(page.items), page.total, paging)


def offering_line(offering: Offering) -> OfferingLine:
    """One offering as the list shows it."""
    rows = db.session.execute(
        _offering_lines(select(Offering).where(Offering.id == offering.id))).all()
    return _lines(rows)[0]


@dataclass(frozen=True)
class SessionLine:
    """A session with its offering, and the places left where it has its own capacity."""

    session: Session
    offering: Offering
    places_left: int | None


def _session_lines(rows) -> list[SessionLine]:
    ids = [s.id for s, _ in rows if s.capacity is not None]
    booked = dict(db.session.execute(
        select(Booking.session_id, func.count(Booking.id))
        .where(Booking.session_id.in_(ids), Booking.state == BookingState.BOOKED)
        .group_by(Booking.session_id)).tuples().all()) if ids else {}
    return [SessionLine(s, o, None if s.capacity is None
                        else max(0, s.capacity - booked.get(s.id, 0)))
            for s, o in rows]


def sessions_list(viewer, paging: Paging, dates: DateRange,
                  offering_id: int | None = None) -> Page:
    """Sessions of offerings ``viewer`` may see, by start time. Three queries."""
    stmt = (select(Session, Offering).join(Offering, Offering.id == Session.offering_id)
            .where(*policy.visible_filter(viewer), *_in_range(Session.starts_at, dates))
            .order_by(Session.starts_at, Session.id))
    if offering_id is not None:
        stmt = stmt.where(Session.offering_id == offering_id)
    page = _page(stmt, paging, scalars=False)
    return Page(_session_lines(page.items), page.total, paging)


def sessions_of(offering: Offering) -> list[SessionLine]:
    """Every session of one offering, in time order."""
    return _session_lines([(s, offering) for s in offering.sessions])


def materials_list(offering: Offering, viewer, paging: Paging) -> Page:
    """The materials of ``offering`` that ``viewer`` may see now (the materials' one rule),
    in faculty's order."""
    from lms.learning.materials import visible_materials

    shown = visible_materials(viewer, offering)
    return Page(shown[paging.offset:paging.offset + paging.per_page], len(shown), paging)


# ---------------------------------------------------------------------------- my places


def my_bookings(user: User, paging: Paging) -> Page:
    """Everything the person has booked, asked for, been nominated to or waits for, finished
    ones too, oldest first."""
    stmt = select(Enrolment).where(Enrolment.user_id == user.id).order_by(Enrolment.id)
    return _page(stmt, paging)


def my_booking(user: User, enrolment_id: int) -> Enrolment:
    """One of the person's own bookings; anyone else's is ``NotFound``."""
    enrolment = db.session.get(Enrolment, enrolment_id)
    if enrolment is None or enrolment.user_id != user.id:
        raise NotFound("No such booking")
    return enrolment


def book(user: User, offering_id: int) -> Enrolment:
    """Book a place (or ask for one, or join the waiting list), by the engine's rules."""
    return engine.book(user, get_offering(offering_id, user))


def withdraw(user: User, enrolment_id: int) -> Enrolment:
    """Give up one's own place, request or queue position, by the engine's rules; a
    nomination or an offered place is declined (the pages' button for it)."""
    enrolment = my_booking(user, enrolment_id)
    if not policy.may_withdraw(user, enrolment) and policy.may_decline(user, enrolment):
        return engine.decline(user, enrolment)
    return engine.withdraw(user, enrolment)


def my_calendar(user: User, paging: Paging, dates: DateRange) -> Page:
    """Every session the person has a place at, as their calendar feed has them, by start
    time. The joining link only where the place is confirmed."""
    start, end = dates.window
    # The feed's own query: through an enrolment, or a booking for festival sessions.
    rows = offering_feed._feed_rows(user.id, start or _EPOCH)
    stmt = select(rows).order_by(rows.c.starts_at, rows.c.id)
    if end is not None:
        stmt = stmt.where(rows.c.starts_at < end)
    if start is not None:
        stmt = stmt.where(rows.c.starts_at >= start)
    return _page(stmt, paging, scalars=False)


def is_confirmed(state: str) -> bool:
    """Whether a place in this state is confirmed (and so gets the joining link)."""
    return state in calendar.CONFIRMED


# ---------------------------------------------------------------------------- faculty


def attendance_list(offering: Offering, paging: Paging, dates: DateRange,
                    ics: Organisation | None) -> Page:
    """Every attendance recorded at the offering's sessions, by session then record."""
    stmt = (select(Attendance, Session).join(Session, Session.id == Attendance.session_id)
            .where(Session.offering_id == offering.id, *_in_range(Session.starts_at, dates))
            .order_by(Session.starts_at, Attendance.id))
    if ics is not None:
        stmt = stmt.join(User, User.id == Attendance.user_id).where(
            User.organisation_id == ics.id)
    return _page(stmt, paging, scalars=False)


def completions_list(offering: Offering, paging: Paging, ics: Organisation | None) -> Page:
    """Each person holding a place: their progress against the completion rule, and when
    they completed. A fixed number of queries per page."""
    stmt = (select(Enrolment).where(Enrolment.offering_id == offering.id,
                                    Enrolment.state.in_(HOLDS_PLACE))
            .order_by(Enrolment.id))
    if ics is not None:
        stmt = stmt.join(User, User.id == Enrolment.user_id).where(
            User.organisation_id == ics.id)
    page = _page(stmt, paging)
    progress = attendance_completion.progress_for(offering, page.items) if page.items else []
    return Page(progress, page.total, paging)


# ---------------------------------------------------------------------------- figures


def _reports():
    # Imported when asked for: the dashboards are the reports feature's, and the API must
    # start even while that feature changes.
    from lms.reports import services as reports

    return reports


def _as_parameters(error: InvalidInput) -> InvalidParameters:
    names = {"starts": "from", "ends": "to", "course": "course"}
    return InvalidParameters([(names.get(field or "", field), message)
                              for field, message in error.errors])


def ics_figures(viewer: User, code: str, dates: DateRange, course_id: int | None = None):
    """An ICS's dashboard: a DSU lead's own ICS only (another is ``NotFound``); faculty and
    admins any."""
    reports = _reports()
    organisation = reports.get_ics_for(viewer, code)
    try:
        filters = reports.check_filters(course_id, dates.starts, dates.ends)
    except InvalidInput as error:
        raise _as_parameters(error) from None
    return reports.ics_dashboard(organisation, filters)


def region_figures(dates: DateRange, course_id: int | None = None):
    """The region's dashboard; without dates, the last twelve months."""
    from lms.reports import regional  # when asked for, as in ``_reports``

    reports = _reports()
    starts, ends = reports.region_dates(dates.starts, dates.ends)
    try:
        filters = reports.check_filters(course_id, starts, ends, max_months=reports.MAX_MONTHS)
    except InvalidInput as error:
        raise _as_parameters(error) from None
    return regional.region_dashboard(filters)

