"""Course and cohort rules, tested without HTTP: what is accepted, what is refused with which
message, and that a refusal changes nothing."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from decimal import Decimal

import pytest
import time_machine
from sqlalchemy import func, select

from lms.accounts.models import Role
from lms.courses import cohorts, services
from lms.courses.models import Cohort, Course
from lms.errors import DomainError, InvalidInput, NotAllowed
from lms.extensions import db
from lms.notifications.models import OutboxMessage
from lms.offerings.models import Enrolment, Offering, Session
from lms.offerings.schedule import SessionDetails
from tests import catalogue_builders as build
from tests.conftest import organisation

NOW = datetime(2027, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def utc(*parts) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def details(**changes) -> services.CourseDetails:
    values = {
        "title": "Time-series forecasting with R", "summary": "Forecast demand with R.",
        "kind": "short_course", "strand": "analytical_capability", "format": "online",
        "description": "Two half days.\n\nBring a laptop.", "target_audience": "Analysts",
        "cpd_hours": "7.5", "competency_ids": [3, 1, 3], "min_attendance_percent": 80,
    }
    values.update(changes)
    return services.CourseDetails(**values)


def settings(**changes) -> cohorts.CohortSettings:
    values = {"name": "Spring 2027", "capacity": 20, "booking_mode": "open"}
    values.update(changes)
    return cohorts.CohortSettings(**values)


def session(day=date(2027, 3, 29), start=time(10, 0), end=time(12, 0), **fields):
    return SessionDetails(day, start, end, **fields)


def count(model) -> int:
    return db.session.scalar(select(func.count(model.id)))


def error_fields(refused: pytest.ExceptionInfo) -> set[str | None]:
    return {name for name, _ in refused.value.errors}


# ---------------------------------------------------------------------------- courses


def test_create_course_cleans_and_stores_the_details(ctx):
    course = services.create_course(details(title="  Time-series   forecasting with R "))
    assert course.title == "Time-series forecasting with R"
    assert course.cpd_hours == Decimal("7.5")
    assert course.competency_ids == [1, 3]
    assert course.description == "Two half days.\n\nBring a laptop."
    assert course.min_attendance_percent == 80 and course.published


def test_bad_course_input_reports_every_field_and_creates_nothing(ctx):
    with pytest.raises(InvalidInput) as refused:
        services.create_course(details(title=" ", summary="", kind="webinar", strand=None,
                                       format="", cpd_hours="1000", competency_ids=[0],
                                       min_attendance_percent=101))
    assert error_fields(refused) == {"title", "summary", "kind", "strand", "format",
                                     "cpd_hours", "competency_ids", "min_attendance_percent"}
    assert count(Course) == 0


@pytest.mark.parametrize(("hours", "ok"), [
    ("0", True), ("999", True), ("12.5", True), ("12.50", True), ("12.25", False),
    ("-1", False), ("999.1", False), ("lots", False), ("", False), ("NaN", False),
])
def test_cpd_hours_are_0_to_999_with_one_decimal(ctx, hours, ok):
    if ok:
        assert services.create_course(details(cpd_hours=hours)).cpd_hours == Decimal(hours)
    else:
        with pytest.raises(InvalidInput) as refused:
            services.create_course(details(cpd_hours=hours))
        assert error_fields(refused) == {"cpd_hours"}


def test_titles_are_unique_whatever_the_case(ctx):
    first = services.create_course(details())
    with pytest.raises(InvalidInput, match="already a course with this title"):
        services.create_course(details(title="TIME-SERIES FORECASTING WITH R"))
    other = services.create_course(details(title="Evaluation design"))
    with pytest.raises(InvalidInput):
        services.update_course(other, details(title=first.title.lower()))
    services.update_course(first, details(title=first.title, summary="New summary"))
    assert first.summary == "New summary"


def test_renaming_a_course_renames_its_cohorts(ctx):
    course = build.course("Old name")
    cohort = build.cohort(course, name="Spring")
    services.update_course(course, details(title="New name"))
    assert cohort.title == "New name – Spring"


# ---------------------------------------------------------------------------- creating cohorts


def test_create_cohort_makes_a_draft_with_sessions_in_london_time(ctx, frozen, people):
    course = build.course()
    cohort = cohorts.create_cohort(
        course,
        settings(lead_ids=[people.faculty.id], offer_hours=24),
        [session(day=date(2027, 3, 23)), session(day=date(2027, 3, 30), title="Part 2")],
    )
    assert cohort.status == "draft" and cohort.course is course
    assert cohort.title == f"{course.title} – Spring 2027"
    assert cohort.offer_hours == 24
    assert [s.starts_at for s in cohort.sessions] == [utc(2027, 3, 23, 10, 0),
                                                       utc(2027, 3, 30, 9, 0)]
    assert [u.id for u in cohort.leads] == [people.faculty.id]


def test_bad_cohort_input_reports_every_field_and_creates_nothing(ctx, frozen, people):
    course = build.course()
    build.cohort(course, name="Spring 2027")
    with pytest.raises(InvalidInput) as refused:
        cohorts.create_cohort(
            course,
            settings(name="spring 2027", capacity=None, booking_mode="nomination",
                     offer_hours=0, lead_ids=[people.learner.id]),
            [session(day=date(2027, 2, 1)), session(end=time(9, 0))],
        )
    assert error_fields(refused) == {"name", "capacity", "offer_hours", "lead_ids",
                                     "session1_day", "session2_end"}
    assert count(Offering) == 1


def test_a_cohort_needs_a_session(ctx, frozen):
    with pytest.raises(InvalidInput) as refused:
        cohorts.create_cohort(build.course(), settings(), [])
    assert refused.value.errors == [("session1_day", "Add at least one session")]


def test_quotas_are_for_icss_in_nomination_mode_within_the_capacity(ctx, frozen):
    course = build.course()
    bsol, bc, su = (organisation(code).id for code in ("BSOL", "BC", "SU"))
    with pytest.raises(InvalidInput, match="only to nomination"):
        cohorts.create_cohort(course, settings(quotas={bsol: 2}), [session()])
    with pytest.raises(InvalidInput, match="add up to 4 places, more than the 3"):
        cohorts.create_cohort(course, settings(booking_mode="nomination", capacity=3,
                                                quotas={bsol: 2, bc: 2}), [session()])
    with pytest.raises(InvalidInput, match="11 ICSs"):
        cohorts.create_cohort(course, settings(booking_mode="nomination",
                                                quotas={su: 2}), [session()])
    cohort = cohorts.create_cohort(
        course, settings(booking_mode="nomination", capacity=24, quotas={bsol: 2, bc: 0},
                         nomination_opens=date(2027, 3, 1), nomination_closes=date(2027, 3, 28),
                         quota_release=date(2027, 4, 1)),
        [session(day=date(2027, 5, 4))])
    assert {q.organisation_id: q.places for q in cohort.quotas} == {bsol: 2, bc: 0}
    assert cohort.nomination_opens_at == utc(2027, 3, 1, 0, 0)  # midnight GMT
    assert cohort.nomination_closes_at == utc(2027, 3, 28, 23, 0)  # end of the 28th, in BST
    assert cohort.quota_release_at == utc(2027, 3, 31, 23, 0)  # start of 1 April, BST
    assert cohorts.settings_of(cohort).nomination_closes == date(2027, 3, 28)
    assert count(Offering) == 1


def test_nomination_dates_must_be_in_order_and_only_for_nomination(ctx, frozen):
    course = build.course()
    with pytest.raises(InvalidInput) as refused:
        cohorts.create_cohort(course, settings(booking_mode="nomination",
                                                nomination_opens=date(2027, 3, 10),
                                                nomination_closes=date(2027, 3, 9),
                                                quota_release=date(2027, 3, 5)), [session()])
    assert error_fields(refused) == {"nomination_closes"}
    with pytest.raises(InvalidInput, match="apply only to nomination"):
        cohorts.create_cohort(course, settings(nomination_opens=date(2027, 3, 10)),
                               [session()])


# ---------------------------------------------------------------------------- updating cohorts


def test_capacity_cannot_drop_below_the_places_held_and_nothing_changes(ctx, frozen):
    cohort = build.cohort(build.course(), capacity=5)
    for state in ("enrolled", "enrolled", "nominated", "offered"):
        build.enrol(cohort, state=state)
    build.enrol(cohort, state="waitlisted")
    with pytest.raises(InvalidInput) as refused:
        cohorts.update_cohort(cohort, settings(name="Renamed", capacity=3))
    assert refused.value.errors == [
        ("capacity", "4 places are already taken, so the cohort needs at least 4 places")]
    assert cohort.capacity == 5 and cohort.name != "Renamed"
    cohorts.update_cohort(cohort, settings(name=cohort.name, capacity=4))
    assert cohort.capacity == 4


def test_more_places_are_offered_to_the_waiting_list(ctx, frozen):
    cohort = build.cohort(build.course(), capacity=1, starts=[utc(2027, 4, 6, 9, 0)])
    build.enrol(cohort)
    waiting = build.enrol(cohort, state="waitlisted", waitlist_position=1)
    cohorts.update_cohort(cohort, settings(name=cohort.name, capacity=2), "open")
    db.session.refresh(waiting)
    assert waiting.state == "offered"


@pytest.mark.parametrize(("start", "to", "ok"), [
    ("draft", "open", True), ("open", "closed", True), ("open", "running", True),
    ("closed", "open", True), ("closed", "running", True), ("running", "finished", True),
    ("draft", "running", False), ("open", "draft", False), ("finished", "open", False),
    ("open", "cancelled", False), ("running", "open", False),
])
def test_status_moves_forward_and_cancelling_is_separate(ctx, frozen, start, to, ok):
    cohort = build.cohort(build.course(), status=start)
    if ok:
        cohorts.update_cohort(cohort, settings(name=cohort.name), to)
        assert cohort.status == to
    else:
        with pytest.raises(InvalidInput) as refused:
            cohorts.update_cohort(cohort, settings(name=cohort.name), to)
        assert error_fields(refused) == {"status"}
        assert cohort.status == start


def test_a_cancelled_cohort_cannot_be_changed(ctx, frozen):
    cohort = build.cohort(build.course(), status="cancelled")
    with pytest.raises(DomainError, match="cancelled"):
        cohorts.update_cohort(cohort, settings(name="New"), "cancelled")


def test_booking_mode_is_fixed_once_people_are_in_play(ctx, frozen):
    cohort = build.cohort(build.course())
    cohorts.update_cohort(cohort, settings(name=cohort.name, booking_mode="approval"))
    assert cohort.booking_mode == "approval"
    build.enrol(cohort, state="requested")
    with pytest.raises(InvalidInput, match="cannot change now"):
        cohorts.update_cohort(cohort, settings(name=cohort.name, booking_mode="open"))
    assert cohort.booking_mode == "approval"


def test_a_quota_cannot_drop_below_the_places_its_ics_holds(ctx, frozen):
    bsol = organisation("BSOL").id
    cohort = build.cohort(build.course(), mode="nomination", quotas={"BSOL": 2})
    build.enrol(cohort, state="nominated", quota_organisation_id=bsol)
    build.enrol(cohort, state="enrolled", quota_organisation_id=bsol)
    with pytest.raises(InvalidInput, match="Birmingham and Solihull already has 2"):
        cohorts.update_cohort(cohort, settings(name=cohort.name, booking_mode="nomination",
                                                quotas={bsol: 1}))
    cohorts.update_cohort(cohort, settings(name=cohort.name, booking_mode="nomination",
                                            quotas={bsol: 3}))
    assert [q.places for q in cohort.quotas] == [3]


def test_update_replaces_quotas_and_leads(ctx, frozen, make_user):
    lead_a, lead_b = make_user(Role.FACULTY), make_user(Role.FACULTY)
    bsol, bc = organisation("BSOL").id, organisation("BC").id
    cohort = cohorts.create_cohort(
        build.course(), settings(booking_mode="nomination", quotas={bsol: 2},
                                 lead_ids=[lead_a.id]), [session()])
    cohorts.update_cohort(cohort, settings(booking_mode="nomination", quotas={bc: 1},
                                            lead_ids=[lead_b.id]))
    db.session.expire(cohort)
    assert {q.organisation_id: q.places for q in cohort.quotas} == {bc: 1}
    assert [u.id for u in cohort.leads] == [lead_b.id]


# ---------------------------------------------------------------------------- duplicating


def test_duplicate_moves_sessions_keeping_london_times_across_the_clock_change(
    ctx, frozen, make_user
):
    lead = make_user(Role.FACULTY)
    bsol = organisation("BSOL").id
    original = cohorts.create_cohort(
        build.course(),
        settings(booking_mode="nomination", capacity=22, quotas={bsol: 2}, lead_ids=[lead.id],
                 nomination_opens=date(2027, 3, 1), nomination_closes=date(2027, 3, 10)),
        [session(day=date(2027, 3, 16), start=time(10, 0), end=time(12, 0), title="One"),
         session(day=date(2027, 3, 23), start=time(14, 0), end=time(16, 30), title="Two",
                 location="Room 5"),
         session(day=date(2027, 3, 24), start=time(9, 0), end=time(10, 0), title="Dropped")],
    )
    original.sessions[2].status = "cancelled"
    original.status = "open"
    build.enrol(original)

    copy = cohorts.duplicate_cohort(original, "Cohort 2", date(2027, 3, 23))
    assert copy.status == "draft" and copy.id != original.id
    assert [s.title for s in copy.sessions] == ["One", "Two"]
    # 10:00 on 23 March is GMT; 14:00 on 30 March is BST: same wall clock, different UTC.
    assert [(s.starts_at, s.ends_at) for s in copy.sessions] == [
        (utc(2027, 3, 23, 10, 0), utc(2027, 3, 23, 12, 0)),
        (utc(2027, 3, 30, 13, 0), utc(2027, 3, 30, 15, 30)),
    ]
    assert copy.sessions[1].location == "Room 5"
    assert all(s.sequence == 0 and not s.is_cancelled for s in copy.sessions)
    assert (copy.capacity, copy.booking_mode) == (22, "nomination")
    assert {q.organisation_id: q.places for q in copy.quotas} == {bsol: 2}
    assert [u.id for u in copy.leads] == [lead.id]
    # The nomination window moves by the same week.
    assert copy.nomination_opens_at == utc(2027, 3, 8, 0, 0)
    assert copy.nomination_closes_at == utc(2027, 3, 18, 0, 0)  # the end of 17 March
    assert db.session.scalar(select(func.count(Enrolment.id))
                             .where(Enrolment.offering_id == copy.id)) == 0


def test_duplicate_refuses_a_past_first_day_or_a_taken_name(ctx, frozen):
    original = build.cohort(build.course(), name="Cohort 1",
                            starts=[utc(2027, 3, 10, 10, 0)])
    before = db.session.scalar(select(func.count(Cohort.id)))
    with pytest.raises(InvalidInput) as refused:
        cohorts.duplicate_cohort(original, "cohort 1", date(2027, 2, 1))
    assert error_fields(refused) == {"name", "first_day"}
    with pytest.raises(InvalidInput) as refused:
        cohorts.duplicate_cohort(original, "Cohort 2", None)
    assert error_fields(refused) == {"first_day"}
    assert db.session.scalar(select(func.count(Cohort.id))) == before
    assert db.session.scalar(select(func.count(Session.id))) == 1


# ---------------------------------------------------------------------------- cancelling


def test_cancel_cohort_cancels_places_and_tells_people(ctx, frozen, people):
    cohort = build.cohort(build.course())
    enrolment = build.enrol(cohort)
    told = cohorts.cancel_cohort(cohort, people.faculty, "Not enough bookings")
    assert told == 1
    assert cohort.status == "cancelled" and cohort.cancelled_reason == "Not enough bookings"
    db.session.refresh(enrolment)
    assert enrolment.state == "cancelled"
    # The cancellation, with the reason, and the calendar cancellation of the sessions.
    email, calendar_update = db.session.scalars(
        select(OutboxMessage).order_by(OutboxMessage.subject)).all()
    assert email.to_address == calendar_update.to_address == enrolment.user.email
    assert "Not enough bookings" in email.body_text
    assert ["method=CANCEL" in a.mimetype for a in calendar_update.attachments] == [True]


def test_only_managers_cancel_and_a_reason_is_needed(ctx, frozen, people):
    cohort = build.cohort(build.course())
    with pytest.raises(NotAllowed):
        cohorts.cancel_cohort(cohort, people.learner, "No")
    with pytest.raises(DomainError) as refused:
        cohorts.cancel_cohort(cohort, people.faculty, "  ")
    assert refused.value.field == "reason"
    assert cohort.status == "open"
