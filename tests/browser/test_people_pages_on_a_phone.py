"""Faculty's people page of a large offering, in Chromium at 375 px: the places a page at a
time with NHS pagination (next, then previous), each page axe-clean and no wider than the
phone."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from lms.accounts.models import Role
from lms.extensions import db
from lms.offerings.pages import PEOPLE_PER_PAGE
from tests import catalogue_builders as build
from tests.browser.conftest import no_sideways_scroll, sign_in

pytestmark = pytest.mark.browser

PHONE = {"width": 375, "height": 812}


def test_faculty_page_through_a_large_offerings_people_on_a_phone(
        make_page, live_app, live_user, check_page):
    faculty = live_user(Role.FACULTY, name="Fay Faculty", org="SU")
    with live_app.app_context():
        cohort = build.cohort(build.course("A very popular course"), "Cohort 1",
                              capacity=None)
        for _ in range(PEOPLE_PER_PAGE + 20):
            build.enrol(cohort, build.person())
        for _ in range(3):
            build.enrol(cohort, build.person(), state="withdrawn")
        db.session.commit()
        cohort_id = cohort.id

    phone = make_page(PHONE)
    sign_in(phone, faculty.email, faculty.password)
    phone.goto(f"/faculty/offerings/{cohort_id}/people")
    places = phone.locator("table", has=phone.locator("caption", has_text="People with a place"))
    expect(places.locator("caption")).to_have_text(
        f"People with a place ({PEOPLE_PER_PAGE + 20}), page 1 of 2")
    expect(places.locator("tbody tr")).to_have_count(PEOPLE_PER_PAGE)
    check_page(phone)
    no_sideways_scroll(phone)

    phone.get_by_role("link", name="Next : Page 2 of 2").click()
    expect(places.locator("caption")).to_have_text(
        f"People with a place ({PEOPLE_PER_PAGE + 20}), page 2 of 2")
    expect(places.locator("tbody tr")).to_have_count(20)
    # The history is still there, whole, on the second page of places.
    expect(phone.locator("caption", has_text="Withdrawn, declined, lapsed or cancelled (3)")
           ).to_be_visible()
    check_page(phone)
    no_sideways_scroll(phone)

    phone.get_by_role("link", name="Previous : Page 1 of 2").click()
    expect(places.locator("tbody tr")).to_have_count(PEOPLE_PER_PAGE)
