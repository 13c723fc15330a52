"""The scheduler: one process (``flask lms scheduler``) runs every feature's periodic jobs.

Features never import the scheduler; this module imports their services. Each job is
idempotent through the database (rows are claimed with conditional updates), so a second
scheduler by mistake, or a restart mid-run, sends nothing twice.
"""

from __future__ import annotations

import logging

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from flask import Flask

log = logging.getLogger(__name__)


def _in_app(app: Flask, job):
    def run():
        with app.app_context():
            try:
                job()
            except Exception:
                log.exception("job %s failed", job.__name__)
                from lms.extensions import db

                db.session.rollback()
            finally:
                from lms.extensions import db

                db.session.remove()

    run.__name__ = job.__name__
    return run


def deliver_outbox_job() -> None:
    """Send due emails."""
    from lms.notifications.services import deliver_outbox

    report = deliver_outbox()
    if report.sent or report.retried or report.failed:
        log.info("outbox: %s sent, %s to retry, %s failed", report.sent, report.retried,
                 report.failed)


def lapse_offers_job() -> None:
    """Offers of places not accepted in time go to the next person waiting."""
    from lms.offerings.services import lapse_offers

    if lapsed := lapse_offers():
        log.info("offers: %s lapsed", lapsed)


def release_quotas_job() -> None:
    """Unused ICS quota places go to everyone after each cohort's release date."""
    from lms.offerings.services import release_quotas

    if released := release_quotas():
        log.info("quotas: released on %s offerings", released)


def completion_job() -> None:
    """Completion fires (once) for offerings whose sessions have just been held."""
    from lms.attendance.services import refresh_all

    if fired := refresh_all():
        log.info("completion: %s people completed", fired)


def certificate_batches_job() -> None:
    """Bulk issues of certificates that faculty started (or that a crash left unfinished)."""
    from lms.certificates.bulk import run_due_batches

    if ran := run_due_batches():
        log.info("certificates: %s bulk issues run", ran)


def survey_reminders_job() -> None:
    """People who have not answered an open survey are reminded (capped, each once)."""
    from lms.feedback.services import send_reminders

    if sent := send_reminders():
        log.info("surveys: %s reminders queued", sent)


def send_reminders_job() -> None:
    """Reminders before sessions and emails after them, each exactly once."""
    from lms.events.reminders import send_due_reminders

    if sent := send_due_reminders():
        log.info("reminders: %s queued", sent)


JOBS = [
    # (function, seconds between runs)
    (deliver_outbox_job, 5),
    (lapse_offers_job, 60),
    (release_quotas_job, 300),
    (send_reminders_job, 60),
    (survey_reminders_job, 300),
    (completion_job, 3600),
    (certificate_batches_job, 10),
]


def configure(scheduler: BaseScheduler, app: Flask) -> BaseScheduler:
    """Add every job to ``scheduler``."""
    for job, seconds in JOBS:
        scheduler.add_job(_in_app(app, job), "interval", seconds=seconds, id=job.__name__,
                          name=job.__name__, max_instances=1, coalesce=True,
                          replace_existing=True)
    # Each run is logged by the jobs themselves when they did something.
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    return scheduler


def start_background(app: Flask) -> BackgroundScheduler:
    """The scheduler inside the development server's process."""
    scheduler = configure(BackgroundScheduler(timezone="UTC"), app)
    scheduler.start()
    return scheduler


def run_forever(app: Flask) -> None:
    """The production scheduler process."""
    scheduler = configure(BlockingScheduler(timezone="UTC"), app)
    log.info("scheduler started with %d jobs", len(JOBS))
    scheduler.start()
