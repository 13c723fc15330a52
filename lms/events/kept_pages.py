"""A webinar's and a network's page as everyone sees them, kept in the page cache
(``lms.cache``) under the offering's version: the main column (with and without the joining
links), the booking box's standing and the public materials. Per request only the viewer's
place is read (plain columns) and their booking box made from the policies; people with a
place, and faculty, get their own materials section.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import render_template
from flask_login import AnonymousUserMixin
from markupsafe import Markup

from lms.cache import cached, offering
from lms.clock import utcnow
from lms.events import networks, pages, services
from lms.events.models import NetworkSeries, Webinar
from lms.extensions import db
from lms.learning.materials_pages import materials_section, section_for
from lms.offerings import pages as offering_pages
from lms.offerings import policy
from lms.offerings.calendar import CONFIRMED
from lms.offerings.services import get_offering

KINDS = {"webinar": Webinar, "network": NetworkSeries}
# (joining links shown, signed in) -> the main column for them.
VARIANTS = ((False, False), (False, True), (True, True))


@dataclass(frozen=True)
class EventPage:
    """What everyone sees of an event's page."""

    id: int
    public: bool
    title: str
    main: dict[tuple[bool, bool], Markup]
    standing: offering_pages.Standing
    public_materials: Markup
    holders_materials: Markup    # what everyone with a place (not faculty) sees


def event_page(event_id: int, kind: str) -> EventPage | None:
    """The page of the ``kind`` event ``event_id`` whoever asks (None if there is no such
    event of that kind): one query when nothing has changed. Who may see it is the view's to
    check."""
    return cached(f"event_page:{kind}", event_id, depends_on=offering(event_id),
                  build=lambda: _event_page(event_id, kind))


def _main(kind: str, event) -> dict[tuple[bool, bool], Markup]:
    if kind == "webinar":
        session = event.session
        speakers = services.speakers_by_session([session.id])[session.id] if session else []
        recording = pages.recordings_for([session.id]).get(session.id) if session else None
        values = {"event": event, "session": session, "speakers": speakers,
                  "recording": recording}
    else:
        values = {"event": event, "page": pages.network_page(event),
                  "rule": networks.rule_of(event)}
    return {(links, signed_in): Markup(render_template(  # noqa: S704 - autoescaped output
        f"events/_{kind}_main.html", show_join_links=links, signed_in=signed_in, **values))
        for links, signed_in in VARIANTS}


def _event_page(event_id: int, kind: str) -> tuple[EventPage | None, datetime | None]:
    event = db.session.get(KINDS[kind], event_id)
    if event is None:
        return None, None
    standing = offering_pages.standing(event)
    nobody = AnonymousUserMixin()
    page = EventPage(event.id, policy.is_public(event), event.title, _main(kind, event),
                     standing, _rendered(section_for(nobody, event, False)),
                     _rendered(materials_section(nobody, event, place=True)))
    # Meetings move from "to come" to "recent", and materials show, as sessions start and
    # end; booking closes at ``standing.until``.
    now = utcnow()
    moments = [m for s in event.sessions for m in (s.starts_at, s.ends_at) if m > now]
    moments += [m for m in (standing.until, event.starts_at, event.ends_at)
                if m is not None and m > now]
    return page, min(moments, default=None)


def _rendered(section) -> Markup:
    if section is None:
        return Markup("")
    return Markup(render_template(  # noqa: S704 - autoescaped template output
        "learning/_materials_section.html", materials=section))


def for_viewer(user, page: EventPage) -> dict:
    """The viewer's parts of a kept event page: their booking box (the policies' answers),
    the main column with or without the joining links, and the materials they may see."""
    place = offering_pages.viewer_place(user, page.id)
    panel = offering_pages.panel_for(page.standing, place, user)
    can_manage = policy.can_manage(user)
    has_place = place is not None and place.state in CONFIRMED
    links = can_manage or has_place
    materials = section_for(user, get_offering(page.id), True) if can_manage else None
    kept = (Markup("") if can_manage
            else page.holders_materials if has_place else page.public_materials)
    return {"page": page, "panel": panel, "can_manage": can_manage,
            "main": page.main[(links, bool(user.is_authenticated))],
            "materials": materials, "kept_materials": kept}
