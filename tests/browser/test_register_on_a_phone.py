"""Issue 17, item 9: faculty take a register on a phone (375 px): a name filter that works as
they type (and without JavaScript, as a GET form), controls big enough to tap, a Save button
that stays in view, and two people of the same name told apart."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect

from lms.accounts.models import Role
from lms.attendance.models import Attendance
from lms.clock import utcnow
from lms.courses.models import Cohort, Course
from lms.extensions import db
from lms.offerings.models import Enrolment, Session
from tests.browser.conftest import no_sideways_scroll, sign_in

pytestmark = pytest.mark.browser

PHONE = {"width": 375, "height": 812}


def _session_under_way(live_app, people: list) -> int:
    """A cohort whose session started an hour ago, with a place for each of ``people``."""
    with live_app.app_context():
        course = Course(title="Forecasting basics", summary="s", kind="short_course",
                        strand="analytical_capability", format="online")
        cohort = Cohort(course=course, name="A", title="Forecasting basics: A", capacity=40,
                        booking_mode="open", status="open")
        start = utcnow() - timedelta(hours=1)
        session = Session(starts_at=start, ends_at=start + timedelta(hours=2), title="Day 1")
        cohort.sessions.append(session)
        db.session.add(cohort)
        db.session.flush()
        db.session.add_all(Enrolment(offering_id=cohort.id, user_id=p.id, state="enrolled")
                           for p in people)
        db.session.commit()
        return session.id


def _mark(page: Page, name: str):
    return page.get_by_role("combobox", name=re.compile(rf"^Attendance {re.escape(name)}"))


def test_a_register_on_a_phone(make_page, live_app, live_user, check_page):
    faculty = live_user(Role.FACULTY, name="Fay Faculty", org="SU")
    twins = [live_user(name="Sam Jones", org="BSOL", email="sam.jones@bsol.example.nhs.uk"),
             live_user(name="Sam Jones", org="BC", email="sam.jones@bc.example.nhs.uk")]
    others = [live_user(name=f"Person {letter} Example") for letter in "ABCDEFGHIJKLMNOP"]
    session_id = _session_under_way(live_app, twins + others)

    phone = make_page(PHONE)
    sign_in(phone, faculty.email, faculty.password)
    phone.goto(f"/faculty/sessions/{session_id}/register")
    check_page(phone)
    no_sideways_scroll(phone)

    # The Save button is in view at the top of a long list, and at the bottom of the screen.
    save = phone.get_by_role("button", name="Save register")
    expect(save).to_be_in_viewport()
    box = save.bounding_box()
    assert box is not None and box["y"] + box["height"] <= PHONE["height"]
    assert box["y"] > PHONE["height"] / 2
    # Every control of the register and its filter is at least 44 px tall to tap.
    for control in (phone.locator(".lms-register select, .lms-register input").all()
                    + [phone.get_by_label("Find a person by name"), save,
                       phone.get_by_role("button", name="Filter")]):
        height = control.bounding_box()["height"]
        assert height >= 44, f"{control} is {height}px tall"

    # The two people called Sam Jones are told apart by organisation and email.
    rows = phone.locator("tbody tr", has_text="Sam Jones")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("sam.jones@")
    expect(phone.locator("tbody tr", has_text="sam.jones@bc.example.nhs.uk")).to_contain_text(
        "The Black Country")
    expect(phone.locator("tbody tr", has_text="Person A Example")).not_to_contain_text("@")

    # Typing filters the list at once, and says how many are shown.
    phone.get_by_label("Find a person by name").fill("jones")
    expect(phone.locator("tbody tr:visible")).to_have_count(2)
    expect(phone.locator("#register-shown")).to_have_text("Showing 2 of 18 people.")
    phone.get_by_label("Find a person by name").fill("jones bc.example")
    expect(phone.locator("tbody tr:visible")).to_have_count(1)
    _mark(phone, "Sam Jones The Black Country").select_option(label="Present")
    no_sideways_scroll(phone)
    check_page(phone)
    phone.get_by_role("button", name="Save register").click()
    expect(phone.locator(".nhsuk-notification-banner--success")).to_contain_text(
        "The register is saved (1 marked).")
    with live_app.app_context():
        marked = db.session.query(Attendance).filter_by(session_id=session_id).all()
        assert [(a.user_id, a.status) for a in marked] == [(twins[1].id, "present")]

    # Without JavaScript the same box is a GET form: the server sends only the matches.
    phone.goto(f"/faculty/sessions/{session_id}/register?q=person+c")
    expect(phone.locator("tbody tr")).to_have_count(1)
    expect(phone.locator("#register-shown")).to_contain_text(
        "Showing 1 of 18 people matching “person c”")
    check_page(phone)
    no_sideways_scroll(phone)
