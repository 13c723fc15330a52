"""Issue #11, journeys 2 to 4: a DSU lead, faculty and an admin at work, each one test, end to
end through the pages in real Chromium. Beforehand each test makes only the world its journey
starts from (people, with their organisations and roles, and a programme). Every page state a
journey visits gets axe-core (WCAG 2.2 A and AA, violations of any impact fail), one ``h1``,
landmarks, a skip link and a title no other page of the journey has; every form error
provoked is in the error summary, whose link moves focus to its field."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, expect

from lms.accounts.models import Role, User
from lms.clock import to_london, utcnow
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


def _cells(row) -> list[str]:
    """A table row's cells as a person hears them (without the hidden responsive headings)."""
    return row.locator("th, td").evaluate_all(
        """cells => cells.map(cell => {
             const copy = cell.cloneNode(true);
             copy.querySelectorAll("[aria-hidden=true]").forEach(node => node.remove());
             return copy.textContent.replace(/\\s+/g, " ").trim();
           })""")


def _row(page: Page, table: str, first_cell: str) -> list[str]:
    """The cells of the row of the table named ``table`` that starts with ``first_cell``."""
    rows = page.get_by_role("table", name=table).locator("tbody tr").filter(
        has=page.get_by_role("rowheader", name=first_cell, exact=True)
        .or_(page.get_by_role("cell", name=first_cell, exact=True)))
    expect(rows).to_have_count(1)
    return _cells(rows)


# ---------------------------------------------------------------------------- 2. DSU lead


def test_dsu_lead_nominates_within_quota_and_reads_the_ics_dashboard(
    page: Page, live_app, live_user, visit
):
    from tests import catalogue_builders as build

    lead = live_user(Role.DSU_LEAD, name="Dana Lead", org="BSOL")
    for name in ("Asha Patel", "Ben Okafor", "Chloe Singh"):
        live_user(name=name, org="BSOL")
    live_user(name="Sam Other", org="BC")  # another ICS: not Dana's to nominate
    with live_app.app_context():
        programme = build.course("Analytical leaders programme", kind="programme",
                                 strand="analytical_leaders")
        cohort = build.cohort(programme, "Cohort 3", mode="nomination", capacity=12,
                              quotas={"BSOL": 2, "BC": 3},
                              starts=[utcnow() + timedelta(days=30),
                                      utcnow() + timedelta(days=44)])
        db.session.commit()
        cohort_id, title = cohort.id, cohort.title

    _sign_in(page, lead)
    _menu_link(page, "Nominations")
    expect(page.locator("h1")).to_have_text("Nominations")
    visit(page)
    assert _row(page, "Cohorts taking nominations and your ICS's quota", title)[2:] == [
        "2", "0"]

    page.get_by_role("link", name=title).click()
    expect(page.locator("h1")).to_have_text(f"Nominate for {title}")
    expect(page.locator("main")).to_contain_text("0 of 2 places used")
    expect(page.locator("main")).to_contain_text("You have not nominated anyone yet.")
    visit(page)
    people = page.locator("main form.lms-person-row")
    expect(people.filter(has_text="Sam Other")).to_have_count(0)

    # Two people, one found by searching.
    page.get_by_role("searchbox").fill("okafor")
    page.get_by_role("button", name="Search").click()
    expect(people).to_have_count(1)
    visit(page)
    page.get_by_role("button", name="Nominate Ben Okafor").click()
    expect(_success(page)).to_contain_text("Ben Okafor has been nominated.")
    page.get_by_role("button", name="Nominate Asha Patel").click()
    expect(_success(page)).to_contain_text("Asha Patel has been nominated.")
    expect(page.locator("main")).to_contain_text("2 of 2 places used")
    visit(page)

    # A third is over the quota: refused, with the reason, and nothing saved.
    page.get_by_role("button", name="Nominate Chloe Singh").click()
    refusal = page.locator(".nhsuk-notification-banner").filter(
        has_text="Your ICS has used all 2 of its places on this cohort")
    expect(refusal).to_be_visible()
    expect(page.locator("main")).to_contain_text("2 of 2 places used")
    visit(page)

    # The nominations and their states.
    nominations = "People of your ICS nominated for this cohort"
    assert _row(page, nominations, "Asha Patel")[:2] == ["Asha Patel", "Nominated"]
    assert _row(page, nominations, "Ben Okafor")[:2] == ["Ben Okafor", "Nominated"]
    expect(page.get_by_role("table", name=nominations).locator("tbody tr")).to_have_count(2)
    with live_app.app_context():
        from sqlalchemy import func, select

        from lms.offerings.models import Enrolment

        assert db.session.scalar(select(func.count(Enrolment.id)).where(
            Enrolment.offering_id == cohort_id)) == 2
        db.session.rollback()
    page.get_by_role("link", name="Back to nominations").click()
    assert _row(page, "Cohorts taking nominations and your ICS's quota", title)[2:] == [
        "2", "2"]

    # The ICS dashboard counts them.
    _menu_link(page, "My ICS")
    expect(page.locator("h1")).to_contain_text("Birmingham and Solihull")
    visit(page)
    assert _row(page, "Nominations against your quota, by cohort", title)[1:5] == [
        "2", "2", "2", "0"]
    offering = _row(page, "Places, attendance and completions by course and event "
                          "(webinars together)", title)
    assert offering[2:5] == ["0", "0", "2"]  # places held, waiting, not yet confirmed
    people_table = "Your people's places and attendance"
    assert _row(page, people_table, "Asha Patel")[2:4] == ["0", "1"]
    assert _row(page, people_table, "Ben Okafor")[2:4] == ["0", "1"]
    expect(page.get_by_role("table", name=people_table).locator("tbody tr")).to_have_count(2)

    # Dates the wrong way round (the date boxes take only real dates).
    today = to_london(utcnow()).date()
    page.get_by_label("From", exact=True).fill((today + timedelta(days=40)).isoformat())
    page.get_by_label("To", exact=True).fill((today + timedelta(days=10)).isoformat())
    page.get_by_role("button", name="Apply filters").click()
    _error_is_linked(page, visit, "ends",
                     "The end date must be the same as or after the start date")


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
