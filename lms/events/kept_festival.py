"""A festival's programme page and a person's agenda as kept in the page cache (``lms.cache``).

What everyone sees (the top of the page, the registration box's standing, the public
materials, and the timetable with places left) is kept once per festival under its version
(``offering(id)``). What depends on the person is kept per person: each session's booking
buttons (their bookings, whether they are registered, their clashes) under their version and
the festival's (and the offer's when they have bookings elsewhere, which a session moved
elsewhere may make clash), and their agenda under their version and the festival's. Each
holds until a session starts or ends, an offered place lapses, or midnight. Forms' CSRF
tokens are filled in per request.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from flask import render_template
from flask_login import AnonymousUserMixin
from markupsafe import Markup
from sqlalchemy import exists, select

from lms.cache import NOTHING, OFFER, cached, offering, person
from lms.cache.kept import CSRF_SLOT, earliest_after, next_midnight, with_csrf
from lms.clock import utcnow
from lms.events import pages
from lms.events.models import Festival
from lms.extensions import db
from lms.learning.materials_pages import materials_section, section_for
from lms.offerings import calendar, policy
from lms.offerings import pages as offering_pages
from lms.offerings.models import Booking, BookingState, Session
from lms.offerings.services import get_offering

_ACTIONS = re.compile(r"<!--lms-actions:(\d+)-->")
LIVE = (BookingState.BOOKED, BookingState.OFFERED, BookingState.WAITLISTED)


@dataclass(frozen=True)
class FestivalPage:
    """What everyone sees of a festival's programme page."""

    id: int
    kind: str
    public: bool
    title: str
    head: Markup
    standing: offering_pages.Standing
    public_materials: Markup
    holders_materials: Markup      # what everyone with a place (not faculty) sees
    timetable: str                 # with an ``lms-actions`` marker per session
    plain: Markup                  # without them: for people with no buttons


def festival_page(festival_id: int) -> FestivalPage | None:
    """The festival's page whoever asks (None if there is no such festival): no query when
    nothing has changed (its version is read with the signed-in person's, or alone for
    someone signed out: ``cache.page_reads``). Who may see it is the view's to check."""
    return cached("festival_page", festival_id, depends_on=offering(festival_id),
                  build=lambda: _festival_page(festival_id))


def _festival_page(festival_id: int) -> tuple[FestivalPage | None, datetime | None]:
    festival = db.session.get(Festival, festival_id)
    if festival is None:
        return None, None
    now = utcnow()
    standing = offering_pages.standing(festival)
    nobody = AnonymousUserMixin()
    programme = pages.programme(festival, nobody, registered=False)
    head = render_template("events/_festival_head.html", event=festival)
    timetable = render_template("events/_festival_programme.html", programme=programme,
                                event=festival, now=now)
    page = FestivalPage(festival.id, festival.kind, policy.is_public(festival),
                        festival.title, Markup(head),  # noqa: S704 - template output
                        standing, _rendered(section_for(nobody, festival, False)),
                        _rendered(materials_section(nobody, festival, place=True)),
                        timetable, Markup(_ACTIONS.sub("", timetable)))  # noqa: S704
    # Materials show and booking closes as sessions start and end.
    moments = [next_midnight(now), standing.until]
    moments += [m for s in festival.sessions for m in (s.starts_at, s.ends_at)]
    return page, earliest_after(moments, now)


def _rendered(section) -> Markup:
    if section is None:
        return Markup("")
    return Markup(render_template(  # noqa: S704 - autoescaped template output
        "learning/_materials_section.html", materials=section))


def for_viewer(user, page: FestivalPage) -> dict:
    """The viewer's parts of a kept festival page: their registration box (the policies'
    answers), the materials they may see, and the timetable with their booking buttons."""
    signed_in = bool(getattr(user, "is_authenticated", False))
    place = offering_pages.viewer_place(user, page.id)
    panel = offering_pages.panel_for(page.standing, place, user)
    can_manage = policy.can_manage(user)
    has_place = place is not None and place.state in calendar.CONFIRMED
    materials = (section_for(user, get_offering(page.id), True) if can_manage else None)
    kept = (Markup("") if can_manage
            else page.holders_materials if has_place else page.public_materials)
    actions = _actions(user, page.id, has_place) if signed_in else {}
    body = (_ACTIONS.sub(lambda m: actions.get(int(m.group(1)), ""), page.timetable)
            if actions else page.plain)
    return {"page": page, "event": page, "panel": panel, "has_place": has_place,
            "can_manage": can_manage, "materials": materials, "kept_materials": kept,
            "programme_html": _with_csrf(body)}


def _with_csrf(body: str) -> Markup:
    """A kept part with this request's CSRF token, if it has a form (a page without one
    starts no session)."""
    return with_csrf(body) if CSRF_SLOT in body else Markup(body)  # noqa: S704 - kept


def _elsewhere(festival_id: int, user_id: int) -> bool:
    """Whether the person has a live booking of a session outside this festival (whatever
    the session's state: one cancelled now may be put back without touching the booking)."""
    return bool(db.session.scalar(select(exists().where(
        Booking.user_id == user_id, Booking.state.in_(LIVE),
        Booking.session_id == Session.id, Session.offering_id != festival_id))))


def _actions(user, festival_id: int, registered: bool) -> dict[int, str]:
    """Each session's booking buttons for ``user``, kept per person."""
    elsewhere = cached("festival_elsewhere", (festival_id, user.id),
                       depends_on=person(user.id),
                       build=lambda: (_elsewhere(festival_id, user.id), None), size=1024)
    depends_on = offering(festival_id) + person(user.id) + (OFFER if elsewhere else NOTHING)
    return cached("festival_actions", (festival_id, user.id, registered),
                  depends_on=depends_on, size=1024,
                  build=lambda: _build_actions(user, festival_id, registered))


def _build_actions(user, festival_id: int, registered: bool
                   ) -> tuple[dict[int, str], datetime | None]:
    now = utcnow()
    festival = get_offering(festival_id)
    programme = pages.programme(festival, user, registered=registered)
    body = render_template("events/_festival_actions.html", programme=programme,
                           event=festival, now=now, csrf_token=lambda: CSRF_SLOT)
    parts = _ACTIONS.split(body)  # text before the first marker, then (id, html) pairs
    actions = {int(sid): html.strip() for sid, html in zip(parts[1::2], parts[2::2],
                                                            strict=True)}
    moments = [next_midnight(now)]
    for s in programme.sessions:  # booking closes when a session starts
        moments += [s.starts_at, s.ends_at]
    moments += [st.mine.offer_expires_at for st in programme.standing.values()
                if st.mine is not None]
    return {sid: html for sid, html in actions.items() if html}, earliest_after(moments, now)


# ---------------------------------------------------------------------------- the agenda


def agenda_html(user, page: FestivalPage) -> Markup:
    """The person's agenda of this festival (their sessions, joining links, recordings),
    kept per person under their version and the festival's."""
    body = cached("festival_agenda", (page.id, user.id),
                  depends_on=offering(page.id) + person(user.id), size=1024,
                  build=lambda: _build_agenda(user, page))
    return _with_csrf(body)


def _build_agenda(user, page: FestivalPage) -> tuple[str, datetime | None]:
    now = utcnow()
    festival = get_offering(page.id)
    items = pages.agenda(user, festival)
    body = render_template("events/_agenda_main.html", event=page, items=items, now=now,
                           csrf_token=lambda: CSRF_SLOT,
                           registered=calendar.has_confirmed_place(user, festival))
    moments = [next_midnight(now)]
    for item in items:  # joining links go and cancelling closes as sessions start and end
        moments += [item.session.starts_at, item.session.ends_at,
                    item.booking.offer_expires_at]
    return body, earliest_after(moments, now)
