"""iCalendar output: downloads, invitations, updates and cancellations, and personal feeds.
Every kind of output is read back with two parsers (icalendar, and vobject, which reads the
VTIMEZONE itself), and occurrences are expanded with recurring-ical-events."""

from __future__ import annotations

import re
from datetime import date, time, timedelta
from email import message_from_bytes
from email.policy import default as default_policy

import pytest
import recurring_ical_events
from sqlalchemy import select

from lms.accounts.models import User
from lms.clock import LONDON, to_london, utcnow
from lms.events import calendars, networks, pages, session_bookings
from lms.events import services as ev
from lms.extensions import db
from lms.notifications.models import OutboxMessage
from lms.notifications.services import build_message
from lms.offerings import calendar
from lms.offerings import feed as offering_feed
from lms.offerings import services as engine
from lms.offerings.models import Session
from tests.test_events_support import (
    add_session,
    faculty,
    local_start,
    london_day,
    make_festival,
    make_network,
    make_webinar,
    messages_to,
    parse_both,
    person,
    vevents,
)


def commit_and_ids(*objects) -> list[int]:
    db.session.commit()
    return [o.id for o in objects]


# ---------------------------------------------------------------------------- format


def test_long_lines_are_folded_at_75_octets_without_splitting_characters(ctx):
    title = "Évaluation des données – " * 7
    content = calendar.offering_calendar(make_webinar(title=title), person(1))
    for part in content.split(b"\r\n"):
        assert len(part) <= 75
        part.decode("utf-8")  # no character split across lines
    [event] = vevents(content)
    assert event.summary.value == title.strip()


def test_text_is_escaped_and_read_back_intact(ctx):
    webinar = make_webinar(title="Costs, benefits; and \\ trade-offs\nin practice")
    content = calendar.offering_calendar(webinar, person(1))
    first, _ = parse_both(content)
    [event] = vevents(content)
    assert event.summary.value == "Costs, benefits; and \\ trade-offs in practice"
    assert str(first.walk("VEVENT")[0]["SUMMARY"]) == event.summary.value


def test_the_feed_has_the_london_timezone_and_refresh_hints(ctx):
    series = make_network(count=3)
    member = person(1)
    engine.book(member, series)
    content = offering_feed.personal_feed(member)
    first, second = parse_both(content)
    [tz] = first.walk("VTIMEZONE")
    assert str(tz["TZID"]) == "Europe/London"
    assert "REFRESH-INTERVAL;VALUE=DURATION:PT1H" in content.decode()
    assert first["X-PUBLISHED-TTL"] == "PT1H"
    assert len(second.vevent_list) == 3


# ---------------------------------------------------------------------------- times


def test_a_year_of_huddles_is_at_1230_london_time_across_both_clock_changes(ctx):
    series = make_network(first_day=london_day(1), count=27)
    content = calendar.offering_calendar(series, person(1))
    # vobject reads the VTIMEZONE we wrote: if its rules were wrong, times would be wrong.
    starts = [local_start(e) for e in vevents(content)]
    assert len(starts) == 27
    assert {s.strftime("%H:%M") for s in starts} == {"12:30"}
    assert {s.utcoffset() for s in starts} == {timedelta(0), timedelta(hours=1)}
    for event, session in zip(vevents(content), series.sessions, strict=True):
        assert event.dtstart.value == session.starts_at
    # recurring-ical-events (on icalendar's parser) expands the same 27 occurrences.
    cal, _ = parse_both(content)
    first_day = to_london(series.sessions[0].starts_at).date()
    found = recurring_ical_events.of(cal).between(first_day, first_day + timedelta(days=400))
    assert sorted(e["DTSTART"].dt for e in found) == [s.starts_at for s in series.sessions]
    assert {e["DTSTART"].dt.astimezone(LONDON).strftime("%H:%M") for e in found} == {"12:30"}


@pytest.mark.parametrize(("month", "day_hint"), [(3, "spring"), (10, "autumn")])
def test_meetings_either_side_of_a_clock_change_keep_their_local_time(ctx, month, day_hint):
    year = to_london(utcnow()).year + 1
    last_sunday = date(year, month, 31)
    while last_sunday.weekday() != 6:
        last_sunday -= timedelta(days=1)
    series = make_network(first_day=last_sunday - timedelta(days=3), weekdays=("FR", "MO"),
                          interval=1, count=2, local_start=time(9, 0))
    events = vevents(calendar.offering_calendar(series, person(1)))
    before, after = (local_start(e) for e in events)
    assert before.date() < last_sunday < after.date(), day_hint
    assert before.strftime("%H:%M") == after.strftime("%H:%M") == "09:00"
    assert before.utcoffset() != after.utcoffset()


# ---------------------------------------------------------------------------- downloads


def test_a_session_download_has_the_joining_link_only_for_people_with_a_place(app, client,
                                                                               login):
    with app.app_context():
        webinar = make_webinar()
        booked, other = person(1), person(2)
        engine.book(booked, webinar)
        session_id = webinar.session.id
        webinar_id, booked_id, other_id = commit_and_ids(webinar, booked, other)
        booked_user, other_user = db.session.get(User, booked_id), db.session.get(User,
                                                                                  other_id)
        db.session.expunge_all()
    anonymous = client.get(f"/sessions/{session_id}/calendar.ics")
    assert anonymous.status_code == 200
    assert anonymous.mimetype == "text/calendar"
    assert b"teams.example.com" not in anonymous.data
    [event] = vevents(anonymous.data)
    assert event.uid.value == f"session-{session_id}@127.0.0.1"
    login(other_user)
    assert b"teams.example.com" not in client.get(f"/sessions/{session_id}/calendar.ics").data
    login(booked_user)
    mine = client.get(f"/offerings/{webinar_id}/calendar.ics")
    [event] = vevents(mine.data)
    assert "Joining link: https://teams.example.com/l/webinar-1" in event.description.value
    assert "Speakers: Dr Amara Okafor (Director of Analytics, NHS England)" in \
        event.description.value


def test_a_draft_cannot_be_downloaded_by_the_public(app, client):
    with app.app_context():
        webinar = make_webinar(status="draft")
        [webinar_id] = commit_and_ids(webinar)
        session_id = db.session.scalar(select(Session.id).where(
            Session.offering_id == webinar_id))
    assert client.get(f"/offerings/{webinar_id}/calendar.ics").status_code == 404
    assert client.get(f"/sessions/{session_id}/calendar.ics").status_code == 404
    assert client.get("/offerings/999999/calendar.ics").status_code == 404


def test_a_cancelled_meeting_is_marked_cancelled_in_downloads(ctx):
    series = make_network(count=3)
    ev.cancel_event_session(series.sessions[1], faculty(), "Bank holiday")
    events = vevents(calendar.offering_calendar(series, person(1)))
    assert [e.status.value for e in events] == ["CONFIRMED", "CANCELLED", "CONFIRMED"]
    assert events[1].sequence.value == "1"
    cal, _ = parse_both(calendar.offering_calendar(series, person(1)))
    assert [str(e["STATUS"]) for e in cal.walk("VEVENT")] == ["CONFIRMED", "CANCELLED",
                                                              "CONFIRMED"]


# ---------------------------------------------------------------------------- invitations


def test_invitation_update_and_cancellation_share_one_uid_with_rising_sequence(ctx):
    series = make_network(count=3)
    member = person(1)
    engine.book(member, series)
    meeting = series.sessions[0]
    details = pages.occurrence_details(meeting)
    details.start, details.end = time(13, 0), time(14, 0)
    networks.update_occurrence(faculty(), meeting, details)
    ev.cancel_event_session(meeting, faculty(), "Clash with a national event")
    update, cancel = messages_to(member)[-2:]
    parsed = {}
    for message, method in ((update, "REQUEST"), (cancel, "CANCEL")):
        [attachment] = message.attachments
        cal, second = parse_both(attachment.content)
        assert str(cal["METHOD"]) == method == second.method.value
        [event] = second.vevent_list
        parsed[method] = event
    uid = f"session-{meeting.id}@127.0.0.1"
    assert parsed["REQUEST"].uid.value == parsed["CANCEL"].uid.value == uid
    assert parsed["REQUEST"].sequence.value == "1"
    assert parsed["CANCEL"].sequence.value == "2"
    assert parsed["CANCEL"].status.value == "CANCELLED"
    assert local_start(parsed["REQUEST"]).strftime("%H:%M") == "13:00"
    assert parsed["REQUEST"].organizer.value == "mailto:no-reply@mdsn.example.nhs.uk"
    assert parsed["REQUEST"].attendee.value == f"mailto:{member.email}"


def test_an_invitation_email_carries_the_calendar_inline_and_attached(ctx):
    webinar = make_webinar()
    booked = person(1)
    engine.book(booked, webinar)
    [row] = messages_to(booked)
    message = message_from_bytes(bytes(build_message(row)), policy=default_policy)
    parts = [(p.get_content_type(), p.get_param("method"), p.get_filename())
             for p in message.walk() if p.get_content_type() == "text/calendar"]
    assert ("text/calendar", "REQUEST", None) in parts
    assert ("text/calendar", "REQUEST", "invitation.ics") in parts
    attached = next(p for p in message.walk() if p.get_filename() == "invitation.ics")
    [event] = vevents(attached.get_content().encode()
                      if isinstance(attached.get_content(), str) else attached.get_content())
    assert event.uid.value == f"session-{webinar.session.id}@127.0.0.1"


def test_a_short_course_place_gets_one_invitation_per_session(ctx, make_cohort):
    cohort = make_cohort(capacity=5)
    start = cohort.sessions[0].starts_at + timedelta(days=7)
    cohort.sessions.append(Session(starts_at=start, ends_at=start + timedelta(hours=2),
                                   title="Session 2"))
    db.session.flush()
    learner = person(1)
    engine.book(learner, cohort)
    [message] = messages_to(learner)
    assert [a.filename.split("-")[:2] for a in message.attachments] == [["invitation", "1"],
                                                                       ["invitation", "2"]]
    uids = {vevents(a.content)[0].uid.value for a in message.attachments}
    assert uids == {f"session-{s.id}@127.0.0.1" for s in cohort.sessions}


def test_existing_emails_still_work_without_attachments(ctx, make_cohort):
    cohort = make_cohort(capacity=0)
    learner = person(1)
    engine.book(learner, cohort)  # waiting list: no invitation
    [row] = messages_to(learner)
    assert row.attachments == []
    assert build_message(row).get_content_type() == "text/plain"


# ---------------------------------------------------------------------------- personal feeds


@pytest.fixture
def feed_world(app):
    """A member of a network (one meeting cancelled), booked on a webinar and on one of two
    festival sessions, nominated (not yet confirmed) on a cohort; and their feed secret."""
    with app.app_context():
        series = make_network(count=4)
        webinar = make_webinar()
        fest = make_festival()
        booked_talk = add_session(fest, "Booked talk")
        other_talk = add_session(fest, "Not booked", start=time(14, 0), end=time(15, 0))
        member = person("m")
        engine.book(member, series)
        engine.book(member, webinar)
        engine.book(member, fest)
        session_bookings.book_session(member, booked_talk)
        ev.cancel_event_session(series.sessions[1], faculty(), "Holiday")
        token = calendars.new_token(member)
        db.session.commit()
        return {
            "token": token, "user_id": member.id,
            "network": [s.id for s in series.sessions], "webinar": webinar.session.id,
            "booked": booked_talk.id, "other": other_talk.id, "festival": fest.id,
        }


def feed_uids(content: bytes) -> dict[str, object]:
    return {e.uid.value: e for e in vevents(content)}


def uid(session_id: int) -> str:
    return f"session-{session_id}@127.0.0.1"


def test_the_feed_holds_every_session_the_person_has_a_place_at(client, feed_world):
    response = client.get(f"/calendar/feed/{feed_world['token']}.ics")
    assert response.status_code == 200
    assert response.mimetype == "text/calendar"
    assert response.headers["ETag"]
    events = feed_uids(response.data)
    expected = {uid(i) for i in feed_world["network"]} | {uid(feed_world["webinar"]),
                                                         uid(feed_world["booked"])}
    assert set(events) == expected
    assert uid(feed_world["other"]) not in events
    cancelled = events[uid(feed_world["network"][1])]
    assert cancelled.status.value == "CANCELLED"
    assert "Joining link: https://teams.example.com/l/huddle" in \
        events[uid(feed_world["network"][0])].description.value
    assert "Track: Data science" in events[uid(feed_world["booked"])].description.value
    parse_both(response.data)


def test_a_matching_etag_gets_304_without_building_the_feed(client, feed_world, monkeypatch):
    url = f"/calendar/feed/{feed_world['token']}.ics"
    etag = client.get(url).headers["ETag"]

    def must_not_build(*args, **kwargs):
        raise AssertionError("the feed was built for a conditional request")

    monkeypatch.setattr(offering_feed, "personal_feed", must_not_build)
    again = client.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.data == b""
    assert again.headers["ETag"] == etag


def test_the_etag_changes_when_the_feed_would(app, client, feed_world):
    url = f"/calendar/feed/{feed_world['token']}.ics"
    before = client.get(url).headers["ETag"]
    assert client.get(url).headers["ETag"] == before
    with app.app_context():
        member = db.session.get(User, feed_world["user_id"])
        session_bookings.book_session(member, db.session.get(Session, feed_world["other"]))
        db.session.commit()
    after = client.get(url)
    assert after.headers["ETag"] != before
    assert uid(feed_world["other"]) in feed_uids(after.data)
    with app.app_context():
        meeting = db.session.get(Session, feed_world["network"][2])
        details = pages.occurrence_details(meeting)
        details.topic = "A new topic"
        networks.update_occurrence(faculty(), meeting, details)
        db.session.commit()
    assert client.get(url).headers["ETag"] != after.headers["ETag"]


def test_a_wrong_or_reset_secret_is_404_at_once(app, client, login, feed_world):
    old = f"/calendar/feed/{feed_world['token']}.ics"
    assert client.get(old).status_code == 200  # whose secret it is, now kept
    assert client.get("/calendar/feed/not-a-real-secret-at-all-000.ics").status_code == 404
    assert client.get("/calendar/feed/x.ics").status_code == 404
    with app.app_context():
        member = db.session.get(User, feed_world["user_id"])
        _ = member.role_rows
        db.session.expunge(member)
    login(member)
    reset = client.post("/calendar/address")
    assert reset.status_code == 200
    assert client.get(old).status_code == 404
    new = re.search(r"/calendar/feed/([A-Za-z0-9_-]+)\.ics", reset.get_data(as_text=True))[1]
    assert new != feed_world["token"]
    assert client.get(f"/calendar/feed/{new}.ics").status_code == 200


def test_a_kept_secret_stops_working_when_the_account_closes_or_the_password_resets_it(
        app, client, feed_world):
    """Whose secret is whose is kept per process: an account closed (by another process:
    straight in the database here), a secret forgotten with a password change, each counts
    at the next poll, as does the account opened again."""
    from sqlalchemy import update

    from lms.accounts.events import PasswordChanged

    url = f"/calendar/feed/{feed_world['token']}.ics"
    etag = client.get(url).headers["ETag"]
    assert client.get(url, headers={"If-None-Match": etag}).status_code == 304
    with app.app_context():
        db.session.get(User, feed_world["user_id"]).is_active_account = False
        db.session.commit()
    assert client.get(url).status_code == 404
    assert client.get(url, headers={"If-None-Match": etag}).status_code == 404
    with app.app_context():
        db.session.execute(update(User).where(User.id == feed_world["user_id"])
                           .values(is_active_account=True))
        db.session.commit()
    assert client.get(url, headers={"If-None-Match": etag}).status_code == 304
    with app.app_context():
        calendars.forget_on_password_change(PasswordChanged(
            user_id=feed_world["user_id"], revoke_tokens=True))
        db.session.commit()
    assert client.get(url).status_code == 404


def test_a_tentative_place_is_in_the_feed_without_the_joining_link(ctx, make_cohort, make_user):
    from lms.accounts.models import Role

    cohort = make_cohort(mode="nomination", quotas={"BSOL": 2})
    cohort.sessions[0].join_url = "https://teams.example.com/l/programme"
    lead = make_user(Role.DSU_LEAD, org="BSOL")
    nominee = make_user(org="BSOL")
    engine.nominate(lead, cohort, nominee)
    [event] = vevents(offering_feed.personal_feed(nominee))
    assert event.status.value == "TENTATIVE"
    assert "programme" not in event.description.value


def test_feed_addresses_are_https_and_webcal(ctx):
    token = calendars.new_token(person(1))
    addresses = calendars.addresses(token)
    assert addresses.https == f"http://127.0.0.1:5000/calendar/feed/{token}.ics"
    assert addresses.webcal == f"webcal://127.0.0.1:5000/calendar/feed/{token}.ics"


def test_the_outbox_keeps_attachments_with_their_message(ctx):
    webinar = make_webinar()
    booked = person(1)
    engine.book(booked, webinar)
    row = db.session.scalar(select(OutboxMessage).where(OutboxMessage.to_address
                                                        == booked.email))
    db.session.delete(row)
    db.session.flush()
    from lms.notifications.models import OutboxAttachment

    assert db.session.scalars(select(OutboxAttachment)).all() == []




@pytest.mark.postgres
def test_the_feed_and_its_etag_on_postgresql(pg_app):
    with pg_app.app_context():
        series = make_network(count=3)
        fest = make_festival()
        talk = add_session(fest, "Talk")
        member = person(1)
        engine.book(member, series)
        engine.book(member, fest)
        session_bookings.book_session(member, talk)
        token = calendars.new_token(member)
        db.session.commit()
        client = pg_app.test_client()
        response = client.get(f"/calendar/feed/{token}.ics")
        assert response.status_code == 200
        assert set(feed_uids(response.data)) == {uid(s.id) for s in [*series.sessions, talk]}
        etag = response.headers["ETag"]
        assert client.get(f"/calendar/feed/{token}.ics",
                          headers={"If-None-Match": etag}).status_code == 304
        db.session.remove()
