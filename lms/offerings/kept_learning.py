"""My learning as kept in the page cache (``lms.cache``): one person's page, under their
version (their places) and the offer's (what their offerings show), per roles and
organisation (a DSU lead may answer for nominations), until time changes it (a place's
first session starts, a next session ends, an offered place expires). The buttons are the
policy's answers when it was built; its forms' CSRF token is filled in per request.
"""

from __future__ import annotations

from datetime import datetime

from flask import render_template
from markupsafe import Markup
from sqlalchemy import case, func, select

from lms.cache import OFFER, cached, person
from lms.cache.kept import CSRF_SLOT, SLOT_FORM, earliest_after, with_csrf
from lms.clock import utcnow
from lms.extensions import db
from lms.offerings import pages
from lms.offerings.models import EnrolmentState, Session, SessionStatus

__all__ = ["CSRF_SLOT", "my_learning_page"]


def my_learning_page(user) -> Markup:
    """The person's My learning, kept for them."""
    key = (user.id, tuple(sorted(user.roles)), user.organisation_id)
    body = cached("my_learning", key, depends_on=person(user.id) + OFFER,
                  build=lambda: _build(user), size=2048)
    return with_csrf(body)


def _build(user) -> tuple[str, datetime | None]:
    now = utcnow()
    page = pages.my_learning(user, now)
    body = render_template("offerings/_my_learning_main.html", page=page, form=SLOT_FORM)
    return body, _valid_until(page, now)


def _valid_until(page: pages.MyLearning, now: datetime) -> datetime | None:
    """When the page would change by itself: a row's first session starting (it moves to
    "In progress"), a next session ending (the next one shows), an offer expiring."""
    rows = page.action + page.upcoming + page.in_progress
    moments = [r.enrolment.offer_expires_at for r in rows
               if r.enrolment.state == EnrolmentState.OFFERED and r.enrolment.offer_expires_at]
    active = [r.enrolment.offering_id for r in rows]
    if active:
        first_start, next_end = db.session.execute(
            select(func.min(case((Session.starts_at > now, Session.starts_at))),
                   func.min(Session.ends_at))
            .where(Session.offering_id.in_(active), Session.status != SessionStatus.CANCELLED,
                   Session.ends_at > now)).one()
        moments += [m for m in (first_start, next_end) if m is not None]
    return earliest_after(moments, now)
