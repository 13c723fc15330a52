"""API tokens and calendar addresses are stored only as hashes (issue 16, item 12): a copy of
the database opens nobody's feed and calls the API as nobody; the address shown on the page
works; a password change (its box ticked by default) stops both working."""

from __future__ import annotations

import hashlib
import re

from flask_migrate import upgrade
from sqlalchemy import text

from lms import create_app
from lms.accounts.models import User
from lms.events.models import CalendarFeedToken
from lms.extensions import db
from tests.conftest import PASSWORD, organisation
from tests.test_migrations import preserved_logging

NEW_PASSWORD = "a brand new long passphrase"


def _new_api_token(client) -> str:
    page = client.post("/profile/api-tokens", data={"name": "Power BI", "scope": "read",
                                                    "days": "30"}).get_data(as_text=True)
    return page.split('id="new-token" type="text" value="', 1)[1].split('"', 1)[0]


def _new_feed_address(client) -> str:
    """Make the calendar address on the calendar page, and read it off the page."""
    page = client.post("/calendar/address")
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    html = page.get_data(as_text=True)
    assert "It is shown only now" in html
    return re.search(r'id="feed-address" type="text" value="http://[^/"]+(/calendar/feed/'
                     r'[A-Za-z0-9_-]+\.ics)"', html).group(1)


def _api_works(client, token: str) -> bool:
    answer = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code in (200, 401)
    return answer.status_code == 200


def _dump(app) -> str:
    """Every row of every table, as the SQL text of a database copy."""
    with app.app_context():
        connection = db.engine.raw_connection()
        try:
            return "\n".join(connection.driver_connection.iterdump())
        finally:
            connection.close()


def test_the_address_from_the_page_opens_the_feed_and_is_not_shown_again(client, login,
                                                                        make_user):
    login(make_user())
    assert "Create my calendar address" in client.get("/calendar").get_data(as_text=True)
    feed = _new_feed_address(client)
    answer = client.get(feed)
    assert answer.status_code == 200 and answer.mimetype == "text/calendar"
    later = client.get("/calendar").get_data(as_text=True)
    assert feed not in later and "You have a calendar address" in later
    newer = _new_feed_address(client)  # reset: the old one stops at once
    assert client.get(feed).status_code == 404
    assert client.get(newer).status_code == 200


def test_a_copy_of_the_database_holds_no_usable_token(app, client, login, make_user):
    login(make_user())
    api_token = _new_api_token(client)
    feed = _new_feed_address(client)
    secret = feed.removeprefix("/calendar/feed/").removesuffix(".ics")
    dump = _dump(app)
    assert api_token not in dump and secret not in dump
    assert api_token.split("_", 2)[2] not in dump  # not even its secret part (which may hold "_")
    # What is there (the hashes) opens nothing when tried as a secret.
    with app.app_context():
        stored = db.session.scalar(db.select(CalendarFeedToken.token_hash))
    assert stored in dump
    assert client.get(f"/calendar/feed/{stored}.ics").status_code == 404
    for candidate in set(re.findall(r"[A-Za-z0-9_-]{40,}", dump)):
        assert client.get(f"/calendar/feed/{candidate}.ics").status_code == 404
        assert not _api_works(client, candidate)
    assert client.get(feed).status_code == 200 and _api_works(client, api_token)


def test_changing_the_password_revokes_tokens_and_resets_the_feed_by_default(
        client, login, make_user):
    login(make_user())
    api_token, feed = _new_api_token(client), _new_feed_address(client)
    form = client.get("/profile/password").get_data(as_text=True)
    assert re.search(r'name="revoke_tokens" type="checkbox" value="y" checked', form)
    done = client.post("/profile/password", data={
        "current_password": PASSWORD, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD,
        "revoke_tokens": "y"})
    assert done.status_code == 302
    assert client.get(feed).status_code == 404
    assert not _api_works(client, api_token)
    assert "Create my calendar address" in client.get("/calendar").get_data(as_text=True)


def test_unticking_the_box_keeps_tokens_and_feed(client, login, make_user):
    login(make_user())
    api_token, feed = _new_api_token(client), _new_feed_address(client)
    client.post("/profile/password", data={
        "current_password": PASSWORD, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert client.get(feed).status_code == 200 and _api_works(client, api_token)


def test_a_wrong_current_password_revokes_nothing(client, login, make_user):
    login(make_user())
    api_token, feed = _new_api_token(client), _new_feed_address(client)
    client.post("/profile/password", data={
        "current_password": "not it", "password": NEW_PASSWORD, "confirm": NEW_PASSWORD,
        "revoke_tokens": "y"})
    assert client.get(feed).status_code == 200 and _api_works(client, api_token)


def test_the_migration_hashes_existing_calendar_tokens(tmp_path):
    """An address made before the change keeps working, and its token is gone from the
    database."""
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'm.sqlite3'}",
                     MAIL_OUTBOX_DIR=str(tmp_path / "outbox"))
    token = "an-old-calendar-secret-made-before-hashing_0123456789"
    with preserved_logging(), app.app_context():
        upgrade(revision="ad9124c559c9")
        # On the connection, as the schema of then: it has no table for the page cache's
        # versions, which the session's listeners would write.
        connection = db.session.connection()
        user_id = connection.execute(User.__table__.insert().values(
            email="old@example.nhs.uk", full_name="Old Subscriber",
            organisation_id=organisation("BSOL").id, password_hash="x")).inserted_primary_key[0]
        connection.execute(text("INSERT INTO calendar_feed_token (user_id, token, "
                                "created_at) VALUES (:u, :t, '2026-01-01 00:00:00')"),
                           {"u": user_id, "t": token})
        db.session.commit()
        db.session.remove()
        upgrade(revision="7fc642859cb6")
        columns = [row[1] for row in db.session.execute(
            text("PRAGMA table_info(calendar_feed_token)"))]
        assert "token" not in columns
        stored = db.session.execute(text("SELECT token_hash FROM calendar_feed_token")
                                    ).scalar_one()
        assert stored == hashlib.sha256(token.encode()).hexdigest()
        from lms.events import calendars

        assert calendars.owner_of(token).email == "old@example.nhs.uk"
        db.session.remove()
        db.engine.dispose()
