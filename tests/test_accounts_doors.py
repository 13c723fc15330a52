"""Signing in and account doors attacked from outside: spellings of a locked account,
telling registered addresses from new ones, hammering the email-sending doors and check-in
codes, and an admin seeing and clearing throttles (issue 16, items 7-10)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import func, select

from lms.accounts import services, throttle
from lms.accounts.emails import canonical_email
from lms.accounts.models import Organisation, Role, SignInAttempt, User
from lms.attendance.models import Attendance, CheckInCode
from lms.clock import utcnow
from lms.extensions import db
from lms.notifications.models import OutboxMessage
from tests.conftest import PASSWORD

TARGET = "target@example.nhs.uk"
# The same account, as a script or a phone keyboard might type it.
SPELLINGS = [
    "TARGET@EXAMPLE.NHS.UK",
    " Target@Example.nhs.uk ",
    "ＴＡＲＧＥＴ@example.nhs.uk",                # full-width letters
    "target@example。nhs。uk",                   # ideographic full stops
    "target@example｡nhs｡uk",                     # half-width ideographic full stops
    "target@example．nhs．uk",                   # full-width full stops
    "ｔａｒｇｅｔ＠ｅｘａｍｐｌｅ．ｎｈｓ．ｕｋ",    # all full-width, @ too
    "target@example.nhs.uＫ",                     # one full-width capital
    "tArGeT@ＥＸＡＭＰＬＥ.nhs.uk",
    "target@EXAMPLE。NHS．UK",
]


def sign_in(client, email: str, password: str = PASSWORD, address: str = "192.0.2.1"):
    return client.post("/sign-in", data={"email": email, "password": password},
                       environ_base={"REMOTE_ADDR": address})


def outbox(app, to: str) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(select(OutboxMessage.subject).where(
            OutboxMessage.to_address == to).order_by(OutboxMessage.id)))


# ---------------------------------------------------------------------------- item 7


def test_every_spelling_is_one_canonical_address():
    assert {canonical_email(s) for s in SPELLINGS} == {TARGET}
    assert canonical_email("Asha@Bücher.Example") == "asha@xn--bcher-kva.example"


def test_a_locked_account_is_refused_under_every_spelling_and_counted_under_one(
        app, client, make_user):
    make_user(email=TARGET)
    # Five failures, each typed differently and from a different address, lock the account.
    for n, spelling in enumerate(SPELLINGS[:5]):
        sign_in(client, spelling, "wrong password!", address=f"198.51.100.{n}")
    for n, spelling in enumerate(SPELLINGS):
        page = sign_in(app.test_client(), spelling, address=f"203.0.113.{n}")
        assert page.status_code == 200, spelling
        assert "too many attempts" in page.get_data(as_text=True), spelling
    with time_machine.travel(utcnow() + timedelta(minutes=16)):
        for spelling in SPELLINGS:  # and each really is the same account: it signs in
            assert sign_in(app.test_client(), spelling).status_code == 302, spelling


def test_every_door_finds_the_account_whatever_the_spelling(app, client, make_user, login):
    make_user(email=TARGET)
    client.post("/forgot-password", data={"email": "ＴＡＲＧＥＴ@example。nhs。uk"})
    assert outbox(app, TARGET) == ["Reset your password"]
    admin = make_user(Role.ADMIN)
    login(admin)
    found = client.get("/admin/users", query_string={"q": "ｔａｒｇｅｔ@EXAMPLE．nhs"})
    assert TARGET in found.get_data(as_text=True)


# ---------------------------------------------------------------------------- item 8


def _sign_up(app, client, email: str):
    with app.app_context():
        org = db.session.scalar(select(Organisation.id).where(Organisation.code == "DDER"))
    return client.post("/sign-up", data={
        "full_name": "Nia Newcomer", "email": email, "job_title": "Analyst",
        "organisation_id": str(org), "password": "river lantern oboe",
        "confirm": "river lantern oboe"})


def test_sign_up_does_the_same_work_and_says_the_same_for_a_registered_address(
        app, make_user, monkeypatch):
    make_user(email="known@example.nhs.uk")
    hashed: list[str] = []
    real_hash = services.hash_password

    def counting_hash(password: str) -> str:
        hashed.append(password)
        return real_hash(password)

    monkeypatch.setattr(services, "hash_password", counting_hash)
    answers = {}
    for email in ("known@example.nhs.uk", "new@example.nhs.uk"):
        client = app.test_client()
        before = len(hashed)
        first = _sign_up(app, client, email)
        then = client.get(first.headers["Location"])
        answers[email] = (first.status_code, first.headers["Location"],
                          re.sub(r'nonce="[^"]*"', "", then.get_data(as_text=True)
                                 ).replace(email, "EMAIL"),
                          len(hashed) - before, len(outbox(app, email)))
    known, new = answers["known@example.nhs.uk"], answers["new@example.nhs.uk"]
    assert known == new  # same status, page, wording, password hashes (1) and emails (1)
    assert known[3] == 1 and known[4] == 1
    assert outbox(app, "known@example.nhs.uk") == [
        "You already have an MDSN Learning & Events account"]
    assert outbox(app, "new@example.nhs.uk") == ["Confirm your email address"]


# ---------------------------------------------------------------------------- item 9


DOORS = [
    ("/forgot-password", throttle.FORGOT_PASSWORD, "Reset your password"),
    ("/confirm-email/resend", throttle.RESEND_CONFIRMATION, "Confirm your email address"),
]


@pytest.mark.parametrize(("url", "bucket", "subject"), DOORS)
def test_an_email_sending_door_is_paused_per_account_whatever_the_spelling(
        app, client, make_user, url, bucket, subject):
    make_user(email=TARGET, verified=False)
    limit = app.config[f"{bucket.upper()}_MAX_PER_ACCOUNT"]
    for n in range(limit):
        client.post(url, data={"email": SPELLINGS[n]}, environ_base={"REMOTE_ADDR": f"192.0.2.{n}"})
    assert outbox(app, TARGET) == [subject] * limit
    refused = app.test_client().post(url, data={"email": SPELLINGS[-1]},
                                     environ_base={"REMOTE_ADDR": "203.0.113.9"})
    ghost = [app.test_client().post(url, data={"email": "ghost@example.nhs.uk"},
                                    environ_base={"REMOTE_ADDR": f"203.0.113.{20 + n}"})
             for n in range(limit + 1)][-1]
    assert throttle.TOO_MANY_REQUESTS in refused.get_data(as_text=True)
    assert throttle.TOO_MANY_REQUESTS in ghost.get_data(as_text=True)  # the same for no account
    assert outbox(app, TARGET) == [subject] * limit  # no more emails to the target


@pytest.mark.parametrize("url", ["/forgot-password", "/confirm-email/resend", "/sign-up"])
def test_an_email_sending_door_is_paused_per_client_address(app, client, make_user,
                                                            monkeypatch, url):
    bucket = {"/forgot-password": "FORGOT_PASSWORD", "/confirm-email/resend":
              "RESEND_CONFIRMATION", "/sign-up": "SIGN_UP"}[url]
    monkeypatch.setitem(app.config, f"{bucket}_MAX_PER_ADDRESS", 4)
    make_user(email="innocent@example.nhs.uk", verified=False)

    def knock(email: str, address: str):
        if url == "/sign-up":
            return _sign_up_from(app, email, address)
        return app.test_client().post(url, data={"email": email},
                                      environ_base={"REMOTE_ADDR": address})

    for n in range(4):
        assert knock(f"someone{n}@example.nhs.uk", "198.51.100.7").status_code in (200, 302)
    refused = knock("innocent@example.nhs.uk", "198.51.100.7")
    assert throttle.TOO_MANY_REQUESTS in refused.get_data(as_text=True)
    assert outbox(app, "innocent@example.nhs.uk") == []
    knock("innocent@example.nhs.uk", "198.51.100.8")  # another address is not paused
    assert len(outbox(app, "innocent@example.nhs.uk")) == 1


def _sign_up_from(app, email: str, address: str):
    with app.app_context():
        org = db.session.scalar(select(Organisation.id).where(Organisation.code == "DDER"))
    return app.test_client().post("/sign-up", data={
        "full_name": "Nia Newcomer", "email": email, "job_title": "Analyst",
        "organisation_id": str(org), "password": "river lantern oboe",
        "confirm": "river lantern oboe"}, environ_base={"REMOTE_ADDR": address})


def test_sign_up_is_paused_per_address_for_registered_and_new_alike(app, make_user):
    make_user(email="known@example.nhs.uk")
    limit = app.config["SIGN_UP_MAX_PER_ACCOUNT"]
    for email in ("known@example.nhs.uk", "new@example.nhs.uk"):
        for n in range(limit):
            _sign_up_from(app, email.upper(), f"192.0.2.{n}")
        refused = _sign_up_from(app, email, "203.0.113.1")
        assert throttle.TOO_MANY_REQUESTS in refused.get_data(as_text=True)
        assert len(outbox(app, email)) == limit


def test_guessing_check_in_codes_is_paused(app, client, login, make_user, make_cohort):
    learner = make_user()
    cohort = make_cohort(capacity=5)
    login(learner)
    client.post(f"/offerings/{cohort.id}/book")
    with app.app_context():
        session = db.session.get(type(cohort.sessions[0]), cohort.sessions[0].id)
        from lms.attendance.services import check_in_code
        code = check_in_code(session).code
        db.session.commit()
        starts = session.starts_at
    limit = app.config["CHECK_IN_MAX_PER_ACCOUNT"]
    with time_machine.travel(starts + timedelta(minutes=5)):
        login(learner)
        for n in range(limit):
            wrong = client.post("/check-in", data={"code": f"WRONG{n}"},
                                environ_base={"REMOTE_ADDR": "192.0.2.1"})
            assert "That code is not right" in wrong.get_data(as_text=True)
        right = client.post("/check-in", data={"code": code},
                            environ_base={"REMOTE_ADDR": "192.0.2.2"})
        assert throttle.TOO_MANY_REQUESTS in right.get_data(as_text=True)
        with app.app_context():
            assert db.session.scalar(select(func.count(Attendance.user_id))) == 0
            assert db.session.scalar(select(func.count(CheckInCode.code))) == 1
    with time_machine.travel(starts + timedelta(minutes=25)):
        login(learner)
        done = client.post("/check-in", data={"code": code}, follow_redirects=True)
        assert "You are checked in" in done.get_data(as_text=True)


# ---------------------------------------------------------------------------- item 10 CLI


def test_admins_list_and_clear_throttles_from_the_command_line(app, client, runner,
                                                               make_user, monkeypatch):
    monkeypatch.setitem(app.config, "SIGN_IN_MAX_PER_ADDRESS", 6)
    make_user(email=TARGET)
    for n in range(6):
        sign_in(client, TARGET if n < 5 else "ghost@example.nhs.uk", "wrong password!",
                address="203.0.113.50")
    listed = runner.invoke(args=["lms", "throttles", "list"])
    assert listed.exit_code == 0
    assert f"sign_in              account  {TARGET}" in listed.output
    assert "address  203.0.113.50" in listed.output
    assert "ghost@" not in listed.output  # one failure: not throttled
    assert "too many attempts" in sign_in(client, TARGET).get_data(as_text=True)

    cleared = runner.invoke(args=["lms", "throttles", "clear", "ＴＡＲＧＥＴ@example。nhs。uk"])
    assert cleared.exit_code == 0 and "6 attempts cleared" in cleared.output
    # (five failures and the refusal while paused, which counts too)
    assert sign_in(app.test_client(), TARGET, address="192.0.2.9").status_code == 302
    assert TARGET not in runner.invoke(args=["lms", "throttles", "list"]).output

    assert runner.invoke(args=["lms", "throttles", "clear"]).exit_code != 0  # say what
    everything = runner.invoke(args=["lms", "throttles", "clear", "--all"])
    assert everything.exit_code == 0
    assert runner.invoke(args=["lms", "throttles", "list"]).output == "Nothing is throttled.\n"
    with app.app_context():
        assert db.session.scalar(select(func.count(SignInAttempt.id))) == 0
        assert db.session.scalar(select(func.count(User.id))) == 1
