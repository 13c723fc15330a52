"""The outbox sender: a scheduler job (``lms.jobs.deliver_outbox_job``, ``flask lms
deliver-outbox``), not a service, so it owns its transactions.

Sending an email cannot be part of a database transaction, so each row goes through three
steps with a commit between them: *claim* it with a conditional UPDATE (so two senders never
both take it), *send* it with no transaction open while the mail server talks, and *record*
the outcome (sent; or pending again after a backoff; or failed after the last attempt).
Services only queue rows (``lms.notifications.services.queue_email``), in the transaction of
the change that causes them.

The promise is *at least once, with a stable Message-ID*. A claim is a short lease
(``OUTBOX_LEASE_SECONDS``, a minute), renewed every third of it while the mail server is
still talking, so a sender killed mid-send leaves a row that another sender takes within a
minute. If the kill came after the server accepted the message and before the outcome was
recorded, the message goes twice; the repeat carries the row's own Message-ID (stored with
the row, so the same on every attempt), and mail programs show the two as one. A sender asked
to stop (``stopping``: the scheduler's SIGTERM) finishes the message it is sending, records
it, and claims no more.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from sqlalchemy import or_, select, update

from lms.clock import utcnow
from lms.extensions import begin_write, db, empty_sqlite_log
from lms.notifications.backends import get_backend
from lms.notifications.models import OutboxMessage, OutboxStatus
from lms.notifications.services import build_message, strip_sent

log = logging.getLogger(__name__)

# Where the scheduler keeps its "stop after this message" event (``app.extensions``).
STOPPING = "lms_stopping"


def _lease() -> timedelta:
    return timedelta(seconds=current_app.config["OUTBOX_LEASE_SECONDS"])


def stopping(app) -> threading.Event:
    """The event that asks this app's senders to stop after the message they are sending."""
    return app.extensions.setdefault(STOPPING, threading.Event())


@dataclass
class DeliveryReport:
    sent: int = 0
    retried: int = 0
    failed: int = 0


def _backoff(attempts: int) -> timedelta:
    """1, 2, 4 ... minutes between tries, at most an hour."""
    return timedelta(minutes=min(2 ** (attempts - 1), 60))


def _claim(row_id: int) -> OutboxMessage | None:
    """Take a row for sending unless another process has it, counting the attempt.
    Commits, and returns the row (loaded) or ``None``."""
    now = utcnow()
    begin_write()
    claimed = db.session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.id == row_id,
            or_(
                OutboxMessage.status == OutboxStatus.PENDING,
                (OutboxMessage.status == OutboxStatus.SENDING)
                & (OutboxMessage.claimed_until < now),
            ),
        )
        .values(status=OutboxStatus.SENDING, claimed_until=now + _lease(),
                attempts=OutboxMessage.attempts + 1)
        .execution_options(synchronize_session=False)
    ).rowcount
    row = db.session.get(OutboxMessage, row_id, populate_existing=True) if claimed == 1 else None
    db.session.commit()
    return row


@contextmanager
def _lease_kept(row_id: int) -> Iterator[None]:
    """Renew the claim on ``row_id`` every third of the lease while the block runs (a slow
    mail server), on a connection of its own, so no other sender takes a row still being
    sent, while a sender that dies lets its row go within one lease."""
    app, lease = current_app._get_current_object(), _lease()
    done = threading.Event()

    def renew() -> None:
        table = OutboxMessage.__table__
        while not done.wait(lease.total_seconds() / 3):
            try:
                with app.app_context(), db.engine.begin() as connection:
                    connection.execute(
                        update(table).where(table.c.id == row_id,
                                            table.c.status == OutboxStatus.SENDING)
                        .values(claimed_until=utcnow() + lease))
            except Exception:  # noqa: BLE001 - the send goes on; the lease may then lapse
                log.warning("could not renew the claim on outbox row %s", row_id,
                            exc_info=True)

    keeper = threading.Thread(target=renew, name=f"outbox-lease-{row_id}", daemon=True)
    keeper.start()
    try:
        yield
    finally:
        done.set()
        keeper.join()


def _record(row_id: int, **values) -> None:
    """Write a row's outcome in a transaction of its own."""
    begin_write()
    db.session.execute(
        update(OutboxMessage).where(OutboxMessage.id == row_id).values(**values)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()


def _finish(row_id: int, backend, **values) -> None:
    """Record that a row has left (or failed for good) and, in the same transaction, take
    out of it what must not be kept once sent (see ``OutboxMessage.secrets_to_remove``)."""
    begin_write()
    db.session.execute(
        update(OutboxMessage).where(OutboxMessage.id == row_id).values(**values)
        .execution_options(synchronize_session=False)
    )
    row = db.session.get(OutboxMessage, row_id, populate_existing=True)
    removed = row is not None and bool(row.secrets_to_remove)
    if removed and strip_sent(row):
        forget = getattr(backend, "forget", None)
        if forget is not None:
            forget(row_id)
    db.session.commit()
    if removed:
        empty_sqlite_log(db.engine)


def deliver_outbox(limit: int | None = None) -> DeliveryReport:
    """Send the due rows. Safe to run in several processes at once: each row is claimed by a
    conditional UPDATE before it is sent (its lease renewed while it is), and marked sent as
    soon as the backend accepts it. No transaction is open while a backend talks to a mail
    server. Stops early, between messages, when ``stopping`` is set.

    Commits (this is the job's transaction control, not a service's): each row's claim
    and each row's outcome is recorded on its own.
    """
    limit = limit or current_app.config["OUTBOX_BATCH"]
    max_attempts = current_app.config["OUTBOX_MAX_ATTEMPTS"]
    stop = stopping(current_app)
    backend = get_backend()
    report = DeliveryReport()
    now = utcnow()
    due_ids = db.session.scalars(
        select(OutboxMessage.id)
        .where(
            or_(
                (OutboxMessage.status == OutboxStatus.PENDING)
                & (OutboxMessage.next_attempt_at <= now),
                (OutboxMessage.status == OutboxStatus.SENDING)
                & (OutboxMessage.claimed_until < now),
            )
        )
        .order_by(OutboxMessage.id)
        .limit(limit)
    ).all()
    db.session.rollback()
    for row_id in due_ids:
        if stop.is_set():
            log.info("outbox: stopping; the other due rows wait for the next run")
            break
        row = _claim(row_id)
        if row is None:
            continue
        attempts, message = row.attempts, build_message(row)
        try:
            with _lease_kept(row_id):
                backend.send(message, row_id)
        except Exception as exc:  # noqa: BLE001 - any failure of a backend is retried
            log.warning("outbox row %s failed (attempt %s): %s", row_id, attempts, exc)
            error = f"{type(exc).__name__}: {exc}"[:2000]
            if attempts >= max_attempts:
                _finish(row_id, backend, status=OutboxStatus.FAILED, claimed_until=None,
                        last_error=error)
                report.failed += 1
            else:
                _record(row_id, status=OutboxStatus.PENDING, claimed_until=None,
                        last_error=error, next_attempt_at=utcnow() + _backoff(attempts))
                report.retried += 1
        else:
            _finish(row_id, backend, status=OutboxStatus.SENT, sent_at=utcnow(),
                    claimed_until=None, last_error=None)
            report.sent += 1
    return report
