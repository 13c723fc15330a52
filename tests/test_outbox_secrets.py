"""Live links in emails (password reset, email confirmation) are not kept once sent: the
attacker reading the database file, or the person's own download of their data, finds no
token that still works, while the link in the delivered email does."""

from __future__ import annotations

import json
import re
import subprocess
from email import message_from_bytes, policy
from pathlib import Path

from sqlalchemy import select

from lms.accounts import services as accounts
from lms.accounts.models import User
from lms.extensions import db
from lms.notifications.delivery import deliver_outbox
from lms.notifications.models import OutboxMessage
from tests.conftest import PASSWORD
from tests.test_outbox import smtp_sink  # noqa: F401 - the real SMTP server fixture

NEW_PASSWORD = "a much better passphrase"


def _database_bytes(app) -> bytes:
    """The database file and its write-ahead log as they lie on disk, read by another process.

    Never opened here: closing any descriptor of a file drops every POSIX lock this process
    holds on it, SQLite's included — the next process to open the database would take itself
    for the only one and delete the log and shared memory this process still uses.
    """
    path = Path(db.engine.url.database)
    files = [str(p) for p in (path, Path(f"{path}-wal")) if p.exists()]
    return subprocess.run(["cat", *files], capture_output=True, check=True).stdout


def _token(text: str, path: str) -> str:
    return re.search(re.escape(path) + r"([A-Za-z0-9_\-]+)", text).group(1)


def _use_smtp(app, monkeypatch, port: int) -> None:
    monkeypatch.setitem(app.config, "MAIL_BACKEND", "smtp")
    monkeypatch.setitem(app.config, "SMTP_HOST", "127.0.0.1")
    monkeypatch.setitem(app.config, "SMTP_PORT", port)


def _export(client) -> str:
    response = client.get("/profile/your-data.json")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_a_sent_reset_link_is_not_kept_but_still_works(app, client, make_user, monkeypatch,
                                                        smtp_sink):  # noqa: F811
    sink, port = smtp_sink
    _use_smtp(app, monkeypatch, port)
    user = make_user(email="reset-me@example.nhs.uk")
    client.post("/sign-in", data={"email": user.email, "password": PASSWORD})
    client.post("/forgot-password", data={"email": user.email})
    with app.app_context():
        row = db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id.desc())).first()
        token = _token(row.body_text, "/reset-password/")
    # Waiting to leave: the person's own copy of their data has the email, not the token.
    waiting = _export(client)
    assert "Reset your password" in waiting and "/reset-password/" in waiting
    assert token not in waiting

    with app.app_context():
        assert deliver_outbox().sent >= 1
        delivered = message_from_bytes(sink.messages[-1], policy=policy.default)
        assert _token(delivered.get_body(("plain",)).get_content(), "/reset-password/") == token
        stored = db.session.get(OutboxMessage, row.id)
        assert "/reset-password/[removed]" in stored.body_text
        texts = json.dumps([[getattr(r, c) for c in ("subject", "body_text", "body_html")]
                            for r in db.session.scalars(select(OutboxMessage))])
        assert token not in texts
        assert token.encode() not in _database_bytes(app)
    assert token not in _export(client)

    # The link in the delivered email still works.
    client.get("/sign-out")
    assert client.get(f"/reset-password/{token}").status_code == 200
    response = client.post(f"/reset-password/{token}",
                           data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert response.status_code == 302
    response = client.post("/sign-in", data={"email": user.email, "password": NEW_PASSWORD})
    assert response.status_code == 302


def test_a_sent_confirmation_link_is_not_kept_but_still_works(app, client, make_user,
                                                              monkeypatch, smtp_sink):  # noqa: F811
    sink, port = smtp_sink
    _use_smtp(app, monkeypatch, port)
    user = make_user(email="confirm-me@example.nhs.uk", verified=False)
    with app.app_context():
        accounts.send_verification(db.session.get(User, user.id))
        db.session.commit()
        assert deliver_outbox().sent == 1
        delivered = message_from_bytes(sink.messages[-1], policy=policy.default)
        token = _token(delivered.get_body(("plain",)).get_content(), "/confirm-email/")
        assert token.encode() not in _database_bytes(app)
        assert token not in json.dumps([r.body_text + (r.body_html or "")
                                        for r in db.session.scalars(select(OutboxMessage))])
    assert client.post(f"/confirm-email/{token}").status_code == 302
    with app.app_context():
        assert db.session.get(User, user.id).email_verified_at is not None
