"""Faculty messages: one email per person to everyone on an offering, one session's people,
or its waiting list, through the outbox, and kept on the offering as a list of what was sent.
People who switched off "news and messages from faculty" (``lms.notifications.preferences``)
are not written to."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from lms.messages.views import bp

    app.register_blueprint(bp)
