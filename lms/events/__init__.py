"""Events: webinars, network series, the INSIGHT festival; calendars and reminders."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Connect what events listen for: leaving the festival gives back its session bookings
    (``lms.events.services.release_bookings_on_leaving``)."""
    from lms.events.services import release_bookings_on_leaving
    from lms.listeners import connect
    from lms.offerings.transitions import PlaceChanged

    connect(app, PlaceChanged, release_bookings_on_leaving)
