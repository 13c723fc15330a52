"""The health check, demo data and the command line."""

from __future__ import annotations

import secrets

from sqlalchemy import func, select

from lms import create_app
from lms.accounts.models import Organisation, Role, User
from lms.accounts.services import authenticate
from lms.extensions import db
from lms.offerings.models import Offering
from tests.production import production_settings


def test_healthz_is_ok_with_the_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "database": "ok"}


def test_healthz_is_503_and_pages_are_503_when_the_database_is_unreachable(tmp_path):
    broken = create_app("testing", SQLALCHEMY_DATABASE_URI=(
        f"sqlite:///{tmp_path / 'missing-folder' / 'db.sqlite3'}"))
    client = broken.test_client()
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json["database"] == "unreachable"
    with client.session_transaction() as session:
        session["_user_id"] = "1:1"
    page = client.get("/profile")
    assert page.status_code == 503
    assert "Sorry, the service is unavailable" in page.get_data(as_text=True)
    assert "Traceback" not in page.get_data(as_text=True)


def test_seed_demo_builds_the_region_and_is_idempotent(app, runner):
    first = runner.invoke(args=["lms", "seed-demo"])
    assert first.exit_code == 0, first.output
    assert "300 people" in first.output
    with app.app_context():
        counts = db.session.execute(select(func.count(User.id))).scalar()
        assert counts == 300
        ics = db.session.scalars(select(Organisation).where(Organisation.kind == "ics")).all()
        assert len(ics) == 11
        for org in ics:
            leads = db.session.scalar(select(func.count(User.id)).where(
                User.organisation_id == org.id, User.role_rows.any(role=Role.DSU_LEAD)))
            members = db.session.scalar(select(func.count(User.id)).where(
                User.organisation_id == org.id))
            assert leads >= 1, org.name
            assert members >= 10, org.name
        for email, role, org in [
            ("learner@example.nhs.uk", Role.LEARNER, "BSOL"),
            ("dsulead@example.nhs.uk", Role.DSU_LEAD, "BSOL"),
            ("faculty@example.nhs.uk", Role.FACULTY, None),
            ("admin@example.nhs.uk", Role.ADMIN, None),
        ]:
            user = authenticate(email, "mdsn-demo-2026")
            assert user.has_role(role)
            if org:
                assert user.organisation.code == org
        assert db.session.scalar(select(func.count(User.id)).where(
            User.role_rows.any(role=Role.FACULTY))) >= 5
        # Demo events have strands for the events list's strand filter (the festival none).
        strands = set(db.session.scalars(select(Offering.strand).where(
            Offering.kind.in_(("webinar", "network", "festival")))))
        assert strands == {None, "decision_making", "analytical_capability",
                           "analytical_leaders", "beyond_numbers"}
    second = runner.invoke(args=["lms", "seed-demo"])
    assert second.exit_code == 0 and "0 people" in second.output
    with app.app_context():
        assert db.session.scalar(select(func.count(User.id))) == 300


def test_seed_if_empty_leaves_a_database_with_people_alone(runner, make_user):
    make_user()
    result = runner.invoke(args=["lms", "seed-if-empty"])
    assert "already has people" in result.output


def test_seed_refuses_under_the_production_config(monkeypatch, tmp_path):
    monkeypatch.setenv("LMS_SECRET_KEY", secrets.token_hex(32))
    production = create_app("production", **production_settings(
        SECRET_KEY=None, SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'p.sqlite3'}"))
    result = production.test_cli_runner().invoke(args=["lms", "seed-demo"])
    assert result.exit_code != 0
    assert "refuses to run under the production config" in result.output


def test_deliver_outbox_command(app, runner, client):
    client.post("/forgot-password", data={"email": "nobody@example.nhs.uk"})
    runner.invoke(args=["lms", "seed-demo"])
    client.post("/forgot-password", data={"email": "learner@example.nhs.uk"})
    result = runner.invoke(args=["lms", "deliver-outbox"])
    assert result.output.strip() == "1 sent, 0 to retry, 0 failed"


def test_scheduler_job_delivers_the_outbox(app, client, make_user):
    from apscheduler.schedulers.background import BackgroundScheduler

    from lms.jobs import configure
    from lms.notifications.services import sent_messages

    make_user(email="sched@example.nhs.uk")
    client.post("/forgot-password", data={"email": "sched@example.nhs.uk"})
    scheduler = configure(BackgroundScheduler(), app)
    jobs = {job.id: job for job in scheduler.get_jobs()}
    assert {"deliver_outbox_job", "lapse_offers_job", "release_quotas_job",
            "send_reminders_job"} <= set(jobs)
    jobs["deliver_outbox_job"].func()  # what the scheduler runs, in its own app context
    with app.app_context():
        assert [m["To"] for m in sent_messages()] == ["sched@example.nhs.uk"]
