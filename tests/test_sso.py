"""Signing in with an NHS account, against a real OpenID Connect provider process
(``oidc-provider`` on 127.0.0.1, tests/oidc): the good sign-in, linking only after the
password, a new person's organisation, and every refusal (wrong ``state``, a replayed code,
another audience, an expired token, an unknown key, unverified email, the provider down)."""

from __future__ import annotations

import json
import re
import socket
from datetime import timedelta
from html import unescape

import pyotp
import pytest
import requests
import time_machine
from flask import Flask
from sqlalchemy import func, select

from lms import create_app
from lms.accounts.models import OrganisationChange, Role, User
from lms.audit.models import AuditEntry
from lms.clock import utcnow
from lms.extensions import db
from lms.sso.models import ExternalIdentity
from tests.conftest import PASSWORD, TOTP_SECRET, Mailbox, organisation
from tests.oidc import CLIENT_ID, CLIENT_SECRET, OTHER_CLIENT_ID, OidcProvider, is_at, new_keys

pytestmark = pytest.mark.real_clock  # the provider is on the wall clock
BASE_URL = "http://127.0.0.1:5000"
START = "/sign-in/nhs/test"


@pytest.fixture(scope="module")
def provider(tmp_path_factory: pytest.TempPathFactory):
    running = OidcProvider(tmp_path_factory.mktemp("oidc"),
                           f"{BASE_URL}/sign-in/nhs/test/callback").start()
    yield running
    running.stop()


@pytest.fixture
def sso_app(app: Flask, provider: OidcProvider) -> Flask:
    """An app with the provider configured, on the suite's database (fresh each test, so
    nothing it fetched from the provider is kept from another test)."""
    if provider.process is None:
        provider.start()
    provider.tamper()
    issuers = [{"name": "test", "label": "Test NHS login", "issuer": provider.issuer,
                "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}]
    return create_app("testing", SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"],
                      MAIL_OUTBOX_DIR=app.config["MAIL_OUTBOX_DIR"], BASE_URL=BASE_URL,
                      OIDC_ISSUERS=json.dumps(issuers))


@pytest.fixture
def sso(sso_app: Flask):
    return sso_app.test_client()


def to_callback(client, provider: OidcProvider, account: str, start: str = START) -> str:
    """Start a sign-in and go through the provider as ``account``; the callback address."""
    provider.as_account(account)
    started = client.get(start)
    assert started.status_code == 302 and is_at(started.location, provider.issuer), \
        started.location
    assert "code_challenge_method=S256" in started.location
    return provider.authorise(started.location, BASE_URL)


def text_of(response) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", response.get_data(as_text=True))).split())


def refused_with(client, response, words: str) -> None:
    """The callback sent the person back to the sign-in page, which says ``words``, and
    nobody is signed in."""
    assert response.status_code == 302 and response.location.endswith("/sign-in"), \
        response.location
    page = client.get("/sign-in")
    assert words in text_of(page)
    assert client.get("/profile").status_code == 302


def identities(app: Flask) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(ExternalIdentity.id)))


def test_the_way_back_is_known_by_its_host_and_port_not_by_a_prefix():
    # CI once drew the provider the port 50003, whose address begins with the app's
    # (127.0.0.1:5000): the provider's own pages were taken for the callback.
    assert not is_at("http://127.0.0.1:50003/auth/abc", BASE_URL)
    assert not is_at("https://127.0.0.1:5000/sso/callback", BASE_URL)
    assert is_at(BASE_URL + "/sso/callback?code=x&state=y", BASE_URL)


def test_a_provider_whose_port_was_taken_starts_on_another(tmp_path, monkeypatch):
    # free_port closes the port it found before node binds it: another process may take it.
    import tests.oidc as oidc

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        drawn, draw = iter([port]), oidc.free_port
        monkeypatch.setattr(oidc, "free_port", lambda: next(drawn, None) or draw())
        provider = oidc.OidcProvider(tmp_path, f"{BASE_URL}/sign-in/nhs/callback")
        assert provider.port == port
        try:
            provider.start()
            assert provider.port != port and provider.issuer.endswith(f":{provider.port}")
            found = requests.get(f"{provider.issuer}/.well-known/openid-configuration",
                                 timeout=10).json()
            assert found["issuer"] == provider.issuer
        finally:
            provider.stop()


def test_a_new_person_chooses_their_organisation_then_signs_straight_in(sso, sso_app, provider):
    arrived = sso.get(to_callback(sso, provider, "alice"))
    assert arrived.location.endswith("/sign-in/nhs/join")
    page = sso.get("/sign-in/nhs/join")
    assert "alice@nhs.net" in text_of(page) and 'value="Alice Analyst"' in page.text
    assert identities(sso_app) == 0  # nothing is saved until they choose
    missing = sso.post("/sign-in/nhs/join", data={"full_name": "Alice Analyst"})
    assert "Select your organisation" in text_of(missing) and identities(sso_app) == 0
    with sso_app.app_context():
        bsol = organisation("BSOL").id
    done = sso.post("/sign-in/nhs/join", data={"full_name": "Alice Analyst",
                                               "organisation_id": bsol})
    assert done.status_code == 302
    assert "alice@nhs.net" in text_of(sso.get("/profile"))
    with sso_app.app_context():
        user = db.session.scalar(select(User).where(User.email == "alice@nhs.net"))
        assert user.organisation_id == bsol and user.password_hash is None
        assert user.email_verified_at is not None
    # A move to another ICS later is a request the new ICS approves, as for everyone.
    with sso_app.app_context():
        bc = organisation("BC").id
    sso.post("/profile", data={"full_name": "Alice Analyst", "job_title": "",
                               "organisation_id": bc})
    with sso_app.app_context():
        user = db.session.scalar(select(User).where(User.email == "alice@nhs.net"))
        change = db.session.scalar(select(OrganisationChange).where(
            OrganisationChange.user_id == user.id))
        assert user.organisation_id == bsol
        assert change is not None and change.to_organisation_id == bc
        assert change.status == "pending"
    # Next time: signed in at once, no new account.
    other = sso_app.test_client()
    again = other.get(to_callback(other, provider, "alice"))
    assert again.status_code == 302 and again.location == "/"
    assert "alice@nhs.net" in text_of(other.get("/profile"))
    assert identities(sso_app) == 1


def test_an_existing_account_is_linked_only_after_its_password(sso, sso_app, provider,
                                                                make_user):
    make_user(email="alice@nhs.net", name="Alice Local")
    arrived = sso.get(to_callback(sso, provider, "alice"))
    assert arrived.location.endswith("/sign-in/nhs/link")
    assert sso.get("/profile").status_code == 302  # not signed in by the email alone
    wrong = sso.post("/sign-in/nhs/link", data={"password": "not the password"})
    assert "Enter the correct password" in text_of(wrong)
    assert identities(sso_app) == 0
    right = sso.post("/sign-in/nhs/link", data={"password": PASSWORD})
    assert right.status_code == 302
    assert "Alice Local" in text_of(sso.get("/profile"))
    assert identities(sso_app) == 1


def test_or_after_an_emailed_link_opened_in_the_same_browser(sso, sso_app, provider,
                                                             make_user):
    make_user(email="alice@nhs.net", name="Alice Local")
    assert sso.get(to_callback(sso, provider, "alice")).location.endswith("/link")
    sent = sso.post("/sign-in/nhs/link/email")
    assert "We have sent a link to alice@nhs.net" in text_of(sent)
    path = Mailbox(sso_app).last_link("alice@nhs.net", "/sign-in/nhs/link/")
    # Someone else's browser (the person who only controls the NHS account): refused.
    stranger = sso_app.test_client()
    assert stranger.get(path).status_code == 400
    assert stranger.post(path).status_code == 400
    assert identities(sso_app) == 0
    # A forged token in the right browser: refused too.
    assert sso.post("/sign-in/nhs/link/forged-token").status_code == 400
    assert "Link my account" in text_of(sso.get(path))  # a button: scanners link nothing
    linked = sso.post(path)
    assert linked.status_code == 302
    assert "Alice Local" in text_of(sso.get("/profile"))
    assert identities(sso_app) == 1


def test_a_waiting_sign_in_expires(sso, sso_app, provider, make_user):
    make_user(email="alice@nhs.net")
    sso.get(to_callback(sso, provider, "alice"))
    sso.post("/sign-in/nhs/link/email")
    path = Mailbox(sso_app).last_link("alice@nhs.net", "/sign-in/nhs/link/")
    with time_machine.travel(utcnow() + timedelta(minutes=31), tick=True):
        assert sso.post(path).status_code == 400  # the link's 30 minutes are over
    with time_machine.travel(utcnow() + timedelta(minutes=61), tick=True):
        assert sso.post("/sign-in/nhs/link", data={"password": PASSWORD}).location.endswith(
            "/sign-in")
    assert identities(sso_app) == 0


def test_emailed_links_are_a_few_an_hour(sso, sso_app, provider, make_user):
    make_user(email="alice@nhs.net")
    sso.get(to_callback(sso, provider, "alice"))
    for _ in range(3):
        assert "We have sent a link" in text_of(sso.post("/sign-in/nhs/link/email"))
    refused = sso.post("/sign-in/nhs/link/email")
    assert refused.location.endswith("/sign-in/nhs/link")
    assert "too many requests" in text_of(sso.get("/sign-in/nhs/link"))
    assert len(Mailbox(sso_app).to("alice@nhs.net")) == 3


def test_a_wrong_state_is_refused(sso, sso_app, provider):
    callback = to_callback(sso, provider, "alice")
    forged = re.sub(r"state=[^&]+", "state=forged", callback)
    refused_with(sso, sso.get(forged), "was not started here")
    assert identities(sso_app) == 0


def test_a_replayed_code_is_refused(sso, sso_app, provider, make_user):
    make_user(email="mo@nhs.net")
    with sso_app.app_context():
        user = db.session.scalar(select(User).where(User.email == "mo@nhs.net"))
        db.session.add(ExternalIdentity(issuer=provider.issuer, subject="mo", user=user))
        db.session.commit()
    callback = to_callback(sso, provider, "mo")
    assert sso.get(callback).location == "/"
    sso.post("/sign-out")
    # The same answer again: this browser has no sign-in waiting for it.
    refused_with(sso, sso.get(callback), "was not started here")
    # Its code with a new request's state: the provider has spent the code.
    provider.as_account("mo")
    started = sso.get(START)
    state = re.search(r"state=([^&]+)", started.location).group(1)
    replay = re.sub(r"state=[^&]+", f"state={state}", callback)
    refused_with(sso, sso.get(replay), "did not accept this sign-in")


def test_a_token_for_another_audience_is_refused(sso, sso_app, provider):
    callback = to_callback(sso, provider, "alice")
    provider.tamper(aud=OTHER_CLIENT_ID)
    refused_with(sso, sso.get(callback), "could not be checked")
    assert identities(sso_app) == 0


def test_an_expired_id_token_is_refused(sso, sso_app, provider):
    callback = to_callback(sso, provider, "alice")
    # The app's clock, past the token's 10 minutes and the minute of leeway.
    with time_machine.travel(utcnow() + timedelta(minutes=12), tick=True):
        refused_with(sso, sso.get(callback), "could not be checked")


def test_rotated_keys_are_fetched_again_once(sso, sso_app, provider):
    assert sso.get(to_callback(sso, provider, "alice")).location.endswith("/join")
    provider.restart(keys=new_keys("rotated"))  # the new process has counted no fetch yet
    client = sso_app.test_client()
    assert client.get(to_callback(client, provider, "alice")).location.endswith("/join")
    assert provider.jwks_fetches() == 1  # the unknown kid made the app fetch again
    client = sso_app.test_client()
    assert client.get(to_callback(client, provider, "alice")).location.endswith("/join")
    assert provider.jwks_fetches() == 1  # then kept


def test_a_token_signed_by_an_unpublished_key_is_refused(sso, sso_app, provider):
    callback = to_callback(sso, provider, "alice")
    before = provider.jwks_fetches()
    provider.tamper(rogue_key=new_keys("rogue")["keys"][0])
    refused_with(sso, sso.get(callback), "could not be checked")
    assert provider.jwks_fetches() == before + 2  # the first look, and one more for the kid


def test_an_unverified_email_is_refused(sso, sso_app, provider, make_user):
    make_user(email="una@nhs.net")
    refused_with(sso, sso.get(to_callback(sso, provider, "una")),
                 "has not confirmed your email address (una@nhs.net)")
    assert identities(sso_app) == 0


def test_the_provider_down_is_a_clear_message_and_passwords_still_work(sso, sso_app,
                                                                       provider, make_user):
    make_user(email="pat@example.nhs.uk")
    callback = to_callback(sso, provider, "alice")
    provider.stop()
    try:
        # Down between the sign-in there and the code's exchange here.
        refused_with(sso, sso.get(callback), "We could not reach Test NHS login just now")
        # Down before anything was fetched from it.
        fresh = create_app("testing", **{key: sso_app.config[key] for key in (
            "SQLALCHEMY_DATABASE_URI", "MAIL_OUTBOX_DIR", "BASE_URL", "OIDC_ISSUERS")})
        sso = fresh.test_client()
        started = sso.get(START)
        refused_with(sso, started, "We could not reach Test NHS login just now")
        signed_in = sso.post("/sign-in", data={"email": "pat@example.nhs.uk",
                                               "password": PASSWORD})
        assert signed_in.status_code == 302 and signed_in.location == "/"
    finally:
        provider.start()


def test_multi_factor_at_the_provider_stands_for_the_second_step(sso, sso_app, provider,
                                                                 make_user):
    for email, subject in (("mo@nhs.net", "mo"), ("alice@nhs.net", "alice")):
        make_user(Role.ADMIN, email=email)
        with sso_app.app_context():
            user = db.session.scalar(select(User).where(User.email == email))
            db.session.add(ExternalIdentity(issuer=provider.issuer, subject=subject,
                                            user=user))
            db.session.commit()
    # Mo's provider says "mfa": no code asked, and the pages needing the second step open.
    assert sso.get(to_callback(sso, provider, "mo")).location == "/"
    assert sso.get("/admin/sso-domains").status_code == 200
    # Alice's says only "pwd": the code from her app comes next, as after a password.
    other = sso_app.test_client()
    arrived = other.get(to_callback(other, provider, "alice"))
    assert arrived.location.endswith("/sign-in/code")
    assert other.get("/admin/sso-domains").status_code == 302
    coded = other.post("/sign-in/code", data={"code": pyotp.TOTP(TOTP_SECRET).now()})
    assert coded.status_code == 302
    assert other.get("/admin/sso-domains").status_code == 200


def test_signing_out_offers_the_providers_sign_out(sso, sso_app, provider):
    sso.get(to_callback(sso, provider, "alice"))
    with sso_app.app_context():
        bsol = organisation("BSOL").id
    sso.post("/sign-in/nhs/join", data={"full_name": "Alice", "organisation_id": bsol})
    out = sso.post("/sign-out")
    assert out.location.endswith("/signed-out")
    page = sso.get("/signed-out")
    links = re.findall(r'href="([^"]+/session/end[^"]*)"', page.text)
    assert links and f"client_id={CLIENT_ID}" in unescape(links[0])
    assert "id_token_hint=" in unescape(links[0])
    assert sso.get("/profile").status_code == 302


def test_next_leads_only_to_pages_of_this_site(sso, sso_app, provider, make_user):
    make_user(email="mo@nhs.net")
    with sso_app.app_context():
        user = db.session.scalar(select(User).where(User.email == "mo@nhs.net"))
        db.session.add(ExternalIdentity(issuer=provider.issuer, subject="mo", user=user))
        db.session.commit()
    good = sso.get(to_callback(sso, provider, "mo", start=f"{START}?next=/profile"))
    assert good.location == "/profile"
    other = sso_app.test_client()
    evil = other.get(to_callback(other, provider, "mo",
                                 start=f"{START}?next=//evil.example/"))
    assert evil.location == "/"


def test_signing_in_starts_a_fresh_session(sso, sso_app, provider, make_user):
    """Nothing of the signed-out session survives the sign-in (a planted session is
    worthless), as with a password."""
    make_user(email="mo@nhs.net")
    with sso_app.app_context():
        user = db.session.scalar(select(User).where(User.email == "mo@nhs.net"))
        db.session.add(ExternalIdentity(issuer=provider.issuer, subject="mo", user=user))
        db.session.commit()
    with sso.session_transaction() as session:
        session["planted"] = "by someone else"
    assert sso.get(to_callback(sso, provider, "mo")).location == "/"
    with sso.session_transaction() as session:
        assert "planted" not in session and "_started" in session
        assert "sso_request" not in session


def test_the_callback_never_fails_on_odd_input(sso, sso_app, provider):
    for query in ("", "?code=&state=", "?error=access_denied", "?code=x&state=%00",
                  "?code=" + "x" * 5000):
        response = sso.get(f"{START}/callback{query}")
        assert response.status_code == 302, query
    assert sso.get("/sign-in/nhs/unknown/callback?code=x").status_code == 404


def test_sso_only_domains_refuse_passwords_and_are_audited(sso, sso_app, provider,
                                                            make_user, login):
    admin = make_user(Role.ADMIN)
    make_user(email="pat@nhs.net")
    make_user(email="kim@example.nhs.uk")
    login(admin, on=sso)
    assert "Sign in with an NHS account only" in text_of(sso.get("/admin/sso-domains"))
    bad = sso.post("/admin/sso-domains", data={"domain": "not a domain"})
    assert "correct format" in text_of(bad)
    sso.post("/admin/sso-domains", data={"domain": "@NHS.net"})
    with sso_app.app_context():
        entry = db.session.scalar(select(AuditEntry).where(
            AuditEntry.table_name == "sso_only_domain"))
        assert entry is not None and entry.actor_id == admin.id
    login(None, on=sso)
    page = sso.get("/sign-in")
    assert "Sign in with Test NHS login" in text_of(page)
    refused = sso.post("/sign-in", data={"email": "pat@nhs.net", "password": PASSWORD})
    assert refused.status_code == 200 and "sign in with their NHS account" in text_of(refused)
    reset = sso.post("/forgot-password", data={"email": "pat@nhs.net"})
    assert "sign in with their NHS account" in text_of(reset)
    joined = sso.post("/sign-up", data={"email": "new@sub.nhs.net", "full_name": "New",
                                        "organisation_id": 1, "password": "a long passphrase x",
                                        "confirm": "a long passphrase x"})
    assert "sign in with their NHS account" in text_of(joined)
    other = sso.post("/sign-in", data={"email": "kim@example.nhs.uk", "password": PASSWORD})
    assert other.status_code == 302
    with sso_app.app_context():
        assert db.session.scalar(select(func.count(User.id)).where(
            User.email == "new@sub.nhs.net")) == 0


@pytest.mark.parametrize(("setting", "says"), [
    ("not json", "is not JSON"),
    ('{"name": "x"}', "must be a JSON list"),
    ('[{"name": "nhsmail", "label": "NHSmail", "issuer": "https://x"}]',
     "lacks client_id, client_secret"),
    ('[{"name": "NHS mail", "label": "L", "issuer": "https://x", "client_id": "a",'
     ' "client_secret": "b"}]', "must be unique, in lower-case letters"),
])
def test_a_mistaken_issuer_setting_stops_the_start(setting, says):
    with pytest.raises(SystemExit) as stopped:
        create_app("testing", OIDC_ISSUERS=setting)
    assert says in str(stopped.value)


def test_no_issuer_configured_means_no_buttons(client):
    page = client.get("/sign-in")
    assert "Sign in with" not in page.text and 'name="password"' in page.text


def test_erasing_a_person_unlinks_their_nhs_account(ctx, make_user):
    """An erased account cannot be signed in to with the NHS account that was linked."""
    from lms.privacy.services import erase_person

    admin, person = make_user(Role.ADMIN), make_user(email="gone@nhs.net")
    db.session.add(ExternalIdentity(issuer="https://login.example", subject="s-1",
                                    user=person))
    db.session.flush()
    erase_person(admin, person)
    db.session.flush()
    assert db.session.scalar(select(func.count(ExternalIdentity.id))) == 0


def test_someone_who_joined_with_their_nhs_account_is_told_they_have_no_password(
        app, client, make_user, login):
    """No "current password is not correct": the page says how they sign in, and offers a
    password only where their domain allows one."""
    from lms.accounts import services as accounts
    from lms.accounts.sso_domains import require_sso
    from lms.errors import DomainError

    def joined_by_sso(email: str) -> User:
        person = make_user(email=email)
        with app.app_context():
            db.session.get(User, person.id).password_hash = None
            db.session.commit()
        return person

    kim, pat = joined_by_sso("kim@example.nhs.uk"), joined_by_sso("pat@nhs.net")
    with app.app_context():
        require_sso("nhs.net")
        db.session.commit()
    login(kim)
    assert "Your password (you sign in with your NHS account)" in client.get(
        "/profile").get_data(as_text=True)
    page = client.get("/profile/password").get_data(as_text=True)
    assert "You sign in with your NHS account" in page
    assert 'name="current_password"' not in page
    assert "/forgot-password" in page and "get a link to set a password" in page
    tried = client.post("/profile/password", data={
        "current_password": "x", "password": "new password twelve",
        "confirm": "new password twelve"})
    assert "not correct" not in tried.get_data(as_text=True)
    login(pat)
    page = client.get("/profile/password").get_data(as_text=True)
    assert "You sign in with your NHS account" in page
    assert "cannot set a password here" in page and "/forgot-password" not in page
    with app.test_request_context():
        with pytest.raises(DomainError, match="sign in with your NHS account"):
            accounts.change_password(db.session.get(User, kim.id), "", "new password twelve",
                                     "new password twelve")
        assert db.session.get(User, kim.id).password_hash is None
