"""The events list (``/events``) and the month view (``/events/month/<year>/<month>``): GET
filters, so every filtered list can be bookmarked; a value that cannot be read is shown
back with a message, never a 500."""

from __future__ import annotations

from datetime import date

from flask import abort, redirect, render_template, request, url_for
from flask_login import current_user

from lms.clock import to_london, utcnow
from lms.events import listing
from lms.events.forms import FIRST_YEAR, LAST_YEAR, EventFilterForm
from lms.events.views import bp


def _filters(form: EventFilterForm) -> listing.EventFilters:
    """What the form asks for, leaving out what could not be read (its message shows)."""
    form.validate()
    ok = not form.errors
    kind = form.kind.data if form.kind.data in listing.KIND_LABELS else None
    return listing.EventFilters(
        kind=kind,
        starts=form.date_from.data if ok else None,
        ends=form.date_to.data if ok else None,
        person=(form.person.data or "").strip() if ok else "",
        include_past=request.args.get("past") == "1",
        strand=(form.strand.data or None) if ok else None,
        attendance=(form.attendance.data or None) if ok else None)


def _kept(filters: listing.EventFilters) -> dict:
    """The filters as query arguments, for links that keep them."""
    args = {"kind": filters.kind, "person": filters.person or None,
            "strand": filters.strand, "attendance": filters.attendance}
    return {k: v for k, v in args.items() if v}


def _typed() -> dict:
    """The filters as typed (past or not aside), for the "past events" links."""
    return {k: request.args[k] for k in ("kind", "from", "to", "person", "strand", "attendance")
            if request.args.get(k)}


@bp.route("/events")
def index():
    """Events to come (or, on request, past ones too), filtered by dates, kind and person;
    ``?view=month`` goes to the month view of the "from" date (or this month)."""
    form = EventFilterForm(request.args)
    filters = _filters(form)
    if request.args.get("view") == "month" and not form.errors:
        day = filters.starts or to_london(utcnow()).date()
        return redirect(url_for("events.month", year=day.year, month=day.month,
                                **_kept(filters)))
    listings = listing.events_list(current_user, filters)
    return render_template("events/index.html", form=form, listings=listings,
                           filters=filters, past=filters.include_past, kind=filters.kind,
                           kept=_kept(filters), typed=_typed())


@bp.route("/events/month/<int:year>/<int:month>")
def month(year: int, month: int):
    """A month's sessions as a calendar (a table with a caption; a list on a phone)."""
    if not (FIRST_YEAR <= year <= LAST_YEAR and 1 <= month <= 12):
        abort(404)
    form = EventFilterForm(request.args)
    filters = _filters(form)
    shown = listing.month(current_user, year, month, filters)
    today = to_london(utcnow()).date()
    return render_template("events/month.html", form=form, month=shown, filters=filters,
                           kept=_kept(filters), today=today,
                           this_month=date(today.year, today.month, 1),
                           month_label=listing.month_label,
                           in_range=lambda d: FIRST_YEAR <= d.year <= LAST_YEAR)
