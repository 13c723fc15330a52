"""The events list (``/events``) and the month view (``/events/month/<year>/<month>``): GET
filters, so every filtered list can be bookmarked; a value that cannot be read is shown
back with a message, never a 500. Both pages are kept in the page cache
(``lms.events.list_pages``)."""

from __future__ import annotations

from flask import abort, redirect, render_template, request, url_for
from flask_login import current_user

from lms.events import list_pages
from lms.events.forms import FIRST_YEAR, LAST_YEAR
from lms.events.views import bp


@bp.route("/events")
def index():
    """Events to come (or, on request, past ones too), filtered by dates, kind and person;
    ``?view=month`` goes to the month view of the "from" date (or this month)."""
    if request.args.get("view") == "month":
        month = list_pages.month_redirect(request.args)
        if month is not None:
            return redirect(url_for("events.month", **month))
    page = list_pages.events_page(current_user, request.args)
    return render_template("events/index.html", page=page)


@bp.route("/events/month/<int:year>/<int:month>")
def month(year: int, month: int):
    """A month's sessions as a calendar (a table with a caption; a list on a phone)."""
    if not (FIRST_YEAR <= year <= LAST_YEAR and 1 <= month <= 12):
        abort(404)
    page = list_pages.month_page(current_user, year, month, request.args)
    return render_template("events/month.html", page=page)
