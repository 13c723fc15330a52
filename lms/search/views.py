"""``/search``: what the words typed in the header's search box find."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from flask_login import current_user

from lms.search import pages
from lms.search.forms import SearchForm

bp = Blueprint("search", __name__)


@bp.route("/search")
def index():
    """Results grouped by kind, upcoming first; one kind a page at a time on request (kept
    in the page cache, ``lms.search.pages``)."""
    form = SearchForm(request.args)
    form.validate()
    query = "" if form.q.errors else (form.q.data or "")
    page = 1 if form.page.errors else (form.page.data or 1)
    results, results_html = pages.results_page(current_user, query, form.kind.data, page)
    return render_template("search/index.html", form=form, query=query, results=results,
                           results_html=results_html)
