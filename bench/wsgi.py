"""The app as the HTTP benchmark serves it with gunicorn: ``bench.wsgi:bench_app()``.

It is the real app (``create_app``, configured from ``LMS_*`` variables) plus one route the
production app does not have: ``/bench/bare``, which does nothing, so its throughput is the
ceiling of the same stack (gunicorn, Flask, the app's request hooks and headers) that every
page is compared with.
"""

from __future__ import annotations

import os

from flask import Flask

from lms import create_app


def with_bare(app: Flask) -> Flask:
    """Add the do-nothing endpoint to an app made by ``create_app``."""

    @app.route("/bench/bare")
    def bare():
        """Nothing: the ceiling."""
        return "ok"

    return app


def bench_app() -> Flask:
    """``create_app`` (configured from ``LMS_*`` variables) with the do-nothing endpoint."""
    return with_bare(create_app(os.environ.get("LMS_CONFIG", "development")))

