"""Demo catalogue: the network's programmes and short courses, each with past (finished),
current (running) and future (open or draft) cohorts, dated relative to today in UK working
hours. Idempotent: courses are keyed by title and cohorts by name within their course."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, time, timedelta
from decimal import Decimal

from sqlalchemy import select

from lms.accounts.models import Organisation, OrganisationKind, Role, User, UserRole
from lms.clock import to_london, utcnow
from lms.courses.models import Cohort, Course
from lms.courses.services import cohort_title
from lms.extensions import db
from lms.offerings.models import (
    OfferingLead,
    OfferingQuota,
    OfferingStatus,
    Session,
    SessionStatus,
)
from lms.offerings.schedule import local_day_start, local_to_utc

TEAMS = "https://teams.microsoft.com/l/meetup-join/mdsn-demo-"
ROOMS = {
    "bham": "Room 2.14, Alpha Tower, Suffolk Street Queensway, Birmingham B1 1TT",
    "notts": "Training suite, Sir John Robinson House, Arnold, Nottingham NG5 8PD",
    "leics": "Conference room 3, County Hall, Glenfield, Leicester LE3 8RA",
}


@dataclass
class DemoCohort:
    name: str
    status: str
    first: int  # days from today to the first session (negative: in the past)
    every: int  # days between sessions
    times: list[tuple[time, time, str]]  # per session: start, end, title
    where: str = "online"  # online, or a key of ROOMS
    mode: str = "open"
    capacity: int | None = 20
    quotas: bool = False
    in_person: tuple[int, ...] | None = None  # blended: these sessions at ``where``


@dataclass
class DemoCourse:
    title: str
    summary: str
    description: str
    kind: str
    strand: str
    format: str
    cpd_hours: str
    audience: str
    cohorts: list[DemoCohort] = field(default_factory=list)
    published: bool = True
    signoff: bool = False


def _programme_sessions(titles: list[str]) -> list[tuple[time, time, str]]:
    return [(time(9, 30), time(16, 0), title) for title in titles]


LEADERSHIP_MODULES = [
    "Module 1: Leading analytical teams", "Module 2: Influencing decision-makers",
    "Module 3: Analysis in the system", "Module 4: Leading change",
    "Module 5: Coaching and developing analysts", "Module 6: Project presentations",
]
DQ_MODULES = [
    "Module 1: What makes a good decision", "Module 2: Framing and alternatives",
    "Module 3: Uncertainty and information", "Module 4: Values, trade-offs and commitment",
]

COURSES = [
    DemoCourse(
        "Leadership for Analysts",
        "A six-month development programme for analysts who lead teams or want to, with "
        "action learning and a project for your ICS.",
        "Six face-to-face and online modules over six months, action learning sets between "
        "them, and a project that tackles a real question for your ICS.\n\n"
        "Places are by nomination: your DSU lead puts you forward within your ICS's quota.",
        "programme", "analytical_leaders", "blended", "36",
        "Senior and principal analysts in ICSs, trusts and the regional team",
        [
            DemoCohort("Cohort 4", OfferingStatus.FINISHED, -270, 30,
                       _programme_sessions(LEADERSHIP_MODULES), "bham", "nomination", 24,
                       True, (0, 2, 5)),
            DemoCohort("Cohort 5", OfferingStatus.RUNNING, -63, 28,
                       _programme_sessions(LEADERSHIP_MODULES), "bham", "nomination", 24,
                       True, (0, 2, 5)),
            DemoCohort("Cohort 6", OfferingStatus.OPEN, 63, 28,
                       _programme_sessions(LEADERSHIP_MODULES), "bham", "nomination", 24,
                       True, (0, 2, 5)),
        ],
        signoff=True,
    ),
    DemoCourse(
        "Decision Quality for system leaders",
        "A programme for system leaders and their analysts on making and supporting good "
        "decisions under uncertainty.",
        "Four modules on the six elements of decision quality, practised on decisions your "
        "system faces now. Leaders attend with an analyst from their ICS.",
        "programme", "decision_making", "online", "16",
        "Directors, clinical leads and senior analysts of the 11 Midlands ICSs",
        [
            DemoCohort("Cohort 2", OfferingStatus.FINISHED, -200, 21,
                       _programme_sessions(DQ_MODULES), "online", "nomination", 22, True),
            DemoCohort("Cohort 3", OfferingStatus.OPEN, 45, 21,
                       _programme_sessions(DQ_MODULES), "online", "nomination", 22, True),
        ],
    ),
    DemoCourse(
        "Time-series forecasting with R",
        "Forecast activity and demand with R: from exploring a series to ARIMA, ETS and "
        "prophet models, with honest uncertainty.",
        "Two hands-on half days. Bring a laptop with R and RStudio installed; we send the "
        "data and code a week before.",
        "short_course", "analytical_capability", "online", "6",
        "Analysts who use R and want to forecast activity, demand or capacity",
        [
            DemoCohort("Cohort 7", OfferingStatus.FINISHED, -90, 7,
                       [(time(9, 30), time(12, 30), "Part 1: exploring and decomposing"),
                        (time(9, 30), time(12, 30), "Part 2: models and uncertainty")],
                       capacity=12),
            DemoCohort("Cohort 8", OfferingStatus.OPEN, 20, 7,
                       [(time(9, 30), time(12, 30), "Part 1: exploring and decomposing"),
                        (time(9, 30), time(12, 30), "Part 2: models and uncertainty")],
                       capacity=12),
            DemoCohort("Cohort 9", OfferingStatus.OPEN, 110, 7,
                       [(time(9, 30), time(12, 30), "Part 1: exploring and decomposing"),
                        (time(9, 30), time(12, 30), "Part 2: models and uncertainty")],
                       capacity=12),
        ],
    ),
    DemoCourse(
        "Introduction to Decision Quality",
        "A short introduction to decision quality: what a good decision looks like before "
        "you know the outcome.",
        "One interactive online session introducing the decision quality chain and how "
        "analysts can use it to support decision-makers.",
        "short_course", "decision_making", "online", "2.5",
        "Anyone who supports or makes decisions in the NHS",
        [
            DemoCohort("Cohort 11", OfferingStatus.FINISHED, -40, 1,
                       [(time(13, 30), time(16, 0), "")], capacity=40),
            DemoCohort("Cohort 12", OfferingStatus.OPEN, 14, 1,
                       [(time(13, 30), time(16, 0), "")], capacity=40),
            DemoCohort("Cohort 13", OfferingStatus.DRAFT, 120, 1,
                       [(time(13, 30), time(16, 0), "")], capacity=40),
        ],
    ),
    DemoCourse(
        "Communicating with numbers",
        "Tell the story in your data: charts, tables and words that decision-makers read "
        "and act on.",
        "A practical day on choosing charts, writing headlines that say what the numbers "
        "mean, and presenting uncertainty. Bring a recent report to work on.",
        "short_course", "beyond_numbers", "in_person", "6",
        "Analysts who write reports or present to boards and committees",
        [
            DemoCohort("Birmingham cohort 1", OfferingStatus.FINISHED, -120, 1,
                       [(time(9, 30), time(16, 0), "")], "bham", "approval", 20),
            DemoCohort("Birmingham cohort 2", OfferingStatus.OPEN, 35, 1,
                       [(time(9, 30), time(16, 0), "")], "bham", "approval", 20),
        ],
    ),
    DemoCourse(
        "Population health analytics",
        "Segment your population, find unwarranted variation and measure inequalities, "
        "with worked examples from Midlands ICSs.",
        "Three sessions: an online introduction, a day together in Leicester working on "
        "linked data, and an online clinic on your own questions.",
        "short_course", "analytical_capability", "blended", "12",
        "Analysts in population health management, public health and commissioning",
        [
            DemoCohort("Cohort 3", OfferingStatus.RUNNING, -9, 14,
                       [(time(10, 0), time(12, 0), "Introduction and data"),
                        (time(9, 30), time(16, 0), "Segmentation workshop"),
                        (time(14, 0), time(15, 30), "Clinic: your questions")],
                       "leics", capacity=25, in_person=(1,)),
            DemoCohort("Cohort 4", OfferingStatus.OPEN, 75, 14,
                       [(time(10, 0), time(12, 0), "Introduction and data"),
                        (time(9, 30), time(16, 0), "Segmentation workshop"),
                        (time(14, 0), time(15, 30), "Clinic: your questions")],
                       "leics", capacity=25, in_person=(1,)),
        ],
    ),
    DemoCourse(
        "Open-source coding in Python for analysts",
        "Move from spreadsheets to reproducible analysis in Python: pandas, notebooks, git "
        "and sharing code openly.",
        "Three weekly online sessions with exercises between them, using open NHS data. "
        "No Python experience needed; some SQL or Excel formulae helps.",
        "short_course", "analytical_capability", "online", "9",
        "Analysts who want to start coding",
        [
            DemoCohort("Cohort 1", OfferingStatus.FINISHED, -150, 7,
                       [(time(10, 0), time(12, 30), "Week 1: notebooks and pandas"),
                        (time(10, 0), time(12, 30), "Week 2: cleaning and joining"),
                        (time(10, 0), time(12, 30), "Week 3: git and sharing")],
                       capacity=None),
            DemoCohort("Cohort 2", OfferingStatus.OPEN, 42, 7,
                       [(time(10, 0), time(12, 30), "Week 1: notebooks and pandas"),
                        (time(10, 0), time(12, 30), "Week 2: cleaning and joining"),
                        (time(10, 0), time(12, 30), "Week 3: git and sharing")],
                       capacity=None),
        ],
    ),
    DemoCourse(
        "Evaluation design",
        "Plan an evaluation that can answer the question: logic models, comparison groups "
        "and proportionate methods.",
        "Two in-person days a fortnight apart in Nottingham, designing an evaluation of a "
        "service change in your own ICS.",
        "short_course", "decision_making", "in_person", "12",
        "Analysts and evaluators planning evaluations of service changes",
        [
            DemoCohort("Nottingham cohort 1", OfferingStatus.OPEN, 56, 14,
                       [(time(9, 30), time(16, 0), "Day 1: questions and logic models"),
                        (time(9, 30), time(16, 0), "Day 2: methods and measures")],
                       "notts", capacity=16),
        ],
    ),
    DemoCourse(
        "Systems thinking for analysts",
        "Causal loop diagrams and simple system dynamics for analysts (in development).",
        "A new course being designed with the Strategy Unit; not yet in the catalogue.",
        "short_course", "beyond_numbers", "online", "3",
        "Analysts",
        [
            DemoCohort("Pilot", OfferingStatus.DRAFT, 150, 1,
                       [(time(13, 30), time(16, 30), "")], capacity=15),
        ],
        published=False,
    ),
]


def _working_day(day: date) -> date:
    """Move a weekend day to the Tuesday after (sessions run Tuesday to Thursday)."""
    while day.weekday() >= 5 or day.weekday() == 0:
        day += timedelta(days=1)
    return day


def _sessions(demo: DemoCohort, today: date, key: str) -> list[Session]:
    sessions = []
    first = _working_day(today + timedelta(days=demo.first))
    for index, (start, end, title) in enumerate(demo.times):
        day = _working_day(first + timedelta(days=demo.every * index))
        online = demo.where == "online" or (demo.in_person is not None
                                            and index not in demo.in_person)
        if online:
            location, join_url = "", f"{TEAMS}{key}-{index + 1}"
        else:
            location, join_url = ROOMS[demo.where], ""
        starts_at = local_to_utc(day, start, "day")
        sessions.append(Session(
            title=title, starts_at=starts_at, ends_at=local_to_utc(day, end, "day"),
            location=location, join_url=join_url, status=SessionStatus.SCHEDULED, sequence=0,
        ))
    return sessions


def _cohort(course: Course, demo: DemoCohort, today: date, icss: list[Organisation],
            leads: list[User], key: str) -> Cohort:
    sessions = _sessions(demo, today, key)
    cohort = Cohort(
        course=course, name=demo.name, title=cohort_title(course.title, demo.name),
        status=demo.status, booking_mode=demo.mode, capacity=demo.capacity, offer_hours=48,
        quotas_released=False,
    )
    cohort.sessions = sessions
    if demo.quotas:
        cohort.quotas = [OfferingQuota(organisation_id=o.id, places=2) for o in icss]
    if demo.mode == "nomination":
        # Nominations opened a fortnight before today (or before the past cohort's first
        # session) and close a month before the first session; unused places are released
        # a week after that.
        first_day = to_london(sessions[0].starts_at).date()
        opens = min(today - timedelta(days=14), first_day - timedelta(days=60))
        closes = first_day - timedelta(days=30)
        cohort.nomination_opens_at = local_day_start(opens)
        cohort.nomination_closes_at = local_day_start(closes + timedelta(days=1))
        cohort.quota_release_at = local_day_start(closes + timedelta(days=7))
        cohort.quotas_released = cohort.quota_release_at <= utcnow()
    cohort.lead_rows = [OfferingLead(user_id=lead.id) for lead in leads]
    return cohort


def seed(rng: random.Random | None = None) -> dict[str, int]:
    """Add the demo courses and cohorts that are missing. Returns how many were added."""
    rng = rng or random.Random(2027)
    today = to_london(utcnow()).date()
    icss = list(db.session.scalars(
        select(Organisation).where(Organisation.kind == OrganisationKind.ICS)
        .order_by(Organisation.name)))
    faculty = list(db.session.scalars(
        select(User).where(User.role_rows.any(UserRole.role == Role.FACULTY))
        .order_by(User.email)))
    named = [u for u in faculty if u.email == "faculty@example.nhs.uk"]
    others = [u for u in faculty if u.email != "faculty@example.nhs.uk"]
    courses = {c.title: c for c in db.session.scalars(select(Course))}
    existing = {(course_id, name) for course_id, name in
                db.session.execute(select(Cohort.course_id, Cohort.name))}
    added_courses = added_cohorts = 0
    for number, demo in enumerate(COURSES, start=1):
        course = courses.get(demo.title)
        if course is None:
            course = Course(
                title=demo.title, summary=demo.summary, description=demo.description,
                kind=demo.kind, strand=demo.strand, format=demo.format,
                cpd_hours=Decimal(demo.cpd_hours), target_audience=demo.audience,
                competency_ids=[], min_attendance_percent=75, requires_feedback=True,
                requires_signoff=demo.signoff, published=demo.published,
            )
            db.session.add(course)
            db.session.flush()
            added_courses += 1
        for index, cohort_demo in enumerate(demo.cohorts, start=1):
            if (course.id, cohort_demo.name) in existing:
                continue
            # Fiona Faculty leads the programmes; one or two others lead each course.
            leads = (named if demo.kind == "programme" else []) + (
                rng.sample(others, k=min(len(others), 1 + index % 2)))
            db.session.add(_cohort(course, cohort_demo, today, icss, leads,
                                   f"{number}-{index}"))
            existing.add((course.id, cohort_demo.name))
            added_cohorts += 1
    db.session.flush()
    return {"courses": added_courses, "cohorts": added_cohorts}
