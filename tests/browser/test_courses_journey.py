"""Faculty build a course, a cohort and its sessions; a learner finds it on a phone. Real
Chromium, axe-core on every page state."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from lms.accounts.models import Role
from lms.clock import to_london, utcnow
from lms.courses.models import Cohort
from lms.extensions import db
from tests.browser.conftest import fill_date, no_sideways_scroll, sign_in

pytestmark = pytest.mark.browser

PHONE = {"width": 375, "height": 812}


def test_faculty_build_a_course_and_a_learner_finds_it_on_a_phone(
    page: Page, make_page, live_app, live_user, check_page
):
    faculty = live_user(Role.FACULTY, name="Fay Faculty", org="SU")
    learner = live_user(name="Lena Learner")
    first_day = to_london(utcnow() + timedelta(days=30)).date()

    # Faculty: the menu's "Manage courses", then an empty form, then a real one.
    sign_in(page, faculty.email, faculty.password)
    page.get_by_role("navigation", name="Menu").get_by_role("link",
                                                            name="Manage courses").click()
    expect(page.locator("h1")).to_have_text("Manage courses")
    check_page(page)
    page.get_by_role("button", name="Add a course").click()
    page.get_by_role("button", name="Add course").click()
    expect(page.locator(".nhsuk-error-summary")).to_be_visible()
    assert check_page(page).startswith("Error: ")
    page.locator(".nhsuk-error-summary a[href='#kind']").click()
    expect(page.locator("#kind")).to_be_focused()

    page.get_by_label("Title").fill("Evaluation design")
    page.get_by_label("Summary").fill("Plan an evaluation that can answer the question.")
    page.get_by_label("Short course").check()
    page.get_by_label("Improving decision-making practice").check()
    page.get_by_label("In person").check()
    page.get_by_label("CPD hours").fill("12")
    page.get_by_role("button", name="Add course").click()
    expect(page.locator("h1")).to_contain_text("Add a cohort")
    check_page(page)

    # The cohort with its first session, typed in UK time.
    page.get_by_label("Cohort name").fill("Nottingham cohort 1")
    page.get_by_label("Number of places").fill("16")
    fill_date(page, "Date", first_day)
    page.get_by_label("Start time").fill("09:30")
    page.get_by_label("End time").fill("16:00")
    page.get_by_label("Location (optional)").fill("Sir John Robinson House, Nottingham")
    page.get_by_role("button", name="Create cohort").click()
    expect(page.locator("h1")).to_contain_text("Nottingham cohort 1")
    check_page(page)
    expect(page.locator("main")).to_contain_text("9:30am to 4pm")

    # Open it for booking.
    page.get_by_label("Open for booking").check()
    page.get_by_role("button", name="Save settings").click()
    expect(page.locator(".nhsuk-notification-banner--success")).to_contain_text("saved")
    check_page(page)
    with live_app.app_context():
        cohort = db.session.scalar(select(Cohort))
        assert cohort.status == "open"
        cohort_id = cohort.id
        db.session.rollback()

    # A learner on a phone: the catalogue, a filter, the course, the cohort.
    phone = make_page(PHONE)
    sign_in(phone, learner.email, learner.password)
    phone.goto("/courses")
    expect(phone.locator("h1")).to_have_text("Courses and programmes")
    expect(phone.get_by_role("status")).to_have_text("1 course found")
    check_page(phone)
    no_sideways_scroll(phone)
    phone.get_by_label("Format").select_option(label="Online")
    phone.get_by_role("button", name="Apply filters").click()
    expect(phone.get_by_role("status")).to_have_text("0 courses found")
    check_page(phone)
    phone.get_by_label("Format").select_option(label="In person")
    phone.get_by_role("button", name="Apply filters").click()
    expect(phone.get_by_role("status")).to_have_text("1 course found")
    expect(phone.locator("main")).to_contain_text("16 places left")
    phone.get_by_role("link", name="Evaluation design", exact=True).click()
    expect(phone.locator("h1")).to_contain_text("Evaluation design")
    check_page(phone)
    no_sideways_scroll(phone)
    phone.get_by_role("link", name="Nottingham cohort 1").click()
    expect(phone).to_have_url(re.compile(rf"/cohorts/{cohort_id}$"))
    check_page(phone)
    no_sideways_scroll(phone)
    expect(phone.locator("main")).to_contain_text("9:30am to 4pm")
    expect(phone.get_by_role("button", name="Book a place")).to_be_visible()


def test_faculty_pages_fit_a_phone(make_page, live_app, live_user, check_page):
    faculty = live_user(Role.FACULTY, name="Fay Faculty", org="SU")
    phone = make_page(PHONE)
    sign_in(phone, faculty.email, faculty.password)
    with live_app.app_context():
        from tests import catalogue_builders as build

        course = build.course("Population health analytics")
        cohort = build.cohort(course, "Cohort 4", starts=[utcnow() + timedelta(days=20),
                                                          utcnow() + timedelta(days=34)])
        db.session.commit()
        ids = (course.id, cohort.id, cohort.sessions[0].id)
    for url in ["/faculty/courses", f"/faculty/courses/{ids[0]}/edit",
                f"/faculty/courses/{ids[0]}/cohorts/new", f"/faculty/cohorts/{ids[1]}",
                f"/faculty/cohorts/{ids[1]}/sessions/new", f"/faculty/sessions/{ids[2]}/edit",
                f"/faculty/sessions/{ids[2]}/cancel", f"/faculty/cohorts/{ids[1]}/duplicate",
                f"/faculty/cohorts/{ids[1]}/cancel"]:
        phone.goto(url)
        check_page(phone)
        no_sideways_scroll(phone)
