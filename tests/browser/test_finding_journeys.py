"""Finding things, in real Chromium with axe-core: the header's search finds the course, the
festival workshop and the huddle talk; the events filters and month view at desk width and
on a phone (filters folded, no sideways scroll); the public-sector pages; the check-in
screen on a 1280 × 720 projector with its count kept up to date."""

from __future__ import annotations

from datetime import time

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from lms.accounts import demo as accounts_demo
from lms.accounts.models import Role
from lms.attendance import services as attendance
from lms.attendance.models import Source
from lms.courses import demo as courses_demo
from lms.events import demo as events_demo
from lms.events import services as ev
from lms.extensions import db
from lms.offerings.models import Session
from tests.browser.conftest import fill_date, menu_settled, no_sideways_scroll, sign_in
from tests.test_events_support import (
    add_session,
    london_day,
    make_festival,
    make_network,
    make_webinar,
)

pytestmark = pytest.mark.browser

DESK = {"width": 1280, "height": 800}
PHONE = {"width": 375, "height": 812}
PROJECTOR = {"width": 1280, "height": 720}


def _search_box(page, viewport):
    """The header's box on a desk; on a phone (where the box would push the menu off the
    screen) the menu's "Search" item, then the search page's own box."""
    if viewport is DESK:
        return page.get_by_role("searchbox", name="Search courses and events")
    expect(page.get_by_role("searchbox", name="Search courses and events")).to_be_hidden()
    menu_settled(page)
    menu = page.get_by_role("navigation", name="Menu")
    search = menu.get_by_role("link", name="Search", exact=True)
    if not search.is_visible():
        menu.get_by_role("button", name="More").click()
    search.click()
    return page.get_by_role("searchbox", name="Words to search for")


@pytest.mark.parametrize("viewport", [DESK, PHONE], ids=["desk", "phone"])
def test_search_from_the_header_finds_the_three_kinds(make_page, live_app, check_page,
                                                      viewport):
    with live_app.app_context():
        accounts_demo.seed()
        courses_demo.seed()
        events_demo.seed()
        db.session.commit()
    page = make_page(viewport)
    page.goto("/events")
    box = _search_box(page, viewport)
    box.fill("forecasting")
    box.press("Enter")
    expect(page.locator("h1")).to_have_text("Search results")
    check_page(page)
    no_sideways_scroll(page)
    for heading, title in [("Courses and programmes", "Time-series forecasting with R"),
                           ("Festival sessions", "Hands-on: forecasting with R and fable"),
                           ("Network meetings", "Forecasting A&E attendances with Prophet")]:
        section = page.get_by_role("region", name=heading)
        expect(section.get_by_role("link", name=title).first).to_be_visible()
    page.get_by_role("link", name="Time-series forecasting with R").first.click()
    expect(page.locator("h1")).to_contain_text("Time-series forecasting with R")

    box = _search_box(page, viewport)
    box.fill("zebrafish")
    box.press("Enter")
    expect(page.get_by_role("heading", name="No results found for “zebrafish”")).to_be_visible()
    check_page(page)
    no_sideways_scroll(page)


def _events(live_app) -> None:
    with live_app.app_context():
        make_webinar(title="Soon webinar", days_ahead=5)
        make_webinar(title="Later webinar", days_ahead=40, speakers=[
            ev.SpeakerDetails("Dr Nadia Rahman", "Director", "NHS England", "")])
        make_network(count=6)
        festival = make_festival(days_ahead=30)
        add_session(festival, "Opening keynote", start=time(9, 30), end=time(10, 30))
        db.session.commit()


def test_events_filters_and_month_view_on_a_phone(make_page, live_app, check_page):
    _events(live_app)
    phone = make_page(PHONE)
    phone.goto("/events")
    check_page(phone)
    no_sideways_scroll(phone)
    fold = phone.locator("details.lms-filter-fold")
    # Folded: the results come first, the filters behind one button.
    expect(fold).not_to_have_attribute("open", "")
    expect(phone.get_by_label("Kind of event")).to_be_hidden()
    first_card = phone.locator(".nhsuk-card").first
    assert first_card.bounding_box()["y"] < PHONE["height"]
    phone.get_by_text("Filter events").click()
    phone.get_by_label("Kind of event").select_option("webinar")
    phone.get_by_label("Speaker or presenter").fill("rahman")
    expect(phone.get_by_label("Strand", exact=True)).to_have_value("")
    phone.get_by_label("Online or in person").select_option("online")
    phone.get_by_role("button", name="Apply filters").click()
    expect(phone.get_by_role("status")).to_contain_text("1 event")
    expect(phone.get_by_role("link", name="Later webinar")).to_be_visible()
    expect(phone.get_by_text("Filter events (3 filters on)")).to_be_visible()
    assert "attendance=online" in phone.url  # bookmarkable
    check_page(phone)
    no_sideways_scroll(phone)

    # A bad date: the fold opens on its message.
    phone.goto("/events?from=31/02/2027")
    expect(phone.locator(".nhsuk-error-summary")).to_contain_text("Enter a real date")
    expect(phone.get_by_role("group", name="From", exact=True)).to_be_visible()
    check_page(phone)
    no_sideways_scroll(phone)

    day = london_day(5)
    phone.goto("/events")
    phone.get_by_role("link", name="Month view").click()
    expect(phone.locator("table.lms-month")).to_be_hidden()
    month_list = phone.locator(".lms-month-list")
    expect(month_list.get_by_role("heading", name=f"{day.strftime('%A')} {day.day} "
                                  f"{day.strftime('%B %Y')}")).to_be_visible()
    check_page(phone)
    no_sideways_scroll(phone)
    phone.get_by_role("link", name="Next month").click()
    expect(phone.locator("h1")).to_contain_text("Events in")
    check_page(phone)
    no_sideways_scroll(phone)


def test_events_filters_and_month_view_at_desk_width(make_page, live_app, check_page):
    _events(live_app)
    desk = make_page(DESK)
    desk.goto("/events")
    expect(desk.locator("details.lms-filter-fold")).to_have_attribute("open", "")
    expect(desk.get_by_label("Kind of event")).to_be_visible()
    check_page(desk)
    no_sideways_scroll(desk)
    start = london_day(30)
    fill_date(desk, "From", start)
    fill_date(desk, "To", london_day(45))
    desk.get_by_role("button", name="Apply filters").click()
    expect(desk.get_by_role("link", name="Later webinar")).to_be_visible()
    expect(desk.get_by_role("link", name="Soon webinar")).to_have_count(0)
    check_page(desk)

    day = london_day(5)
    desk.goto(f"/events/month/{day.year}/{day.month}")
    table = desk.get_by_role("table", name=day.strftime("%B %Y"))
    expect(table).to_be_visible()
    expect(table.get_by_role("columnheader", name="Monday")).to_be_visible()
    expect(table.get_by_role("link", name="Soon webinar")).to_be_visible()
    expect(desk.locator(".lms-month-list")).to_be_hidden()
    check_page(desk)
    no_sideways_scroll(desk)


def test_faculty_put_an_event_in_a_strand_and_the_filter_finds_it(make_page, live_app,
                                                                   live_user, check_page):
    faculty = live_user(Role.FACULTY)
    with live_app.app_context():
        webinar_id = make_webinar(title="Strand webinar", days_ahead=6).id
        db.session.commit()
    phone = make_page(PHONE)
    sign_in(phone, faculty.email, faculty.password)
    phone.goto(f"/faculty/webinars/{webinar_id}")
    expect(phone.get_by_label("Title")).to_have_value("Strand webinar")
    strand = phone.get_by_label("Strand (optional)")
    expect(strand).to_have_value("")
    check_page(phone)
    no_sideways_scroll(phone)
    strand.select_option(label="Developing analytical leaders")
    phone.get_by_role("button", name="Save webinar").click()
    expect(phone.locator("body")).to_contain_text("Strand: Developing analytical leaders")
    phone.goto("/events")
    phone.get_by_text("Filter events").click()
    phone.get_by_label("Strand", exact=True).select_option(label="Developing analytical leaders")
    phone.get_by_role("button", name="Apply filters").click()
    expect(phone.get_by_role("status")).to_contain_text("1 event")
    expect(phone.get_by_role("link", name="Strand webinar")).to_be_visible()
    check_page(phone)
    no_sideways_scroll(phone)


PUBLIC = ["/privacy", "/accessibility", "/cookies", "/help", "/contact"]


@pytest.mark.parametrize("viewport", [DESK, PHONE], ids=["desk", "phone"])
def test_the_public_pages_are_in_every_footer_and_pass_axe(make_page, live_app, check_page,
                                                           viewport):
    page = make_page(viewport)
    page.goto("/")
    titles = set()
    for name in ["Help", "Contact us", "Privacy notice", "Accessibility statement", "Cookies"]:
        page.get_by_role("contentinfo").get_by_role("link", name=name).click()
        titles.add(check_page(page))
        no_sideways_scroll(page)
    assert len(titles) == 5
    page.goto("/sign-up")
    page.get_by_role("main").get_by_role("link", name="privacy notice").click()
    expect(page.locator("h1")).to_have_text("Privacy notice")


def test_the_check_in_screen_fits_a_projector_and_keeps_its_count(
        make_page, live_app, live_user, axe_check):
    faculty = live_user(Role.FACULTY)
    learner = live_user()
    with live_app.app_context():
        webinar = make_webinar(title="Check-in webinar", days_ahead=1)
        session_id = webinar.session.id
        db.session.commit()
    screen = make_page(PROJECTOR)
    sign_in(screen, faculty.email, faculty.password)
    screen.goto(f"/faculty/sessions/{session_id}/check-in")
    count = screen.locator("#checked-in-count")
    expect(count).to_have_text("0 checked in")
    sizes = screen.evaluate("() => [document.documentElement.scrollWidth, "
                            "document.documentElement.scrollHeight]")
    assert sizes[0] <= PROJECTOR["width"] and sizes[1] <= PROJECTOR["height"], sizes
    for part in (".lms-projector__address", ".lms-check-in-code", ".lms-projector__qr svg",
                 "#checked-in-count"):
        box = screen.locator(part).bounding_box()
        assert box and box["y"] + box["height"] <= PROJECTOR["height"], part
    code_size = screen.locator(".lms-check-in-code").evaluate(
        "e => parseFloat(getComputedStyle(e).fontSize)")
    assert code_size >= 64
    axe_check(screen)

    with live_app.app_context():
        session = db.session.scalar(select(Session).where(Session.id == session_id))
        attendance.set_mark(session, learner.id, "present", Source.CHECK_IN, None)
        db.session.commit()
    # Polled every 5 seconds (a mark with no place counts as one more place).
    expect(count).to_have_text("1 of 1 checked in", timeout=12_000)
