"""The signed-in person is kept per process between requests (``lms.accounts.kept``): a kept
request reads no account row, yet every change to the account — made in this process or
committed by another (a second gunicorn worker, the CLI, the scheduler) — counts at the next
request: signed out everywhere, an account closed, a role taken away, a name changed."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from sqlalchemy import event, select

from lms.accounts import services as accounts
from lms.accounts.models import Role, User
from lms.extensions import db

ROOT = Path(__file__).resolve().parents[1]


def in_another_process(app, body: str) -> None:
    """Run ``body`` (with ``db`` and the models imported) in a process of its own, on the
    same database, and commit: as a second worker or a command would."""
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    lines = [
        "from sqlalchemy import select",
        "from lms import create_app",
        "from lms.accounts import services as accounts",
        "from lms.accounts.models import Role, User, UserRole",
        "from lms.extensions import db",
        f"app = create_app('testing', SQLALCHEMY_DATABASE_URI={url!r})",
        "with app.app_context():",
        textwrap.indent(textwrap.dedent(body).strip(), "    "),
        "    db.session.commit()",
    ]
    script = "\n".join(lines)
    subprocess.run([sys.executable, "-c", script], cwd=ROOT, check=True, timeout=120,
                   env={**os.environ, "PYTHONPATH": str(ROOT)})


@pytest.fixture
def statements(app):
    sent: list[str] = []

    def record(_conn, _cursor, statement, *_):
        sent.append(statement)

    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", record)
    yield sent
    with app.app_context():
        event.remove(db.engine, "before_cursor_execute", record)


def test_a_kept_person_costs_no_account_read(app, client, login, make_user, statements):
    ada = make_user(email="ada@example.nhs.uk", name="Ada Lovelace")
    login(ada)
    assert client.get("/my-learning").status_code == 200  # kept from here on
    statements.clear()
    page = client.get("/my-learning").get_data(as_text=True)
    assert "Ada Lovelace" in page
    assert not [s for s in statements if "FROM user_account" in s], statements
    assert len(statements) == 1, "one read of the versions, the person's pages' among them"


def test_signed_out_everywhere_by_another_process_at_the_next_request(app, client, login,
                                                                       make_user):
    ada = make_user(email="ada@example.nhs.uk")
    login(ada)
    assert client.get("/my-learning").status_code == 200
    assert client.get("/my-learning").status_code == 200  # served from the kept copy
    in_another_process(app, f"""
        accounts.end_sessions(db.session.get(User, {ada.id}))
    """)
    response = client.get("/my-learning")
    assert response.status_code == 302 and "/sign-in" in response.headers["Location"]


def test_an_account_closed_by_another_process_is_signed_out(app, client, login, make_user):
    ada = make_user(email="ada@example.nhs.uk")
    login(ada)
    assert client.get("/my-learning").status_code == 200
    in_another_process(app, f"""
        db.session.get(User, {ada.id}).is_active_account = False
    """)
    assert client.get("/my-learning").status_code == 302


def test_a_role_taken_away_by_another_process_is_gone_at_the_next_request(app, client, login,
                                                                          make_user):
    grace = make_user(Role.FACULTY, email="grace@example.nhs.uk")
    login(grace)
    assert client.get("/reports").status_code == 200
    assert client.get("/reports").status_code == 200
    in_another_process(app, f"""
        db.session.delete(db.session.scalars(select(UserRole).where(
            UserRole.user_id == {grace.id}, UserRole.role == Role.FACULTY)).one())
    """)
    assert client.get("/reports").status_code in (403, 404)
    # And given back: at once again.
    in_another_process(app, f"""
        db.session.add(UserRole(user_id={grace.id}, role=Role.FACULTY))
    """)
    assert client.get("/reports").status_code == 200


def test_a_name_changed_by_another_process_shows_at_the_next_request(app, client, login,
                                                                     make_user):
    ada = make_user(email="ada@example.nhs.uk", name="Ada Byron")
    login(ada)
    assert "Ada Byron" in client.get("/my-learning").get_data(as_text=True)
    in_another_process(app, f"""
        db.session.get(User, {ada.id}).full_name = "Ada Lovelace"
    """)
    page = client.get("/my-learning").get_data(as_text=True)
    assert "Ada Lovelace" in page and "Ada Byron" not in page


def test_each_request_gets_its_own_person_and_a_change_to_it_stays_there(app, make_user):
    ada = make_user(Role.FACULTY, email="ada@example.nhs.uk", name="Ada Lovelace")
    session_id = f"{ada.id}:{ada.session_version}"
    with app.test_request_context():
        first = accounts.load_user_from_session(session_id)
        assert first.full_name == "Ada Lovelace"
    with app.test_request_context():
        kept = accounts.load_user_from_session(session_id)  # from the kept copy
        assert kept is not first and kept in db.session
        assert {r.role for r in kept.role_rows} == {Role.LEARNER, Role.FACULTY}
        assert kept.organisation.code == ada.organisation.code
        kept.full_name = "Not saved"  # changed in this request, never committed
        db.session.rollback()
    with app.test_request_context():
        again = accounts.load_user_from_session(session_id)
        assert again.full_name == "Ada Lovelace"
        # Changed and committed through a request's own copy: saved, and kept anew.
        again.job_title = "Chief analyst"
        db.session.commit()
    with app.test_request_context():
        assert accounts.load_user_from_session(session_id).job_title == "Chief analyst"
        assert db.session.scalar(select(User.job_title).where(User.id == ada.id)) == (
            "Chief analyst")


def test_two_people_in_one_process_never_get_each_others(app, make_user):
    ada = make_user(email="ada@example.nhs.uk", name="Ada Lovelace")
    ben = make_user(email="ben@example.nhs.uk", name="Ben Okafor")
    for _ in range(2):
        for person, name in ((ada, "Ada Lovelace"), (ben, "Ben Okafor")):
            with app.test_request_context():
                user = accounts.load_user_from_session(f"{person.id}:{person.session_version}")
                assert (user.id, user.full_name) == (person.id, name)


def test_an_organisation_renamed_is_seen_by_its_people_at_the_next_request(app, make_user):
    ada = make_user(email="ada@example.nhs.uk")
    session_id = f"{ada.id}:{ada.session_version}"
    for _ in range(2):
        with app.test_request_context():
            named = accounts.load_user_from_session(session_id).organisation.name
    with app.app_context():
        db.session.get(User, ada.id).organisation.name = "Birmingham and Solihull ICB"
        db.session.commit()
    with app.test_request_context():
        assert accounts.load_user_from_session(session_id).organisation.name == (
            "Birmingham and Solihull ICB") != named
