"""Recording changes, generically, and finding them again.

Every session flush is watched (``after_flush`` on the session factory of ``db``, connected by
the audit feature's ``init_app`` through ``lms.extensions.listen_to_sessions``: the factory is
shared by every app in the process, so the listeners act only in apps that connected them).
When the change is made by a faculty member or an admin in a request, or by someone at the
command line, each inserted, updated and deleted row of an audited model becomes an
``AuditEntry`` with the changed columns before and after, inserted on the flush's own
connection, so it commits (or rolls back) with the change itself. ``UPDATE`` and ``DELETE``
statements run through the ORM session (conditional updates, bulk deletes) are recorded the
same way, one entry per row they touch, by reading the rows before and after.

Nothing here knows any feature's models: new models are audited from the day they land,
unless their table is listed in ``NOT_AUDITED``. Secrets (columns whose names mention a
password, token, secret or hash) are never written, only "[redacted]"; binary columns are
shown as their size.
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
import enum
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal

import click
from flask import Flask, g, has_request_context, request
from flask_login import current_user
from sqlalchemy import LargeBinary, and_, func, insert, inspect, or_, select
from sqlalchemy.orm import Mapper
from sqlalchemy.orm.base import NO_VALUE

from lms.accounts.models import User
from lms.audit.models import AuditAction, AuditEntry
from lms.clock import LONDON, utcnow
from lms.extensions import connected, db, listen_to_sessions

# Tables whose rows are machinery, not anyone's action, or must never be tied to a person:
# survey answers and the "has answered" rows would undo the anonymity of anonymous surveys.
NOT_AUDITED = frozenset({
    "audit_entry",
    "outbox_message",
    "outbox_attachment",
    "sign_in_attempt",
    "account_token",
    "calendar_feed_token",
    "reminder_sent",
    "survey_reminder",
    "survey_response",
    "survey_answer",
    "survey_respondent",
    "survey_draft",
    "certificate_pdf",
    "certificate_serial_counter",
    "attendance_warning",
    "recovery_code",
    "api_rate_window",
})
# Columns that change on every write and say nothing about what was done.
NOT_SHOWN = frozenset({"updated_at", "session_version", "totp_last_step", "last_used_at"})
SECRET_MARKERS = ("password", "token", "secret", "hash", "sha256")
REDACTED = "[redacted]"
ERASED = "[erased]"
# CLI commands that are not anyone's decision to change data (demo data, the scheduler, the
# development server, whose requests are audited as requests).
CLI_NOT_AUDITED = frozenset({"seed-demo", "seed-if-empty", "scheduler", "serve", "db"})
PER_PAGE = 50


@dataclass(frozen=True)
class Actor:
    """Who is changing things: a person (``id``) or a label for the command line."""

    id: int | None
    label: str = ""
    request: str = ""


_explicit: contextvars.ContextVar[Actor | None] = contextvars.ContextVar("audit_actor",
                                                                       default=None)


@contextlib.contextmanager
def acting_as(label: str) -> Iterator[None]:
    """Record every change inside the block as made by ``label`` (for scripts and jobs an
    operator starts by hand)."""
    token = _explicit.set(Actor(None, label[:200]))
    try:
        yield
    finally:
        _explicit.reset(token)


def _is_audited_person(user) -> bool:
    return user.has_role("faculty") or user.has_role("admin")


def current_actor() -> Actor | None:
    """The actor to record, or ``None`` when the change is not audited (a learner or DSU
    lead acting for themselves, an anonymous visitor, the scheduler)."""
    explicit = _explicit.get()
    if explicit is not None:
        return explicit
    if has_request_context():
        user = current_user._get_current_object()
        if not getattr(user, "is_authenticated", False):
            # A call to the JSON API with a token: the token's holder is acting.
            user = getattr(g.get("api_caller"), "user", None)
        if user is None or not getattr(user, "is_authenticated", False):
            return None
        state = inspect(user, raiseerr=False)
        identity = state.identity if state is not None else None
        user_id = identity[0] if identity else getattr(user, "id", None)
        # Roles are read once a request: a flush must not wait on lazy loads.
        cache = g.setdefault("_audit_actors", {})
        if user_id not in cache:
            cache[user_id] = _is_audited_person(user)
        if not cache[user_id]:
            return None
        return Actor(user_id, "", f"{request.method} {request.path}"[:300])
    ctx = click.get_current_context(silent=True)
    if ctx is None:
        return None
    names = set()
    walker = ctx
    while walker is not None:
        names.add(walker.info_name)
        walker = walker.parent
    if names & CLI_NOT_AUDITED:
        return None
    return Actor(None, f"Command line ({ctx.command_path})"[:200])


# ---------------------------------------------------------------------------- values


def is_secret(column_name: str) -> bool:
    """Column names that hold secrets, whose values are never copied anywhere."""
    name = column_name.lower()
    return any(marker in name for marker in SECRET_MARKERS)


def jsonable(value):
    """A value as JSON can hold it: times as ISO 8601, decimals as text, enums as values."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, enum.Enum):
        return jsonable(value.value)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return f"[{len(bytes(value))} bytes]"
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(v) for v in value]
    return str(value)


def _shown(column, value):
    if value is None:
        return None
    if is_secret(column.name):
        return REDACTED
    if isinstance(column.type, LargeBinary):
        return f"[{len(value)} bytes]"
    return jsonable(value)


def _audited(mapper: Mapper) -> bool:
    return not ({table.name for table in mapper.tables} & NOT_AUDITED)


def _user_columns(table) -> list:
    """Columns naming the person a row is about: ``user_id`` or ``<something>_user_id``
    pointing at ``user_account``, or a column a model marks ``info={"names_person": True}``
    (a talk's proposer: the proposal is theirs)."""
    return [column for column in table.columns
            if (column.name == "user_id" or column.name.endswith("_user_id")
                or column.info.get("names_person"))
            and any(fk.column.table.name == "user_account" for fk in column.foreign_keys)]


def _loaded(state, key):
    value = state.attrs[key].loaded_value
    return None if value is NO_VALUE else value


def _label(obj) -> str:
    """A short name for a related row in a collection: its key, less the columns pointing
    back at the parent (a user's role row is shown as its role)."""
    state = inspect(obj)
    mapper = state.mapper
    parts = []
    for column in mapper.primary_key:
        if column.foreign_keys and len(mapper.primary_key) > 1:
            continue
        parts.append(_loaded(state, mapper.get_property_by_column(column).key))
    return "/".join(str(part) for part in parts)


def _row_key(state) -> str:
    mapper = state.mapper
    return "/".join(str(_loaded(state, mapper.get_property_by_column(column).key))
                    for column in mapper.primary_key)[:200]


def _subject(state, gone_users: set[int]) -> int | None:
    mapper = state.mapper
    if mapper.class_ is User or issubclass(mapper.class_, User):
        subject = _loaded(state, "id")
    else:
        subject = None
        for table in mapper.tables:
            for column in _user_columns(table):
                subject = _loaded(state, mapper.get_property_by_column(column).key)
                if subject is not None:
                    break
    return None if subject in gone_users else subject


def _entry(state, action: AuditAction, actor: Actor, now, gone_users: set[int]) -> dict | None:
    mapper = state.mapper
    before: dict = {}
    after: dict = {}
    for prop in mapper.column_attrs:
        column = prop.columns[0]
        if column.name in NOT_SHOWN:
            continue
        attr = state.attrs[prop.key]
        if action == AuditAction.CREATED:
            value = attr.loaded_value
            if value is not NO_VALUE and value is not None:
                after[prop.key] = _shown(column, value)
        elif action == AuditAction.DELETED:
            value = attr.loaded_value
            if value is not NO_VALUE and value is not None:
                before[prop.key] = _shown(column, value)
        else:
            history = attr.history
            if not (history.added or history.deleted):
                continue
            before[prop.key] = _shown(column, history.deleted[0]) if history.deleted else None
            after[prop.key] = _shown(column, history.added[0]) if history.added else None
    if action != AuditAction.DELETED:
        for rel in mapper.relationships:
            if not rel.uselist or rel.viewonly:
                continue
            history = state.attrs[rel.key].history
            if not (history.added or history.deleted):
                continue
            kept = [_label(o) for o in history.unchanged or ()]
            if action == AuditAction.UPDATED:
                before[rel.key] = sorted(kept + [_label(o) for o in history.deleted or ()])
            after[rel.key] = sorted(kept + [_label(o) for o in history.added or ()])
    if action == AuditAction.UPDATED and not before and not after:
        return None
    return {
        "at": now,
        "actor_id": None if actor.id in gone_users else actor.id,
        "actor_label": actor.label,
        "request": actor.request,
        "action": action.value,
        "model": mapper.class_.__name__[:64],
        "table_name": mapper.local_table.name[:64],
        "row_key": _row_key(state),
        "subject_user_id": _subject(state, gone_users),
        "before": before or None,
        "after": after or None,
    }


def _flushed(session, flush_context):
    """(state, action) for every row the flush wrote. The unit of work's own list is used
    because it also holds rows deleted as orphans (a role taken out of a user's roles),
    which never appear in ``session.deleted``."""
    states = getattr(flush_context, "states", None)
    if states is None:  # pragma: no cover - an older SQLAlchemy
        yield from ((inspect(o), AuditAction.CREATED) for o in session.new)
        yield from ((inspect(o), AuditAction.UPDATED) for o in session.dirty)
        yield from ((inspect(o), AuditAction.DELETED) for o in session.deleted)
        return
    new = session.new
    for state, (is_delete, list_only) in list(states.items()):
        if list_only:
            continue
        if is_delete:
            yield state, AuditAction.DELETED
        elif state.obj() is not None and state.obj() in new:
            yield state, AuditAction.CREATED
        else:
            yield state, AuditAction.UPDATED


def _after_flush(session, flush_context) -> None:
    if not connected(LISTENING):
        return
    actor = current_actor()
    if actor is None:
        return
    now = utcnow()
    flushed = [(state, action) for state, action in _flushed(session, flush_context)
               if _audited(state.mapper)]
    gone_users = {_loaded(state, "id") for state, action in flushed
                  if action == AuditAction.DELETED and issubclass(state.class_, User)}
    rows = [row for state, action in flushed
            if (row := _entry(state, action, actor, now, gone_users)) is not None]
    if rows:
        session.connection().execute(insert(AuditEntry.__table__), rows)


# ---------------------------------------------------------------------------- statements


def _row_dict(table, row) -> dict:
    return {column.key: _shown(column, row[column.key]) for column in table.columns
            if column.name not in NOT_SHOWN and row[column.key] is not None}


def _subject_of_row(table, row) -> int | None:
    for column in _user_columns(table):
        if row[column.key] is not None:
            return row[column.key]
    return row["id"] if table.name == "user_account" else None


def _pk_condition(table, rows):
    columns = list(table.primary_key.columns)
    if len(columns) == 1:
        return columns[0].in_([row[columns[0].key] for row in rows])
    return or_(*(and_(*(column == row[column.key] for column in columns)) for row in rows))


def _on_statement(orm_state):
    """Record the rows an ORM ``UPDATE`` or ``DELETE`` statement changes, before and after."""
    if not (orm_state.is_update or orm_state.is_delete) or not connected(LISTENING):
        return None
    mapper = orm_state.bind_mapper
    if mapper is None or not _audited(mapper) or len(mapper.tables) != 1:
        return None
    actor = current_actor()
    if actor is None:
        return None
    table = mapper.local_table
    connection = orm_state.session.connection()
    query = select(table)
    if orm_state.statement.whereclause is not None:
        query = query.where(orm_state.statement.whereclause)
    before_rows = [dict(row) for row in connection.execute(query).mappings()]
    result = orm_state.invoke_statement()
    if not before_rows:
        return result
    key_of = lambda row: tuple(row[c.key] for c in table.primary_key.columns)  # noqa: E731
    after_rows = {}
    if orm_state.is_update:
        for chunk_start in range(0, len(before_rows), 500):
            chunk = before_rows[chunk_start:chunk_start + 500]
            for row in connection.execute(select(table).where(_pk_condition(table, chunk))
                                          ).mappings():
                after_rows[key_of(row)] = dict(row)
    now = utcnow()
    entries = []
    for row in before_rows:
        old = _row_dict(table, row)
        if orm_state.is_delete:
            before, after, action = old, None, AuditAction.DELETED
        else:
            new = _row_dict(table, after_rows.get(key_of(row), {}) or row)
            changed = {k for k in set(old) | set(new) if old.get(k) != new.get(k)}
            if not changed:
                continue
            before = {k: old.get(k) for k in changed}
            after = {k: new.get(k) for k in changed}
            action = AuditAction.UPDATED
        entries.append({
            "at": now, "actor_id": actor.id, "actor_label": actor.label,
            "request": actor.request, "action": action.value,
            "model": mapper.class_.__name__[:64], "table_name": table.name[:64],
            "row_key": "/".join(str(v) for v in key_of(row))[:200],
            "subject_user_id": _subject_of_row(table, row), "before": before, "after": after,
        })
    if entries:
        connection.execute(insert(AuditEntry.__table__), entries)
    return result


LISTENING = "lms.audit"


def install(app: Flask) -> None:
    """Audit every change made through ``db``'s sessions in ``app``."""
    listen_to_sessions(app, LISTENING, {"after_flush": _after_flush,
                                        "do_orm_execute": _on_statement})


# ---------------------------------------------------------------------------- explicit entries


def record(action: AuditAction, model: str, row_key: str = "", *,
           subject_user_id: int | None = None, before: dict | None = None,
           after: dict | None = None, label: str = "") -> AuditEntry:
    """Add an entry that is not a row change (an erasure, a restore), in the caller's
    transaction. The actor is whoever is acting now, or ``label``."""
    actor = current_actor() or Actor(None, label)
    entry = AuditEntry(actor_id=actor.id, actor_label=actor.label or label,
                       request=actor.request, action=action, model=model[:64],
                       table_name=model[:64], row_key=row_key[:200],
                       subject_user_id=subject_user_id, before=jsonable(before),
                       after=jsonable(after))
    db.session.add(entry)
    db.session.flush()
    return entry


def scrub_person(user_id: int, keys: set[str] | None = None) -> int:
    """Replace values with "[erased]" in every entry about a person: those of ``keys``, or,
    by default, every value, so an entry keeps what was done, to what kind of record, when
    and by whom, but not the content (names, reasons, notes). Returns how many entries
    changed. The entries themselves stay: that a change happened is not the person's data."""
    changed = 0
    for entry in db.session.scalars(select(AuditEntry).where(
            AuditEntry.subject_user_id == user_id)):
        touched = False
        for side in ("before", "after"):
            values = getattr(entry, side)
            if not values:
                continue
            clean = {k: (ERASED if (keys is None or k in keys) and v not in (None, "") else v)
                     for k, v in values.items()}
            if clean != values:
                setattr(entry, side, clean)
                touched = True
        changed += touched
    db.session.flush()
    return changed


# ---------------------------------------------------------------------------- finding entries


@dataclass(frozen=True)
class AuditFilters:
    """What the admin page narrows the log by: who did it (name or email), whom it is about,
    the kind of record, the kind of change, and London dates (both ends included)."""

    person: str = ""
    subject_user_id: int | None = None
    model: str = ""
    action: str = ""
    starts: dt.date | None = None
    ends: dt.date | None = None


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(0), tzinfo=LONDON).astimezone(dt.UTC)


def find_entries(filters: AuditFilters, page: int = 1,
                 per_page: int = PER_PAGE) -> tuple[list[AuditEntry], int]:
    """One page of entries matching ``filters``, newest first, and how many match."""
    stmt = select(AuditEntry)
    text = " ".join((filters.person or "").split())[:100].lower()
    if text:
        cleaned = text.replace("\\", "").replace("%", "").replace("_", "")
        pattern = f"%{cleaned}%"
        actors = select(User.id).where(or_(func.lower(User.full_name).like(pattern),
                                           User.email.like(pattern)))
        stmt = stmt.where(or_(AuditEntry.actor_id.in_(actors),
                              func.lower(AuditEntry.actor_label).like(pattern)))
    if filters.subject_user_id:
        stmt = stmt.where(AuditEntry.subject_user_id == filters.subject_user_id)
    if filters.model:
        stmt = stmt.where(AuditEntry.model == filters.model)
    if filters.action in set(AuditAction):
        stmt = stmt.where(AuditEntry.action == filters.action)
    if filters.starts:
        stmt = stmt.where(AuditEntry.at >= _midnight(filters.starts))
    if filters.ends:
        stmt = stmt.where(AuditEntry.at < _midnight(filters.ends + dt.timedelta(days=1)))
    total = db.session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    page = max(page, 1)
    entries = db.session.scalars(stmt.order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
                                 .limit(per_page).offset((page - 1) * per_page)).all()
    return list(entries), total


def models_in_log() -> list[str]:
    """The kinds of record the log holds, for the filter."""
    return list(db.session.scalars(select(AuditEntry.model).distinct()
                                   .order_by(AuditEntry.model)))
