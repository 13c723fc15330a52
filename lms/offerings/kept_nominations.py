"""A DSU lead's nominations pages as kept in the page cache (``lms.cache``).

- The list of cohorts taking nominations (``nominations_page``) is built from offerings,
  their sessions, quotas and places: all renew the listings' version (``OFFER``).
- One cohort's page (``nominate_page``: the ICS's quota, its nominations, the people who
  may be nominated) is built from that offering (its version) and from who people are and
  where they work (``PEOPLE``: names, jobs, organisations, confirmed accounts), which any
  change to an account, an organisation or a move between them renews.

Each is kept per organisation (what a lead sees is their ICS's), per roles (which offerings
they may see) and per the ICS's name and standing, until time changes it by itself: a
window opening or closing, booking closing when the cohort starts or ends, quotas released.
The forms' CSRF token is filled in per request; flash messages are the layout's.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from flask import Flask, render_template
from markupsafe import Markup
from sqlalchemy.orm import lazyload

from lms import cache
from lms.cache import OFFER, PEOPLE, cached, offering
from lms.cache.kept import CSRF_SLOT, earliest_after, with_csrf
from lms.clock import utcnow
from lms.errors import NotFound
from lms.extensions import db
from lms.offerings import pages, policy
from lms.offerings.models import Offering

# What pages listing people show of them: a change to one of these renews ``PEOPLE``.
_PEOPLE_TABLES: dict[str, set[str] | None] = {
    "user_account": {"full_name", "job_title", "email", "organisation_id",
                     "is_active_account", "email_verified_at"},
    "organisation": None, "organisation_change": None,
}


def watch_people(app: Flask) -> None:
    """Renew ``PEOPLE`` when a person's name, job, email, organisation or account changes,
    or an organisation or a move between organisations does."""
    for table_name, columns in _PEOPLE_TABLES.items():
        for scope in PEOPLE.scopes:
            cache.also_renews(app, table_name, scope, columns=columns)


def lead_key(lead) -> tuple:
    """What decides a DSU lead's view besides the data: who they are (their own place is
    theirs to withdraw from), their ICS (its id, name and whether it is one) and their roles
    (which offerings they may see, whose moves they decide)."""
    organisation = lead.organisation
    return (lead.id, organisation.id, organisation.name, organisation.is_ics,
            tuple(sorted(lead.roles)))


def window_moments(offerings: Iterable[Offering]) -> list[datetime | None]:
    """When nominating for these offerings may change by itself: their window opening or
    closing, their quotas released, booking closing as they start or end."""
    return [m for o in offerings for m in (o.nomination_opens_at, o.nomination_closes_at,
                                           o.quota_release_at, o.starts_at, o.ends_at)]


# ---------------------------------------------------------------------------- the list


def nominations_page(lead) -> Markup:
    """The cohorts taking nominations with the lead's ICS's quota use, kept."""
    body = cached("nominations", lead_key(lead), depends_on=OFFER,
                  build=lambda: _build_list(lead), size=256)
    return Markup(body)  # noqa: S704 - an autoescaped template's output


def _build_list(lead) -> tuple[str, datetime | None]:
    now = utcnow()
    views = pages.nomination_offerings(lead)
    body = render_template("offerings/_nominations_table.html", views=views)
    return body, earliest_after(window_moments(v.offering for v in views), now)


# ---------------------------------------------------------------------------- one offering


def offering_to_nominate(lead, offering_id: int, whole: bool = False) -> Offering:
    """The offering when it takes nominations and the lead may see it, else NotFound: its
    own columns only (one query), or ``whole``: read again (what is kept is built from what
    was committed after the versions were read), with its sessions and quotas."""
    if whole:
        from lms.offerings.services import leads_loaded

        found = db.session.get(Offering, offering_id, options=[leads_loaded()],
                               populate_existing=True)
    else:
        found = db.session.get(Offering, offering_id, options=[lazyload("*")])
    if found is None or found.booking_mode != "nomination" or not policy.can_see(lead, found):
        raise NotFound("No such course, cohort or event")
    return found


@dataclass(frozen=True)
class NominatePage:
    offering: Offering
    body: Markup


def nominate_page(lead, offering_id: int, query: str) -> NominatePage:
    """One offering's nominations page for the lead (``query``: the people search), kept."""
    shown = offering_to_nominate(lead, offering_id)
    key = (offering_id, query, *lead_key(lead))
    body = cached("nominate", key, depends_on=offering(offering_id) + PEOPLE,
                  build=lambda: _build_one(lead, offering_id, query), size=512)
    return NominatePage(shown, with_csrf(body))


def _build_one(lead, offering_id: int, query: str) -> tuple[str, datetime | None]:
    from lms.offerings.forms import PeopleSearchForm
    now = utcnow()
    full = offering_to_nominate(lead, offering_id, whole=True)  # read after the versions
    view = pages.quota_view(lead, full)
    search = PeopleSearchForm(formdata=None, q=query or None)
    body = render_template(
        "offerings/_nominate_body.html", offering=full, organisation=lead.organisation,
        view=view, search=search,
        reasons=pages.reasons_of(view.nominations), csrf=CSRF_SLOT,
        people=pages.nominable_people(lead, full, query))
    return body, earliest_after(window_moments([full]), now)
