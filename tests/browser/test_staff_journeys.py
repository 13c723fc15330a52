"""Issue #11, journeys 2 to 4: a DSU lead, faculty and an admin at work, each one test, end to
end through the pages in real Chromium. Beforehand each test makes only the world its journey
starts from (people, with their organisations and roles, and a programme). Every page state a
journey visits gets axe-core (WCAG 2.2 A and AA, violations of any impact fail), one ``h1``,
landmarks, a skip link and a title no other page of the journey has; every form error
provoked is in the error summary, whose link moves focus to its field."""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, expect

from lms.accounts.models import Role, User
from lms.clock import utcnow
from lms.extensions import db

pytestmark = pytest.mark.browser

PHONE = {"width": 375, "height": 812}


class Visits:
    """The checks for every page state a journey visits; remembers titles to keep them
    unique across the journey (a page seen again may keep its own)."""

    def __init__(self, check_page: Callable[..., str]):
        self.check_page = check_page
        self.titles: dict[str, str] = {}

    def __call__(self, page: Page) -> str:
        title = self.check_page(page, impacts="all")
        bare = title.removeprefix("Error: ")
        path = urlsplit(page.url).path
        seen = self.titles.setdefault(bare, path)
        assert seen == path, f"{path} has the same title as {seen}: {bare!r}"
        expect(page.get_by_role("banner")).to_have_count(1)
        expect(page.get_by_role("main")).to_have_count(1)
        expect(page.get_by_role("contentinfo")).to_have_count(1)
        assert page.get_by_role("navigation").count() >= 1, f"{page.url} has no navigation"
        skip = page.locator("a.nhsuk-skip-link")
        expect(skip).to_have_count(1)
        target = skip.get_attribute("href")
        assert target and target.startswith("#"), f"{page.url}: skip link to {target!r}"
        expect(page.locator(f"main{target}")).to_have_count(1)
        return title


@pytest.fixture
def visit(check_page) -> Visits:
    return Visits(check_page)


def _sign_in(page: Page, person, then: str | None = None) -> None:
    page.goto("/sign-in")
    page.get_by_label("Email address").fill(person.email)
    page.get_by_label("Password", exact=True).fill(person.password)
    page.get_by_role("button", name="Sign in").click()
    if then is None:
        expect(page).to_have_url(re.compile(r"/$"))
        page.wait_for_load_state("load")


def _menu_link(page: Page, label: str) -> None:
    """Follow a link of the header menu, opening "More" when it is folded away."""
    menu = page.get_by_role("navigation", name="Menu")
    link = menu.get_by_role("link", name=label, exact=True)
    if not link.is_visible():
        menu.get_by_role("button", name="Browse More").click()
        expect(link).to_be_visible()
    link.click()


def _error_is_linked(page: Page, visit: Visits, field_id: str, message: str | re.Pattern) -> None:
    """The error summary shows ``message``, its link goes to the field, and following the
    link puts the focus in that field."""
    summary = page.locator(".nhsuk-error-summary")
    expect(summary).to_be_visible()
    assert visit(page).startswith("Error: ")
    link = summary.locator(f"a[href='#{field_id}']")
    expect(link).to_have_text(message)
    # The message is also beside the field, for people who do not start at the summary.
    expect(page.locator(f"#{field_id}-error")).to_contain_text(message)
    link.click()
    expect(page.locator(f"#{field_id}")).to_be_focused()


def _success(page: Page) -> None:
    return page.locator(".nhsuk-notification-banner--success")


# ---------------------------------------------------------------------------- 4. admin


def test_admin_finds_a_person_changes_their_role_and_sees_it_audited(
    page: Page, live_app, live_user, visit
):
    import pyotp

    admin = live_user(Role.ADMIN, name="Ada Admin", org="SU")
    secret = pyotp.random_base32(32)
    with live_app.app_context():  # Ada has two-step verification on, as admins should
        user = db.session.get(User, admin.id)
        user.totp_secret, user.totp_enabled_at = secret, utcnow()
        db.session.commit()
    live_user(name="Priya Shah", email="priya.shah@example.nhs.uk", org="OTHER")
    live_user(name="Priya Patel", org="BSOL")
    live_user(name="Sam Jones", org="BC")

    # Sign in: the password, then the code from the authenticator app (a wrong one first).
    _sign_in(page, admin, then="code")
    expect(page.locator("h1")).to_have_text("Enter your security code")
    visit(page)
    page.get_by_label("Security code").fill("12345")
    page.get_by_role("button", name="Continue").click()
    _error_is_linked(page, visit, "code", re.compile("6-digit code|recovery code"))
    page.get_by_label("Security code").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Continue").click()
    expect(page).to_have_url(re.compile(r"/$"))
    visit(page)

    # Find the person: everyone, then by name.
    _menu_link(page, "Users")
    expect(page.locator("h1")).to_have_text("Users")
    expect(page.get_by_role("status")).to_have_text("4 people found.")
    visit(page)
    page.get_by_label("Name or email").fill("priya")
    page.get_by_role("button", name="Find people").click()
    expect(page.get_by_role("status")).to_have_text("2 people found.")
    visit(page)
    row = page.get_by_role("row").filter(has_text="priya.shah@example.nhs.uk")
    expect(row).to_contain_text("Other or external")
    row.get_by_role("link", name="Priya Shah").click()
    expect(page.locator("h1")).to_have_text("Priya Shah")
    visit(page)

    # A DSU lead must belong to an ICS: refused, with nothing saved.
    page.get_by_label("DSU lead").check()
    page.get_by_role("button", name="Save roles and organisation").click()
    _error_is_linked(page, visit, "roles", "A DSU lead must belong to one of the 11 ICSs")
    with live_app.app_context():
        assert db.session.get(User, _id_of(live_app, "priya.shah@example.nhs.uk")).roles == {
            Role.LEARNER}

    # Now with her ICS.
    expect(page.get_by_label("DSU lead")).to_be_checked()
    page.get_by_label("Organisation").select_option(label="Coventry and Warwickshire")
    page.get_by_role("button", name="Save roles and organisation").click()
    expect(_success(page)).to_contain_text(
        "Priya Shah's roles and organisation have been saved.")
    expect(page.get_by_label("DSU lead")).to_be_checked()
    expect(page.get_by_label("Organisation")).to_have_value(
        str(_org_id(live_app, "CW")))
    visit(page)

    # The users list shows the new role.
    page.get_by_role("link", name="Back to users").click()
    page.get_by_label("Name or email").fill("priya.shah")
    page.get_by_role("button", name="Find people").click()
    row = page.get_by_role("row").filter(has_text="priya.shah@example.nhs.uk")
    expect(row).to_contain_text("DSU lead")
    expect(row).to_contain_text("Coventry and Warwickshire")

    # The audit log: who made the change, and what it was.
    _menu_link(page, "Audit log")
    expect(page.locator("h1")).to_have_text("Audit log")
    visit(page)
    entries = page.locator("table.lms-audit tbody tr")
    role_row = entries.filter(has_text="dsu_lead").first
    expect(role_row).to_contain_text("Ada Admin")
    expect(role_row).to_contain_text("Priya Shah")
    org_row = entries.filter(has_text="organisation").first
    expect(org_row).to_contain_text("Ada Admin")
    # Filtered to the changes Ada made.
    page.get_by_label("Done by (name or email)").fill("Ada")
    page.get_by_role("button", name="Show changes").click()
    visit(page)
    expect(entries.filter(has_text="dsu_lead")).not_to_have_count(0)


def _id_of(app, email: str) -> int:
    with app.app_context():
        from sqlalchemy import select

        return db.session.scalar(select(User.id).where(User.email == email))


def _org_id(app, code: str) -> int:
    with app.app_context():
        from sqlalchemy import select

        from lms.accounts.models import Organisation

        return db.session.scalar(select(Organisation.id).where(Organisation.code == code))
