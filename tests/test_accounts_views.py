"""Account pages through the test client: what people see and what changes."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from lms.accounts.models import Organisation, Role, User
from lms.extensions import db
from tests.conftest import PASSWORD


def org_id(app, code: str) -> int:
    with app.app_context():
        return db.session.scalar(select(Organisation.id).where(Organisation.code == code))


def count_users(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(User.id)))


def sign_up_data(app, **changes) -> dict:
    data = {
        "full_name": "Nia Newcomer",
        "email": "nia@example.nhs.uk",
        "job_title": "Analyst",
        "organisation_id": str(org_id(app, "DDER")),
        "password": "twelve chars or more",
        "confirm": "twelve chars or more",
    }
    data.update(changes)
    return data


def test_empty_sign_up_shows_an_error_summary_linked_to_each_field(app, client):
    response = client.post("/sign-up", data={})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "There is a problem" in html
    assert "<title>Error: Create an account" in html
    for field in ("full_name", "email", "organisation_id"):
        assert f'href="#{field}"' in html
    assert re.search(r'aria-describedby="[^"]*email-error"', html)
    assert count_users(app) == 0


def test_sign_up_keeps_what_was_typed_but_never_the_password(app, client):
    html = client.post("/sign-up", data=sign_up_data(app, confirm="different words here")) \
        .get_data(as_text=True)
    assert 'value="nia@example.nhs.uk"' in html
    assert "twelve chars or more" not in html
    assert "Passwords do not match" in html
    assert count_users(app) == 0


def test_whole_journey_sign_up_confirm_sign_in_sign_out(app, client, mailbox):
    response = client.post("/sign-up", data=sign_up_data(app))
    assert response.status_code == 302 and response.location.endswith("/sign-up/check-your-email")
    assert "nia@example.nhs.uk" in client.get(response.location).get_data(as_text=True)

    refused = client.post("/sign-in", data={"email": "nia@example.nhs.uk",
                                            "password": "twelve chars or more"})
    assert "Confirm your email address before you sign in" in refused.get_data(as_text=True)

    link = mailbox.last_link("nia@example.nhs.uk", "/confirm-email/")
    assert "Confirm my email address" in client.get(link).get_data(as_text=True)
    confirmed = client.post(link, follow_redirects=True)
    assert "Your email address is confirmed" in confirmed.get_data(as_text=True)
    assert client.post(link).status_code == 400  # used up

    signed_in = client.post("/sign-in", data={"email": "NIA@example.nhs.uk",
                                              "password": "twelve chars or more"},
                            follow_redirects=True)
    html = signed_in.get_data(as_text=True)
    assert "You are signed in as Nia Newcomer, Derby and Derbyshire" in html
    assert client.get("/profile").status_code == 200

    client.post("/sign-out")
    assert client.get("/profile").status_code == 302


def test_wrong_password_and_unknown_email_look_the_same(client, make_user):
    make_user(email="real@example.nhs.uk")
    wrong = client.post("/sign-in", data={"email": "real@example.nhs.uk", "password": "nope"})
    unknown = client.post("/sign-in", data={"email": "ghost@example.nhs.uk", "password": "nope"})
    strip = lambda r: re.sub(r'(value|nonce)="[^"]*"', "", r.get_data(as_text=True))  # noqa: E731
    assert strip(wrong) == strip(unknown)
    assert "Enter a correct email address and password" in strip(wrong)


def test_sign_in_goes_back_to_the_page_asked_for_but_never_off_site(client, make_user):
    make_user(email="next@example.nhs.uk")
    creds = {"email": "next@example.nhs.uk", "password": PASSWORD}
    response = client.post("/sign-in?next=/profile/password", data=creds)
    assert response.location == "/profile/password"
    client.post("/sign-out")
    for evil in ("https://evil.example/", "//evil.example/x", "javascript:alert(1)"):
        response = client.post(f"/sign-in?next={evil}", data=creds)
        assert response.location == "/", evil
        client.post("/sign-out")


def test_signing_out_ends_the_sessions_in_other_browsers(app, make_user):
    make_user(email="two@example.nhs.uk")
    laptop, phone = app.test_client(), app.test_client()
    for browser in (laptop, phone):
        browser.post("/sign-in", data={"email": "two@example.nhs.uk", "password": PASSWORD})
        assert browser.get("/profile").status_code == 200
    laptop.post("/sign-out")
    assert phone.get("/profile").status_code == 302


def test_changing_password_keeps_this_session_and_ends_others(app, make_user):
    make_user(email="chg@example.nhs.uk")
    here, elsewhere = app.test_client(), app.test_client()
    for browser in (here, elsewhere):
        browser.post("/sign-in", data={"email": "chg@example.nhs.uk", "password": PASSWORD})
    response = here.post("/profile/password", data={
        "current_password": PASSWORD, "password": "new password twelve",
        "confirm": "new password twelve"}, follow_redirects=True)
    assert "Your password has been changed" in response.get_data(as_text=True)
    assert here.get("/profile").status_code == 200
    assert elsewhere.get("/profile").status_code == 302


def test_password_reset_through_the_pages(app, client, make_user, mailbox):
    make_user(email="reset@example.nhs.uk")
    page = client.post("/forgot-password", data={"email": "reset@example.nhs.uk"})
    assert "If <strong>reset@example.nhs.uk</strong> has an account" in page.get_data(as_text=True)
    unknown = client.post("/forgot-password", data={"email": "nobody@example.nhs.uk"})
    assert "If <strong>nobody@example.nhs.uk</strong> has an account" in \
        unknown.get_data(as_text=True)
    link = mailbox.last_link("reset@example.nhs.uk", "/reset-password/")
    short = client.post(link, data={"password": "short", "confirm": "short"})
    assert "Password must be 12 characters or more" in short.get_data(as_text=True)
    done = client.post(link, data={"password": "a fresh password!", "confirm":
                                   "a fresh password!"}, follow_redirects=True)
    assert "Sign in with your new password" in done.get_data(as_text=True)
    assert client.get(link).status_code == 400
    signed_in = client.post("/sign-in", data={"email": "reset@example.nhs.uk",
                                              "password": "a fresh password!"})
    assert signed_in.status_code == 302


def test_profile_edit_saves_and_bad_input_changes_nothing(app, client, login, make_user):
    user = make_user(name="Old Name", org="BSOL")
    login(user)
    bad = client.post("/profile", data={"full_name": "", "job_title": "X",
                                        "organisation_id": str(org_id(app, "LLR"))})
    assert "Enter your full name" in bad.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(User, user.id).organisation.code == "BSOL"
    client.post("/profile", data={"full_name": "New Name", "job_title": "Lead",
                                  "organisation_id": str(org_id(app, "LLR"))})
    with app.app_context():
        saved = db.session.get(User, user.id)
        # The organisation is only asked for (see tests/test_organisation_changes.py).
        assert (saved.full_name, saved.job_title, saved.organisation.code) == \
            ("New Name", "Lead", "BSOL")
    page = client.get("/profile").get_data(as_text=True)
    assert "You have asked to move from Birmingham and Solihull to Leicester" in page


def test_admin_finds_a_person_and_changes_their_role(app, client, login, people):
    login(people.admin)
    html = client.get("/admin/users?q=lena").get_data(as_text=True)
    assert "Lena Learner" in html and "Fay Faculty" not in html
    response = client.post(f"/admin/users/{people.learner.id}", data={
        "roles": ["faculty"], "organisation_id": str(org_id(app, "BSOL"))})
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(User, people.learner.id).roles == {Role.LEARNER, Role.FACULTY}
    refused = client.post(f"/admin/users/{people.learner.id}", data={
        "roles": ["dsu_lead"], "organisation_id": str(org_id(app, "SU"))})
    page = refused.get_data(as_text=True)
    assert '<a href="#roles">A DSU lead must belong to one of the 11 ICSs' in page
    # The summary's link goes to the first box (an input can take the focus; a div cannot).
    assert re.search(r'<input class="nhsuk-checkboxes__input" id="roles" name="roles"', page)
    assert 'id="roles-2"' in page


def test_the_users_list_pages_and_keeps_its_search(client, login, people, make_user):
    for n in range(30):
        make_user(name=f"Paged Person {n:02d}", email=f"paged{n}@example.nhs.uk")
    login(people.admin)
    first = client.get("/admin/users?q=paged").get_data(as_text=True)
    assert "Paged Person 00" in first and "Paged Person 25" not in first
    assert "Page 2 of 2" in first and "/admin/users?page=2&amp;q=paged" in first
    second = client.get("/admin/users?q=paged&page=2").get_data(as_text=True)
    assert "Paged Person 25" in second and "Paged Person 00" not in second
    assert "Page 1 of 2" in second and "Page 3" not in second


@pytest.mark.parametrize(
    ("who", "shown", "hidden"),
    [
        (None, ["Sign in", "Create an account"], ["Users", "My learning"]),
        ("learner", ["My learning", "Sign out"], ["Users", "Create an account"]),
        ("admin", ["My learning", "Users"], ["Create an account"]),
    ],
)
def test_navigation_by_role(client, login, people, who, shown, hidden):
    login(people.by_role(who) if who else None)
    nav = client.get("/").get_data(as_text=True).split("</header>")[0]
    for label in shown:
        assert label in nav
    for label in hidden:
        assert f">{label}<" not in nav


@pytest.mark.parametrize("url", ["/", "/sign-in", "/sign-up", "/forgot-password",
                                 "/confirm-email/resend", "/no-such-page"])
def test_pages_have_one_h1_and_a_unique_title(client, url):
    html = client.get(url).get_data(as_text=True)
    assert html.count("<h1") == 1
    title = re.search(r"<title>(.*?)</title>", html, re.S).group(1).strip()
    assert title.endswith("MDSN Learning &amp; Events") and len(title) > 30


def test_csrf_is_checked_when_on(app, make_user):
    make_user(email="csrf@example.nhs.uk")
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        browser = app.test_client()
        refused = browser.post("/sign-in", data={"email": "csrf@example.nhs.uk",
                                                 "password": PASSWORD})
        assert refused.status_code == 400
        assert "Your session has expired" in refused.get_data(as_text=True)
        form = browser.get("/sign-in").get_data(as_text=True)
        token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
        accepted = browser.post("/sign-in", data={"email": "csrf@example.nhs.uk",
                                                  "password": PASSWORD, "csrf_token": token})
        assert accepted.status_code == 302
        assert browser.post("/sign-out").status_code == 400
        assert browser.get("/profile").status_code == 200
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
