"""The events list and the month view as pages (``lms.events.listing`` finds what they show):
each kept in the page cache (``lms.cache``) under the offer's version, per filters (the GET
parameters) and per audience (faculty and admins see drafts too), until the list would change
by itself (a listed session ends; the month's "today" moves on at midnight)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask import render_template
from markupsafe import Markup
from werkzeug.datastructures import MultiDict

from lms.cache import OFFER, cached
from lms.clock import to_london, utcnow
from lms.events import listing
from lms.events.forms import FIRST_YEAR, LAST_YEAR, EventFilterForm
from lms.offerings import policy
from lms.offerings.schedule import local_day_start

KIND_NAMES = {"webinar": "webinars", "network": "network meetings", "festival": "festivals"}
TYPED = ("kind", "from", "to", "person", "strand", "attendance")


@dataclass(frozen=True)
class ListPage:
    """An events page's title and content, the same for everyone of one audience sending the
    same filters."""

    title: str
    body: Markup


def filters_of(form: EventFilterForm, args: MultiDict) -> listing.EventFilters:
    """What the form asks for, leaving out what could not be read (its message shows)."""
    form.validate()
    ok = not form.errors
    kind = form.kind.data if form.kind.data in listing.KIND_LABELS else None
    return listing.EventFilters(
        kind=kind,
        starts=form.date_from.data if ok else None,
        ends=form.date_to.data if ok else None,
        person=(form.person.data or "").strip() if ok else "",
        include_past=args.get("past") == "1",
        strand=(form.strand.data or None) if ok else None,
        attendance=(form.attendance.data or None) if ok else None)


def kept_filters(filters: listing.EventFilters) -> dict:
    """The filters as query arguments, for links that keep them."""
    args = {"kind": filters.kind, "person": filters.person or None,
            "strand": filters.strand, "attendance": filters.attendance}
    return {k: v for k, v in args.items() if v}


def _typed(args: MultiDict) -> dict:
    """The filters as typed (past or not aside), for the "past events" links."""
    return {k: args[k] for k in TYPED if args.get(k)}


def _key(user, args: MultiDict) -> tuple:
    return policy.can_manage(user), tuple(sorted(args.items(multi=True)))


def events_page(user, args: MultiDict) -> ListPage:
    """The events list for these GET parameters, as ``user``'s audience sees it."""
    return cached("events_list", _key(user, args), depends_on=OFFER,
                  build=lambda: _events_page(user, args))


def _events_page(user, args: MultiDict) -> tuple[ListPage, datetime | None]:
    form = EventFilterForm(args)
    filters = filters_of(form, args)
    listings = listing.events_list(user, filters)
    body = Markup(render_template(  # noqa: S704 - autoescaped template output
        "events/_index_main.html", form=form, listings=listings, filters=filters,
        past=filters.include_past, kind=filters.kind, kept=kept_filters(filters),
        typed=_typed(args), can_manage=policy.can_manage(user)))
    title = (("Error: " if form.errors else "") + ("All events" if filters.include_past
                                                   else "Events")
             + (f": {KIND_NAMES[filters.kind]}" if filters.kind else ""))
    # A listed event's next session ending changes what the list shows for it.
    now = utcnow()
    ends = [item.session.ends_at for item in listings
            if item.session is not None and item.session.ends_at > now]
    return ListPage(title, body), min(ends, default=None)


def month_redirect(args: MultiDict) -> dict | None:
    """``?view=month``: where the month view of the "from" date (or this month) is, as
    ``url_for`` arguments, or None when the filters cannot be read."""
    form = EventFilterForm(args)
    filters = filters_of(form, args)
    if form.errors:
        return None
    day = filters.starts or to_london(utcnow()).date()
    return {"year": day.year, "month": day.month, **kept_filters(filters)}


def month_page(user, year: int, month: int, args: MultiDict) -> ListPage:
    """A month's sessions as a calendar, for these GET parameters, as ``user``'s audience
    sees it (the year is checked by the view)."""
    return cached("events_month", (year, month, *_key(user, args)), depends_on=OFFER,
                  build=lambda: _month_page(user, year, month, args))


def _month_page(user, year: int, month: int, args: MultiDict) -> tuple[ListPage, datetime]:
    form = EventFilterForm(args)
    filters = filters_of(form, args)
    shown = listing.month(user, year, month, filters)
    today = to_london(utcnow()).date()
    body = Markup(render_template(  # noqa: S704 - autoescaped template output
        "events/_month_main.html", form=form, month=shown, filters=filters,
        kept=kept_filters(filters), today=today, this_month=date(today.year, today.month, 1),
        month_label=listing.month_label,
        in_range=lambda d: FIRST_YEAR <= d.year <= LAST_YEAR))
    title = ("Error: " if form.errors else "") + f"Events in {shown.label}"
    # "Today" and "This month" move on at midnight.
    return ListPage(title, body), local_day_start(today + timedelta(days=1))
