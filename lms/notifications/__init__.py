"""Notifications: the outbox every email leaves through, its delivery backends, and which
optional emails each person chooses to get (``preferences``)."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """The email preferences page. Features queue emails by calling the outbox's services,
    and the backend is chosen from ``app.config`` when the outbox is delivered."""
    from lms.notifications.views import bp

    app.register_blueprint(bp)
