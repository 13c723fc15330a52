"""Calling the API: tokens in the Authorization header, scopes, CSRF for browser sessions,
and rate limits counted in the database."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import func, select

from lms import create_app
from lms.accounts.models import User
from lms.api import services as api
from lms.api.models import ApiRateWindow, ApiToken
from lms.clock import utcnow
from lms.extensions import db
from lms.offerings.models import Enrolment
from tests.authz.api import cohort
from tests.test_api_views import assert_problem, bearer, build


@pytest.fixture
def csrf_on(app):
    app.config["WTF_CSRF_ENABLED"] = True
    yield
    app.config["WTF_CSRF_ENABLED"] = False


@pytest.fixture
def limits(app):
    """Small rate limits for one test."""
    def set_limits(read: int, write: int) -> None:
        app.config["API_RATE_LIMIT_READ"], app.config["API_RATE_LIMIT_WRITE"] = read, write

    yield set_limits
    app.config.pop("API_RATE_LIMIT_READ", None)
    app.config.pop("API_RATE_LIMIT_WRITE", None)


def bookings(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(Enrolment.id)))


# ---------------------------------------------------------------------------- tokens


def test_a_token_signs_the_call_in_and_is_marked_used(app, client, people):
    headers = bearer(app, people.learner, "read")
    body = client.get("/api/v1/me", headers=headers).get_json()
    assert body["id"] == people.learner.id and body["authenticated_by"] == "token"
    with app.app_context():
        assert db.session.scalar(select(ApiToken.last_used_at)) is not None


@pytest.mark.parametrize("header", ["Basic dXNlcjpwYXNz", "Bearer", "Bearer mdsn_nonsense",
                                    "Token abc"])
def test_a_bad_authorization_header_is_401_not_anonymous(client, header):
    # Even on a public list: a client that meant to sign in must hear that it did not.
    response = client.get("/api/v1/courses", headers={"Authorization": header})
    assert_problem(response, 401, "unauthorised")
    assert response.headers["WWW-Authenticate"].startswith("Bearer ")


def test_an_expired_token_is_401_saying_so(app, client, people):
    with time_machine.travel(utcnow() - timedelta(days=8), tick=False), app.app_context():
        new = api.create_token(db.session.get(User, people.learner.id), "Old", "read", 7)
        db.session.commit()
        secret = new.secret
    response = client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
    body = assert_problem(response, 401, "unauthorised")
    assert "expired on" in body["detail"]
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]


def test_a_read_only_token_cannot_book_or_withdraw(app, client, people):
    offering_id = build(app, lambda: cohort("Read only").id)
    read_only = bearer(app, people.learner, "read")
    response = client.post(f"/api/v1/offerings/{offering_id}/bookings", headers=read_only)
    body = assert_problem(response, 403, "insufficient-scope")
    assert "read-only" in body["detail"]
    assert 'scope="read_write"' in response.headers["WWW-Authenticate"]
    assert bookings(app) == 0
    place = client.post(f"/api/v1/offerings/{offering_id}/bookings",
                        headers=bearer(app, people.learner)).get_json()
    assert_problem(client.delete(f"/api/v1/me/bookings/{place['id']}", headers=read_only),
                   403, "insufficient-scope")
    assert client.get(f"/api/v1/me/bookings/{place['id']}",
                      headers=read_only).get_json()["state"] == "enrolled"


# ---------------------------------------------------------------------------- CSRF


def test_a_browser_session_needs_its_csrf_token_to_change_anything(app, client, login,
                                                                    people, csrf_on):
    offering_id = build(app, lambda: cohort("From the browser").id)
    login(people.learner)
    url = f"/api/v1/offerings/{offering_id}/bookings"
    body = assert_problem(client.post(url), 403, "csrf-failed")
    assert "X-CSRFToken" in body["detail"]
    assert_problem(client.post(url, headers={"X-CSRFToken": "forged"}), 403, "csrf-failed")
    assert bookings(app) == 0
    token = client.get("/api/v1/me").get_json()["csrf_token"]
    booked = client.post(url, headers={"X-CSRFToken": token})
    assert booked.status_code == 201
    place = booked.get_json()["id"]
    assert_problem(client.delete(f"/api/v1/me/bookings/{place}"), 403, "csrf-failed")
    assert client.delete(f"/api/v1/me/bookings/{place}",
                         headers={"X-CSRFToken": token}).status_code == 200
    # Reads need no CSRF token.
    assert client.get("/api/v1/me/bookings").status_code == 200


def test_a_token_call_needs_no_csrf_token_even_with_a_cookie(app, client, login, people,
                                                             csrf_on):
    offering_id = build(app, lambda: cohort("Scripted").id)
    login(people.dsu_same)  # a browser session of someone else entirely
    response = client.post(f"/api/v1/offerings/{offering_id}/bookings",
                           headers=bearer(app, people.learner))
    assert response.status_code == 201
    with app.app_context():
        assert db.session.scalar(select(Enrolment.user_id)) == people.learner.id


def test_an_anonymous_change_is_401(app, client, csrf_on):
    offering_id = build(app, lambda: cohort("Nobody").id)
    assert_problem(client.post(f"/api/v1/offerings/{offering_id}/bookings"), 401,
                   "unauthorised")


# ---------------------------------------------------------------------------- rate limits


def test_past_the_read_limit_the_answer_is_429_with_retry_after(app, client, people, limits):
    limits(read=3, write=1)
    headers = bearer(app, people.learner, "read")
    start = utcnow().replace(second=10, microsecond=0) + timedelta(minutes=1)
    with time_machine.travel(start, tick=False) as clock:
        answers = [client.get("/api/v1/me", headers=headers) for _ in range(4)]
        assert [a.status_code for a in answers] == [200, 200, 200, 429]
        assert [a.headers["RateLimit-Remaining"] for a in answers] == ["2", "1", "0", "0"]
        body = assert_problem(answers[3], 429, "rate-limited")
        assert "more than 3 calls in a minute" in body["detail"]
        assert answers[3].headers["Retry-After"] == "50"
        clock.shift(timedelta(seconds=50))
        assert client.get("/api/v1/me", headers=headers).status_code == 200


def test_reads_and_writes_have_separate_limits_per_token(app, client, people, limits):
    limits(read=2, write=1)
    offering_id = build(app, lambda: cohort("Limited").id)
    one, two = bearer(app, people.learner), bearer(app, people.learner)
    with time_machine.travel(utcnow().replace(second=0) + timedelta(minutes=1), tick=False):
        url = f"/api/v1/offerings/{offering_id}/bookings"
        assert client.post(url, headers=one).status_code == 201
        assert_problem(client.post(url, headers=one), 429, "rate-limited")
        # The same person's other token has its own count; reads are counted apart.
        assert_problem(client.post(url, headers=two), 409, "already-booked")
        assert client.get("/api/v1/me", headers=one).status_code == 200


def test_the_count_is_in_the_database_so_it_holds_across_processes(app, client, people,
                                                                   limits, tmp_path):
    limits(read=2, write=2)
    headers = bearer(app, people.learner, "read")
    other = create_app("testing", SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"],
                       MAIL_OUTBOX_DIR=str(tmp_path), API_RATE_LIMIT_READ=2)
    with time_machine.travel(utcnow().replace(second=0) + timedelta(minutes=1), tick=False):
        assert client.get("/api/v1/me", headers=headers).status_code == 200
        assert other.test_client().get("/api/v1/me", headers=headers).status_code == 200
        assert client.get("/api/v1/me", headers=headers).status_code == 429
        with app.app_context():
            assert db.session.scalar(select(func.sum(ApiRateWindow.hits))) == 3
    with other.app_context():
        db.engine.dispose()


def test_anonymous_calls_are_limited_by_address(app, client, limits):
    limits(read=1, write=1)
    with time_machine.travel(utcnow().replace(second=0) + timedelta(minutes=1), tick=False):
        assert client.get("/api/v1/courses").status_code == 200
        assert client.get("/api/v1/courses").status_code == 429
        elsewhere = client.get("/api/v1/courses", environ_base={"REMOTE_ADDR": "10.0.0.9"})
        assert elsewhere.status_code == 200


def test_old_windows_are_tidied_away(app, client, people):
    headers = bearer(app, people.learner, "read")
    start = utcnow().replace(second=0) + timedelta(minutes=1)
    with time_machine.travel(start, tick=False) as clock:
        client.get("/api/v1/me", headers=headers)
        clock.shift(timedelta(minutes=30))
        client.get("/api/v1/me", headers=headers)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(ApiRateWindow)) == 1
