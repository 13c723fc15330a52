"""The Alembic migrations build exactly the schema the models describe, on SQLite and on
PostgreSQL, bring the region's organisations with them, and undo cleanly."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from pprint import pformat

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Flask
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, select

from lms import config as config_module
from lms import create_app
from lms.accounts.models import Organisation
from lms.accounts.organisations import ORGANISATIONS
from lms.extensions import db

MIGRATIONS_DIR = config_module.BASE_DIR / "migrations"


@contextlib.contextmanager
def preserved_logging() -> Iterator[None]:
    """Undo what ``migrations/env.py`` does to logging.

    ``env.py`` calls ``logging.config.fileConfig``, which replaces the root logger's handlers
    and level and (unless given ``disable_existing_loggers=False``) disables every logger
    alembic.ini does not name, ``lms.*`` among them, for the rest of the process. Other tests
    that read the app's logs must not see that.
    """
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    disabled = {
        name: logger.disabled
        for name, logger in logging.Logger.manager.loggerDict.items()
        if isinstance(logger, logging.Logger)
    }
    try:
        yield
    finally:
        for handler in list(root.handlers):
            if handler not in handlers:
                root.removeHandler(handler)
        for handler in handlers:
            if handler not in root.handlers:
                root.addHandler(handler)
        root.setLevel(level)
        for name, logger in logging.Logger.manager.loggerDict.items():
            if isinstance(logger, logging.Logger):
                logger.disabled = disabled.get(name, False)


def schema_differences(app: Flask) -> list:
    """What ``flask db migrate`` would put in a new revision for this database."""
    with app.app_context(), db.engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "render_as_batch": True}
        )
        return compare_metadata(context, db.metadata)


def organisation_rows(app: Flask) -> list[tuple[str, str, str]]:
    with app.app_context():
        rows = db.session.execute(
            select(Organisation.code, Organisation.name, Organisation.kind)
        ).all()
        db.session.rollback()
        return sorted(tuple(row) for row in rows)


def table_names(app: Flask) -> set[str]:
    with app.app_context(), db.engine.connect() as connection:
        return set(inspect(connection).get_table_names())


def check_round_trip(app: Flask) -> None:
    with preserved_logging():
        with app.app_context():
            upgrade()

        differences = schema_differences(app)
        assert differences == [], (
            "the migrated schema differs from the models; "
            "a revision is missing or wrong:\n" + pformat(differences)
        )

        assert len(organisation_rows(app)) == 14
        assert organisation_rows(app) == sorted(ORGANISATIONS)

        with app.app_context():
            downgrade(revision="base")
        assert table_names(app) - {"alembic_version"} == set()

        with app.app_context():
            upgrade()
        assert schema_differences(app) == []
        assert organisation_rows(app) == sorted(ORGANISATIONS)

    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def test_migrations_have_a_single_head():
    heads = ScriptDirectory(str(MIGRATIONS_DIR)).get_heads()
    assert len(heads) == 1, f"migrations have several heads, merge them: {heads}"


def test_migrations_round_trip_on_sqlite(tmp_path):
    app = create_app(
        "testing",
        SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'migrated.sqlite3'}",
        MAIL_OUTBOX_DIR=str(tmp_path / "outbox"),
    )
    check_round_trip(app)


@pytest.mark.postgres
def test_migrations_round_trip_on_postgres(postgres_server, tmp_path):
    name = postgres_server.unique_name("lms_migrate")
    app = create_app(
        "testing",
        SQLALCHEMY_DATABASE_URI=postgres_server.create_database(name),
        MAIL_OUTBOX_DIR=str(tmp_path / "outbox"),
    )
    try:
        check_round_trip(app)
    finally:
        postgres_server.drop_database(name)
