"""Faculty messages: one email per person to everyone on an offering, one session's people,
or its waiting list, through the outbox, and kept on the offering as a list of what was sent.
People who switched off "news and messages from faculty" (``lms.notifications.preferences``)
are not written to."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """The messages page, and ``messages_recent_on(offering)`` for the offering's people page
    to list the latest sent and how many (offerings need not know this feature)."""
    from lms import cache
    from lms.messages import kept
    from lms.messages.pages import recent_on
    from lms.messages.views import bp

    app.register_blueprint(bp)
    kept.watch_tables(app)
    # The people page, kept under its offering's version, lists the messages sent on it.
    cache.watch(app, "faculty_message", offering="offering_id", listings=False)

    @app.context_processor
    def sent_messages() -> dict:
        return {"messages_recent_on": recent_on}
