"""The audit log reads as sentences, from the entries real changes write."""

from __future__ import annotations

from datetime import timedelta

from flask_login import login_user
from sqlalchemy import select

from lms.accounts.models import Role
from lms.audit import sentences
from lms.audit.models import AuditEntry
from lms.audit.services import acting_as, record
from lms.clock import date_text, utcnow, when_text
from lms.extensions import db
from lms.offerings.models import Enrolment, Session
from tests.conftest import organisation


def _said(app, since: int = 0) -> list[str]:
    with app.app_context():
        found = db.session.scalars(select(AuditEntry).where(AuditEntry.id > since)
                                   .order_by(AuditEntry.id)).all()
        return [line.sentence for line in sentences.describe(found)]


def _last_id(app) -> int:
    with app.app_context():
        return db.session.scalar(select(AuditEntry.id).order_by(AuditEntry.id.desc())
                                 .limit(1)) or 0


def test_an_admin_moving_a_person_and_giving_a_role_reads_as_one_sentence(
        app, client, login, people):
    login(people.admin)
    with app.app_context():
        derby = organisation("DDER")
        to_id, to_name = derby.id, derby.name
    client.post(f"/admin/users/{people.learner.id}",
                data={"roles": ["faculty"], "organisation_id": to_id})
    said = _said(app)
    assert f"Ada Admin moved Lena Learner to {to_name} and gave Lena Learner the faculty " \
           "role" in said
    assert "Ada Admin gave Lena Learner the faculty role" in said


def test_places_sessions_and_offerings_read_as_what_faculty_did(app, make_user, make_cohort):
    faculty = make_user(Role.FACULTY, name="Fiona Faculty")
    ben = make_user(name="Ben Green")
    cohort = make_cohort(capacity=5)
    since = _last_id(app)
    with app.test_request_context():
        login_user(db.session.get(type(faculty), faculty.id))
        offering = db.session.get(type(cohort), cohort.id)
        db.session.add(Enrolment(offering_id=offering.id, user_id=ben.id, state="enrolled"))
        session = db.session.scalars(select(Session).where(
            Session.offering_id == offering.id)).first()
        was = session.starts_at
        session.starts_at = was + timedelta(days=1)
        session.ends_at = session.ends_at + timedelta(days=1)
        db.session.flush()
        session.status = "cancelled"
        offering.capacity = 8
        db.session.commit()
        title = offering.title
    said = _said(app, since)
    assert f"Fiona Faculty gave Ben Green a place on “{title}”" in said
    assert (f"Fiona Faculty moved the session of “{title}” on {when_text(was)} to "
            f"{when_text(was + timedelta(days=1))}") in said
    assert any(s.startswith(f"Fiona Faculty cancelled the session of “{title}” on ")
               for s in said)
    assert f"Fiona Faculty changed the capacity of the cohort “{title}”" in said


def test_restores_and_unknown_kinds_still_read_as_sentences(app):
    since = _last_id(app)
    with app.app_context(), acting_as("Command line (flask lms restore)"):
        record("restored", "Database")
        record("updated", "Mystery", "7", before={"colour": "red"}, after={"colour": "blue"})
        db.session.commit()
    assert _said(app, since) == [
        "Command line (flask lms restore) restored the database from a backup",
        "Command line (flask lms restore) changed mystery 7: colour",
    ]


def test_details_show_values_written_for_people(app):
    moment = utcnow()
    assert sentences.value_text(moment.isoformat()) == when_text(moment)
    assert sentences.value_text(moment.date().isoformat()) == date_text(moment.date())
    assert sentences.value_text("09:30:00") == "9:30am"
    assert sentences.value_text(["faculty", "learner"]) == "faculty, learner"
    assert sentences.value_text(None) == "(empty)" and sentences.value_text(True) == "Yes"
