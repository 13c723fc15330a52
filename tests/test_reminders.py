"""Reminders before sessions and emails after them: when they are due (frozen time), to whom,
and exactly once, even with two sweeps at once (threads and processes, SQLite and
PostgreSQL) or a sweep killed mid-run and started again."""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
import time as clock
from collections import Counter
from datetime import datetime, time, timedelta

import pytest
import time_machine
from flask import Flask
from sqlalchemy import func, select

from lms import create_app
from lms.events import reminders, session_bookings
from lms.events import services as ev
from lms.events.models import ReminderSent
from lms.extensions import db
from lms.notifications.models import OutboxMessage
from lms.notifications.preferences import EmailKind, choose
from lms.offerings import services as engine
from tests.test_events_support import (
    add_session,
    faculty,
    make_festival,
    make_network,
    make_webinar,
    person,
    subjects_to,
)


def reminder_rows() -> list[tuple[int, int, str]]:
    return sorted(db.session.execute(
        select(ReminderSent.session_id, ReminderSent.user_id, ReminderSent.kind)).all())


def reminder_emails() -> list[tuple[str, str]]:
    return sorted(db.session.execute(
        select(OutboxMessage.to_address, OutboxMessage.subject)
        .where(OutboxMessage.subject.like("Reminder:%"))).all())


# ---------------------------------------------------------------------------- due-ness


def test_a_day_and_an_hour_before_by_default_each_once(ctx):
    webinar = make_webinar(days_ahead=5)
    booked = person(1)
    engine.book(booked, webinar)
    db.session.commit()
    starts = webinar.session.starts_at
    with time_machine.travel(starts - timedelta(hours=25), tick=False):
        assert reminders.send_due_reminders() == 0
    with time_machine.travel(starts - timedelta(hours=23), tick=False):
        assert reminders.send_due_reminders() == 1
        assert reminders.send_due_reminders() == 0
    with time_machine.travel(starts - timedelta(hours=2), tick=False):
        assert reminders.send_due_reminders() == 0
    with time_machine.travel(starts - timedelta(minutes=59), tick=False):
        assert reminders.send_due_reminders() == 1
        assert reminders.send_due_reminders() == 0
    with time_machine.travel(starts + timedelta(minutes=1), tick=False):
        assert reminders.send_due_reminders() == 0
    reminder_subjects = [s for s in subjects_to(booked) if s.startswith("Reminder")]
    assert reminder_subjects == [f"Reminder: {webinar.title}"] * 2
    kinds = [kind for _, _, kind in reminder_rows()]
    assert kinds == ["before:1440", "before:60"]
    body = db.session.scalars(select(OutboxMessage.body_text).where(
        OutboxMessage.subject.like("Reminder:%")).order_by(OutboxMessage.id)).all()
    assert "starts in 1 day" in body[0] and "starts in 1 hour" in body[1]
    assert "Joining link: https://teams.example.com/l/webinar-1" in body[1]


def test_a_late_booking_gets_only_the_nearest_reminder(ctx):
    webinar = make_webinar(days_ahead=5)
    db.session.commit()
    starts = webinar.session.starts_at
    with time_machine.travel(starts - timedelta(minutes=30), tick=False):
        booked = person(1)
        engine.book(booked, webinar)
        db.session.commit()
        assert reminders.send_due_reminders() == 1
    assert [kind for _, _, kind in reminder_rows()] == ["before:60"]


def test_reminders_follow_each_offerings_settings(ctx):
    quiet = make_webinar(title="Quiet", days_ahead=5)
    quiet.reminder_minutes = []
    weekly = make_webinar(title="Weekly", days_ahead=5)
    weekly.reminder_minutes = [10080]
    for w in (quiet, weekly):
        engine.book(person(w.title), w)
    db.session.commit()
    with time_machine.travel(weekly.session.starts_at - timedelta(days=6), tick=False):
        assert reminders.send_due_reminders() == 1
    with time_machine.travel(quiet.session.starts_at - timedelta(minutes=5), tick=False):
        assert reminders.send_due_reminders() == 0
    assert [kind for _, _, kind in reminder_rows()] == ["before:10080"]


def test_only_people_with_a_confirmed_place_are_reminded(ctx):
    webinar = make_webinar(capacity=1)
    booked, waiting = person(1), person(2)
    engine.book(booked, webinar)
    engine.book(waiting, webinar)
    fest = make_festival(days_ahead=5)
    talk = add_session(fest, "Talk")
    other = add_session(fest, "Other talk", start=time(14, 0), end=time(15, 0))
    registered_only, on_talk = person(3), person(4)
    engine.book(registered_only, fest)
    engine.book(on_talk, fest)
    session_bookings.book_session(on_talk, talk)
    db.session.commit()
    with time_machine.travel(webinar.session.starts_at - timedelta(minutes=30), tick=False):
        reminders.send_due_reminders()
    with time_machine.travel(talk.starts_at - timedelta(minutes=30), tick=False):
        reminders.send_due_reminders()
    with time_machine.travel(other.starts_at - timedelta(minutes=30), tick=False):
        reminders.send_due_reminders()
    got = {(s, u) for s, u, _ in reminder_rows()}
    assert got == {(webinar.session.id, booked.id), (talk.id, on_talk.id)}


def test_a_cancelled_session_or_network_meeting_gets_no_reminder(ctx):
    series = make_network(count=2)
    engine.book(person(1), series)
    ev.cancel_event_session(series.sessions[0], faculty(), "Holiday")
    db.session.commit()
    with time_machine.travel(series.sessions[0].starts_at - timedelta(minutes=30),
                             tick=False):
        assert reminders.send_due_reminders() == 0


def test_after_session_senders_are_an_extension_point(ctx):
    """Any feature may add a sender (the feedback feature does, for sessions with a
    survey); here a test sender says which sessions it has something for."""
    webinar = make_webinar(title="With survey")
    other = make_webinar(title="Without survey")
    for w in (webinar, other):
        engine.book(person(w.title), w)
    db.session.commit()
    asked: list[list[int]] = []

    def with_survey(ids: list[int], now: datetime) -> set[int]:
        asked.append(ids)
        return {webinar.session.id} & set(ids)

    reminders.add_after_session(ctx, reminders.AfterSessionSender(
        kind="test-after", sessions_with=with_survey, template="events/reminder",
        subject=lambda s: f"Please give feedback: {s.offering.title}",
        context=lambda s, now: {"lead_time": "0 minutes"}))
    try:
        end = webinar.session.ends_at
        with time_machine.travel(end + timedelta(minutes=1), tick=False):
            assert reminders.send_due_reminders() == 0  # not yet: a few minutes' delay
        with time_machine.travel(end + timedelta(minutes=10), tick=False):
            assert reminders.send_due_reminders() == 1
            assert reminders.send_due_reminders() == 0
        with time_machine.travel(end + timedelta(days=4), tick=False):
            assert reminders.send_due_reminders() == 0
        other.after_session_emails = False
        assert [k for _, _, k in reminder_rows() if k == "test-after"] == ["test-after"]
        assert any(ids for ids in asked)
    finally:
        reminders.remove_after_session(ctx, "test-after")


# ---------------------------------------------------------------------------- exactly once


PEOPLE = 60


def build_due_reminders(target: Flask) -> tuple[datetime, int]:
    """Two webinars and a festival session starting tomorrow, with people booked: returns
    the moment at which every one of their one-hour reminders is due, and how many."""
    with target.app_context():
        first = make_webinar(title="First webinar", days_ahead=2)
        second = make_webinar(title="Second webinar", days_ahead=2)
        fest = make_festival(days_ahead=2)
        talk = add_session(fest, "Festival talk", start=time(12, 30), end=time(13, 30))
        total = 0
        for n in range(PEOPLE):
            someone = person(f"c{n}")
            engine.book(someone, first if n % 2 else second)
            total += 1
            if n % 3 == 0:
                engine.book(someone, fest)
                session_bookings.book_session(someone, talk)
                total += 1
        db.session.query(OutboxMessage).delete()
        db.session.commit()
        starts = {first.session.starts_at, second.session.starts_at, talk.starts_at}
        assert len(starts) == 1
        due_at = starts.pop() - timedelta(minutes=59)
        return due_at, total


def check_exactly_once(target: Flask, total: int) -> None:
    with target.app_context():
        rows = reminder_rows()
        assert len(rows) == total == len(set(rows))
        emails = reminder_emails()
        assert len(emails) == total
        db.session.rollback()


def test_more_due_than_a_batch_each_goes_once_and_none_to_who_switched_them_off(app):
    """Batches of 7 over 80 due reminders (the last one short): each goes once, and people
    who switched session reminders off get none, though they are recorded as done so no
    sweep considers them again."""
    now, total = build_due_reminders(app)
    places = {f"pc{n}@example.nhs.uk": 2 if n % 3 == 0 else 1 for n in range(PEOPLE)}
    with app.app_context():
        quiet = [person(f"c{n}") for n in (0, 7, 8)]
        for someone in quiet:
            choose(someone, [EmailKind.FEEDBACK_REMINDERS, EmailKind.FACULTY_MESSAGES])
        db.session.commit()
        switched_off = sum(places.pop(someone.email) for someone in quiet)
        batches: list[int] = []
        sent = reminders.send_due_reminders(now=now, batch_size=7, after_batch=batches.append)
        assert len(batches) == -(-total // 7) and total % 7
        assert sent == total - switched_off == batches[-1]
        rows = reminder_rows()
        assert len(rows) == total == len(set(rows))
        emails = reminder_emails()
        assert Counter(to for to, _ in emails) == places
        assert reminders.send_due_reminders(now=now, batch_size=7) == 0
        assert len(reminder_emails()) == len(emails)
        db.session.rollback()


def _sweep_in_thread(target: Flask, now: datetime, barrier: threading.Barrier,
                     results: list, errors: list) -> None:
    with target.app_context():
        try:
            barrier.wait()
            results.append(reminders.send_due_reminders(now=now, batch_size=7))
        except BaseException as error:  # noqa: BLE001 - collected and asserted on
            errors.append(error)
        finally:
            db.session.remove()


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgres",
                                                            marks=pytest.mark.postgres)])
def test_two_sweeps_in_two_threads_send_each_reminder_once(request, app, backend):
    target = request.getfixturevalue("pg_app") if backend == "postgres" else app
    now, total = build_due_reminders(target)
    barrier = threading.Barrier(3)
    results: list[int] = []
    errors: list[BaseException] = []
    threads = [threading.Thread(target=_sweep_in_thread,
                                args=(target, now, barrier, results, errors))
               for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sum(results) == total
    check_exactly_once(target, total)


def _sweep_in_process(url: str, outbox: str, now_iso: str, pause: float,
                      ready=None) -> None:
    """A scheduler's sweep in a process of its own, on its own app and connections."""
    child = create_app("testing", SQLALCHEMY_DATABASE_URI=url, MAIL_OUTBOX_DIR=outbox)
    with child.app_context():
        if ready is not None:
            ready.wait()
        reminders.send_due_reminders(
            now=datetime.fromisoformat(now_iso), batch_size=10,
            after_batch=(lambda _sent: clock.sleep(pause)) if pause else None)
        db.session.remove()
        db.engine.dispose()


def _target(request, app, backend) -> Flask:
    return request.getfixturevalue("pg_app") if backend == "postgres" else app


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgres",
                                                            marks=pytest.mark.postgres)])
def test_two_sweeps_in_two_processes_send_each_reminder_once(request, app, backend, tmp_path):
    target = _target(request, app, backend)
    now, total = build_due_reminders(target)
    context = multiprocessing.get_context("fork")
    ready = context.Barrier(2)
    url = target.config["SQLALCHEMY_DATABASE_URI"]
    processes = [context.Process(target=_sweep_in_process,
                                 args=(url, str(tmp_path), now.isoformat(), 0.0, ready))
                 for _ in range(2)]
    for p in processes:
        p.start()
    for p in processes:
        p.join(60)
        assert p.exitcode == 0
    check_exactly_once(target, total)


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgres",
                                                            marks=pytest.mark.postgres)])
def test_a_sweep_killed_mid_run_and_run_again_sends_each_reminder_once(request, app, backend,
                                                                       tmp_path):
    target = _target(request, app, backend)
    now, total = build_due_reminders(target)
    url = target.config["SQLALCHEMY_DATABASE_URI"]
    context = multiprocessing.get_context("fork")
    victim = context.Process(target=_sweep_in_process,
                             args=(url, str(tmp_path), now.isoformat(), 0.3))
    victim.start()
    deadline = clock.monotonic() + 30
    done = 0
    while clock.monotonic() < deadline:
        with target.app_context():
            done = db.session.scalar(select(func.count(ReminderSent.id)))
            db.session.rollback()
        if done >= 20:
            break
        clock.sleep(0.05)
    os.kill(victim.pid, signal.SIGKILL)
    victim.join(10)
    assert victim.exitcode == -signal.SIGKILL
    with target.app_context():
        claimed = db.session.scalar(select(func.count(ReminderSent.id)))
        queued = len(reminder_emails())
        db.session.rollback()
    assert 20 <= claimed < total, "the sweep was killed part of the way through"
    # Claims and emails are committed together: a batch is all there or not at all.
    assert claimed == queued and claimed % 10 == 0
    with target.app_context():
        sent_again = reminders.send_due_reminders(now=now)
        db.session.remove()
    assert sent_again == total - claimed
    check_exactly_once(target, total)
    with target.app_context():
        assert reminders.send_due_reminders(now=now) == 0


def test_the_scheduler_runs_the_reminder_job():
    from lms.jobs import JOBS

    assert "send_reminders_job" in {job.__name__ for job, _ in JOBS}

