"""Feedback: survey builder, answers (anonymous by design), reminders, results and charts."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """The survey pages and their link, ``flask lms feedback``, and the "please give
    feedback" email the reminder sweep sends after sessions with an open survey."""
    from lms import cache
    from lms.cli import commands_of
    from lms.feedback import after_session, results_kept, services, views
    from lms.feedback.cli import feedback_cli
    from lms.web import add_nav_item

    app.register_blueprint(views.bp)
    add_nav_item(app, "Surveys", "feedback.faculty_home", services.can_manage_surveys,
                 order=65)
    commands_of(app).add_command(feedback_cli)
    after_session.install(app)
    # A learner's home asks for feedback on their places' open surveys (kept in the page
    # cache): a survey renews its offering and the offer, an answer or a draft its person.
    cache.watch(app, "survey", offering="offering_id")
    cache.watch(app, "survey_respondent", person="user_id", listings=False)
    cache.watch(app, "survey_draft", person="user_id", listings=False)
    results_kept.watch_tables(app)
