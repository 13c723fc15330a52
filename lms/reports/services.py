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
from sqlalchemy.orm import aliased

from lms.accounts.models import Organisation, OrganisationKind, User
from lms.attendance.models import Attendance, Completion
from lms.attendance.standing import counts_as_attended
from lms.clock import LONDON, to_london, utcnow
from lms.competencies.models import (
    LEVEL_LABELS,
    Competency,
    CompetencyEvidence,
    CourseCompetency,
    Level,
)
from lms.competencies.services import current_levels_select
from lms.courses.models import Cohort, Course
from lms.errors import ErrorCollector, NotFound
from lms.events.models import KIND_LABELS as EVENT_KIND_LABELS
from lms.extensions import db
from lms.feedback.models import QuestionKind, Survey, SurveyAnswer, SurveyQuestion
from lms.feedback.services import ANONYMITY_THRESHOLD
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
from lms.reports.charts import ChartBar, PairedBar
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
REGION_TABLES = ("participation", "over-time", "completions", "feedback", "quota-uptake")


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


# ---------------------------------------------------------------------------- the region


def _month_bounds(starts: date, ends: date) -> list[tuple[datetime, datetime]]:
    """Each month of the range as (start, end) UTC moments of its London days, clipped to
    the range: the same months on SQLite and PostgreSQL, and on London clocks."""
    bounds = []
    for key in _months(starts, ends):
        first = date(int(key[:4]), int(key[5:]), 1)
        following = date(first.year + (first.month == 12), first.month % 12 + 1, 1)
        bounds.append((_midnight(max(first, starts)),
                       _midnight(min(following, ends + timedelta(days=1)))))
    return bounds


def _months(starts: date, ends: date) -> list[str]:
    months, year, month = [], starts.year, starts.month
    while (year, month) <= (ends.year, ends.month):
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def month_label(key: str) -> str:
    """"2027-03" as "Mar 2027"."""
    return date(int(key[:4]), int(key[5:]), 1).strftime("%b %Y")


@dataclass
class RegionDashboard:
    filters: ReportFilters
    participation: Table
    over_time: Table
    completions: Table
    feedback: Table
    quota_uptake: Table
    participation_bars: list[ChartBar] = field(default_factory=list)
    month_bars: list[ChartBar] = field(default_factory=list)
    uptake_bars: list[ChartBar] = field(default_factory=list)
    feedback_bars: list[ChartBar] = field(default_factory=list)

    @property
    def tables(self) -> dict[str, Table]:
        return {t.key: t for t in (self.participation, self.over_time, self.completions,
                                   self.feedback, self.quota_uptake)}


def region_dashboard(filters: ReportFilters) -> RegionDashboard:
    """Whether the offer reaches every ICS fairly: participation by ICS and month (network
    huddles included), course completions, feedback scores per cohort of each course, and the
    uptake of quota places per ICS. Seven queries, whatever the numbers."""
    if filters.starts is None or filters.ends is None:
        filters = ReportFilters(filters.course_id, *region_dates(filters.starts, filters.ends))
    organisations = db.session.scalars(select(Organisation).order_by(Organisation.name)).all()
    ics = [o for o in organisations if o.is_ics]
    ics_ids = {o.id for o in ics}
    staff = _staff_counts()
    months = _months(filters.starts, filters.ends)
    sessions = _session_conditions(filters)

    # Attendances by organisation: in all, at network meetings and by month. The attendances
    # are first counted per session and organisation, so the months and kinds are worked
    # out once per session rather than once per attendance.
    per_session = (
        select(Attendance.session_id.label("session_id"),
               User.organisation_id.label("organisation_id"), func.count().label("n"))
        .select_from(Attendance)
        .join(Session, Session.id == Attendance.session_id)
        .join(User, User.id == Attendance.user_id)
        .where(*counts_as_attended(), *sessions)
        .group_by(Attendance.session_id, User.organisation_id)
    ).subquery()
    # Then each (organisation, month, network or not) is summed: one CASE per session and
    # organisation picks the month (sessions are already in range, and the months follow
    # each other, so the first month ending after the session's start is its month).
    held = aliased(Session)
    starts = held.starts_at
    month = case(*[(starts < end, index)
                   for index, (_, end) in enumerate(_month_bounds(filters.starts,
                                                                  filters.ends))])
    by_kind = (
        select(per_session.c.organisation_id.label("organisation_id"),
               month.label("month"),
               case((Offering.kind == "network", 1), else_=0).label("network"),
               per_session.c.n.label("n"))
        .select_from(per_session)
        .join(held, held.id == per_session.c.session_id)
        .join(Offering, Offering.id == held.offering_id)
    ).subquery()
    by_month: dict[tuple[int, str], int] = defaultdict(int)
    attendances: dict[int, int] = defaultdict(int)
    at_networks: dict[int, int] = defaultdict(int)
    for org_id, index, network, n in db.session.execute(
        select(by_kind.c.organisation_id, by_kind.c.month, by_kind.c.network,
               func.sum(by_kind.c.n))
        .group_by(by_kind.c.organisation_id, by_kind.c.month, by_kind.c.network)
    ).tuples():
        attendances[org_id] += int(n)
        if network:
            at_networks[org_id] += int(n)
        by_month[(org_id, months[index])] += int(n)
    # How many different people came, per organisation.
    came = (select(Attendance.user_id)
            .join(Session, Session.id == Attendance.session_id)
            .where(*counts_as_attended(), *sessions))
    attendees = dict(db.session.execute(
        select(User.organisation_id, func.count(User.id))
        .where(User.id.in_(came)).group_by(User.organisation_id)).tuples().all())

    # Course completions by organisation and course.
    done_by_org: dict[int, int] = defaultdict(int)
    done_by_course: dict[int, dict] = {}
    for org_id, course_id, title, n in db.session.execute(
        select(User.organisation_id, Course.id, Course.title, func.count(Completion.id))
        .select_from(Completion)
        .join(Enrolment, Enrolment.id == Completion.enrolment_id)
        .join(User, User.id == Enrolment.user_id)
        .join(_COHORT, _COHORT.c.id == Enrolment.offering_id)
        .join(Course, Course.id == _COHORT.c.course_id)
        # Redundant with the join, but it leads SQLite to start from the (few) cohorts'
        # places rather than scan every completion of every webinar and network meeting.
        .where(Enrolment.offering_id.in_(select(_COHORT.c.id)),
               *_completion_conditions(filters))
        .group_by(User.organisation_id, Course.id, Course.title)
    ).tuples():
        done_by_org[org_id] += n
        entry = done_by_course.setdefault(course_id, {"title": title, "n": 0, "orgs": set()})
        entry["n"] += n
        if org_id in ics_ids:
            entry["orgs"].add(org_id)

    others = [o for o in organisations if not o.is_ics]
    groups: list[tuple[str, str, list[int]]] = [(o.name, o.code, [o.id]) for o in ics]
    groups.append(("Other organisations", "", [o.id for o in others]))
    total_attendances = sum(attendances.values())
    participation_rows, over_time_rows, bars = [], [], []
    for name, _, ids in groups:
        people = sum(staff.get(i, 0) for i in ids)
        came = sum(attendees.get(i, 0) for i in ids)
        n = sum(attendances.get(i, 0) for i in ids)
        participation_rows.append([name, people, came, _percent(came, people), n,
                                   sum(at_networks.get(i, 0) for i in ids),
                                   sum(done_by_org.get(i, 0) for i in ids)])
        over_time_rows.append([name, *[sum(by_month.get((i, m), 0) for i in ids)
                                       for m in months]])
        bars.append(ChartBar(name, n, f"{n:,} ({_percent(n, total_attendances)}%)"))
    month_totals = [sum(row[index + 1] for row in over_time_rows)
                    for index in range(len(months))]
    participation_rows.append(["All organisations", sum(r[1] for r in participation_rows),
                               sum(r[2] for r in participation_rows),
                               _percent(sum(r[2] for r in participation_rows),
                                        sum(r[1] for r in participation_rows)),
                               total_attendances, sum(r[5] for r in participation_rows),
                               sum(r[6] for r in participation_rows)])
    over_time_rows.append(["All organisations", *month_totals])

    participation = Table(
        "participation", "Participation by ICS",
        ["Organisation", "People with accounts", "People who attended", "Share who attended "
         "(%)", "Attendances at sessions", "Of which at network meetings (huddles)",
         "Course completions"],
        participation_rows, [code for _, code, _ in groups] + [""])
    over_time = Table("over-time", "Attendances by month",
                      ["Organisation", *[month_label(m) for m in months]], over_time_rows,
                      [code for _, code, _ in groups] + [""])
    completions = Table(
        "completions", "Course completions by course",
        ["Course or programme", "Completions", f"ICSs with a completion (of {len(ics)})"],
        [[e["title"], e["n"], len(e["orgs"])]
         for e in sorted(done_by_course.values(), key=lambda e: e["title"].lower())])
    feedback, feedback_bars = _feedback_trend(filters)
    quota_uptake, uptake_bars = _quota_uptake(ics, filters)
    month_bars = [ChartBar(month_label(m), total, f"{total:,}")
                  for m, total in zip(months, month_totals, strict=True)]
    return RegionDashboard(filters, participation, over_time, completions, feedback,
                           quota_uptake, bars, month_bars, uptake_bars, feedback_bars)


def _feedback_trend(filters: ReportFilters) -> tuple[Table, list[ChartBar]]:
    """Average feedback per cohort of each course, cohorts in date order: agreement questions
    (1 to 5) and the recommendation rating (0 to 10). Surveys with fewer than the anonymity
    threshold of answers are left out. One query."""
    firsts = (select(Session.offering_id, func.min(Session.starts_at).label("first"))
              .where(Session.status != SessionStatus.CANCELLED)
              .group_by(Session.offering_id).subquery())
    rows = db.session.execute(
        select(Course.id, Course.title, Offering.id, _COHORT.c.name, firsts.c.first,
               Survey.id, SurveyQuestion.kind, func.sum(SurveyAnswer.number),
               func.count(SurveyAnswer.id), func.count(func.distinct(SurveyAnswer.response_id)))
        .select_from(SurveyAnswer)
        .join(SurveyQuestion, SurveyQuestion.id == SurveyAnswer.question_id)
        .join(Survey, Survey.id == SurveyQuestion.survey_id)
        .join(Offering, Offering.id == Survey.offering_id)
        .join(_COHORT, _COHORT.c.id == Offering.id)
        .join(Course, Course.id == _COHORT.c.course_id)
        .outerjoin(firsts, firsts.c.offering_id == Offering.id)
        .where(SurveyQuestion.kind.in_((QuestionKind.AGREEMENT, QuestionKind.RATING)),
               SurveyAnswer.number.is_not(None),
               *_offering_conditions(filters, Offering.id))
        .group_by(Course.id, Course.title, Offering.id, _COHORT.c.name, firsts.c.first,
                  Survey.id, SurveyQuestion.kind)
    ).tuples().all()
    responses: dict[int, int] = defaultdict(int)
    for *_, survey_id, _kind, _total, _n, answered in rows:
        responses[survey_id] = max(responses[survey_id], answered)
    cohorts: dict[int, dict] = {}
    for course_id, course, cohort_id, cohort, first, survey_id, kind, total, n, _ in rows:
        if responses[survey_id] < ANONYMITY_THRESHOLD:
            continue
        entry = cohorts.setdefault(cohort_id, {
            "course_id": course_id, "course": course, "cohort": cohort, "first": first,
            "surveys": set(), "agree": [0, 0], "rating": [0, 0]})
        entry["surveys"].add(survey_id)
        sums = entry["agree" if kind == QuestionKind.AGREEMENT else "rating"]
        sums[0] += total or 0
        sums[1] += n
    table_rows, bars = [], []
    latest: dict[int, tuple[str, float, float | None]] = {}
    ordered = sorted(cohorts.values(), key=lambda e: (
        e["course"].lower(), e["first"] or datetime.max.replace(tzinfo=UTC)))
    for entry in ordered:
        agree = round(entry["agree"][0] / entry["agree"][1], 2) if entry["agree"][1] else None
        rating = (round(entry["rating"][0] / entry["rating"][1], 1)
                  if entry["rating"][1] else None)
        answered = sum(responses[s] for s in entry["surveys"])
        first = to_london(entry["first"]).date() if entry["first"] else None
        table_rows.append([entry["course"], entry["cohort"], first, answered, agree, rating])
        if agree is not None:
            latest[entry["course_id"]] = (entry["course"], agree, latest.get(
                entry["course_id"], (None, None))[1])
    # The chart: each course's latest cohort, and the one before it.
    for course, agree, before in sorted(latest.values(), key=lambda v: v[0].lower()):
        text = f"{agree:.2f}" + (f" (before: {before:.2f})" if before is not None else "")
        bars.append(ChartBar(course, agree, text))
    return Table("feedback", "Feedback scores by cohort, oldest first within each course",
                 ["Course or programme", "Cohort", "First session", "Responses",
                  "Average agreement (1 to 5)", "Average likelihood to recommend (0 to 10)"],
                 table_rows), bars


def _quota_uptake(ics: list[Organisation], filters: ReportFilters
                  ) -> tuple[Table, list[ChartBar]]:
    """Quota places reserved for each ICS on cohorts in range, and how many its nominees
    hold. One query: each quota (there are few) counts its own nominees."""
    used = (select(func.count(Enrolment.id))
            .where(Enrolment.offering_id == OfferingQuota.offering_id,
                   Enrolment.quota_organisation_id == OfferingQuota.organisation_id,
                   Enrolment.state.in_(HOLDS_PLACE))
            .scalar_subquery())
    places, taken_by = {}, {}
    for org_id, reserved, taken in db.session.execute(
        select(OfferingQuota.organisation_id, func.sum(OfferingQuota.places), func.sum(used))
        .join(Offering, Offering.id == OfferingQuota.offering_id)
        .where(Offering.status != OfferingStatus.CANCELLED,
               *_offering_conditions(filters, Offering.id))
        .group_by(OfferingQuota.organisation_id)
    ).tuples():
        places[org_id], taken_by[org_id] = int(reserved or 0), int(taken or 0)
    rows, bars = [], []
    for organisation in ics:
        reserved = places.get(organisation.id, 0)
        taken = taken_by.get(organisation.id, 0)
        share = _percent(taken, reserved)
        rows.append([organisation.name, reserved, taken, share])
        bars.append(ChartBar(organisation.name, share, f"{share}% ({taken} of {reserved})"))
    return Table("quota-uptake", "Uptake of quota places by ICS",
                 ["ICS", "Quota places", "Places used by nominees", "Uptake (%)"],
                 rows, [o.code for o in ics]), bars


# ---------------------------------------------------------------------------- faculty: cohorts


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


def check_table(names: tuple[str, ...], key: str) -> str:
    """``key`` if a dashboard has a table of that name, else ``NotFound``."""
    if key not in names:
        raise NotFound("No such table")
    return key

