"""Attendance: registers, self check-in, online-meeting report import, completion."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Registers, check-in and imports; and completion when feedback was the last thing
    someone needed."""
    from lms import cache
    from lms.attendance import completion, register_kept, views
    from lms.feedback.services import FeedbackGiven
    from lms.listeners import connect

    app.register_blueprint(views.bp)
    connect(app, FeedbackGiven, completion.complete_on_feedback)
    # A person's kept pages (their home's progress, their learning record) show what they
    # attended and completed (``lms.cache``): attendance renews the person. A completion or a
    # sign-off names a place, not a person: it renews everything (rare: a course's end).
    cache.watch(app, "attendance", person="user_id", listings=False)
    cache.watch(app, "completion", listings=False)
    cache.watch(app, "completion_sign_off", listings=False)
    register_kept.watch_tables(app)
