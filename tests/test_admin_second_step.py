"""Two-step verification is required for admins (issue 16, item 11): an admin without it is
sent to set it up and can do nothing else; erasing a person, changing roles and reading the
audit log refuse any admin session that has not given a code; the demo admin has it on with
a published secret, so ``make run`` still lets a newcomer in."""

from __future__ import annotations

import pyotp
import pytest
from flask_login import login_user
from sqlalchemy import func, select
from werkzeug.exceptions import Forbidden

from lms.accounts.models import Role, User
from lms.audit.models import AuditEntry
from lms.extensions import db
from tests.conftest import PASSWORD, TOTP_SECRET

SET_UP = "/profile/two-step-verification/set-up"


def sign_in(client, email: str, password: str = PASSWORD):
    return client.post("/sign-in", data={"email": email, "password": password})


def _attacks(person_id: int, org_id: int) -> list[tuple[str, str, dict]]:
    """The sensitive admin actions, each as the request that would perform it."""
    return [
        ("GET", "/admin/audit", {}),
        ("GET", f"/admin/users/{person_id}", {}),
        ("POST", f"/admin/users/{person_id}", {"roles": ["admin"], "organisation_id": org_id}),
        ("GET", f"/admin/users/{person_id}/erase", {}),
        ("POST", f"/admin/users/{person_id}/erase", {"understood": "y"}),
    ]


def _untouched(app, person_id: int) -> None:
    with app.app_context():
        person = db.session.get(User, person_id)
        assert person.full_name == "Lena Learner"
        assert person.roles == {Role.LEARNER}
        assert db.session.scalar(select(func.count(AuditEntry.id))) == 0


@pytest.mark.parametrize("attack", range(5))
def test_an_admin_without_two_step_verification_is_sent_to_set_it_up(
        app, client, make_user, people, attack):
    ada = make_user(Role.ADMIN, email="new.admin@example.nhs.uk", two_step=False)
    assert sign_in(client, ada.email).status_code == 302
    method, url, data = _attacks(people.learner.id, people.learner.organisation_id)[attack]
    answer = client.open(url, method=method, data=data)
    assert answer.status_code == 302 and answer.location.endswith(SET_UP)
    _untouched(app, people.learner.id)


def test_an_admin_without_it_can_do_nothing_but_set_it_up_or_sign_out(client, make_user):
    ada = make_user(Role.ADMIN, email="new.admin@example.nhs.uk", two_step=False)
    sign_in(client, ada.email)
    for url in ("/", "/profile", "/admin/users", "/courses", "/events", "/calendar",
                "/profile/api-tokens", "/profile/your-data.json"):
        answer = client.get(url)
        assert answer.status_code == 302 and answer.location.endswith(SET_UP), url
    assert client.get(SET_UP).status_code == 200
    assert client.get("/healthz").status_code == 200
    assert client.post("/sign-out").location.endswith("/sign-in")


@pytest.mark.parametrize("attack", range(5))
def test_an_admin_session_that_has_not_given_a_code_is_refused_and_ended(
        app, client, login, people, attack):
    """An admin with two-step verification on, but whose session skipped the code (e.g. one
    signed in before it was required): refused, and sent to sign in again."""
    login(people.admin, second_step=False)
    method, url, data = _attacks(people.learner.id, people.learner.organisation_id)[attack]
    answer = client.open(url, method=method, data=data)
    assert answer.status_code == 302 and answer.location.endswith("/sign-in")
    _untouched(app, people.learner.id)
    assert client.get("/profile").location.startswith("/sign-in")  # the session has ended


@pytest.mark.parametrize("endpoint", ["audit.log", "admin.user", "privacy.erase"])
def test_each_sensitive_page_itself_refuses_a_session_without_the_second_step(
        app, people, endpoint):
    """The routes carry the policy themselves (``second_step_required``), not only the
    before-request gate: called with an admin session that has not given a code, each view
    refuses."""
    view = app.view_functions[endpoint]
    with app.test_request_context("/admin"):
        login_user(db.session.get(User, people.admin.id))
        with pytest.raises(Forbidden):
            view(user_id=people.learner.id) if endpoint != "audit.log" else view()


def test_with_the_code_the_admin_reaches_the_audit_log_and_changes_roles(
        app, client, people):
    first = sign_in(client, people.admin.email)
    assert first.location.endswith("/sign-in/code")
    assert client.get("/admin/audit").location.startswith("/sign-in")  # no code yet
    sign_in(client, people.admin.email)
    done = client.post("/sign-in/code", data={"code": pyotp.TOTP(TOTP_SECRET).now()})
    assert done.status_code == 302
    assert client.get("/admin/audit").status_code == 200
    client.post(f"/admin/users/{people.learner.id}", data={
        "roles": ["learner", "faculty"], "organisation_id": people.learner.organisation_id})
    with app.app_context():
        assert Role.FACULTY in db.session.get(User, people.learner.id).roles


def test_setting_it_up_at_first_sign_in_opens_the_admin_pages(app, client, make_user):
    ada = make_user(Role.ADMIN, email="new.admin@example.nhs.uk", two_step=False)
    sign_in(client, ada.email)
    assert client.get("/admin/audit").location.endswith(SET_UP)
    client.get(SET_UP)
    with client.session_transaction() as session:
        secret = session["totp_set_up"]
    assert client.post(SET_UP, data={"code": pyotp.TOTP(secret).now()}).status_code == 200
    assert client.get("/admin/audit").status_code == 200


def test_the_demo_admin_has_it_on_with_the_published_secret(app, client, runner):
    assert runner.invoke(args=["lms", "seed-demo"]).exit_code == 0
    secret = app.config["DEMO_TOTP_SECRET"]
    assert sign_in(client, "admin@example.nhs.uk",
                   app.config["DEMO_PASSWORD"]).location.endswith("/sign-in/code")
    client.post("/sign-in/code", data={"code": pyotp.TOTP(secret).now()})
    assert client.get("/admin/audit").status_code == 200
