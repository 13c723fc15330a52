"""Offerings: places, sessions, enrolments, waiting lists, nominations and ICS quotas.

One enrolment engine for every kind of offering; courses (cohorts) and events extend it.
"""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """The place pages, their links, and the offer stamp (before courses and events, which
    add their tables to it)."""
    from lms.accounts.models import Role
    from lms.listeners import connect
    from lms.offerings import stamp, views
    from lms.offerings.calendar_updates import follow_place_change
    from lms.offerings.transitions import PlaceChanged
    from lms.web import add_nav_item, holds

    app.register_blueprint(views.bp)
    add_nav_item(app, "My learning", "offerings.my_learning", holds(Role.LEARNER), order=20)
    add_nav_item(app, "Nominations", "offerings.nominations", holds(Role.DSU_LEAD), order=40)
    # Pages kept per process are kept under the offer stamp; changes write a new one.
    stamp.install(app)
    # Calendars follow every change to a place (REQUEST / CANCEL, a growing SEQUENCE).
    connect(app, PlaceChanged, follow_place_change)
