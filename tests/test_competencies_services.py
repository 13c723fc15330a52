"""The competency framework, course mapping, evidence and the derived level, and the
learning record with its CPD years."""

from __future__ import annotations

import csv
import io
import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from sqlalchemy import func, select

from lms.accounts.models import Role
from lms.attendance import completion as attendance_completion
from lms.attendance import services as att
from lms.attendance.models import Attendance, Completion
from lms.clock import utcnow
from lms.competencies import pages, records, services
from lms.competencies.framework import FRAMEWORK
from lms.competencies.models import Competency, CompetencyEvidence, CourseCompetency
from lms.courses.models import Strand
from lms.errors import DomainError, InvalidInput, NotAllowed
from lms.extensions import db
from lms.listeners import connect, listeners_of
from lms.offerings import services as places
from lms.offerings.models import Enrolment, Session
from tests.test_reports_services import build_region


def evidence_count(**where) -> int:
    stmt = select(func.count()).select_from(CompetencyEvidence)
    for key, value in where.items():
        stmt = stmt.where(getattr(CompetencyEvidence, key) == value)
    return db.session.scalar(stmt)


def competency(code: str) -> Competency:
    return db.session.scalar(select(Competency).where(Competency.code == code))


def details(**changes) -> services.CompetencyDetails:
    base = {"name": "Causal inference", "domain": "analytical_capability",
            "description": "Estimating the effects of interventions from data.",
            "aware": "Knows correlation is not causation.", "working": "Uses DAGs with help.",
            "practitioner": "Designs causal analyses.", "expert": "Leads causal work."}
    base.update(changes)
    return services.CompetencyDetails(**base)


# ---------------------------------------------------------------------------- the framework


def test_the_seeded_framework_is_real_looking_and_seeding_is_idempotent(ctx):
    assert services.ensure_framework() == len(FRAMEWORK) >= 15
    assert services.ensure_framework() == 0
    names = {c.name for c in db.session.scalars(select(Competency))}
    assert {"Forecasting", "Population health analytics", "Operational research methods",
            "Machine learning", "Open-source coding", "Data visualisation",
            "Communicating with numbers", "Evaluation design", "Evidence review",
            "Knowledge mobilisation", "Decision quality", "Analytical leadership"} <= names
    groups = pages.framework()
    assert [g.strand for g in groups] == [s.value for s in Strand]
    assert all(g.competencies for g in groups)
    for item in db.session.scalars(select(Competency)):
        assert all(text for _, text in item.levels), item.name
    # Seeding keeps faculty's edits.
    forecasting = competency("forecasting")
    services.update_competency(forecasting, details(name="Forecasting demand",
                                                    domain="analytical_capability"))
    assert services.ensure_framework() == 0
    assert competency("forecasting").name == "Forecasting demand"


def test_a_competency_needs_every_field_and_a_unique_name(ctx):
    services.ensure_framework()
    with pytest.raises(InvalidInput) as error:
        services.create_competency(services.CompetencyDetails(domain="nonsense"))
    fields = [field for field, _ in error.value.errors]
    assert fields == ["name", "domain", "description", "aware", "working", "practitioner",
                      "expert"]
    with pytest.raises(InvalidInput, match="already a competency"):
        services.create_competency(details(name="forecasting"))
    made = services.create_competency(details())
    assert made.behaviours(3) == "Designs causal analyses."


def test_a_competency_in_use_is_retired_never_deleted(ctx):
    services.ensure_framework()
    region = build_region()
    used = region.forecasting
    with pytest.raises(DomainError, match="Retire it instead"):
        services.delete_competency(used)
    assert db.session.get(Competency, used.id) is not None
    services.retire_competency(used)
    assert used.is_retired
    assert used not in services.active_competencies()
    assert used in pages.framework(include_retired=True)[2].competencies
    assert used not in pages.framework()[2].competencies
    # Its evidence stays in people's records.
    assert evidence_count(competency_id=used.id) == 3
    unused = services.create_competency(details())
    assert not services.in_use(unused)
    services.delete_competency(unused)
    assert db.session.get(Competency, unused.id) is None
    services.restore_competency(used)
    assert not used.is_retired


# ---------------------------------------------------------------------------- course mapping


def test_course_levels_are_set_changed_and_removed_in_step_with_the_course(ctx, make_cohort):
    services.ensure_framework()
    course = make_cohort().course
    a, b = competency("forecasting"), competency("open-source-coding")
    services.set_course_levels(course, {a.id: "3", b.id: 2})
    assert services.course_levels(course.id) == {a.id: 3, b.id: 2}
    assert course.competency_ids == sorted([a.id, b.id])
    services.set_course_levels(course, {a.id: "4", b.id: ""})
    assert services.course_levels(course.id) == {a.id: 4}
    assert course.competency_ids == [a.id]
    assert [(c.id, level) for c, level in services.courses_building(a.id)] == [(course.id, 4)]


def test_a_level_off_the_scale_or_a_retired_competency_maps_nothing(ctx, make_cohort):
    services.ensure_framework()
    course = make_cohort().course
    a, b = competency("forecasting"), competency("open-source-coding")
    with pytest.raises(InvalidInput) as error:
        services.set_course_levels(course, {a.id: "9", b.id: "2"})
    assert error.value.errors == [(f"level_{a.id}", services.LEVEL_MESSAGE)]
    assert services.course_levels(course.id) == {}
    services.retire_competency(b)
    with pytest.raises(InvalidInput, match="retired"):
        services.set_course_levels(course, {b.id: "2"})
    assert services.course_levels(course.id) == {}


# ---------------------------------------------------------------------------- evidence


@pytest.fixture
def completing(ctx, make_user, make_cohort):
    """A cohort of a course building forecasting to Practitioner and coding to Working, one
    session tomorrow, Asha booked; faculty take the register."""
    services.ensure_framework()
    faculty = make_user(Role.FACULTY, org="SU")
    asha = make_user(name="Asha Patel")
    cohort = make_cohort(starts_in=timedelta(days=1))
    cohort.course.requires_feedback = False
    cohort.course.cpd_hours = Decimal("6")
    services.set_course_levels(cohort.course, {competency("forecasting").id: 3,
                                               competency("open-source-coding").id: 2})
    places.book(asha, cohort)
    return cohort, faculty, asha


def test_completing_a_course_adds_evidence_once_in_the_same_transaction(completing):
    cohort, faculty, asha = completing
    session = cohort.sessions[0]
    with time_machine.travel(session.ends_at + timedelta(minutes=5)):
        att.record_register(faculty, session, {asha.id: ("present", "")})
        completion = db.session.scalar(select(Completion))
        rows = db.session.scalars(select(CompetencyEvidence).order_by(
            CompetencyEvidence.level.desc())).all()
        assert [(r.competency.code, r.level, r.source, r.user_id) for r in rows] == [
            ("forecasting", 3, "course", asha.id), ("open-source-coding", 2, "course", asha.id)]
        assert all(r.completion_id == completion.id and r.course_id == cohort.course_id
                   and r.note == f"Completed {cohort.title}" and r.recorded_by_id is None
                   for r in rows)
        # However often completion is looked at again, nothing is added twice.
        attendance_completion.refresh_completion(cohort)
        att.record_register(faculty, session, {asha.id: ("present", "")})
        assert services.record_course_evidence(completion) == []
        assert services.record_missing_course_evidence() == 0
    assert evidence_count() == 2
    # The hook wrote in the completion's transaction: rolling back leaves neither.
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Completion)) == 0
    assert evidence_count() == 0


def test_no_course_evidence_for_a_retired_competency(completing):
    cohort, faculty, asha = completing
    services.retire_competency(competency("open-source-coding"))
    session = cohort.sessions[0]
    with time_machine.travel(session.ends_at + timedelta(minutes=5)):
        att.record_register(faculty, session, {asha.id: ("present", "")})
    assert [r.competency.code for r in db.session.scalars(select(CompetencyEvidence))] == [
        "forecasting"]


def test_the_completion_listener_is_connected_once(app):
    import lms.competencies

    assert listeners_of(attendance_completion.Completed, app).count(
        lms.competencies.record_course_evidence) == 1
    connect(app, attendance_completion.Completed, lms.competencies.record_course_evidence)
    assert listeners_of(attendance_completion.Completed, app).count(
        lms.competencies.record_course_evidence) == 1



def test_faculty_rate_with_a_reason_and_bad_input_stores_nothing(ctx, make_user):
    services.ensure_framework()
    faculty = make_user(Role.FACULTY, org="SU", name="Fay Faculty")
    learner = make_user()
    forecasting = competency("forecasting")
    for level in (0, 5, "7", "expert", None):
        with pytest.raises(InvalidInput) as error:
            services.rate(faculty, learner, forecasting.id, level, "Good work")
        assert error.value.errors == [("level", services.LEVEL_MESSAGE)]
    with pytest.raises(InvalidInput) as error:
        services.rate(faculty, learner, "", 9, "")
    assert [f for f, _ in error.value.errors] == ["competency", "level", "note"]
    services.retire_competency(competency("machine-learning"))
    with pytest.raises(InvalidInput, match="has been retired, so evidence can no longer"):
        services.rate(faculty, learner, competency("machine-learning").id, 2, "Good work")
    with pytest.raises(NotAllowed):
        services.rate(learner, faculty, forecasting.id, 2, "Good work")
    with pytest.raises(DomainError, match="cannot rate yourself"):
        services.rate(faculty, faculty, forecasting.id, 2, "Good work")
    assert evidence_count() == 0
    with time_machine.travel(datetime(2027, 5, 4, 10, tzinfo=UTC), tick=False):
        row = services.rate(faculty, learner, str(forecasting.id), "3", "  Led the project  ")
    assert (row.source, row.level, row.note, row.recorded_by_id, row.recorded_at) == (
        "faculty", 3, "Led the project", faculty.id, datetime(2027, 5, 4, 10, tzinfo=UTC))


def test_self_assessment_is_shown_beside_the_level_and_never_raises_it(ctx, make_user):
    services.ensure_framework()
    learner = make_user()
    forecasting = competency("forecasting")
    with pytest.raises(InvalidInput, match="Say what you have done"):
        services.self_assess(learner, forecasting.id, 2, " ")
    services.self_assess(learner, forecasting.id, 4, "I forecast A&E demand weekly")
    assert services.current_levels(learner.id) == {}
    line = records.learning_record(learner).competencies[0]
    assert (line.level, line.self_level, line.level_label) == (None, 4, "Not yet")


# ---------------------------------------------------------------------------- the derived level


def test_the_level_is_the_highest_from_courses_and_faculty_ratings():
    assert services.derive_level([("course", 2), ("faculty", 3), ("self", 4)]) == 3
    assert services.derive_level([("faculty", 1), ("course", 3)]) == 3
    # A later, lower rating does not lower it: evidence of a level shown stays shown.
    assert services.derive_level([("course", 3), ("faculty", 2)]) == 3
    assert services.derive_level([("self", 4)]) is None
    assert services.derive_level([]) is None


def test_sql_and_python_derive_the_same_levels(ctx, make_user):
    services.ensure_framework()
    rng = random.Random(7)
    faculty = make_user(Role.FACULTY, org="SU")
    people = [make_user() for _ in range(6)]
    codes = ["forecasting", "open-source-coding", "machine-learning"]
    for _ in range(40):
        who = rng.choice(people)
        code = rng.choice(codes)
        if rng.random() < 0.5:
            services.self_assess(who, competency(code).id, rng.randint(1, 4), "Me")
        else:
            services.rate(faculty, who, competency(code).id, rng.randint(1, 4), "Seen")
    for who in people:
        from_sql = services.current_levels(who.id)
        from_record = {line.competency.id: line.level
                       for line in records.learning_record(who).competencies
                       if line.level is not None}
        assert from_sql == from_record


# ---------------------------------------------------------------------------- the record


def _completed(user, cohort, at: datetime) -> Completion:
    enrolment = db.session.scalar(select(Enrolment).where(Enrolment.user_id == user.id,
                                                          Enrolment.offering_id == cohort.id))
    if enrolment is None:
        enrolment = Enrolment(offering_id=cohort.id, user_id=user.id, state="completed")
        db.session.add(enrolment)
        db.session.flush()
    completion = Completion(enrolment_id=enrolment.id, attendance_percent=90, completed_at=at)
    db.session.add(completion)
    db.session.flush()
    services.record_course_evidence(completion)
    return completion


def test_cpd_years_run_april_to_march_on_london_clocks(ctx):
    assert records.cpd_year_of(datetime(2027, 3, 31, 22, 59, tzinfo=UTC)) == 2026
    # 23:30 UTC on 31 March 2027 is 00:30 on 1 April in London (BST).
    assert records.cpd_year_of(datetime(2027, 3, 31, 23, 30, tzinfo=UTC)) == 2027
    assert records.cpd_year_label(2026) == "April 2026 to March 2027"


def test_learning_record_counts_cpd_hours_per_year_and_in_all(ctx, make_user, make_cohort):
    services.ensure_framework()
    learner = make_user(name="Leah Learner")
    first = make_cohort()
    first.course.cpd_hours = Decimal("6")
    second = make_cohort()
    second.course.cpd_hours = Decimal("2.5")
    services.set_course_levels(second.course, {competency("decision-quality").id: 1})
    _completed(learner, first, datetime(2027, 3, 20, 12, tzinfo=UTC))
    _completed(learner, second, datetime(2027, 4, 2, 12, tzinfo=UTC))
    huddles = _huddles(learner)
    with time_machine.travel(datetime(2027, 6, 1, tzinfo=UTC), tick=False):
        record = records.learning_record(learner)
    # Courses count in the year completed; event sessions attended (present or late) count
    # their length in the year held: the January huddles, 1 hour each, in 2026 to 2027.
    assert [(y.label, y.courses, y.course_hours, y.event_sessions, y.event_hours, y.cpd_hours)
            for y in record.years] == [
        ("April 2027 to March 2028", 1, Decimal("2.5"), 0, 0, Decimal("2.5")),
        ("April 2026 to March 2027", 1, Decimal("6"), 2, Decimal("2"), Decimal("8"))]
    assert record.total_cpd_hours == Decimal("10.5")
    assert [c.course_title for c in record.courses] == [second.course.title,
                                                        first.course.title]
    assert [(e.title, e.kind_label, e.sessions, e.hours) for e in record.events] == [
        (huddles.title, "Network", 2, Decimal("2"))]
    assert [(line.competency.code, line.level) for line in record.competencies] == [
        ("decision-quality", 1)]


def _huddles(user):
    from datetime import date, time

    from lms.events.models import NetworkSeries

    series = NetworkSeries(title="Huddles", status="running", booking_mode="open",
                           rrule="FREQ=WEEKLY;COUNT=3", first_day=date(2027, 1, 6),
                           local_start=time(12, 30), duration_minutes=60)
    for day in (6, 13, 20):
        start = datetime(2027, 1, day, 12, 30, tzinfo=UTC)
        series.sessions.append(Session(starts_at=start, ends_at=start + timedelta(hours=1)))
    db.session.add(series)
    db.session.flush()
    marks = [("present", None), ("late", 30), ("absent", None)]
    for session, (status, minutes) in zip(series.sessions, marks, strict=True):
        db.session.add(Attendance(session_id=session.id, user_id=user.id, status=status,
                                  source="import", minutes=minutes))
    db.session.flush()
    return series


def test_record_csv_neutralises_formulae_and_the_pdf_renders(app, make_user):
    with app.test_request_context():
        services.ensure_framework()
        faculty = make_user(Role.FACULTY, org="SU", name="=cmd|' /C calc'!A0")
        learner = make_user(name="@Leah")
        services.rate(faculty, learner, competency("forecasting").id, 2,
                      "+1 great; -2 nothing; =SUM(A1)")
        record = records.learning_record(learner)
        rows = list(csv.reader(io.StringIO(records.record_csv(record).decode("utf-8-sig"))))
        assert rows[0] == records.CSV_HEADER
        evidence = [row for row in rows if row[0] == "Evidence"][0]
        assert evidence[5].startswith("Faculty rating by =cmd")  # not at the cell's start
        assert not any(cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)
        from flask import render_template

        pdf = records.record_pdf(render_template("records/learning_record_pdf.html",
                                                 record=record))
        assert pdf.startswith(b"%PDF")
        db.session.rollback()


def test_learning_record_costs_the_same_queries_however_long(ctx, make_user, make_cohort,
                                                            count_queries):
    services.ensure_framework()
    faculty = make_user(Role.FACULTY, org="SU")
    counts = []
    for n in (1, 10):
        learner = make_user()
        for _ in range(n):
            cohort = make_cohort()
            services.set_course_levels(cohort.course, {competency("forecasting").id: 2})
            _completed(learner, cohort, utcnow() - timedelta(days=3))
            services.rate(faculty, learner, competency("evidence-review").id, 2, "Good")
        db.session.expire_all()
        with count_queries() as counted:
            record = records.learning_record(learner)
            assert len(record.courses) == n
        counts.append(counted.n)
    # Two of them are the courses' attendance shares (lms.attendance.standing.shares),
    # the same figures as the progress pages': sessions, then marks, for all courses at once.
    assert counts[0] == counts[1] <= 11, counts  # 11: talks presented (lms.talks) too


def test_course_mapping_rows_are_unique_per_course_and_competency(ctx, make_cohort):
    services.ensure_framework()
    course = make_cohort().course
    forecasting = competency("forecasting")
    services.set_course_levels(course, {forecasting.id: 2})
    services.set_course_levels(course, {forecasting.id: 3})
    assert db.session.scalar(select(func.count()).select_from(CourseCompetency)) == 1


def test_demo_seed_is_idempotent(ctx):
    from lms.accounts import demo as accounts_demo
    from lms.competencies import demo
    from lms.courses import demo as courses_demo
    from lms.offerings import demo as offerings_demo

    accounts_demo.seed()
    courses_demo.seed()
    offerings_demo.seed()
    first = demo.seed()
    assert first["competencies"] == len(FRAMEWORK)
    assert first["course competency links"] >= 15
    assert first["competency evidence"] >= 10
    assert demo.seed() == {"competencies": 0, "course competency links": 0,
                           "competency evidence": 0}
    from lms.accounts.models import User

    leah = db.session.scalar(select(User).where(User.email == "learner@example.nhs.uk"))
    sources = set(db.session.scalars(select(CompetencyEvidence.source).where(
        CompetencyEvidence.user_id == leah.id)))
    assert sources == {"self", "faculty"}
