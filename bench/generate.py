"""Region-scale data for the benchmarks, fast and deterministic.

At scale 1: the 11 ICSs (and the region's other organisations), 3,000 people, 60 courses, 200
cohorts of 6 sessions, two years of fortnightly Analyst Network huddles (and a year ahead of
the bimonthly Evaluation and Knowledge Mobilisation networks) with ~250 people at each huddle,
146 webinars, an INSIGHT festival of 60 sessions with 1,500 session bookings (and last
year's, finished, with 2,200 people and a feedback survey of 2,000 responses: the busiest
survey), ~80,000 attendance marks, ~30,000 survey answers, 5,000 certificates (rows only: PDFs
are rendered when first downloaded) and competency evidence. Counts scale linearly with
``scale`` (sizes of the fixed series, such as huddle attendance, scale with it too).

Above scale 1 the data grows towards a national roll-out (``national_share``): at scale 5,
15,000 people in all 42 ICSs of England (the other 31 each about the size of a Midlands
one) and five years of history instead of two (cohorts, network meetings and webinars go
three years further back; a finished INSIGHT festival each year, with its feedback survey).
Scale 5 takes about 80 s (71 s CPU) and holds ~720,000 places, ~950,000 attendance marks,
~520,000 completions, ~370,000 survey answers and 62,500 certificates.

Rows are written with ORM bulk inserts (``session.execute(insert(Model), [dicts])``) in
chunks, with ids chosen here, so no row is read back; nothing goes through the services (no
emails, no history beyond one event per place, no audit entries). The same ``seed`` on the
same day gives the same database: times are laid out around midnight UTC of the day it runs
(``today`` can pin it).

Well-known accounts, for the benchmark's pages (password ``BENCH_PASSWORD``):
``bench-learner@`` (Birmingham and Solihull; a heavy user: every network, a festival
agenda, many cohorts), ``bench-dsulead@`` (Birmingham and Solihull's DSU lead),
``bench-faculty@`` and ``bench-admin@`` ``example.nhs.uk``.
"""

from __future__ import annotations

import base64
import random
from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from dateutil.rrule import MO, MONTHLY, TU, rrule
from sqlalchemy import func, insert, select
from sqlalchemy import inspect as sa_inspect
from sqlalchemy import text as sql_text

from lms.accounts.models import Organisation, User, UserRole
from lms.accounts.organisations import ORGANISATIONS
from lms.attendance.models import Attendance, Completion
from lms.certificates.models import Certificate, SerialCounter
from lms.clock import LONDON, utcnow
from lms.competencies.framework import FRAMEWORK
from lms.competencies.models import Competency, CompetencyEvidence, CourseCompetency
from lms.courses.models import Cohort, Course
from lms.events import calendars
from lms.events.models import (
    CalendarFeedToken,
    Festival,
    FestivalSession,
    FestivalTrack,
    NetworkOccurrence,
    NetworkSeries,
    Speaker,
    Webinar,
)
from lms.extensions import db
from lms.feedback.models import (
    Survey,
    SurveyAnswer,
    SurveyQuestion,
    SurveyRespondent,
    SurveyResponse,
)
from lms.offerings.models import (
    Booking,
    Enrolment,
    EnrolmentEvent,
    OfferingLead,
    OfferingQuota,
    Session,
)

BENCH_PASSWORD = "bench-password-2026"  # noqa: S105 - throw-away benchmark accounts only
DOMAIN = "example.nhs.uk"
LEARNER = f"bench-learner@{DOMAIN}"
# The heavy user's cohorts in their feed's window (at scale 1 and above).
HEAVY_USER_COHORTS = 40
DSU_LEAD = f"bench-dsulead@{DOMAIN}"
FACULTY = f"bench-faculty@{DOMAIN}"
ADMIN = f"bench-admin@{DOMAIN}"
CHUNK = 5000
# Two years of webinars (a little more than weekly), the last ten weeks of them still ahead.
WEBINARS = 146
DEFAULT_SEED = 2026

# National scale: above scale 1 the other 31 ICSs of England join the 11 of the Midlands
# (all 42 at scale 5) and the history lengthens from two years to five (at scale 5), so the
# data is what a national roll-out of this model would hold after five years. Each other
# ICS is about the size of a Midlands one. (code, name), by NHS England region.
NATIONAL_ICS = [
    ("NENC", "North East and North Cumbria"), ("HNY", "Humber and North Yorkshire"),
    ("SYB", "South Yorkshire and Bassetlaw"), ("WY", "West Yorkshire"),
    ("LSC", "Lancashire and South Cumbria"), ("GM", "Greater Manchester"),
    ("CM", "Cheshire and Merseyside"), ("BLMK", "Bedfordshire, Luton and Milton Keynes"),
    ("CPE", "Cambridgeshire and Peterborough"), ("HWE", "Hertfordshire and West Essex"),
    ("MSE", "Mid and South Essex"), ("NWAV", "Norfolk and Waveney"),
    ("SNEE", "Suffolk and North East Essex"), ("NCL", "North Central London"),
    ("NEL", "North East London"), ("NWL", "North West London"), ("SEL", "South East London"),
    ("SWL", "South West London"), ("BOB", "Buckinghamshire, Oxfordshire and Berkshire West"),
    ("FRIM", "Frimley"), ("HIOW", "Hampshire and Isle of Wight"), ("KM", "Kent and Medway"),
    ("SUSX", "Sussex"), ("SURH", "Surrey Heartlands"),
    ("BSW", "Bath and North East Somerset, Swindon and Wiltshire"),
    ("BNSSG", "Bristol, North Somerset and South Gloucestershire"),
    ("CIOS", "Cornwall and the Isles of Scilly"), ("DEVON", "Devon"), ("DORSET", "Dorset"),
    ("GLOS", "Gloucestershire"), ("SOM", "Somerset"),
]
NATIONAL_SCALE = 5
HISTORY_YEARS = (2, 5)  # at scale 1 and at NATIONAL_SCALE


def national_share(scale: float) -> float:
    """How far ``scale`` is from the region (0, scale 1 or below) to the nation (1, scale 5
    or above)."""
    return min(1.0, max(0.0, (scale - 1) / (NATIONAL_SCALE - 1)))


# People per ICS, roughly by population; the rest of the region's people are elsewhere.
ICS_WEIGHTS = {"BSOL": 15, "BC": 12, "CW": 10, "HW": 8, "STW": 6, "SSOT": 11, "DDER": 10,
               "LLR": 10, "LINCS": 7, "NHANTS": 7, "NOTTS": 11}
OTHER_WEIGHTS = {"NHSE-MIDS": 5, "SU": 3, "OTHER": 3}

FIRST = ["Aisha", "Ben", "Chloe", "Dev", "Ella", "Femi", "Grace", "Harry", "Imran", "Jade",
         "Kieran", "Leah", "Mo", "Niamh", "Owen", "Priya", "Quinn", "Rosa", "Sanjay", "Tara",
         "Umar", "Vicky", "Will", "Xin", "Yasmin", "Zak", "Amir", "Bethan", "Callum", "Dami",
         "Erin", "Faisal", "Georgia", "Hamza", "Isla", "Jon", "Kavita", "Liam", "Maya", "Nat"]
LAST = ["Patel", "Hughes", "Khan", "Davies", "Okafor", "Mistry", "Smith", "Jones", "Taylor",
        "Brown", "Williams", "Wilson", "Johnson", "Walker", "Wright", "Robinson", "Thompson",
        "White", "Ali", "Begum", "Green", "Hall", "Wood", "Clarke", "Hussain", "Kaur", "Singh",
        "Lewis", "Edwards", "Turner", "Murphy", "Campbell", "Shah", "Ahmed", "Evans", "Owen"]
JOBS = ["Analyst", "Senior Analyst", "Principal Analyst", "Head of Analytics", "Data Scientist",
        "Information Analyst", "Business Intelligence Developer", "Public Health Analyst",
        "Commissioning Manager", "Clinical Lead", "Finance Analyst", "Performance Manager"]
TOPICS = [
    ("Leadership for Analysts", "programme"), ("Decision Quality for system leaders",
                                               "programme"),
    ("Time-series forecasting", "short_course"), ("Introduction to Decision Quality",
                                                  "short_course"),
    ("Statistical process control", "short_course"), ("Discrete event simulation",
                                                     "short_course"),
    ("Population health analytics", "short_course"), ("Machine learning for health data",
                                                      "short_course"),
    ("Data visualisation that decides", "short_course"), ("Communicating with numbers",
                                                         "short_course"),
    ("Evaluation design", "short_course"), ("Evidence review for busy people", "short_course"),
    ("Knowledge mobilisation in practice", "short_course"), ("R for NHS analysts",
                                                             "short_course"),
    ("Python for NHS analysts", "short_course"), ("SQL beyond the basics", "short_course"),
    ("Operational research methods", "short_course"), ("Reproducible analytical pipelines",
                                                       "short_course"),
    ("Demand and capacity modelling", "short_course"), ("Health economics for decisions",
                                                        "short_course"),
]
STRANDS = ["decision_making", "analytical_leaders", "analytical_capability", "beyond_numbers"]
FORMATS = ["online", "in_person", "blended"]
HUDDLE_TOPICS = [
    "Forecasting A&E attendances", "Reproducible pipelines in R", "Population segmentation",
    "Waiting list modelling", "Communicating uncertainty to boards", "SQL window functions",
    "A Power BI model people trust", "Linking primary and secondary care data",
    "Measuring health inequalities", "Git for analysts", "Bed occupancy and flow",
    "Decision quality in commissioning", "Synthetic data", "Evaluating virtual wards",
]
TRACKS = ["Methods and tools", "Leading analytics", "Knowledge into action"]
FESTIVAL_SLOTS = [(9, 30), (10, 40), (11, 50), (13, 30), (14, 40), (15, 50), (17, 0)]
TEXTS = ["The worked examples were the most useful part.", "More time for questions, please.",
         "I will use the checklist in my next paper.", "Great speakers, clear slides.",
         "The pace was a little fast for me.", "Would like a follow-up session on this."]
CHOICES = ["Very relevant", "Quite relevant", "A little relevant", "Not relevant"]
AGREEMENT_WEIGHTS = [2, 5, 13, 45, 35]
RATING_WEIGHTS = [1, 0, 1, 1, 2, 4, 6, 14, 26, 24, 21]
QUESTIONS = [
    ("agreement", "The session met its objectives", []),
    ("agreement", "I can use what I learnt in my work", []),
    ("agreement", "The presenters explained things clearly", []),
    ("rating", "How likely are you to recommend this to a colleague?", []),
    ("single_choice", "How relevant was it to your role?", CHOICES),
    ("long_text", "What one thing would you change?", []),
]


def _local(day: date, hour: int, minute: int = 0) -> datetime:
    """A London wall-clock time on ``day``, in UTC."""
    return datetime.combine(day, time(hour, minute), tzinfo=LONDON).astimezone(UTC)


def _on_weekday(day: date, weekday: int) -> date:
    """The first ``weekday`` (0 = Monday) on or after ``day``."""
    return day + timedelta(days=(weekday - day.weekday()) % 7)


def feed_token(user_id: int) -> str:
    """The bench's calendar secret for a person: fixed, so pages can fetch their feed."""
    return _token(random.Random(f"bench-feed-{user_id}"))


def _token(rng: random.Random, nbytes: int = 32) -> str:
    return base64.urlsafe_b64encode(rng.getrandbits(nbytes * 8).to_bytes(nbytes, "big")
                                    ).rstrip(b"=").decode()


def _insert(model: type, rows: list[dict]) -> None:
    """Insert ``rows`` (with their ids) of ``model``. A model that extends another (a webinar
    is an offering) goes table by table in plain inserts: the ORM's bulk insert of such rows
    asks PostgreSQL for the ids back in pages and fails to join the pages (a
    ``ResourceClosedError``), and the ids are known already."""
    mapper = sa_inspect(model)
    if mapper.inherits is None:
        db.session.execute(insert(model), rows)
        return
    rows = [{mapper.polymorphic_on.key: mapper.polymorphic_identity, **row} for row in rows]
    for table in mapper.tables:  # the base table first; Core fills the columns' defaults
        names = {prop.key: column.key for prop in mapper.column_attrs
                 for column in prop.columns if column.table is table}
        db.session.execute(table.insert(), [
            {column: row[key] for key, column in names.items() if key in row} for row in rows])


class Generator:
    """One run of the generator: see ``generate``."""

    def __init__(self, scale: float, seed: int, today: date | None = None,
                 national: float | None = None):
        if not 0 < scale <= 20:
            raise ValueError("scale must be above 0 and at most 20")
        self.scale = scale
        self.rng = random.Random(seed)
        self.today = today or utcnow().date()
        self.now = datetime.combine(self.today, time(0), tzinfo=UTC)
        share = national_share(scale) if national is None else min(1.0, max(0.0, national))
        self.other_ics = NATIONAL_ICS[:round(len(NATIONAL_ICS) * share)]
        # Days of history beyond the region's two years (cohorts, networks, webinars,
        # festivals all reach back this much further).
        years = HISTORY_YEARS[0] + (HISTORY_YEARS[1] - HISTORY_YEARS[0]) * share
        self.extra_days = round(365 * (years - HISTORY_YEARS[0]))
        self.extra_years = round(years - HISTORY_YEARS[0])
        self.ids: dict[str, int] = defaultdict(int)
        self.counts: dict[str, int] = defaultdict(int)
        self.rows: dict[type, list[dict]] = defaultdict(list)
        self.random_ids: set[int] = set()

    # ------------------------------------------------------------------------ plumbing

    def n(self, at_scale_1: float, minimum: int = 0) -> int:
        """How many of something there are at this scale."""
        return max(minimum, round(at_scale_1 * self.scale))

    def next_id(self, table: str) -> int:
        self.ids[table] += 1
        return self.ids[table]

    def random_id(self) -> int:
        """A random id as survey responses and answers have, never the same twice."""
        while True:
            value = self.rng.getrandbits(52) + 1
            if value not in self.random_ids:
                self.random_ids.add(value)
                return value

    def add(self, model: type, **values) -> dict:
        self.rows[model].append(values)
        return values

    def flush(self, *models: type) -> None:
        """Write the rows collected for ``models`` (in that order), in chunks."""
        for model in models:
            rows = self.rows.pop(model, [])
            for start in range(0, len(rows), CHUNK):
                _insert(model, rows[start:start + CHUNK])
            self.counts[model.__tablename__] += len(rows)

    # ------------------------------------------------------------------------ the region

    def organisations(self) -> None:
        have = set(db.session.scalars(select(Organisation.code)))
        self.ids["organisation"] = db.session.scalar(select(func.max(Organisation.id))) or 0
        for code, name, kind in [*ORGANISATIONS, *((c, n, "ics") for c, n in self.other_ics)]:
            if code not in have:
                self.add(Organisation, id=self.next_id("organisation"), code=code, name=name,
                         kind=kind)
        self.flush(Organisation)
        self.org = dict(db.session.execute(select(Organisation.code, Organisation.id)).all())
        self.ics_codes = [*ICS_WEIGHTS, *(code for code, _ in self.other_ics)]

    def people(self) -> None:
        from lms.accounts.services import hash_password

        secret = hash_password(BENCH_PASSWORD)
        total = self.n(3000, minimum=20)
        # Each other ICS about the size of a Midlands one (weights 6 to 15, fixed by its place).
        ics_weights = {**ICS_WEIGHTS, **{code: 6 + (index * 7) % 10
                                         for index, (code, _) in enumerate(self.other_ics)}}
        weights = {**{c: w * 0.9 / sum(ics_weights.values()) for c, w in ics_weights.items()},
                   **{c: w * 0.1 / sum(OTHER_WEIGHTS.values())
                      for c, w in OTHER_WEIGHTS.items()}}
        codes, shares = list(weights), list(weights.values())
        self.by_org: dict[str, list[int]] = defaultdict(list)
        self.org_of: dict[int, str] = {}
        self.learners: list[int] = []
        self.faculty: list[int] = []
        self.dsu_lead_of: dict[str, int] = {}
        self.name_of: dict[int, str] = {}
        created = self.now - timedelta(days=900)

        def person(email: str, name: str, code: str, roles: tuple[str, ...] = ()) -> int:
            user_id = self.next_id("user")
            self.add(User, id=user_id, email=email, full_name=name,
                     job_title=self.rng.choice(JOBS), organisation_id=self.org[code],
                     password_hash=secret, email_verified_at=created, is_active_account=True,
                     session_version=1, created_at=created)
            for role in ("learner", *roles):
                self.add(UserRole, user_id=user_id, role=role)
            self.by_org[code].append(user_id)
            self.org_of[user_id] = code
            self.name_of[user_id] = name
            return user_id

        self.admin = person(ADMIN, "Ada Benchadmin", "SU", ("admin",))
        self.lead_faculty = person(FACULTY, "Fay Benchfaculty", "SU", ("faculty",))
        self.faculty.append(self.lead_faculty)
        self.dsu_lead_of["BSOL"] = person(DSU_LEAD, "Sam Benchlead", "BSOL", ("dsu_lead",))
        self.learner = person(LEARNER, "Lena Benchlearner", "BSOL")
        for code in self.ics_codes[1:]:
            self.dsu_lead_of[code] = person(f"dsulead.{code.lower()}@{DOMAIN}",
                                            f"{self.rng.choice(FIRST)} {self.rng.choice(LAST)}",
                                            code, ("dsu_lead",))
        for i in range(self.n(20)):
            self.faculty.append(person(f"faculty{i + 1}@{DOMAIN}",
                                       f"{self.rng.choice(FIRST)} {self.rng.choice(LAST)}",
                                       "SU" if i % 2 else "NHSE-MIDS", ("faculty",)))
        self.learners.append(self.learner)
        while self.ids["user"] < total:
            first, last = self.rng.choice(FIRST), self.rng.choice(LAST)
            number = self.ids["user"] + 1
            code = self.rng.choices(codes, weights=shares)[0]
            self.learners.append(person(f"{first}.{last}{number}@{DOMAIN}".lower(),
                                        f"{first} {last}", code))
        ics = set(self.ics_codes)
        self.ics_people = [u for u in self.learners if self.org_of[u] in ics]
        self.flush(User, UserRole)

    # ------------------------------------------------------------------------ the catalogue

    def framework(self) -> None:
        for seed in FRAMEWORK:
            self.add(Competency, id=self.next_id("competency"), code=seed.code,
                     name=seed.name, domain=seed.domain.value, description=seed.description,
                     behaviours_aware=seed.aware, behaviours_working=seed.working,
                     behaviours_practitioner=seed.practitioner,
                     behaviours_expert=seed.expert, created_at=self.now, updated_at=self.now)
        self.competencies = list(range(1, self.ids["competency"] + 1))
        self.flush(Competency)

    def courses(self) -> None:
        self.course_levels: dict[int, list[tuple[int, int]]] = {}
        self.course_info: dict[int, dict] = {}
        for i in range(self.n(60, minimum=1)):
            course_id = self.next_id("course")
            topic, kind = TOPICS[i % len(TOPICS)]
            title = topic if i < len(TOPICS) else f"{topic} ({i // len(TOPICS) + 1})"
            mapped = self.rng.sample(self.competencies, 3)
            levels = [(c, self.rng.randint(1, 3)) for c in mapped]
            self.course_levels[course_id] = levels
            cpd = Decimal("30.0") if kind == "programme" else Decimal(self.rng.choice(
                ["3.0", "3.5", "6.0", "7.5"]))
            self.course_info[course_id] = {"title": title, "kind": kind, "cpd": cpd}
            self.add(Course, id=course_id, title=title,
                     summary=f"{title}: a {kind.replace('_', ' ')} for NHS analysts and "
                     "decision-makers across the Midlands.",
                     description=("What you will learn, how the sessions run and what to "
                                  "prepare. ") * 8,
                     kind=kind, strand=STRANDS[i % 4],
                     target_audience="Analysts and decision-makers in Midlands ICSs",
                     format=FORMATS[i % 3], cpd_hours=cpd, competency_ids=sorted(mapped),
                     min_attendance_percent=75, requires_feedback=True,
                     requires_signoff=False, published=i % 30 != 29, created_at=self.now)
            for competency_id, level in levels:
                self.add(CourseCompetency, course_id=course_id, competency_id=competency_id,
                         level=level)
        self.flush(Course, CourseCompetency)

    # ------------------------------------------------------------------------ places

    def enrol(self, offering_id: int, user_id: int, state: str, at: datetime, *,
              position: int | None = None, quota_org: int | None = None,
              nominated_by: int | None = None, offer_expires: datetime | None = None) -> int:
        enrolment_id = self.next_id("enrolment")
        self.add(Enrolment, id=enrolment_id, offering_id=offering_id, user_id=user_id,
                 state=state, waitlist_position=position, offer_expires_at=offer_expires,
                 quota_organisation_id=quota_org, nominated_by_id=nominated_by,
                 created_at=at, updated_at=at)
        self.add(EnrolmentEvent, id=self.next_id("enrolment_event"), enrolment_id=enrolment_id,
                 from_state=None, to_state=state, waitlist_position=position,
                 actor_id=nominated_by or user_id, reason="", at=at)
        return enrolment_id

    def offering(self, model: type, *, title: str, status: str, mode: str = "open",
                 capacity: int | None = None, **extra) -> int:
        offering_id = self.next_id("offering")
        values = {"nomination_opens_at": None, "nomination_closes_at": None,
                  "quota_release_at": None, "quotas_released": False, **extra}
        self.add(model, id=offering_id, kind=model.__mapper__.polymorphic_identity,
                 title=title, status=status, booking_mode=mode, capacity=capacity,
                 offer_hours=48, created_at=self.now, updated_at=self.now,
                 reminder_minutes=[1440, 60], after_session_emails=True, **values)
        self.add(OfferingLead, offering_id=offering_id,
                 user_id=self.faculty[offering_id % len(self.faculty)])
        return offering_id

    def session(self, offering_id: int, starts: datetime, ends: datetime, title: str = "",
                capacity: int | None = None, join: str = "") -> int:
        session_id = self.next_id("session")
        self.add(Session, id=session_id, offering_id=offering_id, title=title,
                 starts_at=starts, ends_at=ends, location="" if join else "Birmingham",
                 join_url=join, capacity=capacity, status="scheduled", sequence=0,
                 created_at=self.now)
        return session_id

    def mark(self, session_id: int, user_id: int, status: str, source: str,
             at: datetime, minutes: int | None = None) -> None:
        self.add(Attendance, id=self.next_id("attendance"), session_id=session_id,
                 user_id=user_id, status=status, source=source, minutes=minutes, note="",
                 recorded_by_id=self.lead_faculty if source == "register" else None,
                 recorded_at=at)

    def complete(self, enrolment_id: int, at: datetime, percent: int) -> int:
        completion_id = self.next_id("completion")
        self.add(Completion, id=completion_id, enrolment_id=enrolment_id, completed_at=at,
                 attendance_percent=percent)
        return completion_id

    # ------------------------------------------------------------------------ cohorts

    def cohorts(self) -> None:
        # First sessions from 900 days ago (more with a longer history) to 200 days ahead; the
        # last cohort is always ahead. As many cohorts a year as at scale 1, times the scale.
        first, span = -900 - self.extra_days, 1100 + self.extra_days
        count = self.n(200 * span / 1100, minimum=1)
        course_ids = sorted(self.course_info)
        per_course: dict[int, int] = defaultdict(int)
        self.finished_cohorts: list[tuple[int, int, list[int], datetime]] = []
        self.completions: list[dict] = []
        # The heavy user's cohorts: those whose sessions reach into their feed's window
        # (sessions that ended in the last 180 days, and all to come). One person's load,
        # whatever the size of the region: 40 from the region's scale (1) up, as one person
        # on 200 cohorts at once at a national scale would be no one's calendar.
        offset = [first + k * span / max(1, count - 1) for k in range(count)]
        in_window = [k for k in range(count) if offset[k] >= -200]
        theirs = max(1, round(HEAVY_USER_COHORTS * min(self.scale, 1)))
        mine = set(self.rng.sample(in_window, min(len(in_window), theirs)))
        for k in range(count):
            course_id = course_ids[k % len(course_ids)]
            info = self.course_info[course_id]
            per_course[course_id] += 1
            programme = info["kind"] == "programme"
            first_day = _on_weekday(self.today + timedelta(days=round(offset[k])), 1 + k % 3)
            gap = 21 if programme else 7
            days = [first_day + timedelta(days=gap * s) for s in range(6)]
            times = [(_local(d, 10), _local(d, 12, 30)) for d in days]
            if times[-1][1] <= self.now:
                status = "finished"
            elif times[0][0] <= self.now:
                status = "running"
            else:
                status = "draft" if k % 17 == 16 else "open"
            if programme:
                mode, capacity = "nomination", 30
            else:
                mode, capacity = ("approval" if k % 4 == 3 else "open"), 24
            name = f"Cohort {per_course[course_id]}"
            extra = {}
            if mode == "nomination":
                extra = {"nomination_opens_at": times[0][0] - timedelta(days=60),
                         "nomination_closes_at": times[0][0] - timedelta(days=14),
                         "quota_release_at": times[0][0] - timedelta(days=14),
                         "quotas_released": times[0][0] - timedelta(days=14) <= self.now}
            cohort_id = self.offering(Cohort, title=f"{info['title']} – {name}", status=status,
                                      mode=mode, capacity=capacity, course_id=course_id,
                                      name=name, **extra)
            session_ids = [self.session(cohort_id, s, e, title=f"Session {i + 1}",
                                        join=f"https://teams.example.com/l/c{cohort_id}-{i}")
                           for i, (s, e) in enumerate(times)]
            if mode == "nomination":
                for code in self.ics_codes:
                    self.add(OfferingQuota, offering_id=cohort_id,
                             organisation_id=self.org[code], places=2)
            if status == "draft":
                continue
            self._cohort_places(cohort_id, course_id, status, mode, capacity, session_ids,
                                times, k in mine)

    def _cohort_places(self, cohort_id: int, course_id: int, status: str, mode: str,
                       capacity: int, session_ids: list[int],
                       times: list[tuple[datetime, datetime]], heavy_user: bool) -> None:
        booked_at = times[0][0] - timedelta(days=30)
        pool = self.ics_people if mode == "nomination" else self.learners
        fill = capacity if status != "open" else round(
            capacity * self.rng.choice([0.3, 0.6, 0.9, 1.0, 1.25, 1.5]))
        if mode == "nomination":
            fill = min(fill, capacity)
        people = self.rng.sample(pool, min(len(pool), fill + 2))
        if heavy_user:
            if self.learner in people:
                people.remove(self.learner)
            people.insert(min(2, len(people)), self.learner)
        withdrawn, people = people[:2], people[2:]
        quota_used: dict[str, int] = defaultdict(int)
        holders: list[tuple[int, int, str]] = []
        waiting = 0
        for index, user_id in enumerate(people):
            code = self.org_of[user_id]
            quota_org = nominated_by = None
            if mode == "nomination" and quota_used[code] < 2:
                quota_used[code] += 1
                quota_org, nominated_by = self.org[code], self.dsu_lead_of[code]
            if index >= capacity:
                waiting += 1
                self.enrol(cohort_id, user_id, "waitlisted", booked_at, position=waiting)
                continue
            if status == "finished":
                state = "completed" if self.rng.random() < 0.85 else "enrolled"
            elif status == "running":
                state = "enrolled"
            elif mode == "approval":
                state = "requested" if index % 3 == 0 else "enrolled"
            elif mode == "nomination":
                state = ("nominated", "approved", "enrolled")[index % 3]
            else:
                state = "offered" if index == capacity - 1 and fill > capacity else "enrolled"
            if user_id == self.learner and state not in ("completed", "enrolled"):
                state = "enrolled"
            enrolment_id = self.enrol(
                cohort_id, user_id, state, booked_at, quota_org=quota_org,
                nominated_by=nominated_by,
                offer_expires=self.now + timedelta(hours=30) if state == "offered" else None)
            holders.append((enrolment_id, user_id, state))
        for user_id in withdrawn:
            self.enrol(cohort_id, user_id, "withdrawn", booked_at)
        held = [(sid, e) for sid, (_, e) in zip(session_ids, times, strict=True)
                if e <= self.now]
        for session_id, ended in held:
            for _, user_id, state in holders:
                if state not in ("completed", "enrolled"):
                    continue
                mark = self.rng.choices(["present", "late", "absent", "excused"],
                                        weights=[80, 5, 10, 5])[0]
                if state == "completed" and mark in ("absent", "excused") \
                        and self.rng.random() < 0.7:
                    mark = "present"
                self.mark(session_id, user_id, mark, "register", ended)
        if status == "finished":
            last = times[-1][1]
            responders = []
            for enrolment_id, user_id, state in holders:
                if state == "completed":
                    completion_id = self.complete(enrolment_id, last + timedelta(days=1),
                                                  self.rng.choice([83, 100]))
                    self.completions.append({"completion_id": completion_id,
                                             "user_id": user_id, "offering_id": cohort_id,
                                             "course_id": course_id, "at": last})
                    if self.rng.random() < 0.65:
                        responders.append(user_id)
            self.finished_cohorts.append((cohort_id, course_id, responders, last))

    # ------------------------------------------------------------------------ events

    def networks(self) -> None:
        first_day = _on_weekday(self.today - timedelta(days=728 + 14 * 26 * self.extra_years),
                                2)
        count = 65 + 26 * self.extra_years
        huddles = [_on_weekday(first_day, 2) + timedelta(days=14 * i) for i in range(count)]
        self.huddle_network = self._network(
            "Midlands Analyst Network huddles", f"FREQ=WEEKLY;INTERVAL=2;BYDAY=WE;COUNT={count}",
            huddles, (12, 30), 60, members=self.n(600), attendees=self.n(250))
        for title, weekday in (("Evaluation Network", TU), ("Knowledge Mobilisation Network",
                                                            MO)):
            start = self.today.replace(day=1) - timedelta(days=730 + 364 * self.extra_years)
            count = 15 + 6 * self.extra_years
            days = [d.date() for d in rrule(MONTHLY, interval=2, byweekday=weekday(2),
                                            dtstart=datetime.combine(start, time(0)),
                                            count=count)]
            self._network(title, f"FREQ=MONTHLY;INTERVAL=2;BYDAY=2{weekday};COUNT={count}",
                          days,
                          (14, 0), 90, members=self.n(300), attendees=self.n(150))

    def _network(self, title: str, rule: str, days: list[date], at: tuple[int, int],
                 minutes: int, members: int, attendees: int) -> int:
        series_id = self.offering(NetworkSeries, title=title, status="open",
                                  summary=f"{title}: every meeting is yours once you join.",
                                  description="Topics and presenters change each time.",
                                  rrule=rule, first_day=days[0], local_start=time(*at),
                                  duration_minutes=minutes,
                                  default_join_url="https://teams.example.com/l/network",
                                  default_location="")
        sessions = []
        for i, day in enumerate(days):
            starts = _local(day, *at)
            ends = starts + timedelta(minutes=minutes)
            session_id = self.session(series_id, starts, ends,
                                      title=HUDDLE_TOPICS[i % len(HUDDLE_TOPICS)],
                                      join="https://teams.example.com/l/network")
            self.add(NetworkOccurrence, session_id=session_id, series_id=series_id,
                     rule_starts_at=starts,
                     presenter=f"{self.rng.choice(FIRST)} {self.rng.choice(LAST)}")
            sessions.append((session_id, starts, ends))
        people = self.rng.sample(self.learners[1:],
                                 max(0, min(len(self.learners) - 1, members - 1)))
        people = [self.learner, *people]
        joined = self.now - timedelta(days=800)
        for user_id in people:
            self.enrol(series_id, user_id, "enrolled", joined)
        for session_id, _, ends in sessions:
            if ends > self.now:
                continue
            for user_id in self.rng.sample(people, min(len(people), attendees)):
                self.mark(session_id, user_id, "present", "import", ends,
                          minutes=self.rng.randint(minutes // 2, minutes))
        self.network_members = getattr(self, "network_members", {})
        self.network_members[series_id] = people
        return series_id

    def webinars(self) -> None:
        self.past_webinars: list[tuple[int, list[int], datetime]] = []
        # 73 more a year of longer history, before the region's two years.
        earlier = 73 * self.extra_days // 365
        for i in range(-earlier, WEBINARS):
            day = _on_weekday(self.today + timedelta(days=round(-660 + i * 5)), 1 + i % 3)
            starts, ends = _local(day, 12, 30), _local(day, 13, 30)
            past = ends <= self.now
            webinar_id = self.offering(
                Webinar, title=f"Webinar: {HUDDLE_TOPICS[i % len(HUDDLE_TOPICS)]} "
                               f"({i + earlier + 1})",
                status="finished" if past else "open", capacity=300 if i % 3 == 0 else None,
                summary="An hour with guest speakers.", description="Join us online. " * 10)
            session_id = self.session(webinar_id, starts, ends,
                                      join=f"https://teams.example.com/l/webinar-{i}")
            for position in range(1 + i % 2):
                self.add(Speaker, id=self.next_id("speaker"), session_id=session_id,
                         position=position,
                         name=f"{self.rng.choice(FIRST)} {self.rng.choice(LAST)}",
                         role="Guest speaker", organisation="University of the Midlands",
                         bio="Works on analytics for health and care.")
            size = max(1, round(self.n(340) * self.rng.uniform(0.8, 1.2)))
            people = self.rng.sample(self.learners, min(len(self.learners), size))
            if i % 6 == 0 and self.learner not in people:
                people[0] = self.learner
            attended = []
            for user_id in people:
                came = past and self.rng.random() < 0.8
                enrolment_id = self.enrol(webinar_id, user_id,
                                          "completed" if came else "enrolled",
                                          starts - timedelta(days=10))
                if came:
                    self.mark(session_id, user_id, "present", "import", ends,
                              minutes=self.rng.randint(40, 60))
                    completion_id = self.complete(enrolment_id, ends + timedelta(hours=1), 100)
                    self.completions.append({"completion_id": completion_id,
                                             "user_id": user_id, "offering_id": webinar_id,
                                             "course_id": None, "at": ends})
                    attended.append(user_id)
            if past:
                self.past_webinars.append((webinar_id, attended, ends))

    def festival(self) -> None:
        first_day = _on_weekday(self.today + timedelta(days=60), 1)
        festival_id = self.offering(
            Festival, title="INSIGHT festival", status="open",
            summary="Three days of talks and workshops.", description="The programme. " * 10,
            first_day=first_day, last_day=first_day + timedelta(days=2))
        tracks = []
        for position, name in enumerate(TRACKS):
            track_id = self.next_id("festival_track")
            self.add(FestivalTrack, id=track_id, festival_id=festival_id, name=name,
                     position=position)
            tracks.append(track_id)
        sessions: list[tuple[int, int, int]] = []  # (session id, slot key, capacity)
        for number in range(60):
            day, rest = divmod(number, len(TRACKS) * len(FESTIVAL_SLOTS))
            slot, track = divmod(rest, len(TRACKS))
            hour, minute = FESTIVAL_SLOTS[slot]
            starts = _local(first_day + timedelta(days=day), hour, minute)
            capacity = self.rng.choice([30, 40, 60, 80])
            session_id = self.session(festival_id, starts, starts + timedelta(minutes=60),
                                      title=f"{TRACKS[track]}: talk {number + 1}",
                                      capacity=capacity,
                                      join=f"https://teams.example.com/l/insight-{number}")
            self.add(FestivalSession, session_id=session_id, festival_id=festival_id,
                     track_id=tracks[track], description="What the talk covers. " * 5)
            self.add(Speaker, id=self.next_id("speaker"), session_id=session_id, position=0,
                     name=f"{self.rng.choice(FIRST)} {self.rng.choice(LAST)}",
                     role="Speaker", organisation="An ICS in the Midlands", bio="")
            sessions.append((session_id, day * 10 + slot, capacity))
        registered = self.rng.sample(self.learners[1:],
                                     max(0, min(len(self.learners) - 1, self.n(600) - 1)))
        registered = [self.learner, *registered]
        at = self.now - timedelta(days=20)
        for user_id in registered:
            self.enrol(festival_id, user_id, "enrolled", at)
        booked: dict[int, int] = defaultdict(int)
        waiting: dict[int, int] = defaultdict(int)
        slots_of: dict[int, set[int]] = defaultdict(set)
        target = self.n(1500)
        # The heavy user books one session a day at least; everyone else at random.
        order = [self.learner] * min(3, target) + [
            self.rng.choice(registered) for _ in range(target * 3)]
        made = 0
        for user_id in order:
            if made >= target:
                break
            session_id, slot, capacity = self.rng.choice(sessions)
            if slot in slots_of[user_id]:
                continue  # a clash: the service refuses it too
            slots_of[user_id].add(slot)
            if booked[session_id] < capacity:
                booked[session_id] += 1
                state, position = "booked", None
            else:
                waiting[session_id] += 1
                state, position = "waitlisted", waiting[session_id]
            self.add(Booking, id=self.next_id("booking"), session_id=session_id,
                     user_id=user_id, state=state, waitlist_position=position,
                     created_at=at, updated_at=at)
            made += 1

    def past_festival(self) -> None:
        """Last year's INSIGHT festival, finished: 2,200 people registered, whose feedback
        survey (in ``surveys``) is the busiest, with 2,000 responses. Its programme is not
        generated: only its places and feedback are measured. With a longer history, the
        festivals of the years before too (``older_festivals``)."""
        self.older_festivals: list[tuple[int, list[int], datetime]] = []
        for years_ago in range(self.extra_years + 1, 1, -1):
            first_day = _on_weekday(self.today - timedelta(days=300 + 364 * (years_ago - 1)), 1)
            festival_id = self.offering(
                Festival, title=f"INSIGHT festival ({years_ago} years ago)", status="finished",
                summary="Three days of talks and workshops.", description="The programme.",
                first_day=first_day, last_day=first_day + timedelta(days=2))
            ends = _local(first_day + timedelta(days=2), 18, 0)
            people = self.rng.sample(self.learners[1:],
                                     max(0, min(len(self.learners) - 1, self.n(1800))))
            for user_id in people:
                self.enrol(festival_id, user_id, "enrolled", ends - timedelta(days=60))
            self.older_festivals.append((festival_id, people, ends))
        first_day = _on_weekday(self.today - timedelta(days=300), 1)
        self.past_festival_id = self.offering(
            Festival, title="INSIGHT festival (last year)", status="finished",
            summary="Three days of talks and workshops.", description="The programme.",
            first_day=first_day, last_day=first_day + timedelta(days=2))
        self.past_festival_ends = _local(first_day + timedelta(days=2), 18, 0)
        others = self.learners[1:]
        self.past_festival_people = self.rng.sample(
            others, max(0, min(len(others), self.n(2200))))
        at = self.past_festival_ends - timedelta(days=60)
        for user_id in self.past_festival_people:
            self.enrol(self.past_festival_id, user_id, "enrolled", at)

    # ------------------------------------------------------------------------ feedback

    def surveys(self) -> None:
        template_id = self.next_id("survey")
        self.add(Survey, id=template_id, title="Course feedback", intro="", is_template=True,
                 code="bench-course-feedback", anonymous=True, template_id=None,
                 offering_id=None, session_id=None, opens_at=None, closes_at=None,
                 created_by_id=self.lead_faculty, created_at=self.now)
        template_questions = []
        for position, (kind, text, choices) in enumerate(QUESTIONS, start=1):
            question_id = self.next_id("survey_question")
            template_questions.append(question_id)
            self.add(SurveyQuestion, id=question_id, survey_id=template_id, position=position,
                     kind=kind, text=text, hint="", required=kind != "long_text",
                     choices=choices, template_question_id=None)
        for cohort_id, _, responders, last in self.finished_cohorts:
            self._survey(cohort_id, responders, last, template_id, template_questions)
        for webinar_id, attended, ends in self.past_webinars:
            count = min(len(attended), self.n(8))
            self._survey(webinar_id, self.rng.sample(attended, count), ends, None, None)
        for festival_id, people, ends in self.older_festivals:
            self._survey(festival_id, self.rng.sample(people, min(len(people), self.n(1200))),
                         ends, None, None, title="INSIGHT festival: feedback")
        people = self.past_festival_people
        self._survey(self.past_festival_id,
                     self.rng.sample(people, min(len(people), self.n(2000))),
                     self.past_festival_ends, None, None, title="INSIGHT festival: feedback")
        members = self.network_members[self.huddle_network]
        count = min(len(members), max(6, self.n(400)))
        self._survey(self.huddle_network, self.rng.sample(members, count),
                     self.now - timedelta(days=20), None, None,
                     title="Analyst Network: annual survey")

    def _survey(self, offering_id: int, responders: list[int], opens: datetime,
                template_id: int | None, template_questions: list[int] | None,
                title: str = "Feedback") -> None:
        survey_id = self.next_id("survey")
        self.add(Survey, id=survey_id, title=title, intro="", is_template=False, code=None,
                 anonymous=True, template_id=template_id, offering_id=offering_id,
                 session_id=None, opens_at=opens, closes_at=opens + timedelta(days=14),
                 created_by_id=self.lead_faculty, created_at=opens)
        questions = []
        for position, (kind, text, choices) in enumerate(QUESTIONS, start=1):
            question_id = self.next_id("survey_question")
            questions.append((question_id, kind))
            self.add(SurveyQuestion, id=question_id, survey_id=survey_id, position=position,
                     kind=kind, text=text, hint="", required=kind != "long_text",
                     choices=choices,
                     template_question_id=template_questions[position - 1]
                     if template_questions else None)
        for user_id in responders:
            response_id = self.random_id()
            self.add(SurveyResponse, id=response_id, survey_id=survey_id, anonymous=True,
                     user_id=None, submitted_at=None)
            self.add(SurveyRespondent, survey_id=survey_id, user_id=user_id)
            for question_id, kind in questions:
                number, text = None, None
                if kind == "agreement":
                    number = self.rng.choices(range(1, 6), weights=AGREEMENT_WEIGHTS)[0]
                elif kind == "rating":
                    number = self.rng.choices(range(11), weights=RATING_WEIGHTS)[0]
                elif kind == "single_choice":
                    number = self.rng.randrange(len(CHOICES))
                elif self.rng.random() < 0.5:
                    text = self.rng.choice(TEXTS)
                else:
                    continue
                self.add(SurveyAnswer, id=self.random_id(), response_id=response_id,
                         question_id=question_id, number=number, text=text)

    # ------------------------------------------------------------------------ records

    def certificates(self) -> None:
        counters: dict[int, int] = defaultdict(int)
        target = self.n(5000 * (730 + self.extra_days) / 730)
        kinds = {"programme": ("programme", "Completed the development programme"),
                 "short_course": ("course", "Completed the course")}
        for entry in self.completions[:target]:
            course = self.course_info.get(entry["course_id"]) if entry["course_id"] else None
            if course:
                template, achievement = kinds[course["kind"]]
                title, cpd = course["title"], course["cpd"]
            else:
                template, achievement = "webinar", "Attended the webinar"
                title, cpd = "A webinar", Decimal("1.0")
            year = entry["at"].year
            counters[year] += 1
            self.add(Certificate, id=self.next_id("certificate"),
                     completion_id=entry["completion_id"], user_id=entry["user_id"],
                     offering_id=entry["offering_id"], serial=f"MDSN-{year}-{counters[year]:06d}",
                     code=_token(self.rng), template=template, status="issued",
                     holder_name=self.name_of[entry["user_id"]], achievement=achievement,
                     title=title,
                     achieved_on=entry["at"].date(), cpd_hours=cpd,
                     details={"kind_label": template.title(), "sessions": []},
                     issued_at=entry["at"] + timedelta(days=1), issued_by_id=None,
                     revoked_at=None, revoked_by_id=None, revoked_reason="", replaces_id=None)
        for year, last in counters.items():
            self.add(SerialCounter, year=year, last=last)
        self.flush(Certificate, SerialCounter)

    def evidence(self) -> None:
        def add(user_id: int, competency_id: int, level: int, source: str, at: datetime,
                note: str, completion_id: int | None = None, course_id: int | None = None,
                by: int | None = None) -> None:
            self.add(CompetencyEvidence, id=self.next_id("evidence"), user_id=user_id,
                     competency_id=competency_id, level=level, source=source, note=note,
                     completion_id=completion_id, course_id=course_id, recorded_by_id=by,
                     recorded_at=at)

        for entry in self.completions:
            if entry["course_id"] is None:
                continue
            for competency_id, level in self.course_levels[entry["course_id"]]:
                add(entry["user_id"], competency_id, level, "course", entry["at"],
                    "Completed the course", entry["completion_id"], entry["course_id"])
        for _ in range(self.n(600)):
            add(self.rng.choice(self.learners), self.rng.choice(self.competencies),
                self.rng.randint(1, 4), "faculty", self.now - timedelta(days=30),
                "Seen in project work", by=self.lead_faculty)
        for _ in range(self.n(900)):
            user_id = self.rng.choice(self.learners)
            add(user_id, self.rng.choice(self.competencies), self.rng.randint(1, 4), "self",
                self.now - timedelta(days=10), "My own view", by=user_id)
        self.flush(CompetencyEvidence)

    def feed_tokens(self) -> None:
        # Only hashes are stored, so the bench derives each secret from the person (see
        # ``feed_token``) to know the address it fetches.
        for user_id in (self.learner, self.dsu_lead_of["BSOL"], self.lead_faculty, self.admin):
            self.add(CalendarFeedToken, user_id=user_id,
                     token_hash=calendars.token_hash(feed_token(user_id)), created_at=self.now)
        self.flush(CalendarFeedToken)

    # ------------------------------------------------------------------------ the run

    def run(self) -> dict[str, int]:
        self.organisations()
        self.people()
        self.framework()
        self.courses()
        self.cohorts()
        self.networks()
        self.webinars()
        self.festival()
        self.past_festival()
        self.flush(Cohort, NetworkSeries, Webinar, Festival, OfferingLead, OfferingQuota,
                   FestivalTrack, Session, NetworkOccurrence, FestivalSession, Speaker,
                   Enrolment, EnrolmentEvent, Booking, Attendance, Completion)
        self.surveys()
        self.flush(Survey, SurveyQuestion, SurveyResponse, SurveyAnswer, SurveyRespondent)
        self.certificates()
        self.evidence()
        self.feed_tokens()
        from bench.generate_learning import add_learning  # materials, project work, messages
        add_learning(self)
        return summary()


# What ``summary`` counts, in the order it reports them.
COUNTED = [Organisation, User, Course, Cohort, Session, NetworkOccurrence, Webinar,
           FestivalSession, Enrolment, Booking, Attendance, Completion, SurveyResponse,
           SurveyAnswer, Certificate, CompetencyEvidence]


def summary() -> dict[str, int]:
    """Rows per table of interest, as the benchmark and the CLI report them."""
    return {model.__tablename__: db.session.scalar(select(func.count()).select_from(model))
            for model in COUNTED}


def generate(scale: float = 1.0, seed: int = DEFAULT_SEED, today: date | None = None,
             national: float | None = None) -> dict[str, int]:
    """Fill an empty database (organisations may be there) with region-scale data, and
    commit. Returns rows per table. Refuses a database that already has people.

    ``national`` (0 to 1) says how far towards the national roll-out the data goes: how many
    of England's other ICSs join and how much longer the history is (see ``NATIONAL_ICS``).
    By default it follows the scale (none at 1 or below, all at 5); tests set it to build
    the national shape at a tiny scale."""
    if db.session.scalar(select(func.count()).select_from(User)):
        raise ValueError("seed-bench needs a database without people: point LMS_DATABASE_URL "
                         "at a new database")
    counts = Generator(scale, seed, today, national).run()
    advance_sequences()
    db.session.commit()
    return counts


def advance_sequences() -> int:
    """On PostgreSQL, move each table's id sequence past the largest id written: the bulk
    inserts give ids themselves, so the sequences would still stand at 1 and the first row
    the service adds afterwards (a booking) would collide with a primary key. Returns how
    many sequences were moved (none on SQLite, which takes the next id from the table)."""
    if db.session.get_bind().dialect.name != "postgresql":
        return 0
    moved = 0
    for table in db.metadata.sorted_tables:
        if "id" not in table.c or not table.c.id.primary_key:
            continue
        sequence = db.session.scalar(sql_text("SELECT pg_get_serial_sequence(:table, 'id')"),
                                     {"table": table.name})
        if sequence is None:
            continue
        # is_called=false when the table is empty, so the next id is 1, not 2.
        largest = f'SELECT MAX(id) FROM "{table.name}"'  # noqa: S608 - a table of ours
        db.session.execute(sql_text(
            f"SELECT setval(CAST(:sequence AS regclass), COALESCE(({largest}), 0) + 1, false)"),
            {"sequence": sequence})
        moved += 1
    return moved
