"""Bulk issue: in the background, with progress, in worker processes, from the CLI; and it
survives being interrupted (simulated, and by killing a real process) without issuing or
emailing anything twice."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from jinja2 import ChoiceLoader, DictLoader, FileSystemLoader
from sqlalchemy import func, select

from lms.accounts.models import Role
from lms.attendance.models import Completion
from lms.certificates import bulk, pdfs, rendering, revocation, services
from lms.certificates.models import Certificate, CertificateBatch, CertificatePdf
from lms.clock import utcnow
from lms.errors import DomainError, NotAllowed
from lms.extensions import db
from lms.notifications.models import OutboxMessage
from lms.offerings.models import Enrolment
from tests.test_certificates_support import completion_of, finished_cohort

ROOT = Path(__file__).resolve().parents[1]


def assert_each_completion_has_exactly_one_certificate(offering_id: int) -> None:
    """Every completion: one live certificate, one stored PDF, one email about it."""
    completions = db.session.scalars(
        select(Completion).join(Enrolment, Completion.enrolment_id == Enrolment.id)
        .where(Enrolment.offering_id == offering_id)).all()
    for completion in completions:
        certificates = db.session.scalars(select(Certificate).where(
            Certificate.completion_id == completion.id)).all()
        assert len(certificates) == 1, completion.id
        certificate = certificates[0]
        assert certificate.is_live
        assert db.session.get(CertificatePdf, certificate.id) is not None
        emails = db.session.scalar(select(func.count(OutboxMessage.id)).where(
            OutboxMessage.to_address == certificate.user.email,
            OutboxMessage.subject == f"Your certificate: {certificate.title}"))
        assert emails == 1, certificate.user.email


def test_start_joins_the_batch_in_play_and_needs_someone_completed(ctx, make_user):
    faculty = make_user(Role.FACULTY, org="SU")
    cohort, enrolments = finished_cohort(3, complete=2)
    batch = bulk.start_batch(faculty, cohort)
    assert (batch.status, batch.total, batch.done) == ("pending", 2, 0)
    assert bulk.start_batch(faculty, cohort).id == batch.id
    with pytest.raises(NotAllowed):
        bulk.start_batch(enrolments[0].user, cohort)
    nobody, _ = finished_cohort(2, complete=0)
    with pytest.raises(DomainError, match="No one has completed"):
        bulk.start_batch(faculty, nobody)


def test_a_batch_issues_renders_and_emails_what_is_missing(ctx):
    cohort, enrolments = finished_cohort(5)
    already = services.issue_certificate(completion_of(enrolments[0]))
    seen: list[tuple[str, int, int]] = []
    batch = bulk.start_batch(None, cohort)
    batch = bulk.run_batch(batch.id, workers=1, chunk=2,
                           on_progress=lambda b: seen.append((b.status, b.done, b.total)))
    assert (batch.status, batch.total, batch.done, batch.issued) == ("done", 5, 5, 4)
    assert seen[0] == ("running", 0, 5) and seen[-1] == ("done", 5, 5)
    assert [d for _, d, _ in seen] == sorted(d for _, d, _ in seen)  # only ever forwards
    assert services.live_certificate(already.completion_id).id == already.id
    assert_each_completion_has_exactly_one_certificate(cohort.id)
    assert bulk.progress_of(batch)["finished"] is True


def test_an_interrupted_batch_is_finished_by_the_next_run_and_nothing_twice(ctx):
    cohort, _ = finished_cohort(9)

    def interrupt(chunks: int) -> None:
        if chunks == 2:
            raise RuntimeError("power cut")

    first = bulk.start_batch(None, cohort)
    with pytest.raises(RuntimeError, match="power cut"):
        bulk.run_batch(first.id, workers=1, chunk=2, after_chunk=interrupt)
    db.session.expire_all()
    assert db.session.get(CertificateBatch, first.id).status == "failed"
    assert db.session.scalar(select(func.count(Certificate.id))) == 4
    second = bulk.start_batch(None, cohort)
    assert second.id != first.id and second.done < 9
    second = bulk.run_batch(second.id, workers=1, chunk=2)
    assert (second.status, second.done, second.issued) == ("done", 9, 5)
    assert_each_completion_has_exactly_one_certificate(cohort.id)


def test_a_run_left_by_a_dead_process_is_taken_over_but_a_live_one_is_not(ctx):
    cohort, _ = finished_cohort(2)
    batch = bulk.start_batch(None, cohort)
    host = bulk.socket.gethostname()
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    batch.status, batch.claimed_by = "running", f"{host}:{os.getppid()}"  # alive: pytest's parent
    batch.claimed_until = utcnow() + bulk.LEASE
    db.session.commit()
    with pytest.raises(bulk.BatchBusy):
        bulk.run_batch(batch.id, workers=1)
    batch = db.session.get(CertificateBatch, batch.id)
    batch.claimed_by = f"{host}:{dead.pid}"
    db.session.commit()
    assert bulk.run_batch(batch.id, workers=1).status == "done"
    assert_each_completion_has_exactly_one_certificate(cohort.id)


def test_a_template_failure_stops_the_batch_naming_template_and_person(ctx):
    cohort, _ = finished_cohort(names=["Ada First", "Bo Second"])
    batch = bulk.start_batch(None, cohort)
    loader = ChoiceLoader([DictLoader({"course.html": "{{ c.oops.x }}"}),
                           FileSystemLoader(rendering.TEMPLATE_DIR)])
    with rendering.using(loader):
        batch = bulk.run_batch(batch.id, workers=1)
    assert batch.status == "failed"
    assert "course.html" in batch.error and "Ada First" in batch.error
    assert db.session.scalar(select(func.count(Certificate.id))) == 0
    assert "Start again" in bulk.progress_of(batch)["message"]


def test_bulk_rendering_uses_two_worker_processes(ctx, tmp_path):
    from tests.test_certificates_support import pdf_text

    cohort, enrolments = finished_cohort(14)
    batch = bulk.run_batch(bulk.start_batch(None, cohort).id, workers=2, chunk=5)
    assert (batch.status, batch.done) == ("done", 14)
    # Both workers rendered (each waits for the other to be warm before taking work), and
    # this process rendered none.
    assert len(batch.rendered_by) == 2 and os.getpid() not in batch.rendered_by
    assert sum(batch.rendered_by.values()) == 14 and min(batch.rendered_by.values()) >= 1
    assert_each_completion_has_exactly_one_certificate(cohort.id)
    sample = services.live_certificate(completion_of(enrolments[7]).id)
    text = pdf_text(pdfs.stored_pdf(sample.id), tmp_path)
    assert sample.holder_name in text and sample.serial in text


def test_the_scheduler_job_runs_waiting_batches(ctx):
    cohort, _ = finished_cohort(2)
    bulk.start_batch(None, cohort)
    db.session.commit()
    assert bulk.run_due_batches() == 1
    assert bulk.run_due_batches() == 0
    assert_each_completion_has_exactly_one_certificate(cohort.id)


# ---------------------------------------------------------------------------- CLI


def _committed_cohort(app, people: int, names=None) -> int:
    with app.app_context():
        cohort, _ = finished_cohort(people, names=names)
        db.session.commit()
        return cohort.id


def test_cli_issues_an_offering_and_a_rerun_issues_nothing_more(app, runner):
    offering_id = _committed_cohort(app, 3)
    result = runner.invoke(args=["lms", "certificates", "issue", "--offering", str(offering_id),
                                 "--workers", "1"])
    assert result.exit_code == 0, result.output
    assert "Done: 3 of 3 certificates ready, 3 newly issued and emailed." in result.output
    again = runner.invoke(args=["lms", "certificates", "issue", "--offering", str(offering_id)])
    assert "Done: 3 of 3 certificates ready, 0 newly issued" in again.output
    with app.app_context():
        assert_each_completion_has_exactly_one_certificate(offering_id)
    missing = runner.invoke(args=["lms", "certificates", "issue", "--offering", "999999"])
    assert missing.exit_code == 1 and "No such" in missing.output


# The CLI runs in another process, on the wall clock: the leases it writes and the ones this
# process reads must be on the same clock.
@pytest.mark.real_clock
def test_killing_the_cli_mid_run_then_rerunning_issues_every_certificate_once(app, runner):
    """A real interruption: SIGKILL the CLI (and its worker processes) part-way through,
    then run it again."""
    offering_id = _committed_cohort(app, 40)
    env = {**os.environ, "LMS_CONFIG": "testing",
           "LMS_DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
           "LMS_CERTIFICATE_CHUNK": "2", "LMS_CERTIFICATE_WORKERS": "2"}
    flask = str(Path(sys.executable).with_name("flask"))
    process = subprocess.Popen([flask, "--app", "lms", "lms", "certificates", "issue",
                                "--offering", str(offering_id)], cwd=ROOT, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        with app.app_context():
            while time.monotonic() < deadline:
                rendered = db.session.scalar(select(func.count(CertificatePdf.certificate_id)))
                db.session.rollback()
                if rendered >= 4 or process.poll() is not None:
                    break
                time.sleep(0.02)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        output = process.communicate(timeout=30)[0].decode()
    with app.app_context():
        batch = db.session.scalar(select(CertificateBatch))
        issued = db.session.scalar(select(func.count(Certificate.id)))
        rendered = db.session.scalar(select(func.count(CertificatePdf.certificate_id)))
        assert batch.status == "running", output  # killed, not finished
        assert 0 < rendered < 40 and issued <= 40
    result = runner.invoke(args=["lms", "certificates", "issue", "--offering", str(offering_id),
                                 "--workers", "2"])
    assert result.exit_code == 0, result.output
    assert "Done: 40 of 40 certificates ready" in result.output
    with app.app_context():
        assert_each_completion_has_exactly_one_certificate(offering_id)
        assert db.session.scalar(select(func.count(Certificate.id))) == 40
        assert db.session.scalar(select(func.count(CertificateBatch.id))) == 1


# ---------------------------------------------------------------------------- PostgreSQL


@pytest.mark.postgres
def test_issue_revoke_and_bulk_on_postgresql(pg_app):
    """The dialect-specific parts (serial upsert, partial unique index, ON CONFLICT when
    storing PDFs) on what production runs."""
    from sqlalchemy.exc import IntegrityError

    from lms.certificates.models import SerialCounter

    with pg_app.test_request_context():
        assert db.engine.dialect.name == "postgresql"
        cohort, enrolments = finished_cohort(6)
        first = services.issue_certificate(completion_of(enrolments[0]))
        twin = Certificate(completion_id=first.completion_id, user_id=first.user_id,
                           offering_id=first.offering_id, serial="MDSN-2000-000001",
                           code="y" * 22, template="course", holder_name="x", achievement="x",
                           title="x", achieved_on=first.achieved_on)
        with pytest.raises(IntegrityError), db.session.begin_nested():
            db.session.add(twin)
            db.session.flush()
        db.session.commit()
        batch = bulk.run_batch(bulk.start_batch(None, cohort).id, workers=1, chunk=2)
        assert (batch.status, batch.done, batch.issued) == ("done", 6, 5)
        assert_each_completion_has_exactly_one_certificate(cohort.id)
        pdfs.store_pdfs([(first.id, b"%PDF-other")])  # already stored: left alone
        assert pdfs.stored_pdf(first.id).startswith(b"%PDF-1")
        numbers = sorted(int(c.serial[-6:]) for c in db.session.scalars(select(Certificate)))
        assert numbers == list(range(1, 7))
        assert db.session.scalar(select(SerialCounter.last)) == 6
        new = revocation.reissue(_faculty(), first, "Name corrected")
        db.session.commit()
        assert services.live_certificate(first.completion_id).id == new.id


def _faculty():
    from lms.accounts.models import Organisation, User, UserRole

    org = db.session.scalar(select(Organisation).where(Organisation.code == "SU"))
    user = User(email="pg-faculty@example.nhs.uk", full_name="Pat Faculty", organisation=org)
    user.role_rows.extend([UserRole(role=Role.LEARNER), UserRole(role=Role.FACULTY)])
    db.session.add(user)
    db.session.flush()
    return user
