"""Offerings: places, sessions, enrolments, waiting lists, nominations and ICS quotas.

One enrolment engine for every kind of offering; courses (cohorts) and events extend it.
"""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """The place pages, their links, and the tables the page cache watches for them."""
    from lms import cache
    from lms.accounts.models import Role
    from lms.listeners import connect
    from lms.offerings import kept_nominations, views
    from lms.offerings.calendar_updates import follow_place_change
    from lms.offerings.transitions import PlaceChanged
    from lms.web import add_nav_item, holds

    app.register_blueprint(views.bp)
    add_nav_item(app, "My learning", "offerings.my_learning", holds(Role.LEARNER), order=20)
    add_nav_item(app, "Nominations", "offerings.nominations", holds(Role.DSU_LEAD), order=40)
    # Pages kept per process are kept under the versions of what they show (``lms.cache``):
    # a place renews its offering's, its person's and the listings' versions.
    cache.watch(app, "offering", offering="id", cascades=True)
    cache.watch(app, "offering_session", offering="offering_id", cascades=True)
    cache.watch(app, "offering_lead", offering="offering_id", person="user_id")
    cache.watch(app, "offering_quota", offering="offering_id")
    cache.watch(app, "enrolment", offering="offering_id", person="user_id")
    cache.watch(app, "session_booking", session="session_id", person="user_id")
    # Leads' names on the pages of the offerings they lead; a closed account's places go;
    # a person's organisation decides whose places they count as (the DSU lead's home).
    cache.watch(app, "user_account", columns={"full_name", "organisation_id", "organisation"},
                person="id", leads="id", cascades=True)
    # Pages listing people by name, job and organisation (a DSU lead's nominations, the
    # people on an offering, the DSU lead's home) are kept under ``PEOPLE`` too.
    kept_nominations.watch_people(app)
    # Calendars follow every change to a place (REQUEST / CANCEL, a growing SEQUENCE).
    connect(app, PlaceChanged, follow_place_change)
