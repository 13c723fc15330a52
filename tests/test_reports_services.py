"""Dashboard figures: an ICS's own (and nobody else's), the region's, a cohort's competency
matrix; filters that make no sense; and a fixed number of queries at any size.

``build_region(scale)`` makes the same shape of data at any size: for each of three ICSs
(BSOL, BC, CW) ``4 * scale`` people who all join the huddles and come to both meetings, and
on a forecasting cohort with quotas for BSOL and BC: a quarter completed (with course
evidence), a quarter booked (and rated by faculty), a quarter nominated, a quarter asking.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time, timedelta
from itertools import count

import pytest
from sqlalchemy import select

from lms.accounts.models import Organisation, Role, User, UserRole
from lms.attendance.models import Attendance, Completion
from lms.clock import to_london, utcnow
from lms.competencies import services as competencies
from lms.competencies.models import Competency
from lms.courses.models import Cohort, Course
from lms.errors import InvalidInput, NotFound
from lms.events.models import NetworkSeries
from lms.extensions import db
from lms.feedback.models import Survey, SurveyAnswer, SurveyQuestion, SurveyResponse
from lms.offerings.models import Enrolment, OfferingQuota, Session
from lms.reports import matrices, regional
from lms.reports import services as reports
from lms.reports.services import ReportFilters

_people = count(1)
ICSS = ("BSOL", "BC", "CW")


def org(code: str) -> Organisation:
    return db.session.scalar(select(Organisation).where(Organisation.code == code))


def person(code: str, *roles: Role, name: str | None = None, job: str = "Analyst") -> User:
    """A person straight into the database (no password hashing: these never sign in here)."""
    n = next(_people)
    user = User(email=f"p{n}@example.nhs.uk", full_name=name or f"Person {n:05d}",
                job_title=job, organisation=org(code), password_hash="x")
    user.role_rows.extend(UserRole(role=r) for r in {Role.LEARNER, *roles})
    db.session.add(user)
    return user


def _sessions(offering, *days_ago: int, hours: int = 2) -> list[Session]:
    now = utcnow()
    for days in days_ago:
        start = now - timedelta(days=days)
        offering.sessions.append(Session(starts_at=start, ends_at=start + timedelta(hours=hours)))
    return list(offering.sessions)


def survey(offering, answers: list[int]) -> Survey:
    """An anonymous survey of one agreement question, answered ``answers``."""
    made = Survey(title="Feedback", anonymous=True, offering_id=offering.id)
    question = SurveyQuestion(position=1, kind="agreement", text="It was useful")
    made.questions.append(question)
    db.session.add(made)
    db.session.flush()
    for number in answers:
        response = SurveyResponse(survey_id=made.id, anonymous=True)
        response.answers.append(SurveyAnswer(question_id=question.id, number=number))
        db.session.add(response)
    return made


@dataclass
class Region:
    faculty: User
    course: Course
    cohort: Cohort
    huddles: NetworkSeries
    forecasting: Competency
    coding: Competency
    people: dict[str, list[User]]


def build_region(scale: int = 1) -> Region:
    competencies.ensure_framework()
    codes = {c.code: c for c in db.session.scalars(select(Competency))}
    forecasting, coding = codes["forecasting"], codes["open-source-coding"]
    faculty = person("SU", Role.FACULTY, name="Fay Faculty")
    course = Course(title="Forecasting in practice", summary="s", kind="short_course",
                    strand="analytical_capability", format="online", cpd_hours=6,
                    requires_feedback=False, min_attendance_percent=50)
    cohort = Cohort(course=course, name="Spring", title="Forecasting in practice: Spring",
                    capacity=None, status="running", booking_mode="nomination")
    for code in ("BSOL", "BC"):
        cohort.quotas.append(OfferingQuota(organisation_id=org(code).id, places=5 * scale))
    sessions = _sessions(cohort, 40, 20)
    huddles = NetworkSeries(title="Midlands Analyst Network huddles", status="running",
                            booking_mode="open", capacity=None, rrule="FREQ=WEEKLY;COUNT=2",
                            first_day=to_london(utcnow()).date(), local_start=time(12, 30),
                            duration_minutes=60)
    huddle_sessions = _sessions(huddles, 30, 10, hours=1)
    db.session.add_all([cohort, huddles])
    db.session.flush()
    competencies.set_course_levels(course, {forecasting.id: 3, coding.id: 2})
    people: dict[str, list[User]] = {code: [] for code in ICSS}
    for i in range(4 * scale):
        for code in ICSS:
            someone = person(code)
            people[code].append(someone)
            db.session.flush()
            quota_org = someone.organisation_id if code != "CW" else None
            state = ("completed", "enrolled", "nominated", "requested")[i % 4]
            enrolment = Enrolment(offering_id=cohort.id, user_id=someone.id, state=state,
                                  quota_organisation_id=quota_org if state != "requested"
                                  else None)
            db.session.add(enrolment)
            db.session.add(Enrolment(offering_id=huddles.id, user_id=someone.id,
                                     state="enrolled"))
            for s in huddle_sessions:
                db.session.add(Attendance(session_id=s.id, user_id=someone.id,
                                          status="present", source="register"))
            if state in ("completed", "enrolled"):
                for s in sessions:
                    db.session.add(Attendance(session_id=s.id, user_id=someone.id,
                                              status="present", source="register"))
            db.session.flush()
            if state == "completed":
                completion = Completion(enrolment_id=enrolment.id, attendance_percent=100,
                                        completed_at=utcnow() - timedelta(days=15))
                db.session.add(completion)
                db.session.flush()
                competencies.record_course_evidence(completion)
            if state == "enrolled":
                competencies.rate(faculty, someone, coding.id, 3, "Strong work on the project")
    survey(cohort, [4] * (5 * scale))
    db.session.flush()
    return Region(faculty, course, cohort, huddles, forecasting, coding, people)


def rows_by_first(table) -> dict:
    return {row[0]: row for row in table.rows}


# ---------------------------------------------------------------------------- who sees an ICS


def test_a_dsu_lead_sees_only_their_own_ics_and_faculty_see_any(ctx):
    lead = person("BSOL", Role.DSU_LEAD)
    other = person("BC", Role.DSU_LEAD)
    learner = person("BSOL")
    faculty = person("SU", Role.FACULTY)
    db.session.flush()
    assert reports.get_ics_for(lead, "bsol").code == "BSOL"
    for who, code in [(other, "BSOL"), (learner, "BSOL"), (lead, "BC"), (faculty, "SU"),
                      (faculty, "NOPE")]:
        with pytest.raises(NotFound):
            reports.get_ics_for(who, code)
    assert reports.get_ics_for(faculty, "BC").code == "BC"


# ---------------------------------------------------------------------------- filters


def test_filters_refuse_a_range_that_ends_before_it_starts(ctx):
    with pytest.raises(InvalidInput) as error:
        reports.check_filters("", date(2027, 3, 1), date(2027, 2, 28))
    assert error.value.errors == [("ends", "The end date must be the same as or after the "
                                           "start date")]
    assert reports.check_filters("", date(2027, 3, 1), date(2027, 3, 1)).starts == date(2027,
                                                                                       3, 1)
    with pytest.raises(InvalidInput) as error:
        reports.check_filters("999", None, None)
    assert error.value.errors[0][0] == "course"
    with pytest.raises(InvalidInput, match="3 years"):
        reports.check_filters("", date(2020, 1, 1), date(2023, 1, 1), max_months=36)
    with pytest.raises(InvalidInput) as error:
        reports.check_filters("", date(1, 1, 1), date(9999, 12, 31))
    assert error.value.errors == [("starts", "Enter a date between 2000 and 2099"),
                                  ("ends", "Enter a date between 2000 and 2099")]


def test_a_date_range_is_london_days_both_ends_included(ctx):
    window = ReportFilters(None, date(2027, 7, 1), date(2027, 7, 31)).window
    # British Summer Time: London midnight is 23:00 UTC the day before.
    assert [w.isoformat() for w in window] == ["2027-06-30T23:00:00+00:00",
                                               "2027-07-31T23:00:00+00:00"]


def test_ics_dates_default_to_the_last_twelve_months_and_the_year_ahead(ctx):
    today = date(2027, 2, 14)
    assert reports.ics_dates(None, None, today) == (date(2026, 3, 1), date(2028, 2, 14))
    assert reports.ics_dates(date(2025, 1, 1), None, today) == (date(2025, 1, 1),
                                                                date(2028, 2, 14))
    assert reports.ics_dates(None, date(2026, 6, 30), today) == (date(2025, 7, 1),
                                                                 date(2026, 6, 30))
    assert reports.ics_dates(None, None, date(2028, 2, 29))[1] == date(2029, 2, 28)


def test_region_dates_default_to_the_last_twelve_months(ctx):
    today = date(2027, 2, 14)
    assert reports.region_dates(None, None, today) == (date(2026, 3, 1), today)
    assert reports.region_dates(date(2027, 5, 1), None, today) == (date(2027, 5, 1),
                                                                   date(2027, 5, 1))
    assert reports.region_dates(None, date(2026, 12, 31), today) == (date(2026, 1, 1),
                                                                     date(2026, 12, 31))


# ---------------------------------------------------------------------------- the ICS dashboard


def test_ics_dashboard_counts_only_that_ics_and_compares_coverage_with_the_region(ctx):
    region = build_region()
    board = reports.ics_dashboard(org("BSOL"), ReportFilters())
    assert (board.staff, board.region_staff) == (4, 12)
    offerings = rows_by_first(board.offerings)
    # Places held, waiting, requested or nominated, completed, attendances, people attended.
    assert offerings["Forecasting in practice: Spring"][1:] == ["Course", 1, 0, 2, 1, 4, 2]
    assert offerings["Midlands Analyst Network huddles"][1:] == ["Network", 4, 0, 0, 0, 8, 4]
    quota = board.quotas.rows
    # Quota, used (completed, booked, nominated), awaiting, left.
    assert quota == [["Forecasting in practice: Spring", 5, 3, 1, 2, "Reserved"]]
    people = board.people.rows
    assert len(people) == 4 and {row[0] for row in people} == {
        p.full_name for p in region.people["BSOL"]}
    coverage = rows_by_first(board.coverage)
    # People with a level, ICS %, region %, at Practitioner+, ICS %, region %.
    assert coverage["Forecasting"][2:] == [1, 25, 25, 1, 25, 25]
    assert coverage["Open-source coding"][2:] == [2, 50, 50, 1, 25, 25]
    assert coverage["Machine learning"][2:] == [0, 0, 0, 0, 0, 0]


def test_ics_dashboard_filters_by_course_and_dates(ctx):
    region = build_region()
    other = Course(title="Other course", summary="s", kind="short_course",
                   strand="decision_making", format="online")
    db.session.add(other)
    db.session.flush()
    by_course = reports.ics_dashboard(org("BSOL"), ReportFilters(course_id=region.course.id))
    assert [row[0] for row in by_course.offerings.rows] == ["Forecasting in practice: Spring"]
    assert [row[0] for row in by_course.coverage.rows] == ["Forecasting", "Open-source coding"]
    assert reports.ics_dashboard(org("BSOL"), ReportFilters(course_id=other.id)).offerings.rows \
        == []
    # Only the last huddle and neither cohort session fall in the last fortnight.
    today = to_london(utcnow()).date()
    recent = reports.ics_dashboard(org("BSOL"), ReportFilters(
        starts=today - timedelta(days=14), ends=today))
    assert [row[0] for row in recent.offerings.rows] == ["Midlands Analyst Network huddles"]
    assert recent.offerings.rows[0][6] == 4


# ---------------------------------------------------------------------------- the region


def test_region_dashboard_shows_participation_huddles_completions_feedback_and_quotas(ctx):
    region = build_region()
    board = regional.region_dashboard(ReportFilters())
    participation = rows_by_first(board.participation)
    # People, attended, share, attendances, of which huddles, completions.
    assert participation["Birmingham and Solihull"][1:] == [4, 4, 100, 12, 8, 1]
    assert participation["Lincolnshire"][1:] == [0, 0, 0, 0, 0, 0]
    assert participation["Other organisations"][1] == 1  # the faculty member
    assert participation["All organisations"][1:] == [13, 12, 92, 36, 24, 3]
    assert board.over_time.rows[-1][0] == "All organisations"
    assert sum(board.over_time.rows[-1][1:]) == 36
    assert len(board.over_time.header) == 1 + 12
    assert board.completions.rows == [["Forecasting in practice", 3, 3]]
    assert [row[:2] + row[3:] for row in board.feedback.rows] == [
        ["Forecasting in practice", "Spring", 5, 4.0, None]]
    uptake = rows_by_first(board.quota_uptake)
    assert uptake["Birmingham and Solihull"][1:] == [5, 3, 60]
    assert uptake["Coventry and Warwickshire"][1:] == [0, 0, 0]
    assert region.cohort.id


def test_feedback_of_surveys_with_too_few_answers_is_left_out(ctx):
    region = build_region()
    autumn = Cohort(course=region.course, name="Autumn", title="Forecasting in practice: "
                    "Autumn", capacity=None, status="finished")
    _sessions(autumn, 100)
    db.session.add(autumn)
    db.session.flush()
    survey(autumn, [1, 1, 1, 1])
    summer = Cohort(course=region.course, name="Summer", title="Forecasting in practice: "
                    "Summer", capacity=None, status="finished")
    _sessions(summer, 200)
    db.session.add(summer)
    db.session.flush()
    survey(summer, [2, 2, 2, 3, 3])
    board = regional.region_dashboard(ReportFilters())
    # Oldest first; Autumn's four answers are too few to show.
    assert [(row[1], row[4]) for row in board.feedback.rows] == [("Summer", 2.4),
                                                                ("Spring", 4.0)]
    assert [(bar.label, bar.text) for bar in board.feedback_bars] == [
        ("Forecasting in practice", "4.00 (before: 2.40)")]


# ---------------------------------------------------------------------------- cohort matrix


def test_cohort_matrix_shows_derived_levels_against_the_course(ctx):
    region = build_region()
    matrix = matrices.cohort_matrix(region.cohort)
    assert [c.competency.name for c in matrix.columns] == ["Forecasting", "Open-source coding"]
    assert [c.target for c in matrix.columns] == [3, 2]
    levels = {row.name: row.levels for row in matrix.rows}
    # The people asking for a place hold none, so they are not in the matrix.
    assert len(levels) == 9
    completed = region.people["BSOL"][0]
    rated = region.people["BSOL"][1]
    assert levels[completed.full_name] == [3, 2]
    assert levels[rated.full_name] == [None, 3]
    assert matrix.reached == [3, 6]
    assert matrix.table.rows[0][2:] in (["Practitioner", "Working"], ["", "Practitioner"],
                                        ["", ""])


def test_cohort_matrix_of_an_unmapped_course_shows_competencies_in_evidence(ctx):
    region = build_region()
    competencies.set_course_levels(region.course, {region.forecasting.id: None,
                                                   region.coding.id: None})
    matrix = matrices.cohort_matrix(region.cohort)
    assert not matrix.mapped
    assert [c.competency.name for c in matrix.columns] == ["Forecasting", "Open-source coding"]


# ---------------------------------------------------------------------------- queries


@pytest.mark.parametrize("dashboard", ["ics", "region", "matrix"])
def test_dashboards_cost_the_same_queries_at_ten_times_the_data(ctx, count_queries,
                                                                 dashboard):
    counts = []
    for scale in (1, 10):
        region = build_region(scale)
        db.session.expire_all()
        with count_queries() as counted:
            if dashboard == "ics":
                board = reports.ics_dashboard(org("BSOL"), ReportFilters())
                assert len(board.people.rows) == 4 * scale
            elif dashboard == "region":
                board = regional.region_dashboard(ReportFilters())
                assert board.participation.rows[-1][4] == 36 * scale
            else:
                matrix = matrices.cohort_matrix(region.cohort)
                assert len(matrix.rows) == 9 * scale
        counts.append(counted.n)
        db.session.rollback()
    assert counts[0] == counts[1], counts
    assert counts[0] <= 12


def test_every_table_of_a_dashboard_can_be_downloaded_by_its_name(ctx):
    build_region()
    assert tuple(reports.ics_dashboard(org("BSOL"), ReportFilters()).tables) == \
        reports.ICS_TABLES
    assert tuple(regional.region_dashboard(ReportFilters()).tables) == regional.REGION_TABLES
    with pytest.raises(NotFound):
        reports.check_table(reports.ICS_TABLES, "secrets")
