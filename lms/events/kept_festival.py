"""A festival's programme as kept in the page cache (``lms.cache``): the timetable with
places left and the viewer's booking buttons (``pages.programme``, the booking rule's
answers when it was built), under the festival's version, and for a signed-in person
their version and the offer's too (their bookings, and the sessions elsewhere theirs may
clash with), per person and registration, until a session starts or ends, an offered
place lapses or midnight. Its forms' CSRF token is filled in per request.
"""

from __future__ import annotations

from datetime import datetime

from flask import render_template
from markupsafe import Markup

from lms.cache import OFFER, cached, offering, person
from lms.cache.kept import CSRF_SLOT, earliest_after, next_midnight, with_csrf
from lms.clock import utcnow
from lms.events import pages
from lms.events.models import Festival


def programme_html(festival: Festival, user, registered: bool) -> Markup:
    """The festival's programme for ``user`` (signed in or not), kept."""
    signed_in = bool(getattr(user, "is_authenticated", False))
    depends_on = offering(festival.id)
    if signed_in:
        depends_on = depends_on + person(user.id) + OFFER
    key = (festival.id, user.id if signed_in else None, signed_in and registered)
    body = cached("festival_programme", key, depends_on=depends_on,
                  build=lambda: _build(festival, user, registered), size=1024)
    return with_csrf(body)


def _build(festival: Festival, user, registered: bool) -> tuple[str, datetime | None]:
    now = utcnow()
    programme = pages.programme(festival, user, registered=registered)
    body = render_template("events/_festival_programme.html", programme=programme,
                           event=festival, now=now, csrf_token=lambda: CSRF_SLOT)
    moments = [next_midnight(now)]
    for s in programme.sessions:  # booking closes when a session starts
        moments += [s.starts_at, s.ends_at]
    moments += [st.mine.offer_expires_at for st in programme.standing.values()
                if st.mine is not None]
    return body, earliest_after(moments, now)
