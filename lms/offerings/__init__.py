"""Offerings: places, sessions, enrolments, waiting lists, nominations and ICS quotas.

One enrolment engine for every kind of offering; courses (cohorts) and events extend it.
"""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Connect what offerings listen for: every change to a person's place updates their
    calendar (``lms.offerings.calendar.follow_place_change``)."""
    from lms.listeners import connect
    from lms.offerings.calendar import follow_place_change
    from lms.offerings.transitions import PlaceChanged

    connect(app, PlaceChanged, follow_place_change)
