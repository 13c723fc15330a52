"""Watching the service run: one JSON log line per request with a request id in every line
(``logs``), and ``/metrics`` for Prometheus (``metrics``), with the scheduler's last run of
each job kept in the database (``models``) so any web worker can report it."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Request ids and the request log, the metrics and their page."""
    from lms.extensions import csrf
    from lms.observability import logs, metrics, views

    logs.init_app(app)
    metrics.init_app(app)
    app.register_blueprint(views.bp)
    csrf.exempt(views.prometheus_metrics)  # Prometheus has no session and no token
