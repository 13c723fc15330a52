"""``flask lms backup`` and ``flask lms restore``: a restored copy holds every row of every
table, on SQLite and on PostgreSQL; restore refuses to overwrite data unless forced."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import inspect, select, table, text

from lms import create_app
from lms.accounts.models import User
from lms.audit.models import AuditEntry
from lms.extensions import db
from tests.test_privacy import build_history


def snapshot(target: Flask) -> dict[str, list[tuple]]:
    """Every row of every table in the database, in primary-key order."""
    with target.app_context(), db.engine.connect() as connection:
        inspector = inspect(connection)
        rows = {}
        for name in sorted(inspector.get_table_names()):
            keys = inspector.get_pk_constraint(name)["constrained_columns"]
            columns = [c["name"] for c in inspector.get_columns(name)]
            query = select(*(text(f'"{c}"') for c in columns)).select_from(table(name))
            if keys:
                query = query.order_by(*(text(f'"{k}"') for k in keys))
            rows[name] = [tuple(bytes(v) if isinstance(v, memoryview) else v for v in row)
                          for row in connection.execute(query)]
        return rows


def fill(target: Flask) -> None:
    """A learner's whole history (most tables) and a few odd values."""
    build_history(target)
    with target.app_context():
        user = db.session.scalar(select(User).where(User.email == "otto@example.nhs.uk"))
        user.job_title = "Ånalyst – «data» 🙂 '; DROP TABLE user_account; --"
        db.session.commit()


def assert_same_apart_from_the_restore_entry(source: dict, restored: dict) -> None:
    assert set(restored) == set(source)
    for name in source:
        if name == "audit_entry":
            continue
        assert restored[name] == source[name], name
    extra = restored["audit_entry"][len(source["audit_entry"]):]
    assert restored["audit_entry"][:len(source["audit_entry"])] == source["audit_entry"]
    assert len(extra) == 1 and "restored" in extra[0]


def fresh_sqlite_app(folder: Path) -> Flask:
    return create_app("testing", SQLALCHEMY_DATABASE_URI=f"sqlite:///{folder / 'copy.sqlite3'}",
                      MAIL_OUTBOX_DIR=str(folder / "outbox"))


def test_a_sqlite_backup_restores_every_row_of_every_table(app, runner, tmp_path):
    fill(app)
    source = snapshot(app)
    filled = [name for name, rows in source.items() if rows]
    assert len(filled) >= 25, filled
    path = tmp_path / "backups" / "lms.sqlite3"
    result = runner.invoke(args=["lms", "backup", str(path)])
    assert result.exit_code == 0, result.output
    assert "Backed up" in result.output and path.read_bytes().startswith(b"SQLite format 3")
    assert not list(path.parent.glob("*.partial"))

    copy = fresh_sqlite_app(tmp_path)
    restored = copy.test_cli_runner().invoke(args=["lms", "restore", str(path)])
    assert restored.exit_code == 0, restored.output
    assert "Restored" in restored.output
    assert_same_apart_from_the_restore_entry(source, snapshot(copy))
    with copy.app_context():
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "restored"))
        assert entry.actor_label.startswith("Command line") and entry.after["backup"] == \
            "lms.sqlite3"
        db.engine.dispose()


def test_restore_refuses_a_database_in_use_unless_forced(app, runner, make_user, tmp_path):
    make_user(email="before@example.nhs.uk")
    path = tmp_path / "before.sqlite3"
    assert runner.invoke(args=["lms", "backup", str(path)]).exit_code == 0
    make_user(email="after@example.nhs.uk")
    refused = runner.invoke(args=["lms", "restore", str(path)])
    assert refused.exit_code != 0
    assert "already holds data" in refused.output and "--force" in refused.output
    with app.app_context():
        assert db.session.scalar(select(User).where(User.email == "after@example.nhs.uk"))
        db.session.rollback()
    forced = runner.invoke(args=["lms", "restore", "--force", str(path)])
    assert forced.exit_code == 0, forced.output
    with app.app_context():
        emails = set(db.session.scalars(select(User.email)))
        db.session.rollback()
    assert emails == {"before@example.nhs.uk"}


def test_backup_will_not_overwrite_a_file_and_restore_checks_what_it_reads(runner, tmp_path):
    path = tmp_path / "taken.sqlite3"
    path.write_text("precious")
    refused = runner.invoke(args=["lms", "backup", str(path)])
    assert refused.exit_code != 0 and "already exists" in refused.output
    assert path.read_text() == "precious"
    assert runner.invoke(args=["lms", "backup", "--force", str(path)]).exit_code == 0
    junk = tmp_path / "junk.dump"
    junk.write_bytes(b"PGDMP not for sqlite")
    wrong = runner.invoke(args=["lms", "restore", "--force", str(junk)])
    assert wrong.exit_code != 0 and "is not a SQLite backup" in wrong.output
    missing = runner.invoke(args=["lms", "restore", str(tmp_path / "nope")])
    assert missing.exit_code != 0 and "does not exist" in missing.output


@pytest.mark.postgres
def test_a_postgres_backup_restores_every_row_of_every_table(pg_app, postgres_server, tmp_path):
    fill(pg_app)
    source = snapshot(pg_app)
    assert len([name for name, rows in source.items() if rows]) >= 25
    path = tmp_path / "lms.dump"
    result = pg_app.test_cli_runner().invoke(args=["lms", "backup", str(path)])
    assert result.exit_code == 0, result.output
    assert path.read_bytes().startswith(b"PGDMP")

    name = postgres_server.unique_name("lms_restore")
    copy = create_app("testing", SQLALCHEMY_DATABASE_URI=postgres_server.create_database(name),
                      MAIL_OUTBOX_DIR=str(tmp_path / "outbox"))
    try:
        restored = copy.test_cli_runner().invoke(args=["lms", "restore", str(path)])
        assert restored.exit_code == 0, restored.output
        assert_same_apart_from_the_restore_entry(source, snapshot(copy))
        # Sequences came back too: new rows get new ids, not the restored ones'.
        with copy.app_context():
            db.session.add(AuditEntry(action="created", model="Test", table_name="test"))
            db.session.commit()
        # A second restore into the now-used database is refused.
        again = copy.test_cli_runner().invoke(args=["lms", "restore", str(path)])
        assert again.exit_code != 0 and "already holds data" in again.output
    finally:
        with copy.app_context():
            db.session.remove()
            db.engine.dispose()
        postgres_server.drop_database(name)
