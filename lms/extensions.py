"""Unbound Flask extensions, bound to an app by ``create_app``, and how features listen to
the database session (``listen_to_sessions``: connected per app, from ``init_app``)."""

from __future__ import annotations

import contextlib
import os
import re
import select
import weakref
from collections.abc import Callable

from flask import Flask, current_app, has_app_context, has_request_context
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import MetaData, exc
from sqlalchemy.orm import DeclarativeBase

# A naming convention keeps constraint names identical on SQLite and PostgreSQL,
# so Alembic can drop and alter them on both.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Typed declarative base for every model."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def _render_item(type_, obj, autogen_context):
    """Write our column types into migrations as plain SQLAlchemy types, so a revision never
    imports application code that may later change."""
    from lms.clock import UTCDateTime

    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


db = SQLAlchemy(model_class=Base)
migrate = Migrate(compare_type=True, render_as_batch=True, render_item=_render_item)
login_manager = LoginManager()
csrf = CSRFProtect()


def configure_sqlite(engine) -> None:
    """Make SQLite safe for concurrent writers: WAL, a busy timeout, foreign keys, and
    ``BEGIN IMMEDIATE`` for transactions that ask for it (see ``begin_write``)."""
    from sqlalchemy import event

    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        # Let SQLAlchemy emit BEGIN itself, so it can be IMMEDIATE.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        # Deleted and overwritten content is zeroed in the file, not left in free space:
        # erased personal data and sent secrets must not be readable from the file.
        cursor.execute("PRAGMA secure_delete=ON")
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        if conn.get_execution_options().get("lms_immediate"):
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            conn.exec_driver_sql("BEGIN")


def configure_postgresql(engine) -> None:
    """Replace a PostgreSQL connection the server has closed (a restart, a failover, an idle
    timeout) before a request uses it, without a round trip to the server.

    A connection waiting in the pool has nothing to read: the server sends nothing unasked.
    When the server ends it, it sends its last message and closes the socket, so the socket
    becomes readable; the check is one ``poll`` with no wait, where ``pool_pre_ping`` sent
    ``SELECT 1`` and waited for the answer at every checkout — a round trip as dear as the
    page's own query. A connection found readable is dropped and the pool opens another
    (SQLAlchemy retries a checkout on ``DisconnectionError``); a socket cut without a word
    (a broken network) fails the request's first statement instead, answered with the
    "service unavailable" page, and the pool replaces the connection then."""
    from sqlalchemy import event

    if engine.dialect.name != "postgresql":
        return
    event.listen(engine, "engine_disposed", close_own_connections)

    @event.listens_for(engine, "checkout")
    def _on_checkout(dbapi_connection, _record, _proxy):
        if ended(dbapi_connection):
            raise exc.DisconnectionError("the connection was closed or the server ended it")


def ended(connection) -> bool:
    """Whether a waiting psycopg connection is closed, or ended by the server: the server
    sends nothing unasked but its goodbye, so a readable socket means it has gone. One
    ``poll`` with no wait (the pool's checkout, and the hot reads' own connections)."""
    if connection.closed or connection.broken:
        return True
    poller = select.poll()
    poller.register(connection.fileno(), select.POLLIN | select.POLLPRI)
    return bool(poller.poll(0))


def empty_sqlite_log(engine) -> None:
    """Copy SQLite's write-ahead log into the database and empty it, so the earlier versions
    of changed pages (an erased person's rows before erasure, an email before its secrets
    were removed) leave the files. Run after the commit that removed them; nothing to do on
    other databases."""
    if engine.dialect.name != "sqlite" or engine.url.database in (None, "", ":memory:"):
        return
    with engine.connect() as connection:
        # Waits briefly for readers to finish; if one is still reading, the next call (or
        # SQLite's own checkpoints) empties the log instead of holding up this request.
        connection.exec_driver_sql("PRAGMA busy_timeout=2000")
        try:
            connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            connection.exec_driver_sql("PRAGMA busy_timeout=30000")


def begin_write() -> None:
    """Make the session's transaction a write transaction before a read-then-write.

    On SQLite a transaction that has only read holds a snapshot; upgrading it to write after
    another connection committed fails with "database is locked" whatever the busy timeout.
    So on SQLite this ends a read-only transaction (nothing is lost: it wrote nothing) and
    begins again with ``BEGIN IMMEDIATE``, which waits for the write lock up front. A
    transaction that has already written holds the lock and carries on. On PostgreSQL it is a
    no-op: services there use row locks or conditional updates.
    """
    session = db.session()
    if session.get_bind().dialect.name != "sqlite":
        return
    if session.in_transaction():
        if session.info.get("lms_wrote") or session.new or session.dirty or session.deleted:
            return
        session.rollback()
    session.connection(execution_options={"lms_immediate": True})


def listen_to_sessions(app: Flask, name: str, listeners: dict[str, Callable]) -> None:
    """Connect ``listeners`` (a session event's name -> its function) for ``app``, under
    ``name`` (e.g. ``"lms.audit"``); called from a feature's ``init_app``.

    Flask-SQLAlchemy makes one session factory per ``db``, shared by every app bound to it:
    there is no per-app factory to listen to. So each function is attached to ``db``'s
    factory once per process (connecting again, for a second app, is a no-op), and acts only
    for apps that connected it: it starts with ``if not connected(name): return``. An app
    whose factory never called this (a test's bare app) gets nothing from it.
    """
    from sqlalchemy import event

    app.extensions[name] = True
    for identifier, listener in listeners.items():
        if not event.contains(db.session, identifier, listener):
            event.listen(db.session, identifier, listener)


def connected(name: str) -> bool:
    """Whether the current app connected the session listeners called ``name``."""
    return has_app_context() and name in current_app.extensions


_WRITES = "lms.write_tracking"


def _wrote(session, _context) -> None:
    if connected(_WRITES):
        session.info["lms_wrote"] = True


def _wrote_by_statement(state) -> None:
    if (state.is_update or state.is_delete or state.is_insert) and connected(_WRITES):
        state.session.info["lms_wrote"] = True


def _ended(session, transaction) -> None:
    if transaction.parent is None:
        session.info.pop("lms_wrote", None)


def track_writes(app: Flask) -> None:
    """Remember, per transaction, whether the session has written anything (``begin_write``
    asks). ``create_app`` calls it."""
    listen_to_sessions(app, _WRITES, {"after_flush": _wrote,
                                      "do_orm_execute": _wrote_by_statement,
                                      "after_transaction_end": _ended})


_HOLD = "lms.hold_loaded"


def _hold(session, instance) -> None:
    if connected(_HOLD) and has_request_context():
        session.info.setdefault("lms_held", []).append(instance)


def hold_loaded(app: Flask) -> None:
    """Keep every object a request's session loads alive until that session is closed (at the
    end of the request, by ``lms.errors``), then let them go with it.

    Works round a CPython 3.11 crash (fixed in 3.12; docs/known-issues.md, issue 19): an ORM
    object whose references form a cycle (an offering and its sessions) but that nothing else
    holds is garbage still in the session's weak identity map. When SQLAlchemy then sets an
    attribute on its ``InstanceState`` (closing the session detaches every state, a commit
    expires them) and that store builds the state's ``__dict__``, the allocation can start a
    garbage collection that frees the object; the object's weakref callback
    (``InstanceState._cleanup``) sets attributes on the same state in the middle of the outer
    store, and 3.11 frees that state's attribute values twice: a segmentation fault later,
    anywhere. Held here, no object of an open session is garbage, so no callback can run on a
    state SQLAlchemy is changing. Outside requests (jobs, commands) nothing is held."""
    listen_to_sessions(app, _HOLD, {"loaded_as_persistent": _hold,
                                    "pending_to_persistent": _hold})


_compiled: dict[tuple[int, str], tuple] = {}


def read_row(statement, **params) -> tuple | None:
    """The first row of a prebuilt Core ``statement`` (module-level, built once), read on a
    pooled driver connection outside the session: for the few reads made on every request of
    a hot page (a calendar program's poll, the cache's versions), where the session's and the
    engine's per-statement machinery costs ten times the read itself. Sees committed data
    only, so never use it after a write in the same request."""
    rows = _read(statement, params, everything=False)
    return rows[0] if rows else None


def read_rows(statement, **params) -> list[tuple]:
    """Every row of a prebuilt Core ``statement``, read as ``read_row`` reads one."""
    return _read(statement, params, everything=True)


def _read(statement, params: dict, everything: bool) -> list[tuple]:
    engine = db.engine
    key = (id(statement), engine.dialect.name)
    found = _compiled.get(key)
    if found is None:
        compiled = statement.compile(dialect=engine.dialect)
        found = _compiled[key] = (statement, compiled, compiled.positiontup,
                                  _numbered(compiled, engine.dialect))
    _, compiled, positions, numbered = found
    values = compiled.construct_params(params, _check=False)
    if engine.dispatch.before_cursor_execute:  # statement counters still see it
        engine.dispatch.before_cursor_execute(None, None, compiled.string, values, None, False)
    if numbered is not None:
        rows = _own_read(engine, key, numbered, values)
        return rows if everything else rows[:1]
    sql_params = values if positions is None else tuple(values[k] for k in positions)
    dbapi_error = engine.dialect.loaded_dbapi.Error
    connection = None
    try:
        connection = engine.raw_connection()
        cursor = connection.cursor()
        try:
            cursor.execute(compiled.string, sql_params)
            if everything:
                rows = cursor.fetchall()
            else:
                row = cursor.fetchone()
                rows = [row] if row is not None else []
        finally:
            cursor.close()
    except dbapi_error as error:
        # As the engine would: a dead connection leaves the pool, and the error is
        # SQLAlchemy's (the error pages answer "service unavailable" to those).
        if connection is not None and engine.dialect.is_disconnect(error, connection, None):
            connection.invalidate(error)
        raise exc.DBAPIError.instance(compiled.string, sql_params, error,
                                      dbapi_error) from error
    finally:
        if connection is not None:
            connection.close()
    return [tuple(row) for row in rows]


_NAMED = re.compile(r"%\((\w+)\)s|%%")


def _numbered(compiled, dialect) -> tuple[bytes, tuple[str, ...]] | None:
    """On PostgreSQL through psycopg, a statement compiled with named parameters
    (``%(name)s``) as the server's own ``$1``-numbered text, and the names in their numbers'
    order (read on the process's own connections); None elsewhere (read through the pool)."""
    if dialect.name != "postgresql" or dialect.driver != "psycopg" or \
            compiled.positiontup is not None:
        return None
    names: list[str] = []

    def number(found: re.Match) -> str:
        if found.group(0) == "%%":
            return "%"
        if found.group(1) not in names:
            names.append(found.group(1))
        return f"${names.index(found.group(1)) + 1}"

    return _NAMED.sub(number, compiled.string).encode(), tuple(names)


class _OwnConnection:
    """A PostgreSQL connection a process keeps for its hot reads, beside the pool (one per
    read running at once: a sync worker has one). Each statement is prepared on it once,
    then sent as libpq's one ``PQexecPrepared`` and its rows read by psycopg's own loaders.
    A read through the pool paid a checkout and check-in (with their events), switching
    autocommit on and off, a cursor and psycopg's per-execute bookkeeping: about 40 µs of a
    worker's CPU, as much as the round trip itself, on every request of every page (issue
    19). The connection is in autocommit, so each read is its own statement (no BEGIN, no
    ROLLBACK) and sees what was committed when it started."""

    def __init__(self, engine) -> None:
        from psycopg.adapt import Transformer

        # Opened as the pool opens every connection (its connect events run), then taken out
        # of the pool's count: the process's for as long as it is sound.
        pooled = engine.raw_connection()
        self.driver = pooled.driver_connection
        pooled.detach()
        self.driver.autocommit = True
        self.engine = weakref.ref(engine)
        self.pid = os.getpid()
        self.loaders = Transformer(self.driver)
        self.prepared: dict[tuple, bytes] = {}

    def sound(self, engine) -> bool:
        """Still this engine's, in this process, and not ended by the server (a restart, an
        idle timeout, an administrator)."""
        return self.engine() is engine and self.pid == os.getpid() and not ended(self.driver)

    def read(self, key: tuple, numbered: tuple[bytes, tuple[str, ...]],
             values: dict) -> list[tuple]:
        from psycopg import errors, pq
        from psycopg.adapt import PyFormat

        pgconn = self.driver.pgconn
        name = self.prepared.get(key)
        if name is None:
            name = f"lms_read_{len(self.prepared)}".encode()
            self._check(pgconn.prepare(name, numbered[0]), pq.ExecStatus.COMMAND_OK, errors)
            self.prepared[key] = name
        loaders = self.loaders
        sent = loaders.dump_sequence([values[n] for n in numbered[1]],
                                     [PyFormat.TEXT] * len(numbered[1]))
        result = pgconn.exec_prepared(name, sent, loaders.formats)
        self._check(result, pq.ExecStatus.TUPLES_OK, errors)
        loaders.set_pgresult(result)
        return loaders.load_rows(0, result.ntuples, tuple)

    def _check(self, result, wanted, errors) -> None:
        if result.status != wanted:
            raise errors.error_from_result(result, encoding=self.driver.info.encoding)

    def close(self) -> None:
        """Closed (only in the process that opened it: a forked child leaves its parent's
        socket alone, and holds it so that it is never collected either)."""
        if self.pid == os.getpid():
            with contextlib.suppress(Exception):
                self.driver.close()
        else:
            _INHERITED.append(self)


# Per engine (by id), the own connections no request is using. ``list.pop`` and ``append``
# are atomic, so threads share the lists without a lock.
_IDLE: dict[int, list[_OwnConnection]] = {}
_INHERITED: list[_OwnConnection] = []


def _own_read(engine, key: tuple, numbered: tuple[bytes, tuple[str, ...]],
              values: dict) -> list[tuple]:
    """Rows of a hot read on an idle own connection of ``engine`` (opened, or replaced when
    unsound, first), given back after. An error closes it (the next read opens another) and
    is raised as the engine would raise it, so the error pages answer "service unavailable"
    to a lost server. A statement prepared before the table changed (a migration while the
    app runs: "cached plan must not change result type") is read once more on a new
    connection, prepared afresh."""
    try:
        return _read_on_own(engine, key, numbered, values)
    except exc.DBAPIError as error:
        if error.connection_invalidated or \
                getattr(error.orig, "sqlstate", None) != _STALE_PLAN:
            raise
    return _read_on_own(engine, key, numbered, values)  # on a new connection


# PostgreSQL's SQLSTATE for "cached plan must not change result type" (feature not supported).
_STALE_PLAN = "0A000"


def _read_on_own(engine, key: tuple, numbered: tuple[bytes, tuple[str, ...]],
                 values: dict) -> list[tuple]:
    from psycopg import pq

    dbapi_error = engine.dialect.loaded_dbapi.Error
    idle = _IDLE.setdefault(id(engine), [])
    own = None
    try:
        while idle:
            own = idle.pop()
            if own.sound(engine):
                break
            own.close()
            own = None
        if own is None:
            own = _OwnConnection(engine)
        rows = own.read(key, numbered, values)
    except dbapi_error as error:
        lost = own is None or own.driver.broken or own.driver.closed or \
            own.driver.pgconn.status != pq.ConnStatus.OK
        if own is not None:
            own.close()
        raise exc.DBAPIError.instance(numbered[0].decode(), values, error, dbapi_error,
                                      connection_invalidated=lost) from error
    except BaseException:
        if own is not None:
            own.close()  # interrupted mid-read: its state is unknown
        raise
    idle.append(own)
    return rows


def close_own_connections(engine) -> None:
    """Close ``engine``'s idle own connections (when it is disposed). One in use then goes
    back to a list nobody holds any more, and is closed when collected."""
    for own in _IDLE.pop(id(engine), []):
        own.close()
