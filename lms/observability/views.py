"""``/metrics``: for Prometheus, from the allowed addresses or with the token; 404 to
everyone else, so the page is not even seen to exist."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, request

from lms.errors import NotFound
from lms.observability.metrics import may_scrape, render_metrics

bp = Blueprint("observability", __name__)


@bp.route("/metrics")
def prometheus_metrics():
    """Request latency by route, outbox backlog and oldest age, each job's last run, the
    database pool in use (Prometheus text format)."""
    if not may_scrape(current_app.config, request.remote_addr,
                      request.headers.get("Authorization")):
        raise NotFound("No such page")
    body, content_type = render_metrics(current_app._get_current_object())
    return Response(body, content_type=content_type,
                    headers={"Cache-Control": "no-store"})
