"""Headers on every response, and sessions that end when idle or old."""

from __future__ import annotations

import re
from datetime import timedelta

import time_machine

from lms.clock import utcnow
from tests.conftest import PASSWORD


def test_every_page_sends_a_strict_content_security_policy(client):
    response = client.get("/sign-in")
    csp = response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp
    script_src = re.search(r"script-src ([^;]+)", csp).group(1)
    assert "unsafe-inline" not in script_src
    nonce = re.search(r"'nonce-([^']+)'", script_src).group(1)
    html = response.get_data(as_text=True)
    inline = re.findall(r"<script(?![^>]*\bsrc=)([^>]*)>", html)
    assert inline and all(f'nonce="{nonce}"' in attrs for attrs in inline)
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert client.get("/sign-in").headers["Content-Security-Policy"] != csp  # fresh nonce


def test_sessions_end_after_30_idle_minutes(app, make_user):
    make_user(email="idle@example.nhs.uk")
    browser = app.test_client()
    start = utcnow()
    with time_machine.travel(start, tick=False) as clock:
        browser.post("/sign-in", data={"email": "idle@example.nhs.uk", "password": PASSWORD})
        assert browser.get("/profile").status_code == 200
        clock.shift(timedelta(minutes=29))
        assert browser.get("/profile").status_code == 200  # activity keeps it alive
        clock.shift(timedelta(minutes=31))
        response = browser.get("/profile")
        assert response.status_code == 302 and "/sign-in" in response.location
        assert browser.get("/profile").status_code == 302


def test_sessions_end_after_12_hours_even_when_busy(app, make_user):
    make_user(email="busy@example.nhs.uk")
    browser = app.test_client()
    start = utcnow()
    with time_machine.travel(start, tick=False) as clock:
        browser.post("/sign-in", data={"email": "busy@example.nhs.uk", "password": PASSWORD})
        for _ in range(28):  # 11 h 40 min of activity
            clock.shift(timedelta(minutes=25))
            assert browser.get("/profile").status_code == 200
        clock.shift(timedelta(minutes=25))
        assert browser.get("/profile").status_code == 302


def test_a_refusal_is_announced_like_a_success_and_a_note_is_not(app):
    """After a redirect, screen readers hear "refused" and "saved" banners (role alert, which
    NHS.UK's script also focuses); an information note is a plain region."""
    import re

    from flask import flash, render_template_string

    with app.test_request_context("/"):
        flash("Your ICS has used all its places", "error")
        flash("The register is saved", "success")
        flash("Nothing to import yet", "info")
        html = render_template_string(
            '{% extends "layout.html" %}{% block title %}T{% endblock %}'
            '{% block content %}<h1>T</h1>{% endblock %}')
    roles = {message: role for role, message in re.findall(
        r'<div class="nhsuk-notification-banner[^"]*" role="(\w+)".*?'
        r'notification-banner__heading">([^<]+)<', html, re.S)}
    assert roles == {"Your ICS has used all its places": "alert",
                     "The register is saved": "alert", "Nothing to import yet": "region"}
