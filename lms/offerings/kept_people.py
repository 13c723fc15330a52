"""Faculty's people page of an offering as kept in the page cache (``lms.cache``).

The page is built from the offering (its sessions, quotas and places, and the messages sent
on it: all renew its version) and from who people are and where they work (``PEOPLE``:
names, organisations), so it is kept under those two versions, per page of places, page of
history and list of sessions asked for, until time changes it by itself: a session ending
(it moves from "to come" to "held"), or the ICS quotas being released (the open places
left). Its forms' CSRF token is filled in per request. Sent back with the waiting list's
message form in error, the page is built afresh around the form as sent.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import render_template
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup

from lms.cache import PEOPLE, cached, offering
from lms.cache.kept import CSRF_SLOT, earliest_after, with_csrf
from lms.clock import utcnow
from lms.offerings import pages
from lms.offerings import places as offering_places
from lms.offerings.forms import WaitlistMessageForm
from lms.offerings.models import Offering


@dataclass(frozen=True)
class PeoplePage:
    title: str
    body: Markup


def people_page(offering_id: int, page: int, history: int, all_sessions: bool) -> PeoplePage:
    """The people on an offering (NotFound when there is no such offering), kept."""
    key = (offering_id, page, history, all_sessions)
    title, body = cached("offering_people", key, depends_on=offering(offering_id) + PEOPLE,
                         build=lambda: _build(offering_id, page, history, all_sessions),
                         size=256)
    return PeoplePage(title, with_csrf(body))


def people_page_with(shown: Offering, message_form: WaitlistMessageForm) -> PeoplePage:
    """The first page of the people on ``shown``, built afresh around the waiting list's
    message form as sent (with its errors)."""
    body, _ = _body(shown, 1, 1, False, message_form, generate_csrf())
    return PeoplePage(shown.title, body)


def _build(offering_id: int, page: int, history: int, all_sessions: bool
           ) -> tuple[tuple[str, str], datetime | None]:
    from lms.offerings.services import get_offering

    shown = get_offering(offering_id)  # read after the versions, like all that is kept
    body, until = _body(shown, page, history, all_sessions,
                        WaitlistMessageForm(formdata=None, meta={"csrf": False}), CSRF_SLOT)
    return (shown.title, str(body)), until


def _body(shown: Offering, page: int, history: int, all_sessions: bool,
          message_form: WaitlistMessageForm, csrf: str) -> tuple[Markup, datetime | None]:
    now = utcnow()
    groups = pages.people_on(shown, page, history, all_sessions=all_sessions)
    body = render_template(
        "offerings/_people_body.html", offering=shown, groups=groups, reasons=groups.reasons,
        message_form=message_form, csrf=csrf,
        places_left=offering_places.places_left(shown))
    # A session ending moves it to those held; the quotas released open their places.
    moments = [s.ends_at for s in shown.sessions] + [shown.quota_release_at]
    return Markup(body), earliest_after(moments, now)  # noqa: S704 - an autoescaped template
