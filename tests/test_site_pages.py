"""Privacy notice, accessibility statement, cookies, help and contact: public, linked from
every page's footer, and saying what the service really does."""

from __future__ import annotations

import re

import pytest

FOOTER = ["/help", "/contact", "/privacy", "/accessibility", "/cookies"]


@pytest.mark.parametrize("path", ["/", "/courses", "/events", "/search?q=x", "/sign-in"])
def test_every_page_links_to_the_public_pages_in_its_footer(client, path):
    page = client.get(path).get_data(as_text=True)
    footer = page[page.index('<footer'):]
    assert re.findall(r'href="(/[a-z]+)"', footer) == FOOTER


def test_the_privacy_notice_covers_what_uk_gdpr_asks(client, login, people):
    login(people.learner)
    page = client.get("/privacy").get_data(as_text=True)
    for heading in ("What we hold about you", "Why we hold it and our lawful basis",
                    "How long we keep it", "Your rights", "Complaints"):
        assert f">{heading}</h2>" in page
    assert "public task" in page and "Article 6(1)(e)" in page
    assert 'href="/profile/your-data"' in page            # access, and portability
    assert "/admin/users/[your account number]/erase" in page  # erasure
    assert "mailto:mdsn.learning@nhs.net" in page


def test_the_contact_address_comes_from_the_configuration(app, client):
    app.config["CONTACT_EMAIL"] = "help@mdsn.example.nhs.uk"
    try:
        assert "mailto:help@mdsn.example.nhs.uk" in client.get("/contact").get_data(
            as_text=True)
    finally:
        app.config.pop("CONTACT_EMAIL")


def test_the_cookies_page_lists_the_cookies_the_service_really_sets(client, people):
    response = client.post("/sign-in", data={"email": people.learner.email,
                                            "password": "correct horse battery"})
    assert response.status_code == 302
    set_cookies = {c.split("=", 1)[0] for c in response.headers.getlist("Set-Cookie")}
    page = client.get("/cookies").get_data(as_text=True)
    listed = set(re.findall(r'<td class="nhsuk-table__cell"><code>([^<]+)</code>', page))
    assert set_cookies == listed == {"session"}
    assert "strictly necessary" in page and "remember me" in page


def test_the_accessibility_statement_has_the_model_statements_sections(client):
    page = client.get("/accessibility").get_data(as_text=True)
    for heading in ("How accessible this website is", "Feedback and contact information",
                    "Reporting accessibility problems with this website",
                    "Enforcement procedure",
                    "Technical information about this website's accessibility",
                    "Non-accessible content", "Preparation of this accessibility statement"):
        assert heading in page, heading
    assert "partially compliant" in page and "WCAG" in page and "axe-core" in page
    assert "Equality Advisory and Support Service" in page


def test_sign_up_links_to_the_privacy_notice(client):
    page = client.get("/sign-up").get_data(as_text=True)
    start = page.index('<form method="post"')
    form = page[start:page.index("</form>", start)]
    assert 'href="/privacy"' in form
