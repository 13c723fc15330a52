"""Signing in with an NHS account in real Chromium, through a real OpenID Connect provider
(tests/oidc), on a phone's width, with axe on every page of ours."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import pytest
from flask import Flask
from playwright.sync_api import expect
from sqlalchemy import select

from lms.accounts.models import Role, User
from lms.extensions import db
from lms.sso.issuers import init_issuers
from tests.browser.conftest import no_sideways_scroll, sign_in
from tests.oidc import CLIENT_ID, CLIENT_SECRET, OidcProvider

pytestmark = [pytest.mark.browser, pytest.mark.real_clock]
PHONE = {"width": 375, "height": 812}


@pytest.fixture
def provider(live_app: Flask, live_url: str, tmp_path) -> Iterator[OidcProvider]:
    running = OidcProvider(tmp_path, f"{live_url}/sign-in/nhs/test/callback").start()
    live_app.config["OIDC_ISSUERS"] = json.dumps([{
        "name": "test", "label": "NHSmail (test)", "issuer": running.issuer,
        "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}])
    init_issuers(live_app)
    try:
        yield running
    finally:
        live_app.config["OIDC_ISSUERS"] = ""
        init_issuers(live_app)
        running.stop()


def test_a_new_person_signs_in_with_their_nhs_account(make_page, provider, live_url,
                                                      live_app, check_page):
    page = make_page(PHONE)
    # The provider is the one other address this browser may reach.
    page.context.unroute_all()
    page.context.route(lambda url: not url.startswith((live_url + "/", provider.issuer + "/")),
                       lambda route: route.abort("blockedbyclient"))
    provider.as_account("alice")

    page.goto("/sign-in")
    check_page(page)
    no_sideways_scroll(page)
    page.get_by_role("button", name="Sign in with NHSmail (test)").click()

    expect(page.locator("h1")).to_have_text("Create your account")
    assert page.url.startswith(live_url + "/")
    check_page(page)
    no_sideways_scroll(page)
    expect(page.get_by_label("Full name")).to_have_value("Alice Analyst")
    page.get_by_role("button", name="Create my account").click()
    expect(page.locator(".nhsuk-error-summary")).to_contain_text("Select your organisation")
    check_page(page)
    page.get_by_label("Organisation").select_option(label="Birmingham and Solihull")
    page.get_by_role("button", name="Create my account").click()

    expect(page).to_have_url(re.compile(r"/$"))
    check_page(page)
    with live_app.app_context():
        user = db.session.scalar(select(User).where(User.email == "alice@nhs.net"))
        assert user is not None and user.full_name == "Alice Analyst"
        assert user.organisation.name == "Birmingham and Solihull"
        db.session.rollback()

    page.goto("/profile")
    page.get_by_role("button", name="Sign out").click()
    expect(page.locator("h1")).to_have_text("You have signed out")
    check_page(page)
    no_sideways_scroll(page)
    link = page.get_by_role("button", name="Sign out of NHSmail (test)")
    assert link.get_attribute("href").startswith(provider.issuer + "/session/end?")


def test_an_admin_makes_a_domain_sso_only(make_page, live_user, check_page):
    admin = live_user(Role.ADMIN)
    page = make_page(PHONE)
    sign_in(page, admin.email)
    page.goto("/admin/sso-domains")
    check_page(page)
    no_sideways_scroll(page)
    page.get_by_label("Email domain").fill("nhs")
    page.get_by_role("button", name="Require NHS account sign-in").click()
    expect(page.locator(".nhsuk-error-summary")).to_contain_text("correct format")
    check_page(page)
    page.get_by_label("Email domain").fill("nhs.net")
    page.get_by_role("button", name="Require NHS account sign-in").click()
    expect(page.get_by_role("table")).to_contain_text("nhs.net")
    check_page(page)
    no_sideways_scroll(page)
    page.get_by_role("button", name="Allow passwords for nhs.net").click()
    expect(page.get_by_text("may use passwords again")).to_be_visible()
    expect(page.get_by_role("table")).to_have_count(0)
    check_page(page)
