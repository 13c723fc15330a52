"""The figures behind the dashboards, counted in the database.

Every dashboard costs a fixed number of queries however many people, places, sessions and
answers there are: each figure is one ``GROUP BY`` query, and Python only arranges the
grouped rows (whose number depends on how many ICSs, offerings, courses, months and
competencies there are, never on how many people did things).

Filters: a course (or programme) and a date range on London dates, both ends included. The
date range picks the offerings with a session in it; attendances count the sessions in it;
completions count those recorded in it. Competency coverage is everyone's current level,
whatever the dates.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import and_, case, func, select

from lms.accounts.models import Organisation, OrganisationKind, User
from lms.attendance.models import Attendance, Completion
from lms.attendance.standing import counts_as_attended
from lms.clock import LONDON, to_london, utcnow
from lms.competencies.models import (
    LEVEL_LABELS,
    Competency,
    CourseCompetency,
    Level,
)
from lms.competencies.services import current_levels_select
from lms.courses.models import Cohort, Course
from lms.errors import ErrorCollector, NotFound
from lms.events.models import KIND_LABELS as EVENT_KIND_LABELS
from lms.extensions import db
from lms.offerings.models import (
    HOLDS_PLACE,
    Enrolment,
    EnrolmentState,
    Offering,
    OfferingQuota,
    OfferingStatus,
    Session,
    SessionStatus,
)
from lms.reports.charts import PairedBar
from lms.reports.exports import Table

S = EnrolmentState
_COHORT = Cohort.__table__
MAX_MONTHS = 36
# Dates a dashboard can be asked about (further out is a typing slip).
EARLIEST, LATEST = date(2000, 1, 1), date(2099, 12, 31)
REGION_DEFAULT_MONTHS = 12
# The columns of the places tables, which never overlap: a confirmed place (or one offered
# from the waiting list), a request or nomination not yet confirmed, the waiting list.
BOOKED = (S.ENROLLED, S.OFFERED)
PENDING = (S.REQUESTED, S.NOMINATED, S.APPROVED)
WAITING = (S.WAITLISTED,)


# ---------------------------------------------------------------------------- permissions


def can_see_region(user) -> bool:
    """Faculty and admins see the region's figures, every ICS's and every cohort's."""
    return bool(user.is_authenticated and (user.is_faculty or user.is_admin))


# ---------------------------------------------------------------------------- filters


@dataclass(frozen=True)
class ReportFilters:
    """A course (or programme) and a range of London dates, both ends included."""

    course_id: int | None = None
    starts: date | None = None
    ends: date | None = None

    @property
    def window(self) -> tuple[datetime | None, datetime | None]:
        """The range as UTC moments: from the start day's midnight, to (not including) the
        midnight after the end day."""
        return (_midnight(self.starts) if self.starts else None,
                _midnight(self.ends + timedelta(days=1)) if self.ends else None)


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(0, 0), tzinfo=LONDON).astimezone(UTC)


def _months_between(starts: date, ends: date) -> int:
    return (ends.year - starts.year) * 12 + ends.month - starts.month + 1


def check_filters(course_id: int | str | None, starts: date | None, ends: date | None,
                  *, max_months: int | None = None) -> ReportFilters:
    """Filters a dashboard can use, or ``InvalidInput`` saying what is wrong: a range that
    ends before it starts, one too long to show month by month, or an unknown course."""
    errors = ErrorCollector()
    chosen: int | None = None
    if course_id not in (None, ""):
        try:
            chosen = int(str(course_id))
        except ValueError:
            chosen = None
        if chosen is None or db.session.get(Course, chosen) is None:
            errors.errors.append(("course", "Choose a course or programme from the list"))
    out_of_range = [(name, f"Enter a date between {EARLIEST.year} and {LATEST.year}")
                    for name, day in (("starts", starts), ("ends", ends))
                    if day and not EARLIEST <= day <= LATEST]
    errors.errors.extend(out_of_range)
    if out_of_range:
        pass  # the order of dates that far out does not matter
    elif starts and ends and ends < starts:
        errors.errors.append(("ends", "The end date must be the same as or after the start "
                                      "date"))
    elif starts and ends and max_months and _months_between(starts, ends) > max_months:
        errors.errors.append(("ends", f"Choose dates no more than {max_months // 12} years "
                                      "apart"))
    errors.raise_any()
    return ReportFilters(chosen, starts, ends)


def region_dates(starts: date | None, ends: date | None,
                 today: date | None = None) -> tuple[date, date]:
    """The region dashboard's range with its gaps filled: no end means today (or the start,
    if later); no start means the first day of the month eleven months before the end, so
    the default is the last twelve months, this one included."""
    today = today or to_london(utcnow()).date()
    if ends is None:
        ends = max(today, starts) if starts else today
    if starts is None:
        starts = _months_back(ends, REGION_DEFAULT_MONTHS - 1)
    return starts, ends


def ics_dates(starts: date | None, ends: date | None,
              today: date | None = None) -> tuple[date, date]:
    """An ICS dashboard's range with its gaps filled: by default the last twelve months and
    the year ahead, so cohorts people are booked or nominated on show with those they came
    to."""
    today = today or to_london(utcnow()).date()
    if ends is None:
        ends = max(today.replace(year=today.year + 1) if (today.month, today.day) != (2, 29)
                   else today + timedelta(days=365), starts or today)
    if starts is None:
        starts = _months_back(min(today, ends), REGION_DEFAULT_MONTHS - 1)
    return starts, ends


def _months_back(day: date, months: int) -> date:
    """The first day of the month ``months`` before ``day``'s."""
    year, month = day.year, day.month - months
    while month < 1:
        year, month = year - 1, month + 12
    return date(year, month, 1)


def course_choices() -> list[tuple[int, str]]:
    """Courses and programmes to filter by, by title."""
    return list(db.session.execute(select(Course.id, Course.title).order_by(Course.title))
                .tuples().all())


def _offering_conditions(filters: ReportFilters, offering_id) -> list:
    """Conditions on an offering id column: of the chosen course, with a session in range.

    The range is an ``IN`` over the sessions in range (found from the sessions' start index,
    once per query), not a correlated ``EXISTS``: SQLite ran that once per place or
    attendance counted, thousands of times on an ICS dashboard."""
    conditions = []
    if filters.course_id is not None:
        conditions.append(offering_id.in_(
            select(_COHORT.c.id).where(_COHORT.c.course_id == filters.course_id)))
    start, end = filters.window
    if start or end:
        held = select(Session.offering_id).where(Session.status != SessionStatus.CANCELLED)
        if start:
            held = held.where(Session.starts_at >= start)
        if end:
            held = held.where(Session.starts_at < end)
        conditions.append(offering_id.in_(held))
    return conditions


def _session_conditions(filters: ReportFilters) -> list:
    """Conditions on ``Session``: of the chosen course, starting in range."""
    conditions = [Session.status != SessionStatus.CANCELLED]
    if filters.course_id is not None:
        conditions.append(Session.offering_id.in_(
            select(_COHORT.c.id).where(_COHORT.c.course_id == filters.course_id)))
    start, end = filters.window
    if start:
        conditions.append(Session.starts_at >= start)
    if end:
        conditions.append(Session.starts_at < end)
    return conditions


def _completion_conditions(filters: ReportFilters) -> list:
    conditions = []
    if filters.course_id is not None:
        conditions.append(_COHORT.c.course_id == filters.course_id)
    start, end = filters.window
    if start:
        conditions.append(Completion.completed_at >= start)
    if end:
        conditions.append(Completion.completed_at < end)
    return conditions


def _kind_label(kind: str) -> str:
    if kind == "cohort":
        return "Course"
    return EVENT_KIND_LABELS.get(kind, kind.title())


def _percent(part: int, whole: int) -> int:
    return round(100 * part / whole) if whole else 0


def _staff_counts() -> dict[int, int]:
    """Active accounts per organisation. One query."""
    return dict(db.session.execute(
        select(User.organisation_id, func.count(User.id))
        .where(User.is_active_account.is_(True)).group_by(User.organisation_id)).tuples().all())


def _ics_ids():
    return select(Organisation.id).where(Organisation.kind == OrganisationKind.ICS)


# ---------------------------------------------------------------------------- DSU lead: an ICS

ICS_TABLES = ("offerings", "quotas", "people", "coverage")
def get_ics_for(viewer: User, code: str) -> Organisation:
    """The ICS whose dashboard ``viewer`` asked for: faculty and admins may see any ICS's; a
    DSU lead only their own. Anything else is ``NotFound``, so a DSU lead cannot even learn
    which codes exist."""
    organisation = db.session.scalar(select(Organisation).where(
        Organisation.code == (code or "").upper()))
    if organisation is None or not organisation.is_ics:
        raise NotFound("No such ICS")
    if can_see_region(viewer):
        return organisation
    if viewer.is_dsu_lead and viewer.organisation_id == organisation.id:
        return organisation
    raise NotFound("No such ICS")


@dataclass
class IcsDashboard:
    organisation: Organisation
    filters: ReportFilters
    staff: int
    region_staff: int
    bookings: int
    attendances: int
    completions: int
    offerings: Table
    quotas: Table
    people: Table
    coverage: Table
    coverage_bars: list[PairedBar] = field(default_factory=list)

    @property
    def tables(self) -> dict[str, Table]:
        return {t.key: t for t in (self.offerings, self.quotas, self.people, self.coverage)}


def ics_dashboard(organisation: Organisation, filters: ReportFilters) -> IcsDashboard:
    """An ICS's people: their places, attendance and completions per offering, their
    nominations against the ICS's quota per cohort, each person's activity, and competency
    coverage beside the region's. Nine queries, whatever the numbers."""
    org_id = organisation.id
    staff = _staff_counts()
    ics_ids = set(db.session.scalars(_ics_ids()))

    # Places per offering and state, and attendance at sessions in range. Webinars (one
    # session each, and many of them) count together as one row.
    key = case((Offering.kind == "webinar", 0), else_=Offering.id)
    title, kind = func.min(Offering.title), func.min(Offering.kind)
    per_offering: dict[int, dict] = {}

    def entry(key_value: int, first_title: str, first_kind: str) -> dict:
        if key_value not in per_offering:
            per_offering[key_value] = {
                "title": "Webinars" if key_value == 0 else first_title,
                "kind": "webinar" if key_value == 0 else first_kind,
                "states": defaultdict(int), "attended": 0, "people": 0}
        return per_offering[key_value]

    # The ICS's places are counted per offering and state first (from the index of places
    # by person, state and offering), so each offering is looked up once, not once a place.
    places = (select(Enrolment.offering_id.label("offering_id"),
                     Enrolment.state.label("state"), func.count().label("n"))
              .join(User, User.id == Enrolment.user_id)
              .where(User.organisation_id == org_id,
                     *_offering_conditions(filters, Enrolment.offering_id))
              .group_by(Enrolment.offering_id, Enrolment.state).subquery())
    for key_value, first_title, first_kind, state, n in db.session.execute(
        select(key, title, kind, places.c.state, func.sum(places.c.n))
        .select_from(places)
        .join(Offering, Offering.id == places.c.offering_id)
        .group_by(key, places.c.state)
    ).tuples():
        entry(key_value, first_title, first_kind)["states"][state] += int(n)
    for key_value, first_title, first_kind, n, people in db.session.execute(
        select(key, title, kind, func.count(Attendance.id),
               func.count(func.distinct(Attendance.user_id)))
        .select_from(Attendance)
        .join(Session, Session.id == Attendance.session_id)
        .join(Offering, Offering.id == Session.offering_id)
        .join(User, User.id == Attendance.user_id)
        .where(User.organisation_id == org_id, *counts_as_attended(),
               *_session_conditions(filters))
        .group_by(key)
    ).tuples():
        row = entry(key_value, first_title, first_kind)
        row["attended"], row["people"] = n, people

    offering_rows = []
    for row in sorted(per_offering.values(), key=lambda r: (r["kind"] != "cohort",
                                                            r["title"].lower())):
        states = row["states"]
        offering_rows.append([
            row["title"], _kind_label(row["kind"]), sum(states[s] for s in BOOKED),
            sum(states[s] for s in WAITING), sum(states[s] for s in PENDING),
            states[S.COMPLETED], row["attended"], row["people"],
        ])
    offerings = Table("offerings", "Places, attendance and completions by course and event "
                      "(webinars together)",
                      ["Course or event", "Kind", "Places held", "Waiting list",
                       "Requested or nominated, not yet confirmed", "Completed",
                       "Attendances at sessions", "People who attended"], offering_rows)

    quotas = _quota_table(org_id, filters)
    people = _people_table(org_id, filters)
    coverage, bars = _coverage(org_id, ics_ids, staff, filters)
    region_staff = sum(n for org, n in staff.items() if org in ics_ids)
    return IcsDashboard(
        organisation=organisation, filters=filters, staff=staff.get(org_id, 0),
        region_staff=region_staff,
        bookings=sum(r[2] + r[5] for r in offering_rows),
        attendances=sum(r[6] for r in offering_rows),
        completions=sum(r[5] for r in offering_rows),
        offerings=offerings, quotas=quotas, people=people, coverage=coverage,
        coverage_bars=bars,
    )


def _quota_table(org_id: int, filters: ReportFilters) -> Table:
    """Nominations against the ICS's quota, per cohort with a quota for it. One query."""
    used = func.count(case((Enrolment.state.in_(HOLDS_PLACE), Enrolment.id)))
    pending = func.count(case((Enrolment.state.in_((S.NOMINATED, S.APPROVED)), Enrolment.id)))
    rows = []
    now = utcnow()
    for _, title, places, released, release_at, n_used, n_pending in db.session.execute(
        select(Offering.id, Offering.title, OfferingQuota.places, Offering.quotas_released,
               Offering.quota_release_at, used, pending)
        .select_from(OfferingQuota)
        .join(Offering, Offering.id == OfferingQuota.offering_id)
        .outerjoin(Enrolment, and_(Enrolment.offering_id == Offering.id,
                                   Enrolment.quota_organisation_id == org_id))
        .where(OfferingQuota.organisation_id == org_id,
               Offering.status != OfferingStatus.CANCELLED,
               *_offering_conditions(filters, Offering.id))
        .group_by(Offering.id, Offering.title, OfferingQuota.places, Offering.quotas_released,
                  Offering.quota_release_at)
        .order_by(Offering.id.desc())
    ).tuples():
        in_force = not released and (release_at is None or now < release_at)
        rows.append([title, places, n_used, n_pending, max(0, places - n_used),
                     "Reserved" if in_force else "Released to the region"])
    return Table("quotas", "Nominations against your quota, by cohort",
                 ["Cohort", "Quota places", "Places used", "Of which awaiting approval or "
                  "confirmation", "Places left", "Quota"], rows)


def _people_table(org_id: int, filters: ReportFilters) -> Table:
    """Each person of the ICS with any place or attendance: two queries."""
    people: dict[int, list] = {}
    booked = func.count(case((Enrolment.state.in_(BOOKED), Enrolment.id)))
    waiting = func.count(case((Enrolment.state.in_(WAITING + PENDING), Enrolment.id)))
    done = func.count(case((Enrolment.state == S.COMPLETED, Enrolment.id)))
    for user_id, name, title, n_booked, n_waiting, n_done in db.session.execute(
        select(User.id, User.full_name, User.job_title, booked, waiting, done)
        .select_from(Enrolment)
        .join(User, User.id == Enrolment.user_id)
        .where(User.organisation_id == org_id,
               *_offering_conditions(filters, Enrolment.offering_id))
        .group_by(User.id, User.full_name, User.job_title)
    ).tuples():
        people[user_id] = [name, title, n_booked, n_waiting, n_done, 0]
    for user_id, name, title, n in db.session.execute(
        select(User.id, User.full_name, User.job_title, func.count(Attendance.id))
        .select_from(Attendance)
        .join(Session, Session.id == Attendance.session_id)
        .join(User, User.id == Attendance.user_id)
        .where(User.organisation_id == org_id, *counts_as_attended(),
               *_session_conditions(filters))
        .group_by(User.id, User.full_name, User.job_title)
    ).tuples():
        people.setdefault(user_id, [name, title, 0, 0, 0, 0])[5] = n
    ordered = sorted(people.items(), key=lambda item: item[1][0].lower())
    return Table("people", "Your people's places and attendance",
                 ["Name", "Job title", "Places held", "Waiting, requested or nominated",
                  "Completed", "Attendances at sessions"],
                 [row for _, row in ordered], [str(user_id) for user_id, _ in ordered])


def _coverage(org_id: int, ics_ids: set[int], staff: dict[int, int],
              filters: ReportFilters) -> tuple[Table, list[PairedBar]]:
    """For each competency (those the chosen course builds, or every one in use): the share
    of the ICS's people with any level, and at Practitioner or above, beside the region's.
    Two queries."""
    levels = current_levels_select().subquery()
    in_ics = User.organisation_id == org_id
    practised = levels.c.level >= Level.PRACTITIONER
    counts = {competency_id: (ics_any, ics_high, region_any, region_high)
              for competency_id, ics_any, ics_high, region_any, region_high in
              db.session.execute(
                  select(levels.c.competency_id,
                         func.count(case((in_ics, 1))),
                         func.count(case((and_(in_ics, practised), 1))),
                         func.count(),
                         func.count(case((practised, 1))))
                  .select_from(levels)
                  .join(User, User.id == levels.c.user_id)
                  .where(User.organisation_id.in_(_ics_ids()),
                         User.is_active_account.is_(True))
                  .group_by(levels.c.competency_id)).tuples()}
    stmt = select(Competency).where(Competency.retired_at.is_(None)).order_by(Competency.name)
    if filters.course_id is not None:
        stmt = stmt.join(CourseCompetency, CourseCompetency.competency_id == Competency.id
                         ).where(CourseCompetency.course_id == filters.course_id)
    ics_staff = staff.get(org_id, 0)
    region_staff = sum(n for org, n in staff.items() if org in ics_ids)
    rows, bars = [], []
    for competency in db.session.scalars(stmt):
        ics_any, ics_high, region_any, region_high = counts.get(competency.id, (0, 0, 0, 0))
        rows.append([competency.name, competency.domain_label, ics_any,
                     _percent(ics_any, ics_staff), _percent(region_any, region_staff),
                     ics_high, _percent(ics_high, ics_staff),
                     _percent(region_high, region_staff)])
        bars.append(PairedBar(competency.name, _percent(ics_any, ics_staff),
                              _percent(region_any, region_staff)))
    return Table("coverage", "Competency coverage: your ICS and the region",
                 ["Competency", "Strand", "People with a level", "Your ICS (%)",
                  "Region (%)", f"People at {LEVEL_LABELS[Level.PRACTITIONER]} or above",
                  f"Your ICS at {LEVEL_LABELS[Level.PRACTITIONER]} or above (%)",
                  f"Region at {LEVEL_LABELS[Level.PRACTITIONER]} or above (%)"], rows), bars


# ---------------------------------------------------------------------------- tables


def check_table(names: tuple[str, ...], key: str) -> str:
    """``key`` if a dashboard has a table of that name, else ``NotFound``."""
    if key not in names:
        raise NotFound("No such table")
    return key
