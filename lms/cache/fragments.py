"""Fragments kept per process under the versions of what they depend on."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import Flask, current_app, has_request_context, request

from lms.cache import versions
from lms.clock import utcnow


@dataclass(frozen=True)
class DependsOn:
    """What a fragment is built from: the versions it is kept under (``*`` always too)."""

    scopes: tuple[str, ...]

    def __add__(self, other: DependsOn) -> DependsOn:
        return DependsOn(tuple(dict.fromkeys((*self.scopes, *other.scopes))))


OFFER = DependsOn((versions.OFFER,))
"""A listing: courses, cohorts, events, sessions, and their places left."""


def offering(offering_id: int) -> DependsOn:
    """One offering's page: its course or event, sessions, places, leads."""
    return DependsOn((versions.offering_scope(offering_id),))


def person(user_id: int) -> DependsOn:
    """One person's places and the offerings they lead (not what those offerings show: add
    ``OFFER`` or ``offering(id)`` for that)."""
    return DependsOn((versions.person_scope(user_id),))


def named(scope: str) -> DependsOn:
    """What the tables ``versions.also_renews`` names for ``scope`` hold (a dashboard: every
    place, attendance and completion of the region)."""
    return DependsOn((scope,))


PEOPLE = DependsOn(("people",))
"""Who people are, as staff lists show them (registers, marking, messages, nominations, an
offering's people, the DSU lead's home): names, jobs, emails, organisations, whether their
account is open and confirmed (``lms.offerings.kept_nominations.watch_people`` names the
tables and columns)."""

NOTHING = DependsOn(())
"""Only what renews everything (a page of fixed text built from the database once)."""


class FragmentCache:
    """Values of this process kept under the versions they were built with, least recently
    used dropped first. An entry may also say until when it holds (a catalogue's "next run"
    moves on when that run starts)."""

    def __init__(self, size: int = 256):
        self.size = size
        self._entries: OrderedDict[Hashable, tuple[tuple, datetime | None, Any]] = OrderedDict()
        self._lock = threading.Lock()

    def get_or_build(self, kept_under: tuple | None, key: Hashable,
                     build: Callable[[], tuple[Any, datetime | None]]) -> Any:
        """The value kept for ``key`` under ``kept_under`` and still valid, or ``build()``'s
        (value, valid until or None), kept. With None (nothing written yet) nothing is kept."""
        if kept_under is None:
            return build()[0]
        now = utcnow()
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and entry[0] == kept_under and (
                    entry[1] is None or now < entry[1]):
                self._entries.move_to_end(key)
                return entry[2]
        value, until = build()
        with self._lock:
            self._entries[key] = (kept_under, until, value)
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)
        return value

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


def fragment_cache(name: str, size: int = 256) -> FragmentCache:
    """This app's cache called ``name`` (each app, like each worker, has its own)."""
    caches = current_app.extensions.setdefault("lms_fragment_caches", {})
    cache = caches.get(name)
    if cache is None:
        cache = caches.setdefault(name, FragmentCache(size))
    return cache


def kept_under(found: dict[str, str | None], depends_on: DependsOn) -> tuple | None:
    """The versions a fragment is kept under, from what ``versions.read`` found; None when
    ``*`` was never written (a database nothing has been committed to: keep nothing)."""
    everything = found.get(versions.EVERYTHING)
    if everything is None:
        return None
    return (everything, *(found.get(scope) for scope in depends_on.scopes))


def prefetch(*depends_on: DependsOn) -> None:
    """Read the versions of everything a page's fragments depend on in one statement (the
    ``cached`` calls that follow in this request read none)."""
    versions.read(scope for d in depends_on for scope in d.scopes)


_PAGE_READS = "lms_cache_page_reads"


def page_reads(app: Flask, endpoint: str, depends_on: Callable[[Any], DependsOn],
               arg: str = "id") -> None:
    """The pages of ``endpoint`` are kept under ``depends_on(<its address's arg>)``, known
    from the address alone (``offering``: the page of the offering ``id`` names): a signed-in
    request reads those versions in the same statement as the person's own
    (``prefetch_for_request``), not in a second. Only a prefetch: a wrong one costs a read,
    never a stale page."""
    app.extensions.setdefault(_PAGE_READS, {})[endpoint] = (depends_on, arg)


def prefetch_for_request(*depends_on: DependsOn) -> None:
    """``prefetch`` these and what the request's endpoint declared (``page_reads``)."""
    declared = (current_app.extensions.get(_PAGE_READS, {}).get(request.endpoint)
                if has_request_context() else None)
    if declared is not None and request.view_args and declared[1] in request.view_args:
        reads, arg = declared
        depends_on = (*depends_on, reads(request.view_args[arg]))
    prefetch(*depends_on)


def cached(name: str, key: Hashable, *, depends_on: DependsOn,
           build: Callable[[], tuple[Any, datetime | None]], size: int = 256) -> Any:
    """The fragment ``name`` for ``key``, as kept in this process while the versions of what
    it ``depends_on`` are the same (one indexed read, once per request), else ``build()``'s
    (value, valid until or None), kept. ``build`` runs after the versions are read, so what
    it builds is at least as new as the versions it is kept under."""
    found = versions.read(depends_on.scopes)
    return fragment_cache(name, size).get_or_build(
        kept_under(found, depends_on), (depends_on, key), build)
