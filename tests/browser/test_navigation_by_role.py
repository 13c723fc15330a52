"""What the header offers each role, the admin's user search, and the header on a phone."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from lms.accounts.models import Role
from tests.browser.conftest import menu_settled, no_sideways_scroll, sign_in

pytestmark = pytest.mark.browser

PHONE = {"width": 375, "height": 812}


def _menu(page: Page):
    return page.get_by_role("navigation", name="Menu")


def _menu_labels(page: Page) -> list[str]:
    """Every link in the header menu, shown or folded under "More"."""
    return [" ".join(text.split()) for text in _menu(page).locator("a").all_text_contents()]


def _follow_menu_link(page: Page, label: str) -> None:
    """Use the header menu as a person would: the link if it shows, else through "More"."""
    menu_settled(page)
    link = _menu(page).get_by_role("link", name=label, exact=True)
    if not link.is_visible():
        toggle = _menu(page).get_by_role("button", name="Browse More")
        expect(toggle).to_be_visible()
        expect(toggle).to_have_attribute("aria-expanded", "false")
        toggle.click()
        expect(toggle).to_have_attribute("aria-expanded", "true")
        expect(link).to_be_visible()
    _assert_inside_viewport(page, link)
    link.click()


def _assert_inside_viewport(page: Page, locator) -> None:
    box = locator.bounding_box()
    width = page.viewport_size["width"]
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width, (
        f"{locator} is outside the {width}px viewport: {box}"
    )


def test_users_link_only_for_admin_and_admin_can_search_people(
    page: Page, make_page, live_user, check_page
):
    learner = live_user(name="Lena Learner")
    admin = live_user(Role.ADMIN, name="Ada Admin", org="SU")
    live_user(Role.FACULTY, name="Fay Faculty", org="SU")

    # A learner: no "Users" in the menu, and the page itself is refused.
    sign_in(page, learner.email, learner.password)
    check_page(page)
    labels = _menu_labels(page)
    assert "My learning" in labels
    assert "Users" not in labels
    assert "Sign in" not in labels
    page.goto("/admin/users")
    expect(page.locator("h1")).to_have_text("You do not have access to this page")
    check_page(page)

    # An admin, in another browser context: "Users" is there and the search works.
    admin_page = make_page()
    sign_in(admin_page, admin.email, admin.password)
    check_page(admin_page)
    assert "Users" in _menu_labels(admin_page)
    _follow_menu_link(admin_page, "Users")
    expect(admin_page).to_have_url(re.compile(r"/admin/users$"))
    expect(admin_page.locator("h1")).to_have_text("Users")
    expect(admin_page.get_by_role("status")).to_have_text("3 people found.")
    check_page(admin_page)
    # The menu may fold "Users" under "More" (hidden until opened): find it either way.
    menu_users = _menu(admin_page).locator("a[href='/admin/users']")
    expect(menu_users).to_have_attribute("aria-current", "page")

    admin_page.get_by_label("Name or email").fill("Lena")
    admin_page.get_by_role("button", name="Find people").click()
    expect(admin_page).to_have_url(re.compile(r"/admin/users\?.*q=Lena"))
    expect(admin_page.get_by_role("status")).to_have_text("1 person found.")
    rows = admin_page.locator("table tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first.get_by_role("link", name="Lena Learner")).to_be_visible()
    expect(rows.first).to_contain_text(learner.email)
    expect(admin_page.get_by_label("Name or email")).to_have_value("Lena")
    title = check_page(admin_page)
    assert "Lena" in title

    # The person's page opens from the results.
    rows.first.get_by_role("link", name="Lena Learner").click()
    expect(admin_page.locator("h1")).to_have_text("Lena Learner")
    check_page(admin_page)
    # Still in the Users section, but no longer on the Users page itself.
    expect(menu_users).to_have_attribute("aria-current", "true")


def test_header_menu_works_on_a_phone(make_page, live_user, check_page):
    admin = live_user(Role.ADMIN, name="Ada Admin", org="SU")
    phone = make_page(PHONE)

    # Signed out: the sign-in page passes axe and nothing spills sideways.
    phone.goto("/sign-in")
    check_page(phone)
    no_sideways_scroll(phone)
    for label in ("Home", "Sign in", "Create an account"):
        assert label in _menu_labels(phone)
    _follow_menu_link(phone, "Create an account")
    expect(phone).to_have_url(re.compile(r"/sign-up$"))
    check_page(phone)
    no_sideways_scroll(phone)

    # Signed in as an admin, with more in the header: every item is still reachable.
    sign_in(phone, admin.email, admin.password)
    check_page(phone)
    no_sideways_scroll(phone)
    account = phone.get_by_role("navigation", name="Account")
    expect(account.get_by_role("link", name="Ada Admin")).to_be_visible()
    sign_out = account.get_by_role("button", name="Sign out")
    expect(sign_out).to_be_visible()
    _assert_inside_viewport(phone, sign_out)

    _follow_menu_link(phone, "Users")
    expect(phone).to_have_url(re.compile(r"/admin/users$"))
    check_page(phone)
    no_sideways_scroll(phone)

    _follow_menu_link(phone, "My learning")
    expect(phone.locator("h1")).to_have_text("My learning")
    check_page(phone)
    no_sideways_scroll(phone)

    # The keyboard alone: the skip link comes first, then the header menu reaches "Users".
    phone.goto("/")
    phone.keyboard.press("Tab")
    expect(phone.get_by_role("link", name="Skip to main content")).to_be_focused()
    for _ in range(20):
        phone.keyboard.press("Tab")
        focused = phone.evaluate("() => document.activeElement.textContent.trim()")
        if focused == "Users":
            break
        if focused.endswith("More") and phone.evaluate(
                "() => document.activeElement.getAttribute('aria-expanded') === 'false'"):
            phone.keyboard.press("Enter")
    else:
        pytest.fail("Tab never reached the Users link")
    phone.keyboard.press("Enter")
    expect(phone).to_have_url(re.compile(r"/admin/users$"))

    account.get_by_role("button", name="Sign out").click()
    expect(phone).to_have_url(re.compile(r"/sign-in$"))
    # Shown or folded under "More": the header's script decides by the widths it measures,
    # which a loaded machine may measure before the fonts are in.
    expect(_menu(phone).locator("a", has_text="Sign in")).to_have_count(1)
    _follow_menu_link(phone, "Sign in")
    expect(phone).to_have_url(re.compile(r"/sign-in$"))
    check_page(phone)
