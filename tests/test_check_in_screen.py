"""The check-in screen for a projector: the full address and code in large type with the QR
code, and a count of who has checked in that its script keeps up to date."""

from __future__ import annotations

import re
from datetime import timedelta

import time_machine
from sqlalchemy import select

from lms.accounts.models import Role
from lms.attendance.models import CheckInCode
from lms.extensions import db


def test_the_screen_shows_address_code_qr_and_a_count_its_script_polls(
        app, client, login, make_user, make_cohort):
    faculty = make_user(Role.FACULTY, org="SU")
    learners = [make_user() for _ in range(3)]
    cohort = make_cohort(capacity=5)
    for learner in learners:
        login(learner)
        client.post(f"/offerings/{cohort.id}/book")
    sid = cohort.sessions[0].id
    login(faculty)
    response = client.get(f"/faculty/sessions/{sid}/check-in")
    html = response.get_data(as_text=True)
    with app.app_context():
        code = db.session.scalar(select(CheckInCode.code))
        address = app.config["BASE_URL"].rstrip("/") + "/check-in"
        starts = cohort.sessions[0].starts_at
    assert f'<p class="lms-projector__address">{address}</p>' in html
    assert f">{code}</p>" in html and "<svg" in html
    assert ">0 of 3 checked in</p>" in html           # without JavaScript: on reload
    # The one script carries the response's CSP nonce and polls the count's address.
    nonce = re.search(r"'nonce-([^']+)'", response.headers["Content-Security-Policy"]).group(1)
    assert f'<script nonce="{nonce}">' in html
    assert f'data-count-url="/faculty/sessions/{sid}/check-in/count"' in html
    assert "<header" not in html and "<footer" not in html  # nothing but the screen
    assert html.count("<h1") == 1

    with time_machine.travel(starts + timedelta(minutes=5)):
        for learner in learners[:2]:
            login(learner)
            client.post("/check-in", data={"code": code})
        login(faculty)
        count = client.get(f"/faculty/sessions/{sid}/check-in/count")
        assert count.is_json and count.headers["Cache-Control"] == "no-store"
        assert count.get_json() == {"checked_in": 2, "places": 3, "text": "2 of 3 checked in"}
        assert ">2 of 3 checked in</p>" in client.get(
            f"/faculty/sessions/{sid}/check-in").get_data(as_text=True)
        login(learners[2])
        assert client.get(f"/faculty/sessions/{sid}/check-in/count").status_code == 403


def test_the_count_of_a_missing_session_is_404(client, login, make_user):
    login(make_user(Role.FACULTY, org="SU"))
    assert client.get("/faculty/sessions/999999/check-in/count").status_code == 404
