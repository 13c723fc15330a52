"""Two-step verification for admins (TOTP): set up with a QR code and a confirming code;
sign-in then asks for a code; each code works once; recovery codes work once; wrong codes
count towards the sign-in limit; turning it off needs the password."""

from __future__ import annotations

import re
from datetime import timedelta

import pyotp
import pytest
import time_machine
from sqlalchemy import func, select

from lms.accounts.models import RecoveryCode, Role, User
from lms.clock import utcnow
from lms.extensions import db
from tests.conftest import PASSWORD


def sign_in(client, email: str, password: str = PASSWORD):
    return client.post("/sign-in", data={"email": email, "password": password})


def set_up(app, client, email: str) -> tuple[str, list[str]]:
    """Turn two-step verification on through the pages; returns the secret and the
    recovery codes shown."""
    assert sign_in(client, email).status_code == 302
    page = client.get("/profile/two-step-verification/set-up").get_data(as_text=True)
    assert "<svg" in page and "QR code for your authenticator app" in page
    key = re.search(r'class="lms-totp-key">([A-Z2-7 ]+)<', page).group(1).replace(" ", "")
    with client.session_transaction() as session:
        assert session["totp_set_up"] == key
    done = client.post("/profile/two-step-verification/set-up",
                       data={"code": pyotp.TOTP(key).now()})
    assert done.status_code == 200
    html = done.get_data(as_text=True)
    assert "<h1>Your recovery codes</h1>" in html
    codes = re.findall(r"<code>([a-z2-9]{5}-[a-z2-9]{5})</code>", html)
    assert len(codes) == 8
    client.post("/sign-out")
    return key, codes


@pytest.fixture
def admin(make_user) -> User:
    return make_user(Role.ADMIN, email="ada@example.nhs.uk", name="Ada Admin", two_step=False)


def test_setting_up_and_signing_in_with_a_code(app, client, admin):
    key, _ = set_up(app, client, "ada@example.nhs.uk")
    with app.app_context():
        stored = db.session.get(User, admin.id)
        assert stored.totp_secret == key and stored.has_two_factor
        assert db.session.scalar(select(func.count(RecoveryCode.id))) == 8
    first = sign_in(client, "ada@example.nhs.uk")
    assert first.status_code == 302 and first.location.endswith("/sign-in/code")
    assert client.get("/profile").status_code == 302  # not signed in yet
    page = client.get("/sign-in/code").get_data(as_text=True)
    assert "<title>Enter your security code" in page
    # The set-up used the current step, so wait for the next code.
    with time_machine.travel(utcnow() + timedelta(seconds=31), tick=False):
        wrong = client.post("/sign-in/code", data={"code": "000000"})
        assert "There is a problem" in wrong.get_data(as_text=True)
        code = pyotp.TOTP(key).at(utcnow())
        done = client.post("/sign-in/code", data={"code": code[:3] + " " + code[3:]})
        assert done.status_code == 302
        assert client.get("/profile").status_code == 200


def test_a_code_works_only_once(app, client, admin):
    key, _ = set_up(app, client, "ada@example.nhs.uk")
    later = utcnow() + timedelta(seconds=61)
    with time_machine.travel(later, tick=False):
        code = pyotp.TOTP(key).at(later)
        sign_in(client, "ada@example.nhs.uk")
        assert client.post("/sign-in/code", data={"code": code}).status_code == 302
        other = app.test_client()
        sign_in(other, "ada@example.nhs.uk")
        again = other.post("/sign-in/code", data={"code": code})
        assert again.status_code == 200  # refused: replaying the code someone just used
        assert other.get("/profile").status_code == 302


def test_the_code_made_at_set_up_cannot_be_reused_to_sign_in(app, client, admin):
    now = utcnow()
    with time_machine.travel(now, tick=False):
        key, _ = set_up(app, client, "ada@example.nhs.uk")
        sign_in(client, "ada@example.nhs.uk")
        response = client.post("/sign-in/code", data={"code": pyotp.TOTP(key).at(now)})
        assert response.status_code == 200


def test_a_recovery_code_works_once(app, client, admin):
    _, codes = set_up(app, client, "ada@example.nhs.uk")
    sign_in(client, "ada@example.nhs.uk")
    assert client.post("/sign-in/code", data={"code": codes[0].upper()}).status_code == 302
    client.post("/sign-out")
    sign_in(client, "ada@example.nhs.uk")
    assert client.post("/sign-in/code", data={"code": codes[0]}).status_code == 200
    assert client.post("/sign-in/code", data={"code": codes[1]}).status_code == 302
    page = client.get("/profile/two-step-verification").get_data(as_text=True)
    assert "6 unused recovery codes" in page


def test_wrong_codes_count_towards_the_sign_in_limit(app, client, admin):
    key, _ = set_up(app, client, "ada@example.nhs.uk")
    sign_in(client, "ada@example.nhs.uk")
    for _ in range(5):
        client.post("/sign-in/code", data={"code": "123456"})
    with time_machine.travel(utcnow() + timedelta(seconds=40), tick=False):
        right = client.post("/sign-in/code", data={"code": pyotp.TOTP(key).at(utcnow())})
        assert "too many attempts" in right.get_data(as_text=True)
        assert client.get("/profile").status_code == 302


def test_the_code_step_expires_and_cannot_be_reached_without_a_password(app, client, admin):
    key, _ = set_up(app, client, "ada@example.nhs.uk")
    assert client.get("/sign-in/code").status_code == 302
    sign_in(client, "ada@example.nhs.uk")
    with time_machine.travel(utcnow() + timedelta(minutes=6), tick=False):
        late = client.post("/sign-in/code", data={"code": pyotp.TOTP(key).at(utcnow())})
        assert late.status_code == 302 and late.location.endswith("/sign-in")
    assert sign_in(client, "ada@example.nhs.uk", "wrong password!").status_code == 200
    assert client.get("/sign-in/code").status_code == 302


def test_a_wrong_code_at_set_up_turns_nothing_on(app, client, admin):
    sign_in(client, "ada@example.nhs.uk")
    client.get("/profile/two-step-verification/set-up")
    response = client.post("/profile/two-step-verification/set-up", data={"code": "12345x"})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "There is a problem" in html and "<title>Error: Set up two-step" in html
    with app.app_context():
        assert not db.session.get(User, admin.id).has_two_factor


def test_turning_it_off_needs_the_password(app, client, admin):
    key, _ = set_up(app, client, "ada@example.nhs.uk")
    with time_machine.travel(utcnow() + timedelta(seconds=31), tick=False):
        sign_in(client, "ada@example.nhs.uk")
        client.post("/sign-in/code", data={"code": pyotp.TOTP(key).at(utcnow())})
        assert client.get("/profile").status_code == 200
        refused = client.post("/profile/two-step-verification", data={"password": "nope"})
        assert "Your password is not correct" in refused.get_data(as_text=True)
        done = client.post("/profile/two-step-verification", data={"password": PASSWORD})
        assert done.status_code == 302
        # This browser stays signed in, but an admin must set it up again before anything.
        assert client.get("/profile").location.endswith("/profile/two-step-verification/set-up")
        assert client.get("/profile/two-step-verification/set-up").status_code == 200
    with app.app_context():
        user = db.session.get(User, admin.id)
        assert not user.has_two_factor and user.totp_secret is None
        assert db.session.scalar(select(func.count(RecoveryCode.id))) == 0
    client.post("/sign-out")
    assert sign_in(client, "ada@example.nhs.uk").location.endswith("/")


def test_learners_cannot_set_it_up(client, login, people):
    login(people.learner)
    assert client.get("/profile/two-step-verification/set-up").status_code == 403
    page = client.get("/profile/two-step-verification").get_data(as_text=True)
    assert "Two-step verification is for admin, faculty and DSU lead accounts" in page


@pytest.mark.parametrize("role", [Role.FACULTY, Role.DSU_LEAD])
def test_faculty_and_dsu_leads_can_turn_it_on_and_then_sign_in_with_a_code(
        app, client, make_user, role):
    """Available, not required: they sign in without it, and with a code once it is on."""
    person = make_user(role, email="fay@example.nhs.uk")
    assert sign_in(client, person.email).location.endswith("/")
    client.post("/sign-out")
    set_up(app, client, person.email)
    assert sign_in(client, person.email).location.endswith("/sign-in/code")


def test_the_secret_never_reaches_the_audit_log(app, client, admin):
    from lms.audit.models import AuditEntry

    key, _ = set_up(app, client, "ada@example.nhs.uk")
    with app.app_context():
        dumped = str(db.session.execute(select(AuditEntry.before, AuditEntry.after)).all())
    assert "totp_secret" in dumped and key not in dumped
