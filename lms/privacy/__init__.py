"""UK GDPR: a person's own data, and erasure by an admin."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """The own-data and erasure pages."""
    from lms.privacy import views

    app.register_blueprint(views.bp)
