"""Registers, check-in, Teams and Zoom report import, and completion."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import time_machine
from sqlalchemy import func, select

from lms.accounts.models import Role
from lms.attendance import completion, imports, policy
from lms.attendance import services as att
from lms.attendance.models import (
    Attendance,
    AttendanceImport,
    Completion,
    UnmatchedRow,
)
from lms.clock import utcnow
from lms.errors import DomainError, NotAllowed
from lms.extensions import db
from lms.notifications.models import OutboxMessage
from lms.offerings import services as places
from lms.offerings.models import Session

DATA = Path(__file__).parent / "data"
TEAMS = (DATA / "teams_attendance_report.csv").read_bytes()
ZOOM = (DATA / "zoom_participants_report.csv").read_bytes()


def marks(session) -> dict[str, tuple[str, str, int | None]]:
    rows = db.session.scalars(select(Attendance).where(Attendance.session_id == session.id))
    return {a.user.email: (a.status, a.source, a.minutes) for a in rows}


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


# The meeting of the sample reports: 10am on 12 January 2027 (they say 9:58:41am).
MEETING = datetime(2027, 1, 12, 10, 0, tzinfo=UTC)


@pytest.fixture
def course(ctx, make_user, make_cohort):
    """A 2-hour session, the sample reports' meeting, that Asha, Ben and Chloe (of the
    report files) booked a month before; "now" is pinned to half an hour after it ended."""
    with time_machine.travel(MEETING - timedelta(days=30), tick=False) as clock:
        faculty = make_user(Role.FACULTY, org="SU", email="faculty@example.nhs.uk")
        cohort = make_cohort(capacity=10)
        names = ["asha.patel", "ben.okafor", "chloe.singh"]
        people = {n: make_user(email=f"{n}@example.nhs.uk", name=n.replace(".", " ").title())
                  for n in names}
        for person in people.values():
            places.book(person, cohort)
        assert cohort.sessions[0].starts_at == MEETING
        clock.move_to(MEETING + timedelta(hours=2, minutes=30))
        yield cohort, cohort.sessions[0], faculty, people


def test_register_marks_and_notes(course):
    cohort, session, faculty, people = course
    att.record_register(faculty, session, {
        people["asha.patel"].id: ("present", ""),
        people["ben.okafor"].id: ("excused", "  On call  "),
    })
    got = marks(session)
    assert got["asha.patel@example.nhs.uk"][:2] == ("present", "register")
    row = db.session.scalar(select(Attendance).where(Attendance.user_id ==
                                                     people["ben.okafor"].id))
    assert (row.status, row.note) == ("excused", "On call")
    assert att.mark_all_present(faculty, session) == 1  # only Chloe was unmarked
    assert marks(session)["ben.okafor@example.nhs.uk"][0] == "excused"


def test_register_refuses_bad_marks_and_strangers(course, make_user):
    cohort, session, faculty, people = course
    with pytest.raises(DomainError):
        att.record_register(faculty, session, {people["asha.patel"].id: ("asleep", "")})
    stranger = make_user()
    with pytest.raises(Exception, match="not on this register"):
        att.record_register(faculty, session, {stranger.id: ("present", "")})
    with pytest.raises(NotAllowed):
        att.record_register(people["asha.patel"], session, {})
    assert count(Attendance) == 0


def test_late_arrival_without_a_place_can_be_added(course, make_user):
    cohort, session, faculty, people = course
    walk_in = make_user(email="walkin@example.nhs.uk")
    att.add_to_register(faculty, session, "WALKIN@example.nhs.uk")
    assert marks(session)["walkin@example.nhs.uk"][0] == "late"
    assert any(r.user.id == walk_in.id and not r.has_place for r in att.register(session))
    with pytest.raises(DomainError, match="No one has an account"):
        att.add_to_register(faculty, session, "nobody@example.nhs.uk")


def test_check_in_only_in_the_window_and_only_with_a_place(course, make_user):
    cohort, session, faculty, people = course
    code = att.check_in_code(session).code
    assert len(code) == 6 and att.check_in_code(session).code == code
    asha = people["asha.patel"]
    with time_machine.travel(session.starts_at - timedelta(minutes=1)), \
            pytest.raises(DomainError, match="not opened yet. It opens when the session starts "
                          "at 10am on Tuesday 12 January 2027"):
        att.check_in(asha, code)
    with time_machine.travel(session.starts_at + timedelta(minutes=1)):
        att.check_in(asha, code.lower())
        att.check_in(asha, f" {code[:3]} {code[3:]} ")  # twice, spaced: harmless
        with pytest.raises(DomainError, match="do not have a place"):
            att.check_in(make_user(), code)
        with pytest.raises(DomainError, match="not right"):
            att.check_in(asha, "ZZZZZZ")
    with time_machine.travel(session.ends_at + timedelta(minutes=1)), \
            pytest.raises(DomainError, match="closed"):
        att.check_in(people["ben.okafor"], code)
    assert marks(session) == {"asha.patel@example.nhs.uk": ("present", "check_in", None)}


@pytest.mark.parametrize(
    ("data", "name", "asha_minutes"),
    [(TEAMS, "Attendance report.csv", 122), (ZOOM, "participants_81234567890.csv", 117)],
    ids=["teams", "zoom"],
)
def test_importing_a_real_report_matches_by_email_and_counts_minutes(course, data, name,
                                                                     asha_minutes):
    cohort, session, faculty, people = course
    result = imports.import_report(faculty, session, data, name)
    got = marks(session)
    # Zoom lists Asha twice (she rejoined): her minutes are added up.
    assert got["asha.patel@example.nhs.uk"] == ("present", "import", asha_minutes)
    assert got["ben.okafor@example.nhs.uk"][:2] == ("absent", "import")  # 35 of 120 minutes
    assert got["chloe.singh@example.nhs.uk"][:2] == ("present", "import")  # 70 of 120
    assert result.present == 2
    unmatched = {r.name for r in result.attendance_import.unmatched}
    assert "Dee Visitor" in " ".join(unmatched)
    # Re-importing the same file changes nothing.
    db.session.commit()
    before = (count(Attendance), count(AttendanceImport), count(UnmatchedRow))
    with pytest.raises(DomainError, match="already been imported"):
        imports.import_report(faculty, session, data, name)
    db.session.rollback()
    assert (count(Attendance), count(AttendanceImport), count(UnmatchedRow)) == before


def test_import_keeps_a_register_mark_and_fills_its_minutes(course):
    cohort, session, faculty, people = course
    att.record_register(faculty, session, {people["ben.okafor"].id: ("present", "Phoned in")})
    imports.import_report(faculty, session, TEAMS, "report.csv")
    assert marks(session)["ben.okafor@example.nhs.uk"] == ("present", "register", 35)


def test_the_threshold_is_configurable(course):
    cohort, session, faculty, people = course
    imports.import_report(faculty, session, TEAMS, "report.csv", min_percent=25)
    assert marks(session)["ben.okafor@example.nhs.uk"][0] == "present"  # 35 >= 30 minutes


@pytest.mark.parametrize(
    ("data", "name", "message"),
    [
        (b"", "report.csv", "empty"),
        (b"\xff\xfe", "report.csv", "empty"),
        (TEAMS, "report.xlsx", "the .csv file"),
        (b"name,score\nasha,3\n", "report.csv", "not a Teams or Zoom"),
        (b"%PDF-1.4 binary \x00\x01\x02\x03" * 20, "report.csv", "not a text file"),
        ("1. Summary\n\n2. Participants\nName\tFirst Join\tLast Leave\tIn-Meeting Duration"
         "\tEmail\nAsha\tx\ty\tabout an hour\tasha.patel@example.nhs.uk\n".encode("utf-16"),
         "report.csv", "duration we cannot read"),
        (b"Name (Original Name),User Email,Duration (Minutes)\nAsha,a@x.uk,lots\n",
         "report.csv", "not a number"),
        (b"x" * (2 * 1024 * 1024 + 1), "report.csv", "2MB or smaller"),
    ],
    ids=["empty", "bom-only", "wrong-extension", "other-csv", "binary", "bad-duration",
         "bad-minutes", "oversized"],
)
def test_bad_files_get_a_clear_message_and_import_nothing(course, data, name, message):
    cohort, session, faculty, people = course
    with pytest.raises(DomainError, match=message) as error:
        imports.import_report(faculty, session, data, name)
    assert error.value.field == "report"
    db.session.rollback()
    assert (count(Attendance), count(AttendanceImport), count(UnmatchedRow)) == (0, 0, 0)


def test_unmatched_rows_can_be_matched_by_hand_or_ignored(course, make_user):
    cohort, session, faculty, people = course
    dee = make_user(email="dee.visitor@example.nhs.uk")
    result = imports.import_report(faculty, session, TEAMS, "report.csv")
    rows = {r.name: r for r in result.attendance_import.unmatched}
    imports.resolve_unmatched(faculty, rows["Dee Visitor (External)"], "dee.visitor@example.nhs.uk")
    imports.resolve_unmatched(faculty, rows["Guest Phone User"], None)
    assert marks(session)["dee.visitor@example.nhs.uk"][:2] == ("present", "import")
    assert rows["Guest Phone User"].resolution == "ignored"
    with pytest.raises(DomainError, match="already been dealt with"):
        imports.resolve_unmatched(faculty, rows["Guest Phone User"], None)
    assert dee.id in {a.user_id for a in db.session.scalars(select(Attendance))}


def _sessions(cohort, n: int, first_start):
    cohort.sessions.clear()
    for i in range(n):
        start = first_start + timedelta(days=7 * i)
        cohort.sessions.append(Session(starts_at=start, ends_at=start + timedelta(hours=2)))
    db.session.flush()
    return list(cohort.sessions)


def test_completion_counts_held_sessions_and_fires_once(course):
    cohort, _, faculty, people = course
    cohort.course.min_attendance_percent = 75
    cohort.course.requires_feedback = False
    sessions = _sessions(cohort, 4, utcnow() + timedelta(days=1))
    asha, ben = people["asha.patel"], people["ben.okafor"]
    with time_machine.travel(sessions[1].ends_at + timedelta(hours=1)):
        for s in sessions[:2]:
            att.record_register(faculty, s, {asha.id: ("present", ""), ben.id: ("absent", "")})
        progress = {p.enrolment.user_id: p for p in completion.progress_for(cohort)}
        assert (progress[asha.id].held, progress[asha.id].total) == (2, 4)
        assert progress[asha.id].percent == 100 and not progress[asha.id].complete
        assert progress[ben.id].percent == 0 and progress[ben.id].below_threshold
    with time_machine.travel(sessions[3].ends_at + timedelta(hours=1)):
        att.record_register(faculty, sessions[2], {asha.id: ("late", "")})
        att.record_register(faculty, sessions[3], {asha.id: ("excused", "Training")})
        assert count(Completion) == 1
        completion.refresh_completion(cohort)
        assert count(Completion) == 1  # fires once
    enrolment = next(p.enrolment for p in completion.progress_for(cohort) if p.enrolment.user_id ==
                     asha.id)
    assert enrolment.state == "completed"
    subjects = db.session.scalars(select(OutboxMessage.subject).where(
        OutboxMessage.to_address == asha.email)).all()
    assert subjects.count(f"You have completed {cohort.title}") == 1


def test_warnings_below_the_threshold_are_capped(course):
    cohort, _, faculty, people = course
    cohort.course.requires_feedback = False
    sessions = _sessions(cohort, 5, utcnow() + timedelta(days=1))
    ben = people["ben.okafor"]
    for s in sessions:
        with time_machine.travel(s.ends_at + timedelta(minutes=5)):
            att.record_register(faculty, s, {ben.id: ("absent", "")})
            completion.refresh_completion(cohort)
    warnings = db.session.scalars(select(OutboxMessage.subject).where(
        OutboxMessage.to_address == ben.email,
        OutboxMessage.subject.like("Your attendance on%"))).all()
    assert len(warnings) == completion.MAX_WARNINGS


def test_sign_off_is_needed_when_the_rule_says_so(course):
    cohort, session, faculty, people = course
    cohort.course.requires_signoff = True
    cohort.course.requires_feedback = False
    asha = people["asha.patel"]
    with time_machine.travel(session.ends_at + timedelta(minutes=5)):
        att.record_register(faculty, session, {asha.id: ("present", "")})
        assert count(Completion) == 0
        enrolment = next(p.enrolment for p in completion.progress_for(cohort)
                         if p.enrolment.user_id == asha.id)
        completion.sign_off(faculty, enrolment)
        assert count(Completion) == 1


def test_completion_that_needs_feedback_fires_when_the_feedback_arrives(course):
    from lms.feedback import builder
    from lms.feedback import services as feedback

    cohort, session, faculty, people = course
    cohort.course.requires_feedback = True
    asha = people["asha.patel"]
    survey = builder.create_survey(faculty, cohort, "blank", title="How was it?")
    question = builder.add_question(survey, builder.QuestionDetails(
        kind="rating", text="How likely are you to recommend it?"))
    survey.opens_at = session.starts_at
    survey.closes_at = session.ends_at + timedelta(days=7)
    db.session.flush()
    with time_machine.travel(session.ends_at + timedelta(minutes=5)):
        att.record_register(faculty, session, {asha.id: ("present", "")})
        assert count(Completion) == 0  # attended, but no feedback yet
        feedback.submit(asha, survey, {f"q{question.id}": "9"})
        assert count(Completion) == 1


def test_a_network_member_who_misses_huddles_is_not_warned(ctx):
    """Huddles are drop-in: missing most of them is not "falling behind" as on a course."""
    from lms.offerings import services as engine
    from tests.test_events_support import faculty, make_network, person

    series = make_network(count=4)
    member = person("drop-in")
    engine.book(member, series)
    sessions = sorted(series.sessions, key=lambda s: s.starts_at)
    for s in sessions[:3]:
        with time_machine.travel(s.ends_at + timedelta(minutes=5)):
            att.record_register(faculty(), s, {member.id: ("absent", "")})
            completion.refresh_completion(series)
            progress = next(p for p in completion.progress_for(series)
                            if p.enrolment.user_id == member.id)
    assert progress.below_threshold and progress.held == 3  # a course would have warned
    assert db.session.scalar(select(func.count(OutboxMessage.id)).where(
        OutboxMessage.to_address == member.email,
        OutboxMessage.subject.like("Your attendance on%"))) == 0


# ---------------------------------------------------------------------------- the policy


def test_nothing_is_marked_for_a_session_that_has_not_started(course):
    """"Mark all present" on a huddle a year ahead marked 176 people: now every way of
    recording attendance is refused until the session starts, and nothing is written."""
    cohort, session, faculty, people = course
    asha = people["asha.patel"]
    ahead = MEETING - timedelta(days=365)
    with time_machine.travel(ahead, tick=False):
        refusal = "once the session has started at 10am on Tuesday 12 January 2027"
        assert not policy.may_take_register(faculty, session)
        with pytest.raises(DomainError, match=refusal):
            att.mark_all_present(faculty, session)
        with pytest.raises(DomainError, match=refusal):
            att.record_register(faculty, session, {asha.id: ("present", "")})
        with pytest.raises(DomainError, match=refusal):
            att.add_to_register(faculty, session, asha.email)
        with pytest.raises(DomainError, match="import an attendance report once the session "
                           "has started at 10am on Tuesday 12 January 2027"):
            imports.import_report(faculty, session, TEAMS, "report.csv")
        with pytest.raises(DomainError, match="not opened yet"):
            att.check_in(asha, att.check_in_code(session).code)
    assert (count(Attendance), count(AttendanceImport)) == (0, 0)
    # A minute before the start it is still refused; at the start it is allowed.
    with time_machine.travel(MEETING - timedelta(minutes=1), tick=False):
        assert not policy.may_take_register(faculty, session)
    with time_machine.travel(MEETING, tick=False):
        assert policy.may_take_register(faculty, session)
        assert att.mark_all_present(faculty, session) == 3


def test_a_report_of_another_meeting_is_refused_naming_both_dates(course, make_cohort):
    cohort, session, faculty, people = course
    later = cohort.sessions[0].starts_at + timedelta(days=7)
    other = Session(starts_at=later, ends_at=later + timedelta(hours=2), title="Session 2")
    cohort.sessions.append(other)
    db.session.flush()
    with time_machine.travel(later + timedelta(hours=3), tick=False):
        for data, name in ((TEAMS, "report.csv"), (ZOOM, "zoom.csv")):
            with pytest.raises(DomainError) as error:
                imports.import_report(faculty, other, data, name)
            assert error.value.message == (
                "This report is of a meeting that started at 9:58am on Tuesday 12 January "
                "2027, but "
                "this session started at 10am on Tuesday 19 January 2027. Import it into the "
                "session it belongs to")
            assert error.value.field == "report"
    assert (count(Attendance), count(AttendanceImport), count(UnmatchedRow)) == (0, 0, 0)
    # Within the tolerance (a meeting opened early, or run on other clocks) it is accepted.
    shifted = MEETING + policy.REPORT_START_TOLERANCE - timedelta(minutes=5)
    session.starts_at, session.ends_at = shifted, shifted + timedelta(hours=2)
    with time_machine.travel(shifted + timedelta(hours=3), tick=False):
        assert imports.import_report(faculty, session, TEAMS, "report.csv").matched == 3


def test_a_date_written_day_first_is_read_both_ways(course):
    """"1/12/27" is 12 January in US order (the tools' default) and 1 December in UK order:
    a session on either date accepts the report, one on neither refuses it."""
    cohort, session, faculty, people = course
    december = datetime(2027, 12, 1, 10, 0, tzinfo=UTC)
    session.starts_at, session.ends_at = december, december + timedelta(hours=2)
    with time_machine.travel(december + timedelta(hours=3), tick=False):
        assert imports.import_report(faculty, session, ZOOM, "zoom.csv").present == 2


def test_the_same_report_saved_differently_is_not_imported_twice(course):
    cohort, session, faculty, people = course
    imports.import_report(faculty, session, ZOOM, "participants.csv")
    db.session.commit()
    before = (marks(session), count(AttendanceImport), count(UnmatchedRow))
    text = ZOOM.decode("utf-8-sig")
    lines = text.splitlines()
    variants = {
        "crlf": text.replace("\r\n", "\n").replace("\n", "\r\n").encode("utf-8-sig"),
        "lf, no byte order mark": text.replace("\r\n", "\n").encode(),
        "extra blank lines": (text + "\n\n\n").encode("utf-8-sig"),
        "rows in another order": "\n".join(lines[:4] + lines[4:][::-1]).encode(),
    }
    for label, data in variants.items():
        assert data != ZOOM, label
        with pytest.raises(DomainError, match="already been imported"):
            imports.import_report(faculty, session, data, "participants (1).csv")
        db.session.rollback()
        assert (marks(session), count(AttendanceImport), count(UnmatchedRow)) == before, label
    # A report that says something else (Ben stayed longer) is a new import.
    longer = text.replace(",35,", ",95,").encode("utf-8-sig")
    imports.import_report(faculty, session, longer, "participants (corrected).csv")
    assert marks(session)["ben.okafor@example.nhs.uk"] == ("present", "import", 95)
