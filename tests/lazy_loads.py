"""Lazy loads while a page renders, and the statements each request sends.

``with watching(app) as watch:`` records, for every request made inside the block, the SQL
statements the app's engine ran (``watch.statements``) and every ORM load that happened
while a Jinja template was rendering (``watch.loads``): a relationship loaded on first touch
(``lazy="select"``) and a column loaded because it was expired or deferred. Each is
recorded with the template being rendered and the attribute, e.g.
``events/list.html: Webinar.summary (column)``. A many-to-one found in the identity map runs
no SQL and is not recorded: it costs nothing.

Templates must be given everything they show, loaded by the page builder: a load during
rendering is one statement per row of a list (N+1), or an extra statement on every request.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from flask import Flask, before_render_template, template_rendered
from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, RelationshipProperty, Session

from lms.extensions import db

NOT_COUNTED = {"BEGIN", "BEGIN IMMEDIATE", "COMMIT", "ROLLBACK"}


@dataclass
class Watch:
    """What the requests inside ``watching`` did: lazy loads while rendering, statements."""

    loads: list[str] = field(default_factory=list)
    sql: list[str] = field(default_factory=list)
    rendering: list[str] = field(default_factory=list)

    @property
    def statements(self) -> int:
        return len(self.sql)

    def reset(self) -> None:
        self.loads.clear()
        self.sql.clear()


def _attribute(state: ORMExecuteState) -> str:
    """``Class.attribute (relationship)`` or ``Class.a, Class.b (column)`` for a load."""
    if state.is_relationship_load:
        path = state.loader_strategy_path
        props = [step for step in (path.path if path is not None else ())
                 if isinstance(step, RelationshipProperty)]
        return f"{props[-1]} (relationship)" if props else f"{state.statement} (relationship)"
    owner = state.load_options._refresh_state  # the object whose columns are loaded
    if owner is None:
        return f"{state.statement} (column)"
    columns = set(owner.mapper.column_attrs.keys())
    names = sorted(owner.unloaded & columns) or sorted(columns)
    return f"{owner.class_.__name__}.{', '.join(names)} (column)"


@contextmanager
def watching(app: Flask) -> Iterator[Watch]:
    watch = Watch()
    with app.app_context():
        engine = db.engine

    def before(sender, template, context, **extra):
        watch.rendering.append(template.name or "<string>")

    def after(sender, template, context, **extra):
        if watch.rendering:
            watch.rendering.pop()

    def orm_execute(state: ORMExecuteState) -> None:
        if watch.rendering and state.is_select and (
                state.is_relationship_load or state.is_column_load):
            watch.loads.append(f"{watch.rendering[-1]}: {_attribute(state)}")

    def cursor(conn, cursor, statement, parameters, context, executemany):
        if statement.strip().upper() not in NOT_COUNTED:
            watch.sql.append(statement)

    before_render_template.connect(before, app)
    template_rendered.connect(after, app)
    event.listen(Session, "do_orm_execute", orm_execute)
    event.listen(engine, "before_cursor_execute", cursor)
    try:
        yield watch
    finally:
        event.remove(engine, "before_cursor_execute", cursor)
        event.remove(Session, "do_orm_execute", orm_execute)
        template_rendered.disconnect(after, app)
        before_render_template.disconnect(before, app)
