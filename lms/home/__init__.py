"""The home page and the health check."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """The home page, its link and the health check."""
    from lms.home import views
    from lms.web import add_nav_item

    app.register_blueprint(views.bp)
    add_nav_item(app, "Home", "home.index", lambda user: True, order=0)
