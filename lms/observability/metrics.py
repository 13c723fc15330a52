"""The numbers ``/metrics`` gives Prometheus.

With several gunicorn workers each is a process of its own, so the numbers are of two kinds:

- **counted by the workers**: request latency by route (a histogram) and database
  connections in use. Each worker counts its own; with ``PROMETHEUS_MULTIPROC_DIR`` set (the
  systemd unit sets it, and gunicorn's config marks dead workers: deploy/gunicorn.conf.py)
  prometheus_client's multiprocess mode adds them up across the workers at each scrape.
  Without it (one process, development) the scraped worker's own numbers are shown.
- **computed on scrape from the database**: the outbox backlog and its oldest email's age,
  and each scheduler job's last run, so every worker answers the same.
"""

from __future__ import annotations

import hmac
import ipaddress
import os
import time

from flask import Flask, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily
from sqlalchemy import func, select

EXTENSION = "lms_metrics"
LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


def _multiprocess_dir() -> str | None:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


class Metrics:
    """One app's metrics (each app its own registry: nothing shared between apps)."""

    def __init__(self, app: Flask):
        self.app = app
        self.registry = CollectorRegistry(auto_describe=True)
        self.latency = Histogram(
            "lms_request_duration_seconds", "Time to answer a request, by route.",
            ["route", "method"], buckets=LATENCY_BUCKETS, registry=self.registry)
        self.pool_in_use = Gauge(
            "lms_db_pool_connections_in_use", "Database connections checked out of the pool.",
            registry=self.registry, multiprocess_mode="livesum")
        self.registry.register(DatabaseCollector(app))


class DatabaseCollector:
    """The outbox and the scheduler, read from the database at each scrape."""

    def __init__(self, app: Flask):
        self.app = app

    def describe(self):
        return []

    def collect(self):
        from lms.clock import utcnow
        from lms.extensions import db
        from lms.notifications.models import OutboxMessage, OutboxStatus
        from lms.observability.models import JobRun

        now = utcnow()
        waiting = (OutboxStatus.PENDING, OutboxStatus.SENDING)
        backlog = GaugeMetricFamily("lms_outbox_backlog", "Emails waiting to leave, by status.",
                                    labels=["status"])
        oldest = GaugeMetricFamily("lms_outbox_oldest_age_seconds",
                                   "Age of the oldest email still waiting to leave.")
        last_run = GaugeMetricFamily("lms_job_last_run_timestamp_seconds",
                                     "When each scheduler job last finished (Unix time).",
                                     labels=["job"])
        last_ok = GaugeMetricFamily("lms_job_last_success_timestamp_seconds",
                                    "When each scheduler job last succeeded (Unix time).",
                                    labels=["job"])
        failing = GaugeMetricFamily("lms_job_failing", "1 if the job's last run failed.",
                                    labels=["job"])
        counts = dict(db.session.execute(
            select(OutboxMessage.status, func.count()).where(OutboxMessage.status.in_(waiting))
            .group_by(OutboxMessage.status)).all())
        for status in waiting:
            backlog.add_metric([str(status)], counts.get(status, 0))
        first = db.session.scalar(select(func.min(OutboxMessage.created_at)).where(
            OutboxMessage.status.in_(waiting)))
        oldest.add_metric([], max((now - first).total_seconds(), 0) if first else 0)
        for run in db.session.scalars(select(JobRun).order_by(JobRun.job)):
            last_run.add_metric([run.job], run.last_finished_at.timestamp())
            if run.last_succeeded_at is not None:
                last_ok.add_metric([run.job], run.last_succeeded_at.timestamp())
            failing.add_metric([run.job], 1 if run.last_error else 0)
        yield from (backlog, oldest, last_run, last_ok, failing)


def init_app(app: Flask) -> None:
    """Count each request's time by route, and the pool's connections in use."""
    from lms.observability.logs import route_of

    metrics = app.extensions[EXTENSION] = Metrics(app)

    def start_timer():
        g.metrics_started = time.perf_counter()

    app.before_request_funcs.setdefault(None, []).insert(0, start_timer)

    @app.after_request
    def count_request(response):
        started = g.get("metrics_started")
        if started is not None:
            metrics.latency.labels(route_of(), request.method).observe(
                time.perf_counter() - started)
        from lms.extensions import db

        pool = db.engine.pool
        if hasattr(pool, "checkedout"):
            metrics.pool_in_use.set(pool.checkedout())
        return response


def render_metrics(app: Flask) -> tuple[bytes, str]:
    """The metrics in Prometheus' text format, and its content type."""
    metrics: Metrics = app.extensions[EXTENSION]
    folder = _multiprocess_dir()
    if folder is None:
        return generate_latest(metrics.registry), CONTENT_TYPE_LATEST
    scrape = CollectorRegistry()
    multiprocess.MultiProcessCollector(scrape, path=folder)
    scrape.register(DatabaseCollector(app))
    return generate_latest(scrape), CONTENT_TYPE_LATEST


def may_scrape(config, address: str | None, authorization: str | None) -> bool:
    """Whether this caller may read the metrics: its address is in ``METRICS_ALLOW``
    (addresses or networks, comma-separated), or it sends ``Authorization: Bearer`` with
    ``METRICS_TOKEN``. Neither configured: nobody may."""
    token = str(config.get("METRICS_TOKEN") or "")
    if token and authorization:
        scheme, _, given = authorization.partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(),
                                                              token.encode()):
            return True
    allowed = [part.strip() for part in str(config.get("METRICS_ALLOW") or "").split(",")
               if part.strip()]
    if not allowed or not address:
        return False
    try:
        caller = ipaddress.ip_address(address)
    except ValueError:
        return False
    for entry in allowed:
        try:
            if caller in ipaddress.ip_network(entry, strict=False):
                return True
        except ValueError:
            continue  # a mistyped entry allows nothing
    return False
