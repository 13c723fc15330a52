"""A person's learning record: CPD hours per year and in all, courses completed, events
attended, certificates, and competency levels with the evidence behind them; as a page, a PDF
and a CSV file.

**CPD years** are the UK financial (and NHS appraisal) year, 1 April to 31 March on London
clocks. **CPD hours** are those of the courses completed (each course's ``cpd_hours``, in the
year its completion was recorded) plus the length of every event session attended (present
or late at a webinar, network meeting or festival session, in the year it was held): events
have no CPD hours of their own, and their certificates count the time attended the same way
(``lms.certificates.services``), so the record and the certificates agree. What counts as
attended, a course's attendance share and what counts as completed are
``lms.attendance.standing``'s answers, the same as the progress pages' and the dashboards'.
"""

from __future__ import annotations

import csv
import io
import sys
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from decimal import Decimal

from sqlalchemy import select

from lms.accounts.models import User
from lms.attendance import standing
from lms.attendance.models import Attendance, Completion
from lms.clock import to_london, utcnow
from lms.competencies.models import SOURCE_LABELS, Competency, CompetencyEvidence
from lms.competencies.services import derive_level, evidence_of, level_label
from lms.courses.models import Cohort, Course
from lms.events.models import KIND_LABELS as EVENT_KIND_LABELS
from lms.extensions import db
from lms.feedback.exports import neutralise
from lms.offerings.models import Enrolment, Offering, Session

_COHORT = Cohort.__table__


# ---------------------------------------------------------------------------- CPD years


def cpd_year_of(moment: datetime) -> int:
    """The CPD year a moment falls in, named by the calendar year it starts in (April)."""
    local = to_london(moment)
    return local.year if local.month >= 4 else local.year - 1


def cpd_year_label(start_year: int) -> str:
    """"April 2026 to March 2027"."""
    return f"April {start_year} to March {start_year + 1}"


# ---------------------------------------------------------------------------- the record


@dataclass
class CompletedCourse:
    course_id: int
    course_title: str
    cohort_title: str
    completed_at: datetime
    cpd_hours: Decimal
    # The attendance share as it stands (``standing.shares``); None if no session was held.
    attendance_percent: int | None


@dataclass
class EventAttended:
    """One event (a webinar, a network's meetings, the festival) and how often the person
    came."""

    offering_id: int
    title: str
    kind_label: str
    sessions: int
    first_at: datetime
    last_at: datetime
    hours: Decimal


@dataclass
class CPDYear:
    start_year: int
    courses: int = 0
    course_hours: Decimal = Decimal("0")
    event_sessions: int = 0
    event_hours: Decimal = Decimal("0")
    # CPD done elsewhere, recorded by the person (``lms.learning.cpd``).
    outside_hours: Decimal = Decimal("0")
    # Talks given at networks and festivals (``lms.talks``): each talk's length.
    presenting_hours: Decimal = Decimal("0")

    @property
    def label(self) -> str:
        return cpd_year_label(self.start_year)

    @property
    def cpd_hours(self) -> Decimal:
        return self.course_hours + self.event_hours + self.outside_hours + self.presenting_hours


@dataclass
class PresentedLine:
    """A talk the person gave (as proposer or confirmed co-presenter), once it has happened."""

    title: str
    event_title: str
    at: datetime
    hours: Decimal


@dataclass
class CertificateLine:
    title: str
    serial: str
    issued_at: datetime | None
    revoked: bool


@dataclass
class OutsideLine:
    """CPD done elsewhere (a conference, reading), as the person recorded it."""

    title: str
    done_on: date
    hours: Decimal
    has_evidence: bool


@dataclass
class CompetencyLine:
    competency: Competency
    level: int | None
    self_level: int | None
    evidence: list[CompetencyEvidence]

    @property
    def level_label(self) -> str:
        return level_label(self.level)

    @property
    def self_level_label(self) -> str:
        return level_label(self.self_level) if self.self_level else "None given"


@dataclass
class LearningRecord:
    person: User
    years: list[CPDYear]
    courses: list[CompletedCourse]
    events: list[EventAttended]
    competencies: list[CompetencyLine]
    certificates: list[CertificateLine] = field(default_factory=list)
    # False until the certificates feature is installed (see ``_certificates_of``).
    certificates_available: bool = False
    outside: list[OutsideLine] = field(default_factory=list)
    presented: list[PresentedLine] = field(default_factory=list)
    made_at: datetime = field(default_factory=utcnow)

    @property
    def course_hours(self) -> Decimal:
        return sum((c.cpd_hours for c in self.courses), Decimal("0"))

    @property
    def event_hours(self) -> Decimal:
        return sum((e.hours for e in self.events), Decimal("0"))

    @property
    def outside_hours(self) -> Decimal:
        return sum((o.hours for o in self.outside), Decimal("0"))

    @property
    def presenting_hours(self) -> Decimal:
        return sum((p.hours for p in self.presented), Decimal("0"))

    @property
    def total_cpd_hours(self) -> Decimal:
        return self.course_hours + self.event_hours + self.outside_hours + self.presenting_hours

    @property
    def event_sessions(self) -> int:
        return sum(e.sessions for e in self.events)


def _completed_courses(user_id: int, now: datetime | None) -> list[CompletedCourse]:
    rows = db.session.execute(
        # Labelled: the row is also the place ``standing.shares`` reads (id, user, offering).
        select(Course.id.label("course_id"), Course.title.label("course_title"),
               Offering.title.label("cohort_title"), Completion.completed_at,
               Course.cpd_hours, Enrolment.id.label("id"), Enrolment.user_id,
               Enrolment.offering_id)
        .select_from(Completion)
        .join(Enrolment, Enrolment.id == Completion.enrolment_id)
        .join(Offering, Offering.id == Enrolment.offering_id)
        .join(_COHORT, _COHORT.c.id == Offering.id)
        .join(Course, Course.id == _COHORT.c.course_id)
        .where(Enrolment.user_id == user_id)
        .order_by(Completion.completed_at.desc(), Completion.id.desc())
    ).all()
    figures = standing.shares(rows, now)
    return [CompletedCourse(row[0], row[1], row[2], row[3], Decimal(row[4] or 0),
                            figures[row.id].percent) for row in rows]


def _hours(minutes: float) -> Decimal:
    return (Decimal(minutes) / 60).quantize(Decimal("0.1"))


def _events_attended(user_id: int, now: datetime | None
                     ) -> tuple[list[EventAttended], list[tuple[datetime, float]]]:
    """Events the person came to (``standing.counts_as_attended``), grouped per event, and
    (moment, minutes) per session."""
    rows = db.session.execute(
        select(Offering.id, Offering.title, Offering.kind, Session.starts_at, Session.ends_at)
        .select_from(Attendance)
        .join(Session, Session.id == Attendance.session_id)
        .join(Offering, Offering.id == Session.offering_id)
        .where(Attendance.user_id == user_id, Offering.kind != "cohort",
               *standing.counts_as_attended(now))
        .order_by(Session.starts_at)
    ).tuples()
    events: dict[int, EventAttended] = {}
    sessions: list[tuple[datetime, float]] = []
    for offering_id, title, kind, starts, ends in rows:
        # The session's length, as the event's certificate counts it, whatever minutes an
        # imported report gave: being marked present or late is what counts.
        spent = (ends - starts).total_seconds() / 60
        sessions.append((starts, spent))
        event = events.get(offering_id)
        if event is None:
            label = EVENT_KIND_LABELS.get(kind, kind.title()) if kind else "Event"
            events[offering_id] = EventAttended(offering_id, title, label, 0, starts, starts,
                                                Decimal("0"))
            event = events[offering_id]
        event.sessions += 1
        event.last_at = starts
        event.hours += _hours(spent)
    ordered = sorted(events.values(), key=lambda e: e.last_at, reverse=True)
    return ordered, sessions


def _certificates_of(user_id: int) -> tuple[bool, list[CertificateLine]]:
    """The person's certificates, newest first, once the certificates feature is installed.

    Integration point: ``lms.certificates`` is being built alongside this feature. Its models
    count as installed when the app factory has imported them (``_import_models``), so this
    never pulls a half-built feature's tables into the schema; until then the record says
    certificates will appear there."""
    module = sys.modules.get("lms.certificates.models")
    if module is None:
        return False, []
    certificate = module.Certificate
    rows = db.session.execute(
        select(certificate.title, certificate.serial, certificate.issued_at,
               certificate.revoked_at)
        .where(certificate.user_id == user_id)
        .order_by(certificate.issued_at.desc(), certificate.id.desc())
    ).tuples()
    return True, [CertificateLine(title, serial, issued_at, revoked_at is not None)
                  for title, serial, issued_at, revoked_at in rows]


def _outside_of(user_id: int) -> list[OutsideLine]:
    """CPD the person recorded for learning done elsewhere, newest first, once the learning
    feature is installed (the same integration point as ``_certificates_of``)."""
    module = sys.modules.get("lms.learning.reflection_models")
    if module is None:
        return []
    activity = module.CPDActivity
    rows = db.session.execute(
        select(activity.title, activity.done_on, activity.hours, activity.evidence_key)
        .where(activity.user_id == user_id)
        .order_by(activity.done_on.desc(), activity.id.desc())).tuples()
    return [OutsideLine(title, done_on, Decimal(hours), key is not None)
            for title, done_on, hours, key in rows]


def _presented_by(user_id: int, now: datetime) -> list[PresentedLine]:
    """Talks the person presented (accepted, held, not cancelled), newest first, once the
    calls-for-talks feature is installed (the same integration point as
    ``_certificates_of``). CPD hours are the talk's length."""
    module = sys.modules.get("lms.talks.models")
    if module is None:
        return []
    proposal, co = module.Proposal, module.CoPresenter
    confirmed = select(co.proposal_id).where(co.user_id == user_id, co.confirmed_at.is_not(None))
    rows = db.session.execute(
        select(proposal.title, Offering.title, Session.starts_at, proposal.length_minutes)
        .join(Session, Session.id == proposal.session_id)
        .join(Offering, Offering.id == Session.offering_id)
        .where(proposal.state == "accepted", Session.status == "scheduled",
               Session.ends_at <= now,
               (proposal.proposer_id == user_id) | proposal.id.in_(confirmed))
        .order_by(Session.starts_at.desc())).tuples()
    return [PresentedLine(title, event, at, _hours(minutes))
            for title, event, at, minutes in rows]


def _competency_lines(user_id: int) -> list[CompetencyLine]:
    by_competency: dict[int, list[CompetencyEvidence]] = {}
    competencies: dict[int, Competency] = {}
    for row in evidence_of(user_id):
        by_competency.setdefault(row.competency_id, []).append(row)
        competencies[row.competency_id] = row.competency
    lines = []
    for competency_id, rows in by_competency.items():
        selves = [r for r in rows if r.source == "self"]  # newest first already
        lines.append(CompetencyLine(
            competencies[competency_id], derive_level((r.source, r.level) for r in rows),
            selves[0].level if selves else None, rows))
    lines.sort(key=lambda line: (line.competency.is_retired, -(line.level or 0),
                                 line.competency.name))
    return lines


def learning_record(person: User, now: datetime | None = None) -> LearningRecord:
    """Everything in a person's learning record. A fixed number of queries (six, seven with
    certificates, eight with CPD done elsewhere, nine with talks presented), however
    long the record."""
    now = now or utcnow()
    courses = _completed_courses(person.id, now)
    events, sessions = _events_attended(person.id, now)
    available, certificates = _certificates_of(person.id)
    years: dict[int, CPDYear] = {}
    this_year = cpd_year_of(now)
    years[this_year] = CPDYear(this_year)
    for course in courses:
        year = years.setdefault(cpd_year_of(course.completed_at),
                                CPDYear(cpd_year_of(course.completed_at)))
        year.courses += 1
        year.course_hours += course.cpd_hours
    for moment, minutes in sessions:
        start = cpd_year_of(moment)
        year = years.setdefault(start, CPDYear(start))
        year.event_sessions += 1
        year.event_hours += _hours(minutes)
    outside = _outside_of(person.id)
    for line in outside:
        start = cpd_year_of(datetime.combine(line.done_on, time(12), tzinfo=UTC))
        year = years.setdefault(start, CPDYear(start))
        year.outside_hours += line.hours
    presented = _presented_by(person.id, now)
    for talk in presented:
        year = years.setdefault(cpd_year_of(talk.at), CPDYear(cpd_year_of(talk.at)))
        year.presenting_hours += talk.hours
    return LearningRecord(
        person=person, years=sorted(years.values(), key=lambda y: y.start_year, reverse=True),
        courses=courses, events=events, competencies=_competency_lines(person.id),
        certificates=certificates, certificates_available=available, outside=outside,
        presented=presented,
    )


# ---------------------------------------------------------------------------- downloads


def attendance_label(percent: int | None) -> str:
    """A completed course's attendance as the page, the PDF and the CSV write it."""
    return "Attendance not recorded" if percent is None else f"Attendance {percent}%"


def _day(moment: datetime | None) -> str:
    return to_london(moment).strftime("%Y-%m-%d") if moment else ""


def _number(value: Decimal) -> str:
    return f"{value.normalize():f}" if value else "0"


CSV_HEADER = ["Section", "What", "Date (UK)", "CPD hours", "Level", "Detail"]


def record_rows(record: LearningRecord) -> list[list[str]]:
    """The record as rows under ``CSV_HEADER``: one per CPD year, course, event, certificate,
    competency and piece of evidence."""
    rows: list[list[str]] = []
    for year in record.years:
        rows.append(["CPD year", year.label, "", _number(year.cpd_hours), "",
                     f"{_number(year.course_hours)} from {year.courses} courses completed, "
                     f"{_number(year.event_hours)} from {year.event_sessions} event sessions "
                     "attended"])
    rows.append(["CPD total", "All years", "", _number(record.total_cpd_hours), "", ""])
    for course in record.courses:
        rows.append(["Course completed", course.cohort_title, _day(course.completed_at),
                     _number(course.cpd_hours), "",
                     attendance_label(course.attendance_percent)])
    for event in record.events:
        rows.append(["Event attended", event.title, _day(event.last_at),
                     _number(event.hours), "",
                     f"{event.kind_label}; {event.sessions} sessions from "
                     f"{_day(event.first_at)}"])
    for line in record.outside:
        rows.append(["CPD elsewhere", line.title, line.done_on.isoformat(),
                     _number(line.hours), "", "Evidence attached" if line.has_evidence else ""])
    for talk in record.presented:
        rows.append(["Talk presented", talk.title, _day(talk.at), _number(talk.hours), "",
                     f"Presented at {talk.event_title}"])
    for cert in record.certificates:
        rows.append(["Certificate", cert.title, _day(cert.issued_at), "", "",
                     f"Serial {cert.serial}{' (revoked)' if cert.revoked else ''}"])
    for line in record.competencies:
        name = line.competency.name + (" (retired)" if line.competency.is_retired else "")
        rows.append(["Competency", name, "", "", line.level_label,
                     f"Self-assessment: {line.self_level_label}"])
        for item in line.evidence:
            who = item.recorded_by.full_name if item.recorded_by else "Recorded automatically"
            rows.append(["Evidence", name, _day(item.recorded_at), "", item.level_label,
                         f"{SOURCE_LABELS[item.source]} by {who}: {item.note}"])
    return rows


def record_csv(record: LearningRecord) -> bytes:
    """The record as CSV, UTF-8 with a byte-order mark for Excel; cells that a spreadsheet
    would run as formulae are neutralised."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_HEADER)
    for row in record_rows(record):
        writer.writerow([neutralise(cell) for cell in row])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def _refuse_fetch(url: str, *args, **kwargs):
    """WeasyPrint may fetch nothing: the PDF's styles are inline and it has no images."""
    raise ValueError(f"the learning record PDF loads no resources ({url[:40]})")


def record_pdf(html: str) -> bytes:
    """The record's printable HTML (rendered by the view) as a PDF."""
    from weasyprint import HTML

    return HTML(string=html, base_url=None, url_fetcher=_refuse_fetch).write_pdf()
