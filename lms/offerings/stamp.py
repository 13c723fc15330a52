"""The offer stamp: one database value that changes whenever what the offer shows changes, and
a per-process cache of rendered pages kept under it.

The catalogue, a cohort's page and a calendar feed's validator cost milliseconds to build but
change only when someone changes a course, an offering, a session, a place or a lead. Every
transaction that changes one of the watched tables (seen in the session's flushes and in ORM
``INSERT``/``UPDATE``/``DELETE`` statements, whichever service made them) writes a new random
stamp before it commits, in the same transaction. A page kept under the stamp it was built with
is served while one query reads the same stamp: a change committed by any process (another
gunicorn worker, the scheduler, the CLI) is seen by all of them at their next request.
"""

from __future__ import annotations

import secrets
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from datetime import datetime
from typing import Any

from flask import current_app
from sqlalchemy import event, inspect, select, text

from lms.clock import utcnow
from lms.extensions import read_row
from lms.offerings.models import OfferStamp

# Table name -> the columns whose change matters (None: any change, insert or delete).
_WATCHED: dict[str, frozenset[str] | None] = {
    "offering": None, "offering_session": None, "offering_lead": None,
    "offering_quota": None, "enrolment": None, "session_booking": None,
    "user_account": frozenset({"full_name"}),  # leads' names on offering pages
}
_CHANGED = "lms_offer_changed"
_UPSERT = text("INSERT INTO offer_stamp (id, stamp) VALUES (1, :stamp) "
               "ON CONFLICT (id) DO UPDATE SET stamp = excluded.stamp")
_READ = select(OfferStamp.__table__.c.stamp).where(OfferStamp.__table__.c.id == 1)


def watch(table_name: str, columns: set[str] | None = None) -> None:
    """A feature's table whose changes change the offer pages (at import). ``columns``: only
    changes to these count (rows added or deleted always count)."""
    _WATCHED[table_name] = frozenset(columns) if columns is not None else None


def _touches(state) -> bool:
    for table in state.mapper.tables:
        if table.name not in _WATCHED:
            continue
        columns = _WATCHED[table.name]
        if columns is None or state.key is None or state.deleted or state.was_deleted:
            return True
        if any(state.attrs[c].history.has_changes() for c in columns if c in state.attrs):
            return True
    return False


def _after_flush(session, _context) -> None:
    if session.info.get(_CHANGED):
        return
    for obj in (*session.new, *session.deleted):
        if any(t.name in _WATCHED for t in inspect(obj).mapper.tables):
            session.info[_CHANGED] = True
            return
    if any(_touches(inspect(obj)) for obj in session.dirty):
        session.info[_CHANGED] = True


def _on_statement(orm_state) -> None:
    if not (orm_state.is_insert or orm_state.is_update or orm_state.is_delete):
        return
    table = getattr(orm_state.statement, "table", None)
    if table is None or getattr(table, "name", None) in _WATCHED:
        orm_state.session.info[_CHANGED] = True


def _before_commit(session) -> None:
    session.flush()  # what the commit would flush next must be seen now
    if session.info.pop(_CHANGED, False):
        session.connection().execute(_UPSERT, {"stamp": secrets.token_hex(16)})


def _transaction_ended(session, transaction) -> None:
    if transaction.parent is None:
        session.info.pop(_CHANGED, None)


_installed = False


def install() -> None:
    """Watch every Flask-SQLAlchemy session (once per process)."""
    global _installed
    if _installed:
        return
    from flask_sqlalchemy.session import Session

    event.listen(Session, "after_flush", _after_flush)
    event.listen(Session, "do_orm_execute", _on_statement)
    event.listen(Session, "before_commit", _before_commit)
    event.listen(Session, "after_transaction_end", _transaction_ended)
    _installed = True


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
