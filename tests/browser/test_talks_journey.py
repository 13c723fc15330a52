"""Calls for talks, as people do it in Chromium (axe-core on every page): faculty open a
huddle call, an analyst proposes a talk with a co-presenter (on a phone), the co-presenter
confirms, an invited reviewer scores it, faculty accept it into the huddle of a chosen date;
the huddle page and a member's calendar show the new topic and presenter, and the
presenter's learning record shows the talk after the huddle."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from playwright.sync_api import expect

from lms.accounts.models import Role, User
from lms.clock import to_london
from lms.events import calendars
from lms.extensions import db
from lms.offerings import services as engine
from tests.browser.conftest import fill_date, no_sideways_scroll, sign_in
from tests.test_events_support import london_day, make_network

pytestmark = pytest.mark.browser

PHONE = {"width": 375, "height": 812}


def test_a_huddle_gets_its_speaker_through_a_call(make_page, live_app, live_user, live_mail,
                                                  check_page):
    lead = live_user(Role.FACULTY, name="Fay Faculty", org="SU")
    analyst = live_user(name="Ana Analyst", org="BC")
    co = live_user(name="Cole Copresenter", org="CW")
    reviewer = live_user(name="Rita Reviewer", org="LLR")
    member = live_user(name="Max Member")
    with live_app.app_context():
        network = make_network(count=6)
        network_id = network.id
        chosen = network.sessions[1]
        chosen_id, chosen_ends = chosen.id, chosen.ends_at
        chosen_label = to_london(chosen.starts_at)
        engine.book(db.session.get(User, member.id), network)
        token = calendars.new_token(db.session.get(User, member.id))
        db.session.commit()

    # Faculty open the call from the network's page.
    faculty = make_page()
    sign_in(faculty, lead.email, lead.password)
    faculty.goto(f"/networks/{network_id}")
    faculty.get_by_role("link", name="Open a call for talks on this network").click()
    check_page(faculty)
    faculty.get_by_role("button", name="Open the call").click()
    assert check_page(faculty).startswith("Error: ")
    faculty.get_by_label("Title of the call").fill("Spring huddle talks")
    faculty.get_by_label("What is wanted").fill("Local projects, **any size**.")
    fill_date(faculty, "Last day for proposals", london_day(10))
    for box in faculty.locator("input[name=session_ids]").all()[:3]:
        box.check()
    faculty.get_by_role("button", name="Open the call").click()
    expect(faculty.get_by_text("The call “Spring huddle talks” is open")).to_be_visible()
    check_page(faculty)
    faculty.get_by_role("link", name="Invite reviewers").click()
    faculty.get_by_label("Email address of the reviewer").fill(reviewer.email)
    faculty.get_by_role("button", name="Invite reviewer").click()
    expect(faculty.get_by_text("Rita Reviewer has been invited to review")).to_be_visible()
    check_page(faculty)

    # An analyst proposes a talk with a co-presenter, on a phone.
    phone = make_page(PHONE)
    sign_in(phone, analyst.email, analyst.password)
    phone.goto("/events")
    phone.get_by_role("link", name="Calls for talks").click()
    check_page(phone)
    no_sideways_scroll(phone)
    phone.get_by_role("link", name="Spring huddle talks").click()
    check_page(phone)
    no_sideways_scroll(phone)
    phone.get_by_role("link", name="Propose a talk").click()
    phone.get_by_label("Title of your talk").fill("Forecasting A&E demand")
    phone.get_by_label("Abstract").fill("We *forecast* emergency demand.")
    phone.get_by_label("Strengthening analytical capability").check()
    phone.get_by_label("30 minutes").check()
    phone.get_by_label("Co-presenters (optional)").fill(co.email)
    phone.get_by_role("button", name="Send your proposal").click()
    expect(phone.get_by_text("Your proposal has been sent")).to_be_visible()
    expect(phone.get_by_text("Cole Copresenter: not confirmed yet")).to_be_visible()
    check_page(phone)
    no_sideways_scroll(phone)

    # The co-presenter confirms from the emailed link.
    co_page = make_page()
    sign_in(co_page, co.email, co.password)
    co_page.goto(live_mail.link(co.email, "/co-presenting/"))
    check_page(co_page)
    co_page.get_by_role("button", name="Yes, I am presenting").click()
    expect(co_page.get_by_text("you are confirmed as a co-presenter")).to_be_visible()
    check_page(co_page)

    # The invited reviewer scores it from the emailed link.
    review = make_page()
    sign_in(review, reviewer.email, reviewer.password)
    review.goto(live_mail.link(reviewer.email, "/review"))
    check_page(review)
    expect(review.get_by_role("cell", name="Ana Analyst, The Black Country")).to_be_visible()
    # The balance panel lists every ICS, those with no talk yet too.
    expect(review.get_by_role("row", name="Birmingham and Solihull 0")).to_be_visible()
    review.get_by_role("link", name="Forecasting A&E demand").click()
    review.get_by_label("4: good").check()
    review.get_by_label("Comment (optional)").fill("Clear and useful")
    review.get_by_role("button", name="Save your review").click()
    expect(review.get_by_text("Your review has been saved")).to_be_visible()
    check_page(review)

    # Faculty accept it into the huddle of the chosen date.
    faculty.goto(f"/calls/{_call_id(live_app)}/review")
    check_page(faculty)
    faculty.get_by_role("link", name="Forecasting A&E demand").click()
    faculty.get_by_label("5: excellent").check()
    faculty.get_by_role("button", name="Save your review").click()
    expect(faculty.get_by_text("4 out of 5")).to_be_visible()
    faculty.get_by_role("link", name="Accept and schedule").click()
    check_page(faculty)
    faculty.get_by_label(re.compile(
        rf"{chosen_label.day} {chosen_label:%B} {chosen_label.year}")).check()
    faculty.get_by_role("button", name="Accept the talk").click()
    expect(faculty.get_by_text("is accepted and its presenters have been sent")).to_be_visible()
    check_page(faculty)

    # The huddle page and a member's calendar show the topic and presenter.
    phone.goto(f"/networks/{network_id}")
    expect(phone.get_by_text("Forecasting A&E demand").first).to_be_visible()
    expect(phone.get_by_text(re.compile("Ana Analyst")).first).to_be_visible()
    check_page(phone)
    no_sideways_scroll(phone)
    feed = phone.request.get(f"/calendar/feed/{token}.ics").text().replace("\r\n ", "")
    assert "Forecasting A&E demand" in feed and "Presenter: Ana Analyst" in feed
    # The presenter sees the state, never who reviewed.
    phone.goto("/my-proposals")
    expect(phone.get_by_text(re.compile("Accepted"))).to_be_visible()
    assert "Rita Reviewer" not in phone.content() and "Clear and useful" not in phone.content()
    check_page(phone)

    # After the huddle, presenting is on the presenter's learning record.
    with time_machine.travel(chosen_ends + timedelta(hours=2), tick=True):
        record = make_page(PHONE)
        sign_in(record, analyst.email, analyst.password)
        record.goto("/learning-record")
        expect(record.get_by_role("heading", name="Talks presented")).to_be_visible()
        expect(record.get_by_text("Presented at Midlands Analyst Network huddles")
               ).to_be_visible()
        check_page(record)
        no_sideways_scroll(record)
    assert chosen_id


def _call_id(app) -> int:
    from sqlalchemy import select

    from lms.talks.models import Call

    with app.app_context():
        return db.session.scalar(select(Call.id))
