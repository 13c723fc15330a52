"""The scheduler's last run of each job, kept where every web worker can read it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from lms.clock import UTCDateTime
from lms.extensions import db


class JobRun(db.Model):
    """One row per scheduler job: when it last started and finished, and whether it
    succeeded (``last_error`` is empty when it did). Written by the scheduler after each run;
    read by ``/metrics``."""

    __tablename__ = "job_run"

    job: Mapped[str] = mapped_column(String(64), primary_key=True)
    last_started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_finished_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_succeeded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(Text)
