"""The offer cache: one database value (the offer stamp) that changes whenever what the offer
shows changes, and a per-process cache of rendered page fragments kept under it. Every cached
fragment of the app is declared here, by what it depends on: ``cached(name, key, depends_on=OFFER
or offering(id), build=...)``; views call the page modules that declare them and never see
the cache.

The catalogue, a cohort's page and a calendar feed's validator cost milliseconds to build but
change only when someone changes a course, an offering, a session, a place or a lead. Every
transaction that changes one of the watched tables (seen in the session's flushes and in ORM
``INSERT``/``UPDATE``/``DELETE`` statements, whichever service made them) writes a new random
stamp before it commits, in the same transaction. A page kept under the stamp it was built with
is served while one query reads the same stamp: a change committed by any process (another
gunicorn worker, the scheduler, the CLI) is seen by all of them at their next request.

Which tables are watched is kept per app (``install(app)`` for the offerings feature's own,
``watch(app, table)`` for courses' and events'), and the session listeners are connected
through ``lms.extensions.listen_to_sessions``: attached once to ``db``'s session factory,
which every app in the process shares, they act only in an app that installed the stamp.
"""

from __future__ import annotations

import secrets
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass
from datetime import datetime
from types import MappingProxyType
from typing import Any

from flask import Flask, current_app, has_app_context
from sqlalchemy import inspect, select, text

from lms.clock import utcnow
from lms.extensions import listen_to_sessions, read_row
from lms.offerings.models import OfferStamp

# The offerings feature's own tables: table name -> the columns whose change matters (None:
# any change, insert or delete). Courses and events add theirs with ``watch``.
OFFERINGS_TABLES: Mapping[str, frozenset[str] | None] = MappingProxyType({
    "offering": None, "offering_session": None, "offering_lead": None,
    "offering_quota": None, "enrolment": None, "session_booking": None,
    "user_account": frozenset({"full_name"}),  # leads' names on offering pages
})
_KEY = "lms.offer_stamp"
_CHANGED = "lms_offer_changed"
_UPSERT = text("INSERT INTO offer_stamp (id, stamp) VALUES (1, :stamp) "
               "ON CONFLICT (id) DO UPDATE SET stamp = excluded.stamp")
_READ = select(OfferStamp.__table__.c.stamp).where(OfferStamp.__table__.c.id == 1)


def watch(app: Flask, table_name: str, columns: set[str] | None = None) -> None:
    """A feature's table whose changes change ``app``'s offer pages (from the feature's
    ``init_app``, after the offerings feature's). ``columns``: only changes to these count
    (rows added or deleted always count)."""
    watched = app.extensions.get(_KEY)
    if watched is None:
        raise RuntimeError("lms.offerings.init_app(app) installs the offer stamp first")
    watched[table_name] = frozenset(columns) if columns is not None else None


def _watched() -> dict[str, frozenset[str] | None] | None:
    """The tables the current app watches, or None if it has no offer stamp."""
    return current_app.extensions.get(_KEY) if has_app_context() else None


def _touches(state, watched: Mapping[str, frozenset[str] | None]) -> bool:
    for table in state.mapper.tables:
        if table.name not in watched:
            continue
        columns = watched[table.name]
        if columns is None or state.key is None or state.deleted or state.was_deleted:
            return True
        if any(state.attrs[c].history.has_changes() for c in columns if c in state.attrs):
            return True
    return False


def _after_flush(session, _context) -> None:
    if session.info.get(_CHANGED):
        return
    watched = _watched()
    if watched is None:
        return
    for obj in (*session.new, *session.deleted):
        if any(t.name in watched for t in inspect(obj).mapper.tables):
            session.info[_CHANGED] = True
            return
    if any(_touches(inspect(obj), watched) for obj in session.dirty):
        session.info[_CHANGED] = True


def _on_statement(orm_state) -> None:
    if not (orm_state.is_insert or orm_state.is_update or orm_state.is_delete):
        return
    watched = _watched()
    if watched is None:
        return
    table = getattr(orm_state.statement, "table", None)
    if table is None or getattr(table, "name", None) in watched:
        orm_state.session.info[_CHANGED] = True


def _before_commit(session) -> None:
    if _watched() is None:
        return
    session.flush()  # what the commit would flush next must be seen now
    if session.info.pop(_CHANGED, False):
        session.connection().execute(_UPSERT, {"stamp": secrets.token_hex(16)})


def _transaction_ended(session, transaction) -> None:
    if transaction.parent is None:
        session.info.pop(_CHANGED, None)


def install(app: Flask) -> None:
    """Keep ``app``'s offer stamp: watch the offerings feature's tables in every session of
    ``app`` (from the offerings feature's ``init_app``; again is harmless)."""
    watched = app.extensions.setdefault(_KEY, {})
    for table_name, columns in OFFERINGS_TABLES.items():
        watched.setdefault(table_name, columns)
    # The listeners act where ``_watched()`` finds this app's tables.
    listen_to_sessions(app, "lms.offer_stamp_listeners", {
        "after_flush": _after_flush, "do_orm_execute": _on_statement,
        "before_commit": _before_commit, "after_transaction_end": _transaction_ended})


def current() -> str | None:
    """The stamp now (one indexed read), or None before the first change is committed. Read
    before whatever is built under it, so what is built is at least as new as the stamp."""
    row = read_row(_READ)
    return row[0] if row else None


class PageCache:
    """Rendered pages (or any values) of this process kept under the offer stamp they were
    built with, least recently used dropped first. An entry may also say until when it holds
    (a catalogue's "next run" moves on when that run starts)."""

    def __init__(self, size: int = 256):
        self.size = size
        self._entries: OrderedDict[Hashable, tuple[str, datetime | None, Any]] = OrderedDict()
        self._lock = threading.Lock()

    def get_or_build(self, stamp: str | None, key: Hashable,
                     build: Callable[[], tuple[Any, datetime | None]]) -> Any:
        """The value kept for ``key`` under ``stamp`` and still valid, or ``build()``'s
        (value, valid until or None), kept. With no stamp nothing is kept."""
        if stamp is None:
            return build()[0]
        now = utcnow()
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and entry[0] == stamp and (entry[1] is None or now < entry[1]):
                self._entries.move_to_end(key)
                return entry[2]
        value, until = build()
        with self._lock:
            self._entries[key] = (stamp, until, value)
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)
        return value

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


def page_cache(name: str, size: int = 256) -> PageCache:
    """This app's cache called ``name`` (each app, like each worker, has its own)."""
    caches = current_app.extensions.setdefault("lms_page_caches", {})
    cache = caches.get(name)
    if cache is None:
        cache = caches.setdefault(name, PageCache(size))
    return cache


# ---------------------------------------------------------------------------- declaring fragments


@dataclass(frozen=True)
class DependsOn:
    """What a cached fragment is built from: the whole offer (a listing of courses, events or
    sessions) or one offering (its page). Both are kept under the offer stamp, which any
    change to a watched table renews; one offering's fragments are also keyed by its id."""

    scope: str
    id: Hashable = None


OFFER = DependsOn("offer")


def offering(offering_id: int) -> DependsOn:
    """A fragment built from one offering: its course, sessions, places and leads."""
    return DependsOn("offering", offering_id)


def cached(name: str, key: Hashable, *, depends_on: DependsOn,
           build: Callable[[], tuple[Any, datetime | None]], size: int = 256) -> Any:
    """The fragment ``name`` for ``key``, as kept in this process while what it
    ``depends_on`` has not changed (one query reads the stamp), else ``build()``'s (value,
    valid until or None), kept. ``build`` runs after the stamp is read, so what it builds is
    at least as new as the stamp it is kept under."""
    return page_cache(name, size).get_or_build(current(), (depends_on, key), build)
