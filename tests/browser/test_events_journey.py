"""A learner on a phone registers for the festival, books sessions (a clash is refused), reads
the agenda and makes a calendar address; faculty build a network series with the rule
builder. Real Chromium, axe-core on every page state."""

from __future__ import annotations

import re
from datetime import time

import pytest
from playwright.sync_api import Page, expect

from lms.accounts.models import Role
from lms.extensions import db
from tests.browser.conftest import fill_date, no_sideways_scroll, sign_in
from tests.test_events_support import (
    add_session,
    london_day,
    make_festival,
    make_network,
    make_webinar,
)

pytestmark = pytest.mark.browser

PHONE = {"width": 375, "height": 812}


def test_a_learner_books_festival_sessions_on_a_phone(make_page, live_app, live_user,
                                                     check_page):
    with live_app.app_context():
        festival = make_festival(title="INSIGHT festival")
        add_session(festival, "Opening keynote", start=time(9, 30), end=time(10, 30))
        add_session(festival, "Forecasting workshop", start=time(10, 0), end=time(11, 30),
                    track=1, capacity=12)
        add_session(festival, "Evaluation clinic", day=1, track=2, capacity=20)
        make_network(count=4)
        make_webinar()
        db.session.commit()
    learner = live_user(name="Lena Learner")
    phone = make_page(PHONE)
    sign_in(phone, learner.email, learner.password)

    phone.goto("/events")
    check_page(phone)
    no_sideways_scroll(phone)
    phone.get_by_role("link", name="INSIGHT festival").click()
    expect(phone.locator("h1")).to_contain_text("INSIGHT festival")
    check_page(phone)
    no_sideways_scroll(phone)

    festival_url = phone.url
    phone.get_by_role("button", name="Register for the festival").click()
    expect(phone.get_by_text("You are registered.").first).to_be_visible()
    phone.get_by_role("button", name="Book Opening keynote").click()
    expect(phone.get_by_text("You are booked on “Opening keynote”")).to_be_visible()
    check_page(phone)
    no_sideways_scroll(phone)
    # The clashing workshop offers no Book button (it would be refused); the clash is named
    # where the button would be.
    expect(phone.get_by_role("button", name="Book Forecasting workshop")).to_have_count(0)
    expect(phone.get_by_text(re.compile(r"This clashes with Opening keynote at 9:30am"))
           ).to_be_visible()
    check_page(phone)

    phone.get_by_role("link", name="your agenda").click()
    expect(phone.locator("h1")).to_contain_text("My agenda")
    expect(phone.get_by_role("heading", name="Opening keynote")).to_be_visible()
    check_page(phone)
    no_sideways_scroll(phone)

    phone.goto("/calendar")
    check_page(phone)
    phone.get_by_role("button", name="Create my calendar address").click()
    address = phone.get_by_label("Calendar address")
    expect(address).to_have_value(re.compile(r"/calendar/feed/[A-Za-z0-9_-]+\.ics$"))
    expect(phone.get_by_role("link", name="Open it in my calendar program")).to_have_attribute(
        "href", re.compile(r"^webcal://"))
    check_page(phone)
    no_sideways_scroll(phone)
    feed = phone.request.get(address.input_value())
    assert feed.status == 200
    assert feed.text().count("BEGIN:VEVENT") == 1  # the keynote; not the clashing workshop
    assert phone.url.endswith("/calendar/address")  # shown once, on the answer itself
    phone.goto("/calendar")
    expect(phone.get_by_label("Calendar address")).to_have_count(0)

    # Cancelling the keynote asks first, on a phone too, then frees the workshop to book.
    phone.goto(festival_url)
    phone.get_by_role("link", name="Cancel booking for Opening keynote").click()
    expect(phone.locator("h1")).to_contain_text("Cancel your booking for Opening keynote?")
    check_page(phone)
    no_sideways_scroll(phone)
    phone.get_by_role("button", name="Cancel booking").click()
    expect(phone.get_by_text("Your booking for “Opening keynote” is cancelled.")).to_be_visible()
    expect(phone.get_by_role("button", name="Book Forecasting workshop")).to_be_visible()
    check_page(phone)


def test_faculty_build_a_network_series_with_the_rule_builder(page: Page, live_user,
                                                              check_page):
    faculty = live_user(Role.FACULTY, name="Fay Faculty", org="SU")
    sign_in(page, faculty.email, faculty.password)
    page.goto("/faculty/events")
    check_page(page)
    page.get_by_role("link", name="Add a network series").click()
    page.get_by_role("button", name="Add network").click()
    expect(page.locator(".nhsuk-error-summary")).to_be_visible()
    assert check_page(page).startswith("Error: ")
    page.locator(".nhsuk-error-summary a[href='#first_day']").click()
    expect(page.locator("#first_day")).to_be_focused()

    page.get_by_label("Title").fill("Evaluation Network")
    page.get_by_label("Summary").fill("Every second month for evaluators.")
    page.get_by_label("Open for booking").check()
    fill_date(page, "First meeting on or after", london_day(3))
    page.locator("#local_start").fill("14:00")
    page.get_by_label("Length of each meeting, in minutes").fill("90")
    page.get_by_label("Monthly", exact=True).check()
    page.get_by_label("Every how many weeks or months").fill("2")
    page.get_by_label("Tuesday").check()
    page.get_by_label("For monthly meetings: which week of the month").select_option(
        label="Second")
    page.get_by_label("After a number of meetings").check()
    page.get_by_label("Number of meetings", exact=True).fill("6")
    page.get_by_role("button", name="Add network").click()
    expect(page.get_by_text("“Evaluation Network” has been added with 6 meetings.")
           ).to_be_visible()
    expect(page.get_by_text("Every 2 months on the second Tuesday, 6 times")).to_be_visible()
    check_page(page)
