"""Sign-in throttling counted in the database, and common passwords refused."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine

from lms.accounts import services
from lms.clock import utcnow
from lms.errors import DomainError
from tests.conftest import PASSWORD


def fail(client, email: str, address: str = "203.0.113.7"):
    return client.post("/sign-in", data={"email": email, "password": "wrong password!"},
                       environ_base={"REMOTE_ADDR": address})


def test_an_account_is_paused_after_five_failures_with_the_same_message_as_unknown(
    app, client, make_user
):
    make_user(email="target@example.nhs.uk")
    for _ in range(5):
        assert "Enter a correct email" in fail(client, "target@example.nhs.uk").get_data(
            as_text=True)
    for _ in range(5):
        fail(client, "ghost@example.nhs.uk", address="198.51.100.9")
    locked = client.post("/sign-in", data={"email": "target@example.nhs.uk",
                                           "password": PASSWORD},
                         environ_base={"REMOTE_ADDR": "192.0.2.1"}).get_data(as_text=True)
    ghost = fail(client, "ghost@example.nhs.uk", address="192.0.2.2").get_data(as_text=True)
    assert "too many attempts" in locked and "too many attempts" in ghost  # no way to tell
    with time_machine.travel(utcnow() + timedelta(minutes=16)):
        ok = client.post("/sign-in", data={"email": "target@example.nhs.uk",
                                           "password": PASSWORD},
                         environ_base={"REMOTE_ADDR": "192.0.2.1"})
        assert ok.status_code == 302


def test_a_paused_address_refuses_guesses_but_not_a_right_password_for_an_untouched_account(
        app, client, make_user, monkeypatch):
    """A trust's shared address: one script's failures must not lock out everyone else."""
    monkeypatch.setitem(app.config, "SIGN_IN_MAX_PER_ADDRESS", 6)
    make_user(email="innocent@example.nhs.uk")
    make_user(email="victim@example.nhs.uk")
    for n in range(6):
        fail(client, f"guess{n}@example.nhs.uk", address="203.0.113.50")
    # Any further guess from there gets the pause message, for real and unknown accounts alike.
    guess = fail(client, "victim@example.nhs.uk", address="203.0.113.50").get_data(as_text=True)
    ghost = fail(client, "ghost@example.nhs.uk", address="203.0.113.50").get_data(as_text=True)
    assert "too many attempts" in guess and "too many attempts" in ghost
    # A colleague behind the same address, whose account nobody has guessed at, signs in.
    colleague = client.post("/sign-in", data={"email": "innocent@example.nhs.uk",
                                              "password": PASSWORD},
                            environ_base={"REMOTE_ADDR": "203.0.113.50"})
    assert colleague.status_code == 302
    # The account guessed at from there is refused from there, even with its password...
    attacked = app.test_client().post("/sign-in", data={"email": "victim@example.nhs.uk",
                                                        "password": PASSWORD},
                                      environ_base={"REMOTE_ADDR": "203.0.113.50"})
    assert "too many attempts" in attacked.get_data(as_text=True)
    # ...but its owner elsewhere is not (one failure is far from the account's own limit).
    elsewhere = app.test_client().post("/sign-in", data={"email": "victim@example.nhs.uk",
                                                         "password": PASSWORD},
                                       environ_base={"REMOTE_ADDR": "203.0.113.51"})
    assert elsewhere.status_code == 302


@pytest.mark.parametrize("password", ["password1234", "Password1234!", "qwertyuiop12",
                                      "aaaaaaaaaaaa", "123456789012", "Welcome12345",
                                      "nia.newcomer2026"])
def test_common_and_obvious_passwords_are_refused(ctx, password):
    with pytest.raises(DomainError, match="too easy to guess"):
        services.check_new_password(password, password, email="nia.newcomer@example.nhs.uk")


@pytest.mark.parametrize("password", ["river lantern oboe", "Nine blue teapots!",
                                      "correct-staple-orbit-7"])
def test_ordinary_strong_passwords_are_accepted(ctx, password):
    services.check_new_password(password, password, email="nia@example.nhs.uk")


def _behind_one_proxy(app):
    from lms import create_app

    return create_app("testing", TRUSTED_PROXIES=1, SIGN_IN_MAX_PER_ADDRESS=3,
                      SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"],
                      MAIL_OUTBOX_DIR=app.config["MAIL_OUTBOX_DIR"])


def _fail_through_proxy(client, email: str, forwarded_for: str):
    return client.post("/sign-in", data={"email": email, "password": "wrong password!"},
                       environ_base={"REMOTE_ADDR": "10.0.0.2"},  # the proxy
                       headers={"X-Forwarded-For": forwarded_for})


def test_behind_a_trusted_proxy_each_person_is_throttled_by_their_own_address(app, make_user):
    make_user(email="innocent@example.nhs.uk")
    proxied_app = _behind_one_proxy(app)
    proxied = proxied_app.test_client()
    for n in range(3):
        _fail_through_proxy(proxied, f"guess{n}@example.nhs.uk", "198.51.100.7")
    ok = proxied.post("/sign-in", data={"email": "innocent@example.nhs.uk",
                                        "password": PASSWORD},
                      environ_base={"REMOTE_ADDR": "10.0.0.2"},
                      headers={"X-Forwarded-For": "198.51.100.8"})
    assert ok.status_code == 302  # someone else behind the same proxy is not paused
    refused = _fail_through_proxy(proxied_app.test_client(), "innocent@example.nhs.uk",
                                  "198.51.100.7")
    assert "too many attempts" in refused.get_data(as_text=True)


def test_without_a_trusted_proxy_a_forwarded_address_is_ignored(app, client, make_user,
                                                               monkeypatch):
    monkeypatch.setitem(app.config, "SIGN_IN_MAX_PER_ADDRESS", 3)
    make_user(email="innocent@example.nhs.uk")
    for n in range(3):  # an attacker cannot dodge the address pause by inventing headers
        _fail_through_proxy(client, f"guess{n}@example.nhs.uk", f"198.51.100.{n}")
    guess = _fail_through_proxy(client, "innocent@example.nhs.uk", "198.51.100.99")
    assert "too many attempts" in guess.get_data(as_text=True)
