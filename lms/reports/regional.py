"""The region's dashboard, for faculty and admins: participation by ICS and month, course
completions, feedback scores and the uptake of quota places. Seven queries, whatever the numbers."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import case, func, select
from sqlalchemy.orm import aliased

from lms.accounts.models import Organisation, User
from lms.attendance.models import Attendance, Completion
from lms.attendance.standing import counts_as_attended
from lms.clock import to_london
from lms.courses.models import Course
from lms.extensions import db
from lms.feedback.models import (
    ANONYMITY_THRESHOLD,
    QuestionKind,
    Survey,
    SurveyAnswer,
    SurveyQuestion,
)
from lms.offerings.models import (
    HOLDS_PLACE,
    Enrolment,
    Offering,
    OfferingQuota,
    OfferingStatus,
    Session,
    SessionStatus,
)
from lms.reports.charts import ChartBar
from lms.reports.exports import Table
from lms.reports.services import (
    _COHORT,
    ReportFilters,
    _completion_conditions,
    _midnight,
    _offering_conditions,
    _percent,
    _session_conditions,
    _staff_counts,
    region_dates,
)

REGION_TABLES = ("participation", "over-time", "completions", "feedback", "quota-uptake")


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
    """"2027-03" as "March 2027"."""
    return date(int(key[:4]), int(key[5:]), 1).strftime("%B %Y")


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
    (1 to 5) and the recommendation rating (0 to 10). Surveys (or one kind of question in
    them) with fewer than the anonymity threshold of answers are left out. One query."""
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
    for course_id, course, cohort_id, cohort, first, survey_id, kind, total, n, kind_answered \
            in rows:
        # Filters (ICS, dates) pick whole cohorts, never people within a survey; and an
        # average of fewer than the threshold of answers (a whole survey, or an optional
        # question few answered) is left out, so no figure describes fewer than five people.
        if responses[survey_id] < ANONYMITY_THRESHOLD or kind_answered < ANONYMITY_THRESHOLD:
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
