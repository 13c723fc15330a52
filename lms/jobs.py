"""The scheduler: one process (``flask lms scheduler``) runs every feature's periodic jobs.

Features never import the scheduler; this module imports their services. Services flush
and never commit: a job owns its transactions (here, or in the job modules named for what
they do, whose claim-then-work protocols need a commit between steps: the outbox sender,
session reminders, bulk certificates). Each job is idempotent through the database (rows
are claimed with conditional updates), so a second scheduler by mistake, or a restart
mid-run, sends nothing twice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from flask import Flask

from lms.clock import utcnow

if TYPE_CHECKING:
    from lms.notifications.delivery import DeliveryReport

log = logging.getLogger(__name__)


def _in_app(app: Flask, job):
    def run():
        from lms.extensions import db

        with app.app_context():
            started, error = utcnow(), None
            try:
                job()
            except Exception as exc:
                log.exception("job %s failed", job.__name__)
                error = f"{type(exc).__name__}: {exc}"
                _quietly(db.session.rollback)
            _note_run(job.__name__, started, error)
            _quietly(db.session.remove)

    run.__name__ = job.__name__
    return run


def _quietly(step: Callable[[], Any]) -> None:
    """Clean up after a job even when the database has gone away (the next run retries)."""
    try:
        step()
    except Exception:  # noqa: BLE001 - a dead connection is dropped by the pool
        log.warning("cleaning up after a job failed", exc_info=True)


def _note_run(job: str, started: datetime, error: str | None) -> None:
    """Record the run for ``/metrics`` (``lms_job_last_run_timestamp_seconds``), in a
    transaction of its own; a database that is down just misses one note."""
    from lms.extensions import begin_write, db
    from lms.observability.services import record_job_run

    try:
        # Read-then-write: on SQLite a job's read snapshot cannot become a write after another
        # job (a scheduler thread) has committed, so ask for the write lock first.
        begin_write()
        record_job_run(job, started, utcnow(), error)
        db.session.commit()
    except Exception:  # noqa: BLE001 - the job's own outcome is already logged
        log.warning("could not record the run of %s", job, exc_info=True)
        _quietly(db.session.rollback)


def _each_committed(ids: list[int], work: Callable[[int], Any]) -> list[Any]:
    """Run ``work(id)`` for each id in a transaction of its own, committed before the next:
    a lock (an offering's, say) is held only while its own work is done, and what is done
    stays done if a later one fails. Services flush; this is where a job commits."""
    from lms.extensions import db

    db.session.rollback()  # the read that found the ids ends before the first lock
    results = []
    for item in ids:
        results.append(work(item))
        db.session.commit()
    return results


def deliver_outbox_job() -> DeliveryReport:
    """Send due emails (the sender commits each row's claim and outcome itself: see
    ``lms.notifications.delivery``)."""
    from lms.notifications.delivery import deliver_outbox

    report = deliver_outbox()
    if report.sent or report.retried or report.failed:
        log.info("outbox: %s sent, %s to retry, %s failed", report.sent, report.retried,
                 report.failed)
    return report


def lapse_offers_job(now: datetime | None = None) -> int:
    """Offers of places not accepted in time go to the next person waiting: each offering
    under its lock, committed on its own."""
    from lms.offerings import lapses

    now = now or utcnow()
    lapsed = sum(_each_committed(lapses.offerings_with_lapsed_offers(now),
                                 lambda offering_id: lapses.lapse_offers(offering_id, now)))
    if lapsed:
        log.info("offers: %s lapsed", lapsed)
    return lapsed


def release_quotas_job(now: datetime | None = None) -> int:
    """Unused ICS quota places go to everyone after each cohort's release date: each
    offering under its lock, committed on its own."""
    from lms.offerings import lapses

    now = now or utcnow()
    released = sum(_each_committed(lapses.offerings_due_quota_release(now),
                                   lapses.release_quotas))
    if released:
        log.info("quotas: released on %s offerings", released)
    return released


def completion_job(now: datetime | None = None) -> int:
    """Completion fires (once) for offerings whose sessions have just been held, each
    offering committed on its own."""
    from lms.attendance import completion
    from lms.extensions import db
    from lms.offerings.models import Offering

    now = now or utcnow()
    fired = sum(_each_committed(completion.offerings_just_held(now), lambda offering_id: len(
        completion.refresh_completion(db.session.get(Offering, offering_id)))))
    if fired:
        log.info("completion: %s people completed", fired)
    return fired


def certificate_batches_job() -> int:
    """Bulk issues of certificates that faculty started (or that a crash left unfinished).
    A batch claims itself and commits in chunks (see ``lms.certificates.bulk``)."""
    from lms.certificates.bulk import run_due_batches

    if ran := run_due_batches():
        log.info("certificates: %s bulk issues run", ran)
    return ran


def survey_reminders_job(now: datetime | None = None) -> int:
    """People who have not answered an open survey are reminded (capped, each once): one
    transaction, so a crash sends nothing and a rerun sends what is still due."""
    from lms.extensions import db
    from lms.feedback.services import send_reminders

    sent = send_reminders(now)
    db.session.commit()
    if sent:
        log.info("surveys: %s reminders queued", sent)
    return sent


def release_answers_job(now: datetime | None = None) -> int:
    """Anonymous surveys' pending answers go into the results in batches (at most daily,
    five or more, or at closing): each survey in a transaction of its own. A rerun, or a
    second scheduler, finds nothing more due."""
    from lms.feedback import pool

    now = now or utcnow()
    released = sum(_each_committed(pool.surveys_due_release(now),
                                   lambda survey_id: pool.release(survey_id, now)))
    if released:
        log.info("surveys: %s anonymous answers released", released)
    return released


def send_reminders_job() -> int:
    """Reminders before sessions and emails after them, each exactly once. They are claimed
    and committed in batches (see ``lms.events.reminders``)."""
    from lms.events.reminders import send_due_reminders

    if sent := send_due_reminders():
        log.info("reminders: %s queued", sent)
    return sent


JOBS = [
    # (function, seconds between runs)
    (deliver_outbox_job, 5),
    (lapse_offers_job, 60),
    (release_quotas_job, 300),
    (send_reminders_job, 60),
    (survey_reminders_job, 300),
    (release_answers_job, 900),
    (completion_job, 3600),
    (certificate_batches_job, 10),
]


def configure(scheduler: BaseScheduler, app: Flask) -> BaseScheduler:
    """Add every job to ``scheduler``."""
    for job, seconds in JOBS:
        # Emails waiting when the scheduler (re)starts go at once, not after the first interval.
        first = {"next_run_time": utcnow()} if job is deliver_outbox_job else {}
        scheduler.add_job(_in_app(app, job), "interval", seconds=seconds, id=job.__name__,
                          name=job.__name__, max_instances=1, coalesce=True,
                          replace_existing=True, **first)
    # Each run is logged by the jobs themselves when they did something.
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    return scheduler


def start_background(app: Flask) -> BackgroundScheduler:
    """The scheduler inside the development server's process."""
    scheduler = configure(BackgroundScheduler(timezone="UTC"), app)
    scheduler.start()
    return scheduler


def run_forever(app: Flask) -> None:
    """The production scheduler process. SIGTERM (systemd's stop) or Ctrl-C stops it
    gracefully: the outbox sender finishes and records the message it is sending and claims
    no more, the other running jobs finish their transaction, then the process exits 0."""
    import signal

    from lms.notifications.delivery import stopping

    scheduler = configure(BlockingScheduler(timezone="UTC"), app)
    stop = stopping(app)

    def graceful_stop(signum, _frame) -> None:
        if stop.is_set():
            return
        log.info("scheduler: %s received; finishing the jobs running now",
                 signal.Signals(signum).name)
        stop.set()
        scheduler.shutdown(wait=True)  # waits for the running jobs, then start() returns

    signal.signal(signal.SIGTERM, graceful_stop)
    signal.signal(signal.SIGINT, graceful_stop)
    log.info("scheduler started with %d jobs", len(JOBS))
    scheduler.start()
    log.info("scheduler stopped")
