"""JSON responses: an ``ETag`` on every read (``If-None-Match`` answers 304), and lists a page
at a time with ``links`` (and a ``Link`` header) to the first, previous, next and last pages."""

from __future__ import annotations

import hashlib
import json

from flask import Response, request, url_for

from lms.api.queries import Page
from lms.web import absolute_url

JSON = "application/json"
# Query parameters a page's links carry on to the other pages.
FILTERS = frozenset({"from", "to", "ics", "kind", "status", "strand", "course", "offering"})


def _dumps(data) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def json_response(data, status: int = 200, headers: dict[str, str] | None = None,
                  etag: bool = True) -> Response:
    """``data`` as JSON. Reads carry a strong ``ETag`` of the body; a client that already
    has it (``If-None-Match``) gets 304 and no body. Answers may differ by caller, so caches
    keep them private and check back each time."""
    body = _dumps(data)
    response = Response(body, status=status, mimetype=JSON)
    response.headers["Cache-Control"] = "private, no-cache"
    response.headers["Vary"] = "Authorization, Cookie"
    for name, value in (headers or {}).items():
        response.headers[name] = value
    if etag and status == 200 and request.method in ("GET", "HEAD"):
        tag = hashlib.sha256(body.encode()).hexdigest()[:32]
        response.set_etag(tag)
        if request.if_none_match.contains_weak(tag):
            response.status_code = 304
            response.set_data(b"")
            response.headers.pop("Content-Type", None)
    return response


def page_links(page: Page) -> dict[str, str | None]:
    """Addresses of this, the first, previous, next and last pages, keeping every other
    query parameter as it was."""
    kept = {name: values for name, values in request.args.to_dict(flat=False).items()
            if name in FILTERS}

    def at(number: int) -> str:
        values = {**kept, **(request.view_args or {}), "page": number,
                  "per_page": page.paging.per_page}
        return absolute_url(url_for(request.endpoint, **values))

    current = page.paging.page
    return {
        "self": at(current),
        "first": at(1),
        "prev": at(min(current - 1, page.pages)) if current > 1 else None,
        "next": at(current + 1) if current < page.pages else None,
        "last": at(page.pages),
    }


def page_response(page: Page, items: list[dict]) -> Response:
    """A page of a list: ``data``, ``meta`` (page, per_page, total, pages) and ``links``."""
    links = page_links(page)
    header = ", ".join(f'<{url}>; rel="{rel}"' for rel, url in links.items()
                       if url is not None and rel != "self")
    return json_response({
        "data": items,
        "meta": {"page": page.paging.page, "per_page": page.paging.per_page,
                 "total": page.total, "pages": page.pages},
        "links": links,
    }, headers={"Link": header})
