"""The home page and the health check."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """The home page, its link and the health check."""
    from lms.extensions import csrf
    from lms.home import attention, views
    from lms.web import add_nav_item, everyone

    app.register_blueprint(views.bp)
    csrf.exempt(views.healthz)  # monitors call it with no session and no token
    add_nav_item(app, "Home", "home.index", everyone, order=0)
    attention.watch_tables(app)
