"""Issue 17, item 11, in Chromium on a phone: a learner's Withdraw is a link to the one
confirmation page, which says what follows and fits 375 px with no axe violations; its
button does it, and "No, go back" leaves the place as it was."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from lms.accounts.models import User
from lms.extensions import db
from lms.offerings import services as svc
from lms.offerings.models import Enrolment
from tests import catalogue_builders as build
from tests.browser.conftest import no_sideways_scroll, sign_in

pytestmark = pytest.mark.browser

PHONE = {"width": 375, "height": 812}


def test_a_learner_withdraws_on_a_phone_after_reading_what_follows(
        make_page, live_app, live_user, check_page):
    learner = live_user(name="Lee Learner")
    waiting = live_user(name="Wyn Waiting")
    with live_app.app_context():
        cohort = build.cohort(build.course("Forecasting in practice"), "Cohort 2", capacity=1)
        db.session.commit()
        for person in (learner, waiting):
            svc.book(db.session.get(User, person.id), cohort)
        db.session.commit()
        cohort_id = cohort.id

    def state(person) -> str:
        with live_app.app_context():
            return db.session.scalar(select(Enrolment.state).where(
                Enrolment.offering_id == cohort_id, Enrolment.user_id == person.id))

    phone = make_page(PHONE)
    sign_in(phone, learner.email, learner.password)
    phone.goto("/my-learning")
    phone.get_by_role("button", name=re.compile(r"Withdraw\W+Forecasting in practice")).click()
    expect(phone.locator("h1")).to_contain_text("Withdraw from Forecasting in practice")
    check_page(phone)
    no_sideways_scroll(phone)
    expect(phone.locator("#consequences")).to_contain_text(
        "Your place is offered to the next person on the waiting list (1 person waiting).")
    phone.get_by_role("link", name="No, go back").click()
    expect(phone.locator("h1")).to_have_text("My learning")
    assert state(learner) == "enrolled"

    phone.get_by_role("button", name=re.compile(r"Withdraw\W+Forecasting in practice")).click()
    phone.get_by_role("button", name="Withdraw", exact=True).click()
    expect(phone.locator(".nhsuk-notification-banner--success")).to_contain_text(
        "You have withdrawn.")
    assert (state(learner), state(waiting)) == ("withdrawn", "offered")
