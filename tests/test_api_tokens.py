"""Personal API tokens: created with a name, scope and expiry, shown once, stored hashed,
revoked by their owner only, refused once revoked or expired."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import select

from lms.accounts.models import User
from lms.api import services as api
from lms.api.models import ApiToken
from lms.clock import utcnow
from lms.errors import DomainError, InvalidInput, NotFound
from lms.extensions import db


def test_a_token_is_shown_once_and_only_its_hash_is_stored(ctx, make_user):
    person = make_user()
    new = api.create_token(person, "  Power   BI  ", "read")
    assert new.secret.startswith(f"mdsn_{new.token.prefix}_")
    assert len(new.secret) == len("mdsn_") + 10 + 1 + 43
    db.session.commit()
    row = db.session.scalar(select(ApiToken))
    assert row.name == "Power BI" and row.scope == "read"
    assert row.token_hash == hashlib.sha256(new.secret.encode()).hexdigest()
    secret_part = new.secret.rsplit("_", 1)[1]
    stored = [str(getattr(row, column.key)) for column in ApiToken.__table__.columns]
    assert not any(secret_part in value or new.secret in value for value in stored)


def test_tokens_last_ninety_days_unless_asked_and_a_year_at_most(ctx, make_user):
    person = make_user()
    default = api.create_token(person, "Default", "read").token
    assert default.expires_at - default.created_at == timedelta(days=90)
    year = api.create_token(person, "A year", "read_write", 365).token
    assert year.expires_at - year.created_at == timedelta(days=365)
    with pytest.raises(DomainError, match="at most 365 days"):
        api.create_token(person, "Too long", "read", 366)


def test_every_problem_with_a_new_token_is_named_at_once(ctx, make_user):
    person = make_user()
    api.create_token(person, "Taken", "read")
    with pytest.raises(InvalidInput) as raised:
        api.create_token(person, "taken", "admin", "forever")
    assert [field for field, _ in raised.value.errors] == ["name", "scope", "days"]
    with pytest.raises(InvalidInput, match="Enter a name"):
        api.create_token(person, "   ", "read")
    with pytest.raises(InvalidInput, match="80 characters"):
        api.create_token(person, "x" * 81, "read")


def test_a_revoked_name_can_be_used_again_and_live_tokens_are_capped(ctx, make_user):
    person = make_user()
    first = api.create_token(person, "R script", "read").token
    api.revoke_token(person, first)
    api.create_token(person, "R script", "read")
    for n in range(api.MAX_LIVE_TOKENS - 1):
        api.create_token(person, f"Tool {n}", "read")
    with pytest.raises(DomainError, match="at most 20 tokens"):
        api.create_token(person, "One too many", "read")


def test_authenticate_accepts_the_token_and_says_why_it_refuses(ctx, make_user):
    person = make_user()
    new = api.create_token(person, "Script", "read")
    assert api.authenticate(new.secret).id == new.token.id
    tampered = new.secret[:-1] + ("A" if new.secret[-1] != "A" else "B")
    for wrong in (tampered, "mdsn_0000000000_" + "a" * 43, "nonsense", ""):
        with pytest.raises(api.TokenRejected, match="not valid"):
            api.authenticate(wrong)
    api.revoke_token(person, new.token)
    with pytest.raises(api.TokenRejected, match="revoked"):
        api.authenticate(new.secret)


def test_a_token_stops_working_when_it_expires(ctx, make_user):
    person = make_user()
    new = api.create_token(person, "A week", "read", 7)
    db.session.commit()
    with time_machine.travel(utcnow() + timedelta(days=6, hours=23), tick=False):
        assert api.authenticate(new.secret)
    with time_machine.travel(utcnow() + timedelta(days=7, seconds=1), tick=False), \
            pytest.raises(api.TokenRejected, match="expired on"):
        api.authenticate(new.secret)


def test_a_closed_account_s_tokens_stop_working(ctx, make_user):
    person = make_user()
    new = api.create_token(person, "Script", "read")
    person.is_active_account = False
    with pytest.raises(api.TokenRejected, match="closed"):
        api.authenticate(new.secret)


def test_someone_else_s_token_is_not_found(ctx, make_user):
    owner, other = make_user(), make_user()
    token = api.create_token(owner, "Mine", "read").token
    with pytest.raises(NotFound):
        api.get_own_token(other, token.id)
    with pytest.raises(NotFound):
        api.revoke_token(other, token)
    assert token.revoked_at is None


# ---------------------------------------------------------------------------- the pages


def test_the_profile_links_to_the_token_page(client, login, make_user):
    login(make_user())
    assert "/profile/api-tokens" in client.get("/profile").get_data(as_text=True)


def test_creating_a_token_on_the_page_shows_it_once(app, client, login, make_user):
    person = make_user()
    login(person)
    page = client.post("/profile/api-tokens",
                       data={"name": "Power BI", "scope": "read", "days": "30"})
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    html = page.get_data(as_text=True)
    with app.app_context():
        row = db.session.scalar(select(ApiToken))
        assert row.user_id == person.id
        assert row.expires_at - row.created_at == timedelta(days=30)
    shown = html.split('id="new-token" type="text" value="', 1)[1].split('"', 1)[0]
    assert hashlib.sha256(shown.encode()).hexdigest() == row.token_hash
    assert "You will not be able to see it again" in html
    later = client.get("/profile/api-tokens").get_data(as_text=True)
    assert "Power BI" in later and f"mdsn_{row.prefix}_" in later
    assert shown not in later
    headers = {"Authorization": f"Bearer {shown}"}
    assert client.get("/api/v1/me", headers=headers).get_json()["id"] == person.id


def test_mistakes_on_the_page_are_shown_with_the_form(client, login, make_user):
    login(make_user())
    page = client.post("/profile/api-tokens", data={"name": "", "scope": "read",
                                                    "days": "90"})
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "There is a problem" in html
    assert "Enter a name for the token" in html
    assert "<title>Error: API tokens" in html


def test_revoking_on_the_page_and_someone_else_s_is_404(app, client, login, make_user):
    owner, other = make_user(), make_user()
    with app.app_context():
        new = api.create_token(db.session.get(User, owner.id), "Script", "read_write")
        db.session.commit()
        token_id, secret = new.token.id, new.secret
    login(other)
    assert client.post(f"/profile/api-tokens/{token_id}/revoke").status_code == 404
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"}
                      ).status_code == 200
    login(owner)
    done = client.post(f"/profile/api-tokens/{token_id}/revoke", follow_redirects=True)
    assert "has been revoked" in done.get_data(as_text=True)
    refused = client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
    assert refused.status_code == 401 and "revoked" in refused.get_json()["detail"]
