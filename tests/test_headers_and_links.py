"""Signed-in pages are never kept by a browser or proxy, styles obey the
Content-Security-Policy like scripts do, and the API's links are on the configured address,
whatever ``Host`` the caller sends (issue 16, item 17)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from lms.config import BASE_DIR
from tests.authz.api import cohort
from tests.test_api_views import bearer, build

EVIL = "evil.example"


def test_styles_come_only_from_this_sites_stylesheets(client):
    csp = client.get("/sign-in").headers["Content-Security-Policy"]
    style_src = re.search(r"style-src ([^;]+)", csp).group(1)
    assert style_src.strip() == "'self'"
    assert "unsafe-inline" not in csp


def test_no_page_template_writes_an_inline_style():
    """Inline ``style`` attributes and elements would be refused by the browser now; only
    the templates turned into PDFs (never served as pages) may carry them."""
    offenders = []
    for path in (BASE_DIR / "templates").rglob("*.html"):
        if "pdf" in path.name or "pdf" in path.parent.name:
            continue
        text = path.read_text(encoding="utf-8")
        if re.search(r"\sstyle\s*=|<style\b", text):
            offenders.append(str(path.relative_to(BASE_DIR)))
    assert offenders == []


def test_the_classes_that_replaced_inline_styles_are_in_the_stylesheet():
    css = Path(BASE_DIR / "lms/static/lms.css").read_text(encoding="utf-8")
    for name in ("lms-batch__bar", "lms-code", "lms-table-scroll"):
        assert re.search(rf"\.{name}\s*\{{", css), name


@pytest.mark.parametrize("path", ["/profile", "/my-learning", "/"])
def test_signed_in_pages_are_never_stored(client, login, people, path):
    login(people.learner)
    response = client.get(path)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"


def test_a_signed_in_redirect_is_not_stored_either(client, login, people):
    login(people.learner)
    assert client.get("/sign-in").headers["Cache-Control"] == "no-store"


def test_public_pages_and_files_keep_their_caching(client):
    assert "no-store" not in client.get("/sign-in").headers.get("Cache-Control", "")
    assert "no-store" not in client.get("/static/lms.css").headers.get("Cache-Control", "")


def _urls(value):
    if isinstance(value, dict):
        for item in value.values():
            yield from _urls(item)
    elif isinstance(value, list):
        for item in value:
            yield from _urls(item)
    elif isinstance(value, str) and re.match(r"https?://", value):
        yield value


def test_api_links_ignore_a_spoofed_host(app, client, people):
    base = app.config["BASE_URL"].rstrip("/")
    spoof = {"Host": EVIL, "X-Forwarded-Host": EVIL}
    offering_id = build(app, lambda: [cohort(f"Course {n}").id for n in range(3)][0])
    seen = []
    for path in ("/api/v1/", "/api/v1/courses?per_page=1", "/api/v1/offerings?per_page=1&page=2",
                 "/api/v1/courses/999999", "/api/v1/offerings?page=x"):
        response = client.get(path, headers=spoof)
        assert response.status_code in (200, 400, 404), path
        body = response.get_json(force=True)
        seen += list(_urls(body))
        seen += re.findall(r"<([^>]+)>", response.headers.get("Link", ""))
    headers = {**bearer(app, people.learner), **spoof}
    booked = client.post(f"/api/v1/offerings/{offering_id}/bookings", headers=headers)
    assert booked.status_code == 201
    seen.append(booked.headers["Location"])
    seen += list(_urls(booked.get_json()))
    doc = client.get("/api/v1/openapi.json", headers=spoof).get_json()
    assert doc["servers"] == [{"url": base + "/api/v1"}]
    assert len(seen) > 10
    assert all(url.startswith(base + "/") for url in seen), [u for u in seen
                                                             if EVIL in u][:3]
    assert not any(EVIL in url for url in seen)


def test_the_api_documentation_shows_the_configured_address(app, client):
    page = client.get("/api/v1/docs", headers={"Host": EVIL}).get_data(as_text=True)
    assert EVIL not in page
    assert app.config["BASE_URL"].rstrip("/") + "/api/v1/" in page


def test_the_base_address_comes_from_lms_base_url():
    from lms.config import Config, env_overrides

    assert env_overrides(Config, {"LMS_BASE_URL": "https://learning.example.nhs.uk"}) == {
        "BASE_URL": "https://learning.example.nhs.uk"}
