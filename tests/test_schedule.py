"""Sessions: London wall-clock times to UTC across the clock changes, the rules for adding,
changing and cancelling sessions, and who hears about a change."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest
import time_machine
from sqlalchemy import func, select

from lms.clock import to_london, utcnow
from lms.errors import DomainError, InvalidInput
from lms.extensions import db
from lms.notifications.models import OutboxMessage
from lms.offerings import schedule
from lms.offerings.models import Session
from tests import catalogue_builders as build

# The clocks go forward at 01:00 on Sunday 28 March 2027 and back at 02:00 on 31 October 2027.
BEFORE_SPRING = datetime(2027, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def frozen():
    with time_machine.travel(BEFORE_SPRING, tick=False):
        yield


def utc(*parts) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def outbox() -> list[OutboxMessage]:
    return list(db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def session_count() -> int:
    return db.session.scalar(select(func.count(Session.id)))


# ---------------------------------------------------------------------------- local time


@pytest.mark.parametrize(("day", "expected"), [
    (date(2027, 3, 22), utc(2027, 3, 22, 10, 0)),  # the Monday before: GMT
    (date(2027, 3, 29), utc(2027, 3, 29, 9, 0)),  # the Monday after the spring change: BST
    (date(2027, 10, 25), utc(2027, 10, 25, 9, 0)),  # the Monday before the autumn change
    (date(2027, 11, 1), utc(2027, 11, 1, 10, 0)),  # the Monday after: GMT again
])
def test_ten_oclock_in_london_is_the_right_utc_moment_either_side_of_each_change(day, expected):
    assert schedule.local_to_utc(day, time(10, 0), "start") == expected


def test_a_time_skipped_when_the_clocks_go_forward_is_refused_naming_the_field():
    with pytest.raises(DomainError) as refused:
        schedule.local_to_utc(date(2027, 3, 28), time(1, 30), "start")
    assert refused.value.field == "start"
    assert "01:30 on 28 March 2027 does not exist" in refused.value.message
    # Either side of the gap is fine.
    assert schedule.local_to_utc(date(2027, 3, 28), time(0, 59), "x") == utc(2027, 3, 28, 0, 59)
    assert schedule.local_to_utc(date(2027, 3, 28), time(2, 0), "x") == utc(2027, 3, 28, 1, 0)


def test_a_time_that_happens_twice_in_autumn_means_the_first_one_in_summer_time():
    assert schedule.local_to_utc(date(2027, 10, 31), time(1, 30), "start") == \
        utc(2027, 10, 31, 0, 30)


def test_local_day_and_time_round_trips():
    moment = utc(2027, 6, 30, 23, 30)
    assert schedule.local_day_and_time(moment) == (date(2027, 7, 1), time(0, 30))


# ---------------------------------------------------------------------------- adding


def test_add_session_stores_utc_from_london_times(ctx, frozen):
    cohort = build.cohort(build.course())
    added = schedule.add_session(cohort, " Module  2 ", date(2027, 3, 29), time(10, 0),
                                 time(12, 30), "Room 4", "https://teams.example/abc")
    assert (added.starts_at, added.ends_at) == (utc(2027, 3, 29, 9, 0), utc(2027, 3, 29, 11, 30))
    assert added.title == "Module 2"
    assert added.sequence == 0
    assert added in cohort.sessions


def test_add_session_reports_every_problem_at_once_and_adds_nothing(ctx, frozen):
    cohort = build.cohort(build.course())
    before = session_count()
    with pytest.raises(InvalidInput) as refused:
        schedule.add_session(cohort, "x" * 201, None, time(10, 0), None, "",
                             "javascript:alert(1)", capacity=0)
    fields = {name for name, _ in refused.value.errors}
    assert fields == {"title", "day", "end", "join_url", "capacity"}
    assert session_count() == before


@pytest.mark.parametrize(("start", "end", "field", "message"), [
    (time(12, 0), time(10, 0), "end", "The session must end after it starts"),
    (time(10, 0), time(10, 0), "end", "The session must end after it starts"),
])
def test_a_session_must_end_after_it_starts(ctx, frozen, start, end, field, message):
    cohort = build.cohort(build.course())
    with pytest.raises(InvalidInput) as refused:
        schedule.add_session(cohort, "", date(2027, 4, 6), start, end)
    assert refused.value.errors == [(field, message)]


def test_a_session_in_the_gap_is_refused_and_nothing_is_saved(ctx, frozen):
    cohort = build.cohort(build.course())
    before = session_count()
    with pytest.raises(InvalidInput) as refused:
        schedule.add_session(cohort, "", date(2027, 3, 28), time(1, 15), time(3, 0))
    assert refused.value.errors[0][0] == "start"
    assert session_count() == before


def test_a_session_in_the_past_is_refused_unless_recording_history(ctx, frozen):
    cohort = build.cohort(build.course())
    with pytest.raises(InvalidInput) as refused:
        schedule.add_session(cohort, "", date(2027, 2, 1), time(10, 0), time(11, 0))
    assert refused.value.errors == [("day", "The session must start in the future")]
    past = schedule.add_session(cohort, "", date(2027, 2, 1), time(10, 0), time(11, 0),
                                allow_past=True)
    assert past.starts_at == utc(2027, 2, 1, 10, 0)


def test_past_sessions_are_allowed_only_on_running_or_finished_cohorts(ctx):
    course = build.course()
    assert not schedule.allows_past(build.cohort(course, status="open"))
    assert not schedule.allows_past(build.cohort(course, status="draft"))
    assert schedule.allows_past(build.cohort(course, status="running"))
    assert schedule.allows_past(build.cohort(course, status="finished"))


def test_a_cancelled_offering_refuses_new_and_changed_sessions(ctx, frozen):
    cohort = build.cohort(build.course(), status="cancelled")
    with pytest.raises(DomainError, match="cancelled"):
        schedule.add_session(cohort, "", date(2027, 4, 6), time(10, 0), time(11, 0))
    with pytest.raises(DomainError, match="cancelled"):
        schedule.update_session(cohort.sessions[0], "", date(2027, 4, 6), time(10, 0),
                                time(11, 0))


# ---------------------------------------------------------------------------- changing


def test_changing_a_session_bumps_its_sequence_and_emails_everyone_holding_a_place(
    ctx, frozen
):
    cohort = build.cohort(build.course("Forecasting"), starts=[utc(2027, 3, 23, 10, 0)])
    holders = [build.enrol(cohort, state=s).user
               for s in ("enrolled", "nominated", "approved", "offered", "completed")]
    others = [build.enrol(cohort, state=s).user
              for s in ("waitlisted", "withdrawn", "requested", "cancelled")]
    session = cohort.sessions[0]

    changed = schedule.update_session(session, "Session 1", date(2027, 3, 30), time(10, 0),
                                      time(12, 0), "Room 1", "")
    assert changed is True
    assert session.sequence == 1
    assert session.starts_at == utc(2027, 3, 30, 9, 0)  # 10:00 BST
    emails = outbox()
    assert sorted(m.to_address for m in emails) == sorted(p.email for p in holders)
    assert not {m.to_address for m in emails} & {p.email for p in others}
    body = emails[0].body_text
    assert emails[0].subject == f"Session changed: {cohort.title}"
    assert "Tuesday 30 March 2027, 10am to 12 noon" in body
    assert "Was: Tuesday 23 March 2027, 10am to 12 noon" in body


def test_saving_a_session_unchanged_neither_bumps_nor_emails(ctx, frozen):
    cohort = build.cohort(build.course(), starts=[utc(2027, 3, 23, 10, 0)])
    build.enrol(cohort)
    session = cohort.sessions[0]
    changed = schedule.update_session(session, session.title, date(2027, 3, 23), time(10, 0),
                                      time(12, 0), session.location, "")
    assert changed is False
    assert session.sequence == 0
    assert outbox() == []


def test_a_past_sessions_place_can_be_corrected_without_moving_it_or_emailing(ctx, frozen):
    cohort = build.cohort(build.course(), starts=[utc(2027, 2, 2, 10, 0)])
    build.enrol(cohort)
    session = cohort.sessions[0]
    schedule.update_session(session, "", date(2027, 2, 2), time(10, 0), time(12, 0),
                            "Room 9", "")
    assert session.location == "Room 9" and session.sequence == 1
    assert outbox() == []
    with pytest.raises(InvalidInput, match="future"):
        schedule.update_session(session, "", date(2027, 2, 3), time(10, 0), time(12, 0),
                                "Room 9", "")


def test_a_refused_change_leaves_the_session_as_it_was(ctx, frozen):
    cohort = build.cohort(build.course(), starts=[utc(2027, 3, 23, 10, 0)])
    build.enrol(cohort)
    session = cohort.sessions[0]
    with pytest.raises(InvalidInput):
        schedule.update_session(session, "New title", date(2027, 3, 30), time(12, 0),
                                time(11, 0), "Room 2", "")
    assert (session.title, session.location, session.sequence) == ("Session 1", "Room 1", 0)
    assert session.starts_at == utc(2027, 3, 23, 10, 0)
    assert outbox() == []


# ---------------------------------------------------------------------------- cancelling


def test_cancelling_a_session_bumps_the_sequence_and_tells_holders_why(ctx, frozen,
                                                                       make_user):
    faculty = make_user()
    cohort = build.cohort(build.course(), starts=[utc(2027, 3, 23, 10, 0),
                                                  utc(2027, 3, 30, 9, 0)])
    holder = build.enrol(cohort).user
    build.enrol(cohort, state="waitlisted")
    first = cohort.sessions[0]
    told = schedule.cancel_session(first, faculty, "  The trainer is   ill ")
    assert told == 1
    assert first.is_cancelled and first.sequence == 1
    [email] = outbox()
    assert email.to_address == holder.email
    assert "The reason given: The trainer is ill" in email.body_text
    assert "Tuesday 23 March 2027, 10am" in email.body_text
    assert [s.id for s in cohort.live_sessions] == [cohort.sessions[1].id]


def test_cancelling_needs_a_reason_and_refuses_the_last_or_a_past_session(ctx, frozen,
                                                                          make_user):
    faculty = make_user()
    cohort = build.cohort(build.course(), starts=[utc(2027, 2, 2, 10, 0),
                                                  utc(2027, 3, 30, 9, 0)])
    past, last = cohort.sessions
    with pytest.raises(InvalidInput) as refused:
        schedule.cancel_session(last, faculty, " ")
    assert refused.value.errors == [
        ("reason", "Give a reason for cancelling the session; it is included in the email "
                   "to the people booked"),
    ]
    with pytest.raises(InvalidInput, match="already taken place"):
        schedule.cancel_session(past, faculty, "Snow")
    assert not past.is_cancelled and not last.is_cancelled
    assert (past.sequence, last.sequence) == (0, 0)
    with pytest.raises(DomainError, match="cancelled"):
        schedule.cancel_session(build.cohort(build.course(), cancelled=(0,)).sessions[0],
                                faculty, "Again")


def test_holders_are_everyone_holding_a_place_by_name(ctx):
    cohort = build.cohort(build.course())
    kept = [build.enrol(cohort, state=s).user for s in ("enrolled", "offered")]
    build.enrol(cohort, state="declined")
    assert {p.id for p in schedule.holders(cohort)} == {p.id for p in kept}


def test_the_last_live_session_cannot_be_cancelled(ctx, frozen, make_user):
    cohort = build.cohort(build.course(), starts=[utc(2027, 3, 23, 10, 0),
                                                  utc(2027, 3, 30, 9, 0)], cancelled=(0,))
    with pytest.raises(InvalidInput, match="only session left"):
        schedule.cancel_session(cohort.sessions[1], make_user(), "Clash")


def test_session_changes_and_cancellations_carry_calendar_updates(ctx, make_user, make_cohort):
    """A change sends METHOD:REQUEST with a higher SEQUENCE, a cancellation METHOD:CANCEL with
    STATUS:CANCELLED, both for the session's stable UID."""
    from datetime import timedelta

    import icalendar
    from sqlalchemy import select

    from lms.accounts.models import Role
    from lms.notifications.models import OutboxAttachment
    from lms.offerings import services as places

    faculty = make_user(Role.FACULTY, org="SU")
    learner = make_user()
    cohort = make_cohort(capacity=5)
    # 10:00 in London a month ahead, not "now + 30 days": moved an hour later, a session that
    # started at now's time of day would cross midnight whenever the test ran after 21:00.
    start = schedule.local_to_utc(to_london(utcnow()).date() + timedelta(days=30), time(10, 0),
                                  "start")
    cohort.sessions[0].starts_at, cohort.sessions[0].ends_at = start, start + timedelta(hours=2)
    cohort.sessions.append(Session(starts_at=start + timedelta(days=7),
                                   ends_at=start + timedelta(days=7, hours=2)))
    db.session.flush()
    places.book(learner, cohort)
    first = cohort.sessions[0]
    day, at = schedule.local_day_and_time(first.starts_at + timedelta(hours=1))
    _, end = schedule.local_day_and_time(first.ends_at + timedelta(hours=1))
    schedule.update_session(first, first.title, day, at, end, "", "", None)
    schedule.cancel_session(first, faculty, "Speaker unwell")
    calendars = [icalendar.Calendar.from_ical(a.content) for a in db.session.scalars(
        select(OutboxAttachment).order_by(OutboxAttachment.id))]
    mine = [(str(c["METHOD"]), e) for c in calendars for e in c.walk("VEVENT")
            if str(e["UID"]).startswith(f"session-{first.id}@")]
    assert [(m, int(e["SEQUENCE"])) for m, e in mine][-2:] == [("REQUEST", 1), ("CANCEL", 2)]
    assert str(mine[-1][1]["STATUS"]) == "CANCELLED"
