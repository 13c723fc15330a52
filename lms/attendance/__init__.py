"""Attendance: registers, self check-in, online-meeting report import, completion."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Registers, check-in and imports; and completion when feedback was the last thing
    someone needed."""
    from lms import cache
    from lms.attendance import completion, views
    from lms.feedback.services import FeedbackGiven
    from lms.listeners import connect

    app.register_blueprint(views.bp)
    connect(app, FeedbackGiven, completion.complete_on_feedback)
    # A learner's home shows their progress (kept in the page cache): attendance renews
    # the person; a completion or a sign-off (rows naming a place, not a person) renews all.
    cache.watch(app, "attendance", person="user_id", listings=False)
    cache.watch(app, "completion", person="user_id", listings=False)
    cache.watch(app, "completion_sign_off", listings=False)
