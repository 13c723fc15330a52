"""The versions: what a transaction changed, written as new random values before it commits
(in the same transaction, whichever service made the change), and read back in one indexed
statement by the pages kept under them.

A feature says which of its tables pages are built from, and what a changed row is part of
(``watch``): its offering (``offering="offering_id"``), a person (``person="user_id"``), a
session's offering (``session="session_id"``, looked up at commit), and whether listings show
it (``listings``, the ``offer`` version). A row of a watched table with no such column, or a
bulk ``INSERT``/``UPDATE``/``DELETE`` statement on one (which rows, nobody knows), renews
``*``, which every fragment is kept under. Watched tables are kept per app; the session
listeners are attached once to ``db``'s session factory (``listen_to_sessions``) and act only
in an app that installed the cache.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from flask import Flask, current_app, has_app_context, has_request_context, request
from sqlalchemy import bindparam, inspect, select, text

from lms.cache.models import CacheVersion
from lms.extensions import listen_to_sessions, read_rows

EVERYTHING = "*"
OFFER = "offer"
_KEY = "lms.cache_watched"
_ALSO = "lms.cache_also_renews"
_CHANGED = "lms_cache_scopes"
_MEMO = "lms.cache_versions"
_UPSERT = text("INSERT INTO cache_version (scope, version) VALUES (:scope, :version) "
               "ON CONFLICT (scope) DO UPDATE SET version = excluded.version")
_FIRST = text("INSERT INTO cache_version (scope, version) VALUES ('*', :version) "
              "ON CONFLICT (scope) DO NOTHING")
# Up to SLOTS scopes in one prebuilt statement (unused slots repeat ``*``).
SLOTS = 6
_table = CacheVersion.__table__
_READ = select(_table.c.scope, _table.c.version).where(
    _table.c.scope.in_([bindparam(f"s{i}") for i in range(SLOTS)]))


@dataclass(frozen=True)
class Watch:
    """What a change to a row of one table renews."""

    columns: frozenset[str] | None       # only changes to these count (None: any)
    parts: tuple[tuple[str, str], ...]   # (scope prefix, attribute) of what the row is part of
    listings: bool                       # listings show it: renew ``offer``
    cascades: bool                       # deleting a row deletes others unseen: renew ``*``


def offering_scope(offering_id: int) -> str:
    return f"offering:{offering_id}"


def person_scope(user_id: int) -> str:
    return f"person:{user_id}"


def watch(app: Flask, table_name: str, *, columns: Iterable[str] | None = None,
          listings: bool = True, offering: str | None = None, person: str | None = None,
          session: str | None = None, leads: str | None = None,
          cascades: bool = False) -> None:
    """Pages of ``app`` are built from ``table_name`` (from a feature's ``init_app``, after
    ``lms.cache.init_app``). ``offering``/``person``/``session``: the row's attribute naming
    the offering, person or session it is part of, or the person whose led offerings show it
    (``leads``); none of them: a change renews everything. ``columns``: only changes to these
    count (rows added or deleted always count). ``cascades``: the database deletes other rows
    with it, unseen, so deleting one renews everything."""
    watched = app.extensions.get(_KEY)
    if watched is None:
        raise RuntimeError("lms.cache.init_app(app) installs the cache first")
    parts = tuple((prefix, attribute) for prefix, attribute in
                  (("offering", offering), ("person", person), ("session", session),
                                   ("leads", leads))
                  if attribute)
    watched[table_name] = Watch(frozenset(columns) if columns is not None else None, parts,
                                listings, cascades)


def also_renews(app: Flask, table_name: str, scope: str, *,
                columns: Iterable[str] | None = None) -> None:
    """A change to a row of ``table_name`` (to ``columns``, if given; rows added or deleted
    always count) also renews the named ``scope``, beside whatever ``watch`` says: for pages
    built from many tables across every offering and person (the dashboards), kept under
    ``named(scope)``. ``scope`` may name one of the row's attributes in braces
    (``"survey:{survey_id}"``): the scope of that value, now and before (none: ``*``), for
    a page of one thing that no offering or person stands for (one survey's results). Any
    number of scopes per table, and apart from ``watch``'s one rule per table, so two
    features never overwrite each other's. A bulk statement on the table renews ``*``."""
    if app.extensions.get(_KEY) is None:
        raise RuntimeError("lms.cache.init_app(app) installs the cache first")
    rules = app.extensions.setdefault(_ALSO, {}).setdefault(table_name, [])
    rules.append((scope, frozenset(columns) if columns is not None else None))


def _also() -> Mapping[str, list[tuple[str, frozenset[str] | None]]]:
    return current_app.extensions.get(_ALSO, {})


def _also_scopes(state, also: Mapping, changed: bool) -> set[str]:
    """The named scopes a change to this row renews (``also_renews``)."""
    scopes: set[str] = set()
    for table in state.mapper.tables:
        for scope, columns in also.get(table.name, ()):
            if changed or columns is None or any(
                    state.attrs[c].history.has_changes() for c in columns if c in state.attrs):
                scopes |= _expanded(state, scope)
    return scopes


def _expanded(state, scope: str) -> set[str]:
    """``scope``, its ``{attribute}`` (if any) filled in with the row's values."""
    if "{" not in scope:
        return {scope}
    head, rest = scope.split("{", 1)
    attribute, tail = rest.split("}", 1)
    values = _values(state, attribute)
    return {f"{head}{value}{tail}" for value in values} if values else {EVERYTHING}


def _watched() -> Mapping[str, Watch] | None:
    return current_app.extensions.get(_KEY) if has_app_context() else None


def _values(state, attribute: str) -> set:
    """The attribute's value now and before (a place moved to another cohort is part of both)."""
    found = set()
    if attribute in state.dict:
        found.add(state.dict[attribute])
    if attribute in state.attrs:
        found.update(state.attrs[attribute].history.deleted or ())
    found.discard(None)
    return found


def _scopes_of(state, watched: Mapping[str, Watch], changed: bool) -> set[str]:
    scopes: set[str] = set()
    for table in state.mapper.tables:
        rule = watched.get(table.name)
        if rule is None:
            continue
        if not changed and rule.columns is not None and not any(
                state.attrs[c].history.has_changes() for c in rule.columns if c in state.attrs):
            continue
        if rule.listings:
            scopes.add(OFFER)
        if not rule.parts or (rule.cascades and (state.deleted or state.was_deleted)):
            scopes.add(EVERYTHING)
        for prefix, attribute in rule.parts:
            values = _values(state, attribute)
            scopes.update(f"{prefix}:{value}" for value in values)
            if not values:
                scopes.add(EVERYTHING)
    return scopes


def _after_flush(session, _context) -> None:
    watched = _watched()
    if watched is None:
        return
    scopes = session.info.setdefault(_CHANGED, set())
    also = _also()
    for obj in (*session.new, *session.deleted):
        scopes |= _scopes_of(inspect(obj), watched, changed=True)
        if also:
            scopes |= _also_scopes(inspect(obj), also, changed=True)
    for obj in session.dirty:
        state = inspect(obj)
        scopes |= _scopes_of(state, watched, changed=state.deleted or state.was_deleted)
        if also:
            scopes |= _also_scopes(state, also, changed=state.deleted or state.was_deleted)


def _on_statement(orm_state) -> None:
    if not (orm_state.is_insert or orm_state.is_update or orm_state.is_delete):
        return
    watched = _watched()
    if watched is None:
        return
    table = getattr(orm_state.statement, "table", None)
    name = getattr(table, "name", None)
    if table is None or name in watched or name in _also():
        orm_state.session.info.setdefault(_CHANGED, set()).update((EVERYTHING, OFFER))


def _ids(scopes: set[str], prefix: str) -> set[int]:
    return {int(s.split(":", 1)[1]) for s in scopes if s.startswith(prefix + ":")}


def _resolve(session, scopes: set[str]) -> set[str]:
    """``session:<id>`` scopes as the offerings those sessions belong to, ``leads:<id>`` as
    the offerings the person leads (a query each, only when there are some)."""
    from lms.offerings.models import OfferingLead, Session

    resolved = {s for s in scopes if not s.startswith(("session:", "leads:"))}
    sessions = _ids(scopes, "session")
    if sessions:
        found = session.execute(select(Session.id, Session.offering_id)
                                .where(Session.id.in_(sessions))).all()
        resolved.update(offering_scope(offering_id) for _, offering_id in found)
        if len(found) < len(sessions):  # deleted with its offering: which, nobody knows
            resolved.add(EVERYTHING)
    leads = _ids(scopes, "leads")
    if leads:
        resolved.update(offering_scope(offering_id) for offering_id in session.scalars(
            select(OfferingLead.offering_id).where(OfferingLead.user_id.in_(leads))))
    return resolved


def _before_commit(session) -> None:
    if _watched() is None:
        return
    session.flush()  # what the commit would flush next must be seen now
    scopes = session.info.pop(_CHANGED, None)
    if not scopes:
        return
    scopes = _resolve(session, scopes)
    connection = session.connection()
    # One order for every writer, so two transactions never wait on each other in a circle.
    connection.execute(_FIRST, {"version": secrets.token_hex(16)})
    connection.execute(_UPSERT, [{"scope": scope, "version": secrets.token_hex(16)}
                                 for scope in sorted(scopes)])


def _transaction_ended(session, transaction) -> None:
    if transaction.parent is None:
        session.info.pop(_CHANGED, None)


def _after_commit(_session) -> None:
    if has_request_context():  # what this request read before its own change is old now
        request.environ.pop(_MEMO, None)


def install(app: Flask) -> None:
    """Keep ``app``'s versions: watch the tables features name, in every session of ``app``."""
    app.extensions.setdefault(_KEY, {})
    listen_to_sessions(app, "lms.cache_listeners", {
        "after_flush": _after_flush, "do_orm_execute": _on_statement,
        "before_commit": _before_commit, "after_transaction_end": _transaction_ended,
        "after_commit": _after_commit})


def read(scopes: Iterable[str]) -> dict[str, str | None]:
    """The versions of ``scopes`` and of ``*`` now (None: never written), one indexed read
    for all of them; within a request each is read once (``prefetch`` reads a page's
    together). Read before whatever is built under them, so what is built is at least as
    new as the versions it is kept under."""
    memo = request.environ.setdefault(_MEMO, {}) if has_request_context() else {}
    wanted = [s for s in dict.fromkeys((EVERYTHING, *scopes)) if s not in memo]
    for start in range(0, len(wanted), SLOTS):
        chunk = wanted[start:start + SLOTS]
        padded = chunk + [EVERYTHING] * (SLOTS - len(chunk))
        rows = dict(read_rows(_READ, **{f"s{i}": s for i, s in enumerate(padded)}))
        memo.update({scope: rows.get(scope) for scope in chunk})
    return {scope: memo[scope] for scope in (EVERYTHING, *scopes)}
