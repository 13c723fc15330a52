"""Faculty messages (one email per person, to exactly the chosen people, kept on the
offering) and email preferences (optional emails switched off in one place; emails about a
person's own places always go)."""

from __future__ import annotations

from datetime import timedelta

import time_machine
from sqlalchemy import select

from lms.accounts.models import Role
from lms.clock import utcnow
from lms.events import reminders
from lms.events import services as ev
from lms.extensions import db
from lms.messages import services as messages
from lms.messages.models import FacultyMessage
from lms.notifications.models import EmailOptOut, OutboxMessage
from lms.notifications.preferences import EmailKind, choose, wants
from lms.offerings import services as engine
from tests.test_events_support import faculty, make_webinar, person, subjects_to


def addresses_with(subject: str) -> list[str]:
    return sorted(db.session.scalars(
        select(OutboxMessage.to_address).where(OutboxMessage.subject == subject)))


# ---------------------------------------------------------------------------- preferences


def test_reminders_switched_off_stop_the_reminder_but_never_the_cancellation(ctx):
    webinar = make_webinar(days_ahead=5)
    quiet, keen = person("quiet"), person("keen")
    engine.book(quiet, webinar)
    engine.book(keen, webinar)
    choose(quiet, [EmailKind.FEEDBACK_REMINDERS, EmailKind.FACULTY_MESSAGES])
    db.session.commit()
    assert not wants(quiet, EmailKind.SESSION_REMINDERS) and wants(keen, "session_reminders")
    with time_machine.travel(webinar.session.starts_at - timedelta(hours=23), tick=False):
        assert reminders.send_due_reminders() == 1
        ev.cancel_event_session(webinar.session, faculty(), "The speaker is unwell")
        db.session.commit()
    assert [s for s in subjects_to(keen) if s.startswith("Reminder")] == [
        f"Reminder: {webinar.title}"]
    assert [s for s in subjects_to(quiet) if s.startswith("Reminder")] == []
    cancelled = f"Cancelled: {webinar.title}"
    assert any(s.startswith(cancelled) for s in subjects_to(quiet))
    assert any(s.startswith(cancelled) for s in subjects_to(keen))


def test_choosing_again_switches_kinds_back_on_and_ignores_unknown_kinds(ctx):
    someone = person("chooser")
    choose(someone, ["faculty_messages", "not-a-kind"])
    assert sorted(db.session.scalars(select(EmailOptOut.kind).where(
        EmailOptOut.user_id == someone.id))) == ["feedback_reminders", "session_reminders"]
    choose(someone, [str(k) for k in EmailKind])
    assert all(wants(someone, kind) for kind in EmailKind)
    assert db.session.scalars(select(EmailOptOut).where(
        EmailOptOut.user_id == someone.id)).all() == []


def test_the_preferences_page_shows_and_keeps_the_choice(client, login, make_user):
    user = make_user()
    login(user)
    page = client.get("/profile/email-preferences").get_data(as_text=True)
    assert page.count(" checked") == 3
    assert "Emails you always get" in page and "Cancellations" in page
    assert 'href="/profile/email-preferences"' in client.get("/profile").get_data(as_text=True)
    after = client.post("/profile/email-preferences", data={"wanted": ["feedback_reminders"]},
                        follow_redirects=True).get_data(as_text=True)
    assert "Your email preferences have been saved." in after
    assert after.count(" checked") == 1
    assert 'value="feedback_reminders" aria-describedby="wanted-feedback_reminders-hint" ' \
           'checked' in after
    client.post("/profile/email-preferences", data={})
    assert " checked" not in client.get("/profile/email-preferences").get_data(as_text=True)


# ---------------------------------------------------------------------------- messages


def _full_cohort(make_cohort, make_user):
    cohort = make_cohort(capacity=1)
    holder = make_user(name="Hana Holder")
    waiting = [make_user(name=f"Wes Waiting {n}") for n in range(3)]
    engine.book(holder, cohort)
    for someone in waiting:
        engine.book(someone, cohort)
    return cohort, holder, waiting


def test_a_waiting_list_message_reaches_everyone_waiting_and_nobody_else(ctx, make_cohort,
                                                                        make_user):
    cohort, holder, waiting = _full_cohort(make_cohort, make_user)
    teacher = make_user(Role.FACULTY, org="SU")
    assert messages.preview(teacher, cohort, "waitlist", None, "A second cohort",
                            "We are adding **another** cohort.") == (3, 0)
    sent = messages.send(teacher, cohort, "waitlist", None, "A second cohort",
                         "We are adding **another** cohort.")
    assert addresses_with("A second cohort") == sorted(p.email for p in waiting)
    each = db.session.scalars(select(OutboxMessage).where(
        OutboxMessage.subject == "A second cohort")).all()
    assert all("," not in row.to_address for row in each)  # one email each, never CC
    assert "We are adding **another** cohort." in each[0].body_text
    assert (sent.recipient_count, sent.switched_off_count, sent.sent_by_id) == (3, 0,
                                                                               teacher.id)


def test_people_who_switched_faculty_messages_off_are_skipped_and_counted(ctx, make_cohort,
                                                                         make_user):
    cohort, holder, waiting = _full_cohort(make_cohort, make_user)
    teacher = make_user(Role.FACULTY, org="SU")
    choose(waiting[0], ["session_reminders"])
    assert messages.preview(teacher, cohort, "waitlist", None, "S", "B") == (2, 1)
    sent = messages.send(teacher, cohort, "waitlist", None, "S", "B")
    assert addresses_with("S") == sorted(p.email for p in waiting[1:])
    assert (sent.recipient_count, sent.switched_off_count) == (2, 1)


def test_everyone_and_one_sessions_people(ctx, make_cohort, make_user):
    cohort, holder, waiting = _full_cohort(make_cohort, make_user)
    teacher = make_user(Role.FACULTY, org="SU")
    messages.send(teacher, cohort, "everyone", None, "To all", "Hello")
    assert addresses_with("To all") == [holder.email]
    session = cohort.sessions[0]
    sent = messages.send(teacher, cohort, "session", session.id, "Room change", "Room 2")
    assert addresses_with("Room change") == [holder.email] and sent.session_id == session.id


def test_a_bad_message_says_what_is_wrong_and_sends_nothing(client, login, make_user,
                                                           make_cohort):
    cohort = make_cohort()
    login(make_user(Role.FACULTY, org="SU"))
    page = client.post(f"/faculty/offerings/{cohort.id}/messages",
                       data={"action": "send", "audience": "session", "session_id": "",
                             "subject": "", "body": ""}).get_data(as_text=True)
    assert "There is a problem" in page
    for message in ("Select the session", "Enter a subject", "Enter a message"):
        assert message in page
    with client.application.app_context():
        assert db.session.scalars(select(FacultyMessage)).all() == []
        assert db.session.scalars(select(OutboxMessage)).all() == []


def test_faculty_preview_then_send_and_the_message_is_kept_on_the_offering(
        app, client, login, make_user, make_cohort):
    cohort = make_cohort(capacity=1)
    holder = make_user(name="Hana Holder")
    waiter = make_user(name="Wes Waiting")
    for someone in (holder, waiter):
        login(someone)
        client.post(f"/offerings/{cohort.id}/book")
    teacher = make_user(Role.FACULTY, org="SU", name="Fiona Faculty")
    login(teacher)
    people_page = client.get(f"/faculty/offerings/{cohort.id}/people").get_data(as_text=True)
    assert f'/faculty/offerings/{cohort.id}/messages' in people_page
    form = {"audience": "waitlist", "subject": "News", "body": "An *extra* date"}
    preview = client.post(f"/faculty/offerings/{cohort.id}/messages",
                          data={**form, "action": "preview"}).get_data(as_text=True)
    assert "This will be sent to 1 person" in preview and "<em>extra</em>" in preview
    with app.app_context():
        assert db.session.scalars(select(OutboxMessage).where(
            OutboxMessage.subject == "News")).all() == []
    sent = client.post(f"/faculty/offerings/{cohort.id}/messages",
                       data={**form, "action": "send"}, follow_redirects=True)
    page = sent.get_data(as_text=True)
    assert "Your message was sent to 1 person." in page
    assert "Messages sent" in page and "by Fiona Faculty to everyone on the waiting list: 1 " \
        "person" in page
    with app.app_context():
        assert addresses_with("News") == [waiter.email]
    people_page = client.get(f"/faculty/offerings/{cohort.id}/people").get_data(as_text=True)
    listed = people_page.split('id="messages-sent"', 1)[1].split("</ul>", 1)[0]
    assert "News" in listed and "by Fiona Faculty, to 1 person (the waiting list)" in listed


def test_the_people_page_lists_the_latest_three_messages_and_counts_them_all(ctx, make_cohort,
                                                                            make_user):
    from lms.messages.pages import recent_on

    cohort, holder, waiting = _full_cohort(make_cohort, make_user)
    teacher = make_user(Role.FACULTY, org="SU")
    assert recent_on(cohort) == ([], 0)
    for n in range(5):
        with time_machine.travel(utcnow() + timedelta(minutes=n), tick=False):
            messages.send(teacher, cohort, "everyone", None, f"Note {n}", "Hello")
    latest, total = recent_on(cohort)
    assert [m.subject for m in latest] == ["Note 4", "Note 3", "Note 2"] and total == 5
