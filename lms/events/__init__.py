"""Events: webinars, network series, the INSIGHT festival; calendars and reminders."""

from __future__ import annotations

from flask import Flask

# The modules holding the events pages' routes (``init_app`` imports each one).
VIEW_MODULES = ("views", "list_views", "calendar_views", "festival_views", "network_views")


def init_app(app: Flask) -> None:
    """The events pages and their link, each kind's page and calendar details, the tables
    the page cache watches for them, and what events do when a place changes."""
    from importlib import import_module

    from lms import cache
    from lms.accounts.events import PasswordChanged
    from lms.courses.models import STRAND_LABELS
    from lms.events import calendars, networks, session_bookings, views
    from lms.listeners import connect
    from lms.offerings import calendar
    from lms.offerings.transitions import PlaceChanged
    from lms.web import add_nav_item, add_offering_page, everyone

    # Every events page is on one blueprint, ``views.bp``: each view module adds its routes to
    # it as it is imported, so all of them are imported before it is registered.
    for module in VIEW_MODULES:
        import_module(f"lms.events.{module}")
    app.register_blueprint(views.bp)
    add_nav_item(app, "Events", "events.index", everyone, order=15)
    # An event's strand as its pages and the events list write it.
    app.jinja_env.globals["strand_labels"] = {s.value: label
                                              for s, label in STRAND_LABELS.items()}
    add_offering_page(app, "webinar", "events.webinar")
    add_offering_page(app, "network", "events.network")
    add_offering_page(app, "festival", "events.festival")
    # Each event's page, and a person's festival agenda, is kept under its offering's version.
    for endpoint in ("events.webinar", "events.network", "events.festival", "events.agenda"):
        cache.page_reads(app, endpoint, cache.offering)
    calendar.add_details(app, "network", networks.presenters_as_details)
    calendar.add_details(app, "festival", calendars.festival_details_lines)
    calendar.add_details(app, "webinar", calendars.speaker_lines)
    for table_name in ("webinar", "network_series", "festival"):
        cache.watch(app, table_name, offering="id", cascades=True)
    cache.watch(app, "network_occurrence", offering="series_id")
    cache.watch(app, "festival_track", offering="festival_id", cascades=True)
    cache.watch(app, "festival_session", offering="festival_id")
    cache.watch(app, "event_speaker", session="session_id")
    cache.watch(app, "session_recording", session="session_id", listings=False)
    # Leaving the festival gives back its session bookings, in the same transaction.
    connect(app, PlaceChanged, session_bookings.release_bookings_on_leaving)
    # A password change (with its box ticked) resets the calendar address.
    connect(app, PasswordChanged, calendars.forget_on_password_change)
    calendars.watch_tables(app)
