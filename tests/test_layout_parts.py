"""The layout's header, head links and footer are kept per process (``lms.web``): made once
per signed-in name and menu, they must still show a rename, a new role and the right
current page at once, and carry each session's own CSRF token."""

from __future__ import annotations

import re

from lms.accounts.models import Role, User, UserRole
from lms.extensions import db


def header(client, path: str = "/") -> str:
    return client.get(path).get_data(as_text=True).split("</header>")[0]


def test_a_rename_and_a_new_role_show_in_the_header_at_once(app, client, login, make_user):
    person = make_user(Role.LEARNER, name="Priya Before")
    login(person)
    assert "Priya Before" in header(client) and ">Nominations<" not in header(client)
    with app.app_context():
        user = db.session.get(User, person.id)
        user.full_name = "Priya After"
        db.session.add(UserRole(user_id=person.id, role=Role.DSU_LEAD))
        db.session.commit()
    now = header(client)
    assert "Priya After" in now and "Priya Before" not in now
    assert ">Nominations<" in now


def test_each_session_gets_its_own_sign_out_token(app, make_user, login):
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        tokens = []
        for _ in range(2):  # the same person, two browsers: the same kept header
            browser = login(make_user(Role.LEARNER, name="Same Name"), on=app.test_client())
            html = header(browser)
            token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
            assert token != "lms-csrf-slot-8d0f3c"
            # The header's sign-out form works with the token it carries, in this session.
            assert browser.post("/sign-out", data={"csrf_token": token}).status_code == 302
            tokens.append(token)
        assert tokens[0] != tokens[1]
    finally:
        app.config["WTF_CSRF_ENABLED"] = False


def test_the_current_page_and_section_are_marked_per_address(client, login, people):
    login(people.learner)
    on_page = header(client, "/my-learning")
    assert re.search(r'href="/my-learning" aria-current="page"', on_page)
    in_section = header(client, "/courses?page=1")
    assert re.search(r'href="/courses" aria-current="page"', in_section)
    assert 'href="/my-learning" aria-current' not in in_section
    signed_out = header(client.application.test_client(), "/courses")
    assert "Sign out" not in signed_out and 'href="/courses" aria-current="page"' in signed_out
