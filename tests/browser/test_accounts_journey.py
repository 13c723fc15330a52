"""A new person's whole account journey in real Chromium, with axe on every page state."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import func, select

from lms.accounts.models import User
from lms.extensions import db
from lms.notifications.models import OutboxMessage

pytestmark = pytest.mark.browser

NAME = "Priya Shah"
EMAIL = "priya.shah@example.nhs.uk"
FIRST_PASSWORD = "kettle orchard lantern"
NEW_PASSWORD = "harbour violet compass"


class Visits:
    """Check each page state and keep its title: distinct pages must have distinct titles;
    an error state is its page's title with "Error: " in front."""

    def __init__(self, page: Page, check_page: Callable[[Page], str]):
        self.page = page
        self.check_page = check_page
        self.titles: dict[str, str] = {}

    def see(self, label: str, h1: str, error: bool = False) -> str:
        # Both wait for the new page, even when it has the same heading as the last one.
        expect(self.page.locator("h1")).to_have_text(h1)
        expect(self.page.locator(".nhsuk-error-summary")).to_have_count(1 if error else 0)
        title = self.check_page(self.page)
        assert title.startswith("Error: ") == error, f"{label}: title {title!r}"
        base = title.removeprefix("Error: ")
        if label in self.titles:
            assert self.titles[label] == base, f"{label} changed title: {base!r}"
        else:
            clash = [other for other, seen in self.titles.items() if seen == base]
            assert not clash, f"{label} has the same title as {clash}: {base!r}"
            self.titles[label] = base
        return title


def _counts(live_app) -> tuple[int, int]:
    with live_app.app_context():
        users = db.session.scalar(select(func.count(User.id)))
        mails = db.session.scalar(select(func.count(OutboxMessage.id)))
        db.session.rollback()
    return users, mails


def _menu(page: Page):
    return page.get_by_role("navigation", name="Menu")


def _account(page: Page):
    return page.get_by_role("navigation", name="Account")


def _sign_in(page: Page, email: str, password: str) -> None:
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in").click()


def test_new_person_signs_up_confirms_signs_in_out_and_resets_password(
    page: Page, live_app, live_mail, check_page
):
    visits = Visits(page, check_page)

    # Home, then the navigation's "Create an account".
    page.goto("/")
    visits.see("home", "MDSN Learning & Events")
    expect(_account(page)).to_have_count(0)
    _menu(page).get_by_role("link", name="Create an account").click()
    expect(page).to_have_url(re.compile(r"/sign-up$"))
    visits.see("sign up", "Create an account")

    # An empty form: the error summary lists the problems, each linking to its field.
    page.get_by_role("button", name="Create account").click()
    visits.see("sign up", "Create an account", error=True)
    summary = page.locator(".nhsuk-error-summary")
    expect(summary).to_be_visible()
    expect(summary.get_by_role("heading", name="There is a problem")).to_be_visible()
    expect(summary).to_be_focused()  # NHS.UK's script moves focus to the summary
    links = summary.locator("a[href^='#']")
    targets = {links.nth(n).get_attribute("href") for n in range(links.count())}
    assert {"#full_name", "#email", "#organisation_id", "#password"} <= targets, targets
    for n in range(links.count()):
        target = links.nth(n).get_attribute("href")
        field = page.locator(target)
        expect(field).to_have_count(1)
        expect(field).to_have_attribute("aria-describedby", re.compile(target[1:] + "-error"))
    # Following an error link puts the cursor in that field.
    first = links.first.get_attribute("href")
    links.first.click()
    expect(page.locator(first)).to_be_focused()
    assert _counts(live_app) == (0, 0), "an empty form created something"

    # The form filled in properly.
    page.get_by_label("Full name").fill(NAME)
    page.get_by_label("Email address").fill(EMAIL)
    page.get_by_label("Job title (optional)").fill("Senior analyst")
    page.get_by_label("Organisation").select_option(label="Birmingham and Solihull")
    page.get_by_label("Create a password").fill(FIRST_PASSWORD)
    page.get_by_label("Confirm your password").fill(FIRST_PASSWORD)
    page.get_by_role("button", name="Create account").click()
    visits.see("check your email", "Check your email")
    expect(page.locator("main")).to_contain_text(EMAIL)

    # The emailed link, then the button that uses it.
    page.goto(live_mail.link(EMAIL, "/confirm-email/"))
    visits.see("confirm email", "Confirm your email address")
    page.get_by_role("button", name="Confirm my email address").click()
    expect(page).to_have_url(re.compile(r"/sign-in$"))
    banner = page.locator(".nhsuk-notification-banner--success")
    expect(banner).to_contain_text("Your email address is confirmed. You can now sign in.")
    visits.see("sign in", "Sign in")

    # A wrong password first, then the right one.
    _sign_in(page, EMAIL, "not the password at all")
    visits.see("sign in", "Sign in", error=True)
    expect(page.locator(".nhsuk-error-summary")).to_contain_text(
        "Enter a correct email address and password")
    expect(_account(page)).to_have_count(0)
    _sign_in(page, EMAIL, FIRST_PASSWORD)
    expect(page).to_have_url(re.compile(r"/$"))
    visits.see("home", "MDSN Learning & Events")
    expect(_account(page).get_by_role("link", name=NAME)).to_be_visible()
    expect(_menu(page).get_by_role("link", name="My learning")).to_be_visible()
    expect(_menu(page).get_by_role("link", name="Sign in")).to_have_count(0)

    # Their profile, from their name in the header.
    _account(page).get_by_role("link", name=NAME).click()
    visits.see("profile", "Your profile")
    expect(page.locator("main")).to_contain_text(EMAIL)
    expect(page.get_by_label("Full name")).to_have_value(NAME)
    expect(page.get_by_label("Organisation")).to_have_value(re.compile(r"\d+"))
    assert page.get_by_label("Organisation").evaluate(
        "el => el.selectedOptions[0].text") == "Birmingham and Solihull"

    # Sign out: the sign-in link is back and the profile needs signing in again.
    _account(page).get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/sign-in$"))
    expect(page.locator(".nhsuk-notification-banner--success")).to_contain_text(
        "You have signed out.")
    visits.see("sign in", "Sign in")
    expect(_menu(page).get_by_role("link", name="Sign in")).to_be_visible()
    expect(_account(page)).to_have_count(0)
    page.goto("/profile")
    expect(page).to_have_url(re.compile(r"/sign-in\?next=%2Fprofile$"))
    visits.see("sign in", "Sign in")

    # Forgotten password: ask for a link, follow it, choose a new password.
    page.get_by_role("link", name="Forgotten your password?").click()
    visits.see("forgot password", "Reset your password")
    page.get_by_label("Email address").fill(EMAIL)
    page.get_by_role("button", name="Send reset link").click()
    visits.see("reset sent", "Check your email")
    expect(page.locator("main")).to_contain_text(EMAIL)

    page.goto(live_mail.link(EMAIL, "/reset-password/"))
    visits.see("reset password", "Choose a new password")
    page.get_by_label("New password", exact=True).fill("too short")
    page.get_by_label("Confirm your new password").fill("too short")
    page.get_by_role("button", name="Save new password").click()
    visits.see("reset password", "Choose a new password", error=True)
    expect(page.locator(".nhsuk-error-summary a[href='#password']")).to_be_visible()
    page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("Confirm your new password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Save new password").click()
    expect(page).to_have_url(re.compile(r"/sign-in$"))
    expect(page.locator(".nhsuk-notification-banner--success")).to_contain_text(
        "Your password has been changed")
    visits.see("sign in", "Sign in")

    # The old password no longer works; the new one does.
    _sign_in(page, EMAIL, FIRST_PASSWORD)
    visits.see("sign in", "Sign in", error=True)
    _sign_in(page, EMAIL, NEW_PASSWORD)
    expect(page).to_have_url(re.compile(r"/$"))
    visits.see("home", "MDSN Learning & Events")
    expect(_account(page).get_by_role("link", name=NAME)).to_be_visible()

    assert len(visits.titles) == 9, visits.titles
