"""Bulk issue: every certificate of an offering, in the background, with progress.

Faculty (or the CLI) start a ``CertificateBatch``; the scheduler's job (or the CLI itself)
runs it. A run issues the missing certificates in small transactions (each with its email)
and hands the PDFs to a pool of worker processes, storing them as they come back. Every step
is idempotent: issuing skips completions that have a live certificate (and the unique index
refuses a second one), storing skips PDFs already stored. So a run that dies part-way, killed
or crashed, is finished by the next one, and nothing is issued or emailed twice.

The pool uses the ``spawn`` start method: workers import only ``lms.certificates.rendering``,
never the app or a database connection, and keep their fonts, parsed stylesheet and cache for
the whole run.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import socket
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from lms.accounts.models import User
from lms.certificates import pdfs, rendering, services
from lms.certificates.models import BatchStatus, Certificate, CertificateBatch
from lms.clock import utcnow
from lms.errors import ALLOWED, Decision, DomainError, NotAllowed, NotFound
from lms.extensions import db
from lms.offerings.models import Offering
from lms.offerings.policy import can_manage

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=2)
CHUNK_TIMEOUT = 600  # seconds for one chunk's PDFs to come back from the pool
ACTIVE = (BatchStatus.PENDING, BatchStatus.RUNNING)


class BatchBusy(DomainError):
    """Another live process is running this batch."""


class _Stop(Exception):
    """Stop the run and record why (the failure names the template and the person)."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def _me() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _is_dead(claimed_by: str) -> bool:
    """True when ``claimed_by`` is a process on this host that no longer exists."""
    host, _, pid = claimed_by.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


# ---------------------------------------------------------------------------- starting


def get_batch(batch_id: int) -> CertificateBatch:
    batch = db.session.get(CertificateBatch, batch_id)
    if batch is None:
        raise NotFound("No such bulk issue")
    return batch


def active_batch(offering_id: int) -> CertificateBatch | None:
    return db.session.scalar(select(CertificateBatch).where(
        CertificateBatch.offering_id == offering_id, CertificateBatch.status.in_(ACTIVE)))


def latest_batch(offering_id: int) -> CertificateBatch | None:
    return db.session.scalar(
        select(CertificateBatch).where(CertificateBatch.offering_id == offering_id)
        .order_by(CertificateBatch.id.desc()).limit(1))


def may_start_batch(offering: Offering) -> Decision:
    """Whether a bulk issue of ``offering``'s certificates has anything to do: asked by the
    certificates page (the button, or why not) and enforced by ``start_batch``."""
    if services.count_eligible(offering.id) == 0:
        return Decision(False, f"No one has completed {offering.title} yet, so there are no "
                               "certificates to issue")
    return ALLOWED


def start_batch(actor: User | None, offering: Offering) -> CertificateBatch:
    """Ask for every certificate of an offering. Joins the batch already in play, if any.
    ``actor`` None is the CLI (an operator on the server)."""
    if actor is not None and not can_manage(actor, offering):
        raise NotAllowed("Only faculty can issue certificates")
    services.write_lock()
    existing = active_batch(offering.id)
    if existing is not None:
        return existing
    may_start_batch(offering).enforce()
    total = services.count_eligible(offering.id)
    batch = CertificateBatch(offering_id=offering.id, requested_by_id=actor.id if actor else None,
                             status=BatchStatus.PENDING, total=total,
                             done=services.count_rendered(offering.id))
    try:
        with db.session.begin_nested():
            db.session.add(batch)
            db.session.flush()
    except IntegrityError:  # someone started one at the same moment: join theirs
        existing = active_batch(offering.id)
        if existing is None:
            raise
        return existing
    return batch


def progress_of(batch: CertificateBatch) -> dict:
    """What the progress bar shows (also the JSON the page polls)."""
    if batch.status == BatchStatus.DONE:
        message = (f"Finished: {batch.done} of {batch.total} certificates ready"
                   f"{f', {batch.issued} newly issued and emailed' if batch.issued else ''}.")
    elif batch.status == BatchStatus.FAILED:
        message = f"Stopped: {batch.error} Start again to finish the rest."
    elif batch.status == BatchStatus.PENDING:
        message = "Waiting to start."
    else:
        message = f"{batch.done} of {batch.total} certificates ready"
        message += f" ({batch.issued} newly issued)." if batch.issued else "."
    return {"id": batch.id, "status": batch.status, "total": batch.total, "done": batch.done,
            "issued": batch.issued, "percent": batch.percent, "message": message,
            "finished": not batch.is_active}


# ---------------------------------------------------------------------------- claiming


def _claim(batch_id: int, take_over_from_dead: bool = True) -> bool:
    """Take the batch unless a live process holds it. Commits."""
    services.write_lock()
    batch = db.session.get(CertificateBatch, batch_id, populate_existing=True)
    if batch is None or batch.status not in ACTIVE:
        db.session.rollback()
        return False
    now = utcnow()
    free = (not batch.claimed_by or batch.claimed_until is None or batch.claimed_until < now
            or (take_over_from_dead and _is_dead(batch.claimed_by)))
    if not free:
        db.session.rollback()
        return False
    claimed = db.session.execute(
        update(CertificateBatch)
        .where(CertificateBatch.id == batch_id, CertificateBatch.claimed_by == batch.claimed_by,
               CertificateBatch.status.in_(ACTIVE))
        .values(claimed_by=_me(), claimed_until=now + LEASE, status=BatchStatus.RUNNING,
                started_at=batch.started_at or now, error="")
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()
    return claimed == 1


def _checkpoint(batch: CertificateBatch, **values) -> None:
    """Record progress, renew the lease, commit."""
    for name, value in values.items():
        setattr(batch, name, value)
    batch.claimed_until = utcnow() + LEASE
    db.session.commit()


# ---------------------------------------------------------------------------- rendering


class _Rendered:
    """Results already in hand, shaped like a pool's ``AsyncResult``."""

    def __init__(self, results: list):
        self.results = results

    def ready(self) -> bool:
        return True

    def get(self, timeout: float | None = None) -> list:
        return self.results


@contextmanager
def _renderers(workers: int, jobs: int) -> Iterator[Callable]:
    """``submit(contexts)`` → something with ``ready()`` and ``get()`` (a list of (id, pdf,
    error)), rendering in the background: a pool of ``workers`` processes when there is
    enough to do; in this process otherwise (starting processes costs more than rendering a
    few certificates)."""
    threshold = int(current_app.config.get("CERTIFICATE_POOL_THRESHOLD", 12))
    if workers < 2 or jobs < threshold:
        yield lambda contexts: _Rendered([rendering.render_job(c) for c in contexts])
        return
    spawn = multiprocessing.get_context("spawn")
    pool = spawn.Pool(workers, initializer=rendering.warm_up, initargs=(spawn.Barrier(workers),))
    try:
        yield lambda contexts: pool.map_async(rendering.render_job, contexts, chunksize=2)
        pool.close()
    finally:
        pool.terminate()
        pool.join()


def run_batch(batch_id: int, *, workers: int | None = None, chunk: int | None = None,
              on_progress: Callable[[CertificateBatch], None] | None = None,
              after_chunk: Callable[[int], None] | None = None) -> CertificateBatch:
    """Run (or finish) a bulk issue. Raises ``BatchBusy`` if a live process has it.

    Issues the missing certificates ``chunk`` at a time (one transaction each, emails in
    it) and renders each chunk's PDFs in the pool while the next chunk is issued, storing
    PDFs and progress as they come back. ``after_chunk(n)`` lets tests interrupt a run.
    Commits as it goes.
    """
    config = current_app.config
    workers = int(workers if workers is not None else config.get("CERTIFICATE_WORKERS", 2))
    chunk = max(1, int(chunk if chunk is not None else config.get("CERTIFICATE_CHUNK", 25)))
    if not _claim(batch_id):
        batch = get_batch(batch_id)
        if not batch.is_active:
            return batch
        raise BatchBusy(f"This bulk issue is being run by {batch.claimed_by}; try again later")
    batch = get_batch(batch_id)
    offering_id = batch.offering_id
    to_issue = services.missing_completion_ids(offering_id)
    to_render = services.unrendered_ids(offering_id)
    _checkpoint(batch, total=services.count_eligible(offering_id),
                done=services.count_rendered(offering_id))
    if on_progress:
        on_progress(batch)
    rendered_by: dict[int, int] = {}  # PDFs per rendering process
    try:
        with _renderers(workers, len(to_issue) + len(to_render)) as submit:
            pending: deque = deque()

            def send(certificates: list[Certificate]) -> None:
                if certificates:
                    pending.append(submit([rendering.certificate_context(c)
                                           for c in certificates]))

            def collect(block: bool) -> None:
                """Store what has come back; wait for all of it when ``block``."""
                while pending and (block or pending[0].ready()):
                    # A worker that dies takes its task with it; do not wait for ever.
                    results = pending.popleft().get(timeout=CHUNK_TIMEOUT)
                    for _, pdf, error, pid in results:
                        if pdf is None:
                            raise _Stop(error)
                        rendered_by[pid] = rendered_by.get(pid, 0) + 1
                    pdfs.store_pdfs([(i, pdf) for i, pdf, _, _ in results])
                    _checkpoint(batch, done=services.count_rendered(offering_id))
                    if on_progress:
                        on_progress(batch)

            for start in range(0, len(to_render), chunk):
                send(list(db.session.scalars(select(Certificate).where(
                    Certificate.id.in_(to_render[start:start + chunk])))))
            for number, start in enumerate(range(0, len(to_issue), chunk), 1):
                new = _issue_chunk(batch, to_issue[start:start + chunk])
                send(new)  # before the commit expires them
                _checkpoint(batch, issued=batch.issued + len(new))
                collect(block=False)
                if after_chunk:
                    after_chunk(number)
            collect(block=True)
    except _Stop as stop:
        db.session.rollback()
        batch = get_batch(batch_id)
        _finish(batch, BatchStatus.FAILED, stop.message)
        return batch
    except Exception:
        # A bug or a lost database: say so on the page, and let a new start finish the rest.
        db.session.rollback()
        _finish(get_batch(batch_id), BatchStatus.FAILED,
                "Something went wrong while issuing; the details are in the server's log.")
        raise
    _finish(batch, BatchStatus.DONE)
    log.info("certificate batch %s: PDFs rendered by process %s", batch.id,
             ", ".join(f"{pid}: {n}" for pid, n in sorted(rendered_by.items())) or "(none)")
    batch.rendered_by = rendered_by  # not a column: for the caller (CLI, benchmark, tests)
    if on_progress:
        on_progress(batch)
    return batch


def _issue_chunk(batch: CertificateBatch, completion_ids: list[int]) -> list[Certificate]:
    """Issue the certificates of these completions (with their emails) in this transaction;
    the new ones. A template failure stops the run with nothing of this chunk issued."""
    requested_by = db.session.get(User, batch.requested_by_id) if batch.requested_by_id else None
    try:
        return services.issue_many(completion_ids, requested_by)
    except DomainError as error:
        db.session.rollback()
        raise _Stop(error.message) from error


def _finish(batch: CertificateBatch, status: str, error: str = "") -> None:
    batch.status = status
    batch.error = error[:2000]
    batch.finished_at = utcnow()
    batch.claimed_by = ""
    batch.claimed_until = None
    if status == BatchStatus.DONE:
        batch.total = services.count_eligible(batch.offering_id)
        batch.done = services.count_rendered(batch.offering_id)
    db.session.commit()
    log.info("certificate batch %s for offering %s: %s (%s of %s)%s", batch.id,
             batch.offering_id, status, batch.done, batch.total, f": {error}" if error else "")


def run_due_batches() -> int:
    """The scheduler's job: run every batch waiting or left behind by a dead run."""
    ids = list(db.session.scalars(select(CertificateBatch.id).where(
        CertificateBatch.status.in_(ACTIVE)).order_by(CertificateBatch.id)))
    db.session.rollback()
    ran = 0
    for batch_id in ids:
        try:
            run_batch(batch_id)
        except BatchBusy:
            db.session.rollback()
            continue
        ran += 1
    return ran
