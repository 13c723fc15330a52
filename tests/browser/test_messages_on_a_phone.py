"""Issue 17, item 14, in Chromium at 375 px: faculty write to a waiting list (preview, then
send; the message is kept on the offering), and a learner switches faculty messages off on
Email preferences. Every page state is axe-clean and fits the phone's width."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from lms.accounts.models import Role, User
from lms.extensions import db
from lms.offerings import services as svc
from tests import catalogue_builders as build
from tests.browser.conftest import no_sideways_scroll, sign_in

pytestmark = pytest.mark.browser

PHONE = {"width": 375, "height": 812}


def _fits(page, check_page) -> None:
    check_page(page)
    no_sideways_scroll(page)


def test_faculty_message_a_waiting_list_and_a_learner_chooses_emails(
        make_page, live_app, live_user, live_mail, check_page):
    faculty = live_user(Role.FACULTY, name="Fay Faculty", org="SU")
    holder, waiting = live_user(name="Hana Holder"), live_user(name="Wes Waiting")
    with live_app.app_context():
        cohort = build.cohort(build.course("Forecasting in practice"), "Cohort 3", capacity=1)
        db.session.commit()
        for person in (holder, waiting):
            svc.book(db.session.get(User, person.id), cohort)
        db.session.commit()
        cohort_id = cohort.id

    phone = make_page(PHONE)
    sign_in(phone, faculty.email, faculty.password)
    phone.goto(f"/faculty/offerings/{cohort_id}/people")
    phone.get_by_role("link", name="Message people on this offering").click()
    _fits(phone, check_page)
    phone.get_by_role("button", name="Preview message").click()
    expect(phone.locator(".nhsuk-error-summary")).to_contain_text("Select who the message is for")
    _fits(phone, check_page)
    phone.get_by_label("Everyone on the waiting list").check()
    phone.get_by_label("Subject").fill("A second cohort in March")
    phone.get_by_label("Message", exact=True).fill("We are adding **another** cohort.")
    phone.get_by_role("button", name="Preview message").click()
    expect(phone.locator("#preview")).to_contain_text("This will be sent to 1 person")
    expect(phone.locator("#preview strong", has_text="another")).to_have_count(1)
    _fits(phone, check_page)
    phone.get_by_role("button", name="Send message").click()
    expect(phone.locator(".nhsuk-notification-banner--success")).to_contain_text(
        "Your message was sent to 1 person.")
    expect(phone.get_by_role("heading", name="A second cohort in March")).to_be_visible()
    _fits(phone, check_page)
    assert [m["Subject"] for m in live_mail.messages(waiting.email)
            if m["Subject"] == "A second cohort in March"] == ["A second cohort in March"]
    assert not [m for m in live_mail.messages(holder.email)
                if m["Subject"] == "A second cohort in March"]

    learner = make_page(PHONE)
    sign_in(learner, waiting.email, waiting.password)
    learner.goto("/profile")
    learner.get_by_role("link", name="Email preferences").click()
    _fits(learner, check_page)
    learner.get_by_label("News and messages from faculty").uncheck()
    learner.get_by_role("button", name="Save preferences").click()
    expect(learner.locator(".nhsuk-notification-banner--success")).to_contain_text(
        "Your email preferences have been saved.")
    expect(learner.get_by_label("News and messages from faculty")).not_to_be_checked()
    expect(learner.get_by_label("Session reminders")).to_be_checked()
    _fits(learner, check_page)
