"""One search across the offer: courses, cohorts, webinars, networks and their meetings,
festivals and their sessions; with a search box in every page's header."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """The search page (``/search``); the layout's header form points at it."""
    from lms.search import views

    app.register_blueprint(views.bp)
