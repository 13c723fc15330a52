"""Core account rules again, on PostgreSQL: what production runs on."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from flask import Flask
from sqlalchemy import func, inspect, select
from sqlalchemy.exc import IntegrityError

from lms.accounts.models import Organisation, User
from lms.accounts.services import SignUp, get_user_by_email, hash_password, sign_up
from lms.extensions import db
from lms.notifications.models import OutboxMessage

pytestmark = pytest.mark.postgres

PASSWORD = "correct horse battery"


def bsol_id() -> int:
    return db.session.scalar(select(Organisation.id).where(Organisation.code == "BSOL"))


def counts() -> tuple[int, int]:
    users = db.session.scalar(select(func.count(User.id)))
    emails = db.session.scalar(select(func.count(OutboxMessage.id)))
    return users, emails


def form(email: str) -> SignUp:
    return SignUp(
        email=email,
        full_name="Priya Patel",
        job_title="Analyst",
        organisation_id=bsol_id(),
        password=PASSWORD,
        confirm=PASSWORD,
    )


def new_user(email: str) -> User:
    return User(
        email=email,
        full_name="Pat Postgres",
        job_title="Analyst",
        organisation_id=bsol_id(),
        password_hash=hash_password(PASSWORD),
    )


def test_runs_on_postgresql(pg_app: Flask):
    with pg_app.app_context():
        assert db.engine.dialect.name == "postgresql"
        assert db.session.scalar(select(func.count(Organisation.id))) == 14


def test_sign_up_commits_a_user_and_an_email_once_per_address(pg_app: Flask):
    with pg_app.test_request_context():
        user = sign_up(form("Priya.Patel@Example.NHS.uk"))
        assert user is not None
        db.session.commit()

    with pg_app.app_context():
        assert counts() == (1, 1)
        user = get_user_by_email("PRIYA.PATEL@example.nhs.uk")
        assert user is not None
        assert user.email == "priya.patel@example.nhs.uk"
        assert user.email_verified_at is None
        message = db.session.scalar(select(OutboxMessage))
        assert message.to_address == "priya.patel@example.nhs.uk"

    with pg_app.test_request_context():
        assert sign_up(form("PRIYA.PATEL@EXAMPLE.NHS.UK")) is None
        db.session.commit()

    with pg_app.app_context():
        # No second account; the owner is told by email instead.
        assert counts() == (1, 2)


def test_database_keeps_emails_lower_case(pg_app: Flask):
    with pg_app.app_context():
        db.session.add(new_user("Upper.Case@example.nhs.uk"))
        with pytest.raises(IntegrityError, match="ck_user_account_email_lowercase"):
            db.session.flush()
        db.session.rollback()


def test_database_keeps_emails_unique(pg_app: Flask):
    with pg_app.app_context():
        db.session.add(new_user("twice@example.nhs.uk"))
        db.session.commit()
        db.session.add(new_user("twice@example.nhs.uk"))
        with pytest.raises(IntegrityError, match="uq_user_account_email"):
            db.session.flush()
        db.session.rollback()
        assert db.session.scalar(select(func.count(User.id))) == 1


def test_healthz_answers_ok(pg_app: Flask):
    response = pg_app.test_client().get("/healthz")
    assert response.status_code == 200
    assert response.get_json()["status"] == "ok"


def test_timestamps_come_back_aware_utc(pg_app: Flask):
    # A moment given in another zone is stored as the same instant and read back in UTC.
    verified = datetime(2026, 3, 29, 1, 30, tzinfo=timezone(timedelta(hours=5)))
    with pg_app.app_context():
        column = next(
            c for c in inspect(db.engine).get_columns("user_account") if c["name"] == "created_at"
        )
        assert column["type"].timezone is True

        user = new_user("clock@example.nhs.uk")
        user.email_verified_at = verified
        db.session.add(user)
        db.session.commit()
        user_id = user.id

    with pg_app.app_context():
        user = db.session.get(User, user_id)
        assert user.created_at.tzinfo is not None
        assert user.created_at.utcoffset() == timedelta(0)
        assert abs(datetime.now(UTC) - user.created_at) < timedelta(minutes=5)
        assert user.email_verified_at.utcoffset() == timedelta(0)
        assert user.email_verified_at == verified
