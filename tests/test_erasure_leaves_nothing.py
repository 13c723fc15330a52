"""Erasure, attacked with the database file and the instance folder in hand: after an admin
erases a person with a rich history (audit entries with reasons and a former name, emails
sent and pending, development ``.eml`` copies, feedback, attendance, a certificate, a place
whose calendar cancellation must still leave), a byte search of the SQLite file, its log
and every stored file finds nothing of their name, address or what was written about them.
Only counts stay: their attendance, answers and the audit entries' actions and times.
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from flask_login import login_user
from sqlalchemy import func, select

from lms import create_app
from lms.accounts.models import User
from lms.accounts.services import ensure_organisations
from lms.attendance.models import Attendance
from lms.audit.models import AuditEntry
from lms.clock import utcnow
from lms.extensions import db
from lms.learning.questions_models import RegistrationAnswer, RegistrationQuestion
from lms.notifications.delivery import deliver_outbox
from lms.notifications.models import OutboxAttachment, OutboxMessage
from lms.notifications.services import queue_email
from lms.offerings.models import Enrolment
from lms.privacy import leftovers
from lms.privacy import services as privacy
from tests.test_privacy import build_history

REASON = "Told us she is on maternity leave"
FORMER_NAME = "Lena Learner"
NAME = "Lena Learner-Hughes"
ADDRESS = "lena@example.nhs.uk"
# Everything written by or about her that must not be found anywhere afterwards.
SEARCHED = [NAME, FORMER_NAME, ADDRESS, REASON, "maternity", "Senior analyst",
            "Loved it (Named feedback)", "half-written thoughts", "Lena",
            # Project work, the reflective log and CPD (lms.learning): words and files.
            "quarterly forecast memo", "argued with my manager", "uploadedbytesoflena",
            "Evidence of Lena"]


@pytest.fixture
def own_app(tmp_path):
    """An app on a database file of its own, so the file holds nothing from other tests,
    delivering with the development backend (``.eml`` files)."""
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'lms.sqlite3'}",
                     MAIL_OUTBOX_DIR=str(tmp_path / "outbox"), MAIL_BACKEND="file",
                     UPLOAD_DIR=str(tmp_path / "uploads"))
    with app.app_context():
        db.create_all()
        ensure_organisations()
        db.session.commit()
    yield app, tmp_path
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def _as_admin(app, history, work):
    with app.test_request_context("/admin", method="POST"):
        admin = db.session.get(User, history.admin_id)
        login_user(admin)
        value = work(admin, db.session.get(User, history.learner_id))
        db.session.commit()
        return value


def _learning_history(faculty, lena, cohort_id) -> None:
    """Her submitted work (text and a file), marked; a shared reflection with a comment;
    CPD with an evidence file."""
    from lms.learning import assignments as work
    from lms.learning import reflection
    from lms.offerings.models import Offering
    from tests.learning_work_builders import activity, entry, pdf_upload, set_work

    cohort = db.session.get(Offering, cohort_id)
    task = set_work(faculty, cohort, "Forecast memo")
    mine = work.submit(lena, task, "My quarterly forecast memo",
                       [pdf_upload("memo.pdf", b"%PDF-uploadedbytesoflena")])
    work.mark(faculty, [mine], "not_yet_met", "Say more", (utcnow() + timedelta(days=9)).date())
    note = entry(lena, "Hard week", link=f"offering:{cohort_id}")
    note.what_happened = "I argued with my manager"
    reflection.share(lena, note)
    reflection.comment(faculty, note, "Thanks for sharing this")
    done = activity(lena)
    done.description = "Evidence of Lena at a conference"


def _stored_bytes(folder: Path) -> dict[str, bytes]:
    return {str(path): path.read_bytes().lower() for path in folder.rglob("*") if path.is_file()}


def _contains(content: bytes, term: str) -> bool:
    """``term`` as a whole word ("Lena", not the "lena" of "filename")."""
    return re.search(rb"\b" + re.escape(term.lower().encode()) + rb"\b", content) is not None


def test_after_erasure_no_table_or_file_holds_the_person(own_app):
    app, folder = own_app
    history = build_history(app)

    def rich_history(admin, lena):
        # An admin renames her (the audit entry has both names) and writes a reason about her.
        lena.full_name = NAME
        attendance = db.session.scalars(select(Attendance).where(
            Attendance.user_id == lena.id)).first()
        attendance.note = REASON
        # Her answer to a registration question, about her.
        place = db.session.scalars(select(Enrolment).where(
            Enrolment.user_id == lena.id)).first()
        question = RegistrationQuestion(offering_id=place.offering_id, kind="access",
                                        text="Any access needs?")
        db.session.add(question)
        db.session.flush()
        db.session.add(RegistrationAnswer(question_id=question.id, user_id=lena.id,
                                          answer="Back from maternity leave: a quiet room"))
        queue_email("fay@example.nhs.uk", f"About {NAME}", "accounts/password_changed",
                    user=lena)  # an email to someone else naming her
        db.session.flush()
        _learning_history(admin, lena, history.cohort_id)

    _as_admin(app, history, rich_history)
    with app.app_context():
        assert deliver_outbox().sent >= 3  # her booking emails leave: .eml copies exist
        queue_email(ADDRESS, "Still waiting", "accounts/password_changed",
                    user=db.session.get(User, history.learner_id))
        db.session.commit()
        about_her = db.session.scalars(select(AuditEntry).where(
            AuditEntry.subject_user_id == history.learner_id)).all()
        assert REASON in str([(e.before, e.after) for e in about_her])  # the attack's target
        assert FORMER_NAME in str([(e.before, e.after) for e in about_her])
    before = _stored_bytes(folder)
    assert any(ADDRESS.encode() in content for content in before.values())
    assert any(b"maternity" in content for content in before.values())
    assert any(b"uploadedbytesoflena" in content for path, content in before.items()
               if "uploads" in path)  # her file is in the store

    summary = _as_admin(app, history, privacy.erase_person)
    assert summary["places withdrawn"] == 1
    with app.app_context():
        cancellation = db.session.scalar(select(OutboxMessage).join(OutboxAttachment).where(
            OutboxAttachment.mimetype.like("%method=CANCEL%")))
        assert cancellation.to_address == ADDRESS  # still to leave
        cancellation_id = cancellation.id
        deliver_outbox()
        sent = db.session.get(OutboxMessage, cancellation_id)
        assert sent.status == "sent" and sent.to_address == "[removed]"
        assert sent.attachments == []
        # Counts stay: her attendance, and that things were done to her records, and when.
        assert db.session.scalar(select(func.count()).select_from(Attendance).where(
            Attendance.user_id == history.learner_id)) == 2
        kept = db.session.scalars(select(AuditEntry).where(
            AuditEntry.subject_user_id == history.learner_id)).all()
        assert {e.action for e in kept} >= {"updated", "erased"}
        assert all(e.at is not None for e in kept)

    found = {path: [term for term in SEARCHED if _contains(content, term)]
             for path, content in _stored_bytes(folder).items()}
    assert {path: terms for path, terms in found.items() if terms} == {}
    assert any(path.endswith("lms.sqlite3") for path in found)


def test_every_text_column_is_searched_not_a_list(own_app):
    """The same search through SQL, over every text column the schema has."""
    app, _folder = own_app
    history = build_history(app)
    _as_admin(app, history, privacy.erase_person)
    with app.app_context():
        deliver_outbox()
        hits = []
        for table in db.metadata.sorted_tables:
            for column in leftovers._text_columns(table):
                for term in ("Lena", ADDRESS, "Loved it (Named"):
                    n = db.session.scalar(select(func.count()).select_from(table).where(
                        func.lower(func.cast(column, db.Text)).contains(term.lower())))
                    if n:
                        hits.append((table.name, column.name, term, n))
        assert hits == []


@pytest.mark.postgres
def test_a_full_postgresql_dump_after_erasure_holds_nothing_of_them(pg_app, postgres_server):
    history = build_history(pg_app)
    _as_admin(pg_app, history, lambda admin, lena: setattr(
        db.session.scalars(select(Attendance).where(Attendance.user_id == lena.id)).first(),
        "note", REASON))
    _as_admin(pg_app, history, privacy.erase_person)
    with pg_app.app_context():
        deliver_outbox()
        name = db.engine.url.database
    dump = postgres_server._run("pg_dump", "-h", str(postgres_server.socket_dir),
                                "-p", str(postgres_server.port), "--data-only", name)
    assert dump.returncode == 0, dump.stderr
    assert "Erased person" in dump.stdout  # the dump has the data
    text = dump.stdout.lower().encode()
    assert [term for term in (*SEARCHED[2:], "Lena Learner") if _contains(text, term)] == []
