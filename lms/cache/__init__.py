"""One caching layer: page fragments kept per process under the versions of what they
depend on.

A page module declares each fragment by what it is built from, ``cached(name, key,
depends_on=OFFER, offering(id), person(id) or a sum of them, build=...)``; views call the
page modules and never see the cache. Features name the tables pages are built from
(``watch``); a transaction that changes a row writes new random versions of what the row
is part of (its offering, its person, the listings) before it commits, in the same
transaction, whichever service, job or command made it. A fragment is served while one
indexed read (all of a request's versions in one statement) finds the versions it was built
with, so a change committed by any process (another gunicorn worker, the scheduler, the
CLI) is seen by all of them at their next request, and a booking on one cohort rebuilds that
cohort's page and the listings, not every other page.
"""

from __future__ import annotations

from flask import Flask

from lms.cache.fragments import (
    NOTHING,
    OFFER,
    PEOPLE,
    DependsOn,
    cached,
    fragment_cache,
    kept_under,
    named,
    offering,
    page_reads,
    person,
    prefetch,
    prefetch_for_request,
)
from lms.cache.versions import also_renews, read, watch

__all__ = ["NOTHING", "OFFER", "PEOPLE", "DependsOn", "also_renews", "cached", "fragment_cache",
           "init_app", "kept_under", "named", "offering", "page_reads", "person", "prefetch",
           "prefetch_for_request", "read", "watch"]


def init_app(app: Flask) -> None:
    """Keep the versions in every session of ``app`` (before the features that ``watch``)."""
    from lms.cache import versions

    versions.install(app)
