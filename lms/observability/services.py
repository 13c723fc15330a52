"""Recording the scheduler's runs (the job commits: see ``lms.jobs``)."""

from __future__ import annotations

from datetime import datetime

from lms.extensions import db
from lms.observability.models import JobRun


def record_job_run(job: str, started: datetime, finished: datetime,
                   error: str | None = None) -> None:
    """Note that ``job`` ran from ``started`` to ``finished``, and failed with ``error`` if
    given. Flushes."""
    row = db.session.get(JobRun, job)
    if row is None:
        row = JobRun(job=job, last_started_at=started, last_finished_at=finished)
        db.session.add(row)
    row.last_started_at, row.last_finished_at = started, finished
    row.last_error = error[:2000] if error else None
    if error is None:
        row.last_succeeded_at = finished
    db.session.flush()
