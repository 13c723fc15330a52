"""An offering's materials page as kept in the page cache (``lms.cache``): per offering and
viewer (their roles decide whether they manage it, their place what they see), under the
offering's version (its materials, sessions, recordings and places) and the viewer's (their
place), until time changes it by itself: a session starts or ends (a material shown from
then appears, faculty may publish its recording). The answer "no such page" is kept the
same way; the move buttons' CSRF token is filled in per request."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import render_template
from markupsafe import Markup

from lms.cache import DependsOn, cached, offering, person
from lms.cache.kept import SLOT_FORM, earliest_after, with_csrf
from lms.clock import utcnow
from lms.errors import NotFound
from lms.learning import materials_pages


@dataclass(frozen=True)
class MaterialsPage:
    """What the page's layout needs (its title and back link), and its main part."""

    offering_title: str
    back_url: str
    body: Markup


def materials_page(user, offering_id: int) -> MaterialsPage:
    """The materials page of an offering, kept; ``NotFound`` as ``materials_pages``."""
    depends_on: DependsOn = offering(offering_id)
    viewer = None
    if user.is_authenticated:
        depends_on += person(user.id)
        viewer = (user.id, tuple(sorted(user.roles)))
    found = cached("materials_page", (offering_id, viewer), depends_on=depends_on,
                   build=lambda: _build(user, offering_id), size=2048)
    if found is None:
        raise NotFound("No such page")
    title, back_url, body = found
    return MaterialsPage(title, back_url, with_csrf(body))


def _build(user, offering_id: int) -> tuple[tuple[str, str, str] | None, datetime | None]:
    try:
        section = materials_pages.materials_page(user, offering_id)
    except NotFound:
        return None, None
    body = render_template("learning/_materials_main.html", section=section, move=SLOT_FORM)
    now = utcnow()
    moments = [m for s in section.offering.sessions for m in (s.starts_at, s.ends_at)]
    return (section.offering.title, section.back_url, body), earliest_after(moments, now)
