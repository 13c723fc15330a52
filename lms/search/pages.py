"""The search page's results as kept in the page cache (``lms.cache``).

What the words find is the same for everyone (``services._visible``: only the published offer,
even for faculty) and changes only with the offer, so the rendered results are kept under the
offer's version (``OFFER``), per normalised words, kind, page and audience (staff or not, should
search ever show staff more), in a cache of bounded size (least recently used dropped first),
so queries nobody repeats cannot fill memory. They hold until the next scheduled session ends
(what is "upcoming", and each offering's next date, move on then). The words as typed are put
back in per request (the kept fragment holds slots for them: ``with_query``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import quote_plus

from flask import render_template
from markupsafe import Markup, escape
from sqlalchemy import func, select

from lms.cache import OFFER, cached
from lms.clock import utcnow
from lms.extensions import db
from lms.offerings import policy
from lms.offerings.models import Session, SessionStatus
from lms.search import services

# Where the words typed go in a kept fragment: as text, and in the links' addresses.
TEXT_SLOT = "lms-search-words-3c9e1a"
URL_SLOT = "lmssearchwordsurl3c9e1a"
_SLOTS = re.compile(f"{TEXT_SLOT}|{URL_SLOT}")
# How many result fragments a process keeps (each a few kilobytes).
KEPT = 512


@dataclass(frozen=True)
class ResultsPage:
    """What the page around the kept results needs to know (its title)."""

    kind: services.Kind | None
    page: int
    pages: int
    html: str      # the results, with the slots for the words typed


def results_page(user, query: str, kind: str | None, page: int) -> tuple[ResultsPage, Markup]:
    """The results for ``query`` as ``user`` may see them, and their HTML with the words
    typed put in. One indexed read (the offer's version) when they are kept."""
    words = services.words_of(query or "")
    chosen = services.KIND_KEYS.get(kind or "")
    if not words:  # nothing is searched for: nothing to keep
        results = services.search(user, query, kind, page)
        kept = _render(results)
    else:
        key = (tuple(words), chosen.key if chosen else None, max(1, page),
               policy.can_manage(user))
        kept = cached("search_results", key, depends_on=OFFER, size=KEPT,
                      build=lambda: _build(user, words, chosen, page))
    return kept, with_query(kept.html, query or "")


def _render(results: services.SearchResults) -> ResultsPage:
    html = render_template("search/_results.html", results=results, query_text=TEXT_SLOT,
                           query_url=URL_SLOT)
    return ResultsPage(results.kind, results.page, results.pages, html)


def _build(user, words: list[str], chosen: services.Kind | None,
           page: int) -> tuple[ResultsPage, datetime | None]:
    now = utcnow()
    results = services.search(user, " ".join(words), chosen.key if chosen else None, page)
    # Whether a thing is upcoming, and each offering's next date, move on when a session ends.
    next_end = db.session.scalar(select(func.min(Session.ends_at)).where(
        Session.status == SessionStatus.SCHEDULED, Session.ends_at > now))
    if next_end is not None and next_end.tzinfo is None:
        next_end = next_end.replace(tzinfo=UTC)
    return _render(results), next_end


def with_query(html: str, query: str) -> Markup:
    """A kept fragment with the words as typed: escaped as text, encoded in addresses."""
    as_text, in_url = str(escape(query)), str(escape(quote_plus(query)))
    return Markup(_SLOTS.sub(  # noqa: S704 - escaped above; the rest is template output
        lambda m: as_text if m.group(0) == TEXT_SLOT else in_url, html))
