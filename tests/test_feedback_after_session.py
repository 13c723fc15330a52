"""The "please give feedback" email after a session with an open survey, sent by the real
reminder sweep: once per person with a place, linking to the survey they can answer, and not
for sessions without an open survey, offerings that turned it off, or people who left."""

from __future__ import annotations

from datetime import datetime, timedelta

import time_machine
from sqlalchemy import select

from lms.events import reminders, session_bookings
from lms.events.models import ReminderSent
from lms.extensions import db
from lms.feedback import after_session, builder
from lms.feedback.models import Survey, SurveyRespondent
from lms.offerings import services as engine
from tests.test_events_support import (
    add_session,
    faculty,
    make_festival,
    make_webinar,
    person,
    subjects_to,
)


def attach_survey(offering, opens_at: datetime, closes_at: datetime, session=None) -> Survey:
    builder.ensure_standard_templates()
    template = db.session.scalar(
        select(Survey).where(Survey.code == builder.STANDARD_TEMPLATE_CODE))
    survey = builder.create_survey(faculty(), offering, str(template.id))
    survey.opens_at, survey.closes_at = opens_at, closes_at
    survey.session_id = session.id if session is not None else None
    db.session.flush()
    return survey


def feedback_subjects(user) -> list[str]:
    return [s for s in subjects_to(user) if s.startswith("Please give feedback")]


def sweep(now: datetime) -> int:
    """The real sweep, at ``now`` (the clock too, as the scheduler would see it)."""
    with time_machine.travel(now, tick=False):
        return reminders.send_due_reminders(now=now)


def test_the_feedback_sender_is_registered_by_the_app(app):
    assert after_session.KIND in {s.kind for s in reminders.after_session_senders(app)}


def test_one_email_after_the_session_with_a_link_that_opens_the_survey(
        app, client, login, mailbox):
    with app.app_context():
        webinar = make_webinar(title="Decision quality in practice")
        booked = person(1)
        engine.book(booked, webinar)
        end = webinar.session.ends_at
        survey = attach_survey(webinar, end, end + timedelta(days=7))
        survey_id, title = survey.id, survey.title
        db.session.commit()

        assert sweep(end + timedelta(minutes=1)) == 0  # a few minutes after the end
        assert sweep(end + timedelta(minutes=10)) == 1
        assert sweep(end + timedelta(minutes=20)) == 0
        assert sweep(end + timedelta(hours=5)) == 0
        assert feedback_subjects(booked) == [
            "Please give feedback: Decision quality in practice"]
        rows = db.session.execute(select(ReminderSent.user_id, ReminderSent.kind)).all()
        assert rows == [(booked.id, "feedback")]
        db.session.expunge(booked)

    with time_machine.travel(end + timedelta(minutes=30), tick=False):
        body = next(m for m in mailbox.to(booked.email)
                    if m["Subject"].startswith("Please give feedback")
                    ).get_body(("plain",)).get_content()
        path = mailbox.last_link(booked.email, "/feedback/")
        login(booked)
        page = client.get(path)
    assert "Decision quality in practice" in body and title in body
    assert path == f"/feedback/{survey_id}"
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert title in html
    assert 'name="action"' in html  # the form to answer it, not a "closed" notice


def test_no_email_without_an_open_survey_when_turned_off_or_after_leaving(ctx):
    with_survey = make_webinar(title="Open survey")
    no_survey = make_webinar(title="No survey")
    closed = make_webinar(title="Closed survey")
    not_yet = make_webinar(title="Survey opens next week")
    turned_off = make_webinar(title="Emails turned off")
    end = with_survey.session.ends_at
    stayed, left = person("stayed"), person("left")
    for w in (with_survey, no_survey, closed, not_yet, turned_off):
        engine.book(stayed, w)
    engine.withdraw(left, engine.book(left, with_survey))
    attach_survey(with_survey, end - timedelta(days=1), end + timedelta(days=7))
    attach_survey(closed, end - timedelta(days=2), end)
    attach_survey(not_yet, end + timedelta(days=7), end + timedelta(days=14))
    attach_survey(turned_off, end - timedelta(days=1), end + timedelta(days=7))
    turned_off.after_session_emails = False
    db.session.commit()

    assert sweep(end + timedelta(minutes=10)) == 1
    assert feedback_subjects(stayed) == ["Please give feedback: Open survey"]
    assert feedback_subjects(left) == []
    assert sweep(end + timedelta(days=1)) == 0


def test_people_who_already_answered_are_not_asked_again(ctx):
    """A survey already open before the session (as one open across a network's meetings
    would be): whoever has answered it is not asked again; the others are."""
    webinar = make_webinar()
    answered, not_yet = person("answered"), person("not-yet")
    for who in (answered, not_yet):
        engine.book(who, webinar)
    end = webinar.session.ends_at
    survey = attach_survey(webinar, end - timedelta(days=1), end + timedelta(days=7))
    db.session.add(SurveyRespondent(survey_id=survey.id, user_id=answered.id))
    db.session.commit()
    assert sweep(end + timedelta(minutes=10)) == 1
    assert feedback_subjects(answered) == []
    assert len(feedback_subjects(not_yet)) == 1


def test_a_survey_that_opens_later_is_asked_about_once_it_opens(ctx):
    webinar = make_webinar()
    booked = person(1)
    engine.book(booked, webinar)
    end = webinar.session.ends_at
    attach_survey(webinar, end + timedelta(hours=2), end + timedelta(days=7))
    db.session.commit()
    assert sweep(end + timedelta(minutes=10)) == 0
    assert sweep(end + timedelta(hours=3)) == 1
    assert sweep(end + timedelta(hours=4)) == 0


def test_festival_sessions_use_their_own_survey_and_only_their_bookers(ctx, mailbox):
    festival = make_festival()
    first = add_session(festival, "Forecasting", track=0)
    second = add_session(festival, "Leading change", track=1)
    db.session.flush()
    at_first, at_second = person("first"), person("second")
    for who, session in ((at_first, first), (at_second, second)):
        engine.book(who, festival)
        db.session.flush()
        session_bookings.book_session(who, session)
    end = first.ends_at
    survey = attach_survey(festival, end, end + timedelta(days=7), session=first)
    db.session.commit()

    assert sweep(end + timedelta(minutes=10)) == 1
    assert feedback_subjects(at_first) == ["Please give feedback: INSIGHT festival: Forecasting"]
    assert feedback_subjects(at_second) == []
    with time_machine.travel(end + timedelta(minutes=30), tick=False):
        assert mailbox.last_link(at_first.email, "/feedback/") == f"/feedback/{survey.id}"


def test_which_sessions_have_a_survey_is_one_query(ctx, count_queries):
    webinars = [make_webinar(title=f"Webinar {n}") for n in range(4)]
    end = webinars[0].session.ends_at
    attach_survey(webinars[1], end - timedelta(hours=1), end + timedelta(days=1))
    attach_survey(webinars[3], end - timedelta(hours=1), end + timedelta(days=1))
    attach_survey(webinars[2], end - timedelta(days=3), end - timedelta(days=1))  # closed
    db.session.commit()
    ids = [w.session.id for w in webinars]
    with count_queries() as counted:
        found = after_session.sessions_with(ids, end + timedelta(minutes=10))
    assert found == {webinars[1].session.id, webinars[3].session.id}
    assert counted.n == 1

