"""Backups of the whole database, and restoring one.

- SQLite: the online backup API copies a consistent snapshot while the service runs; restore
  copies it back the same way, page by page, into the live file.
- PostgreSQL: ``pg_dump -Fc`` (a consistent snapshot, compressed, restorable table by table)
  and ``pg_restore --clean --single-transaction`` (all or nothing).

Restore refuses to overwrite a database that already holds data unless told to (``force``):
one typo must not replace a live service's data with last week's. A database counts as empty
when its only rows are the ones the migrations themselves add (the organisations).

Stop the web workers and the scheduler before restoring: a restore replaces what they are
reading and writing.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, inspect, select, table, text

SQLITE_MAGIC = b"SQLite format 3\x00"
PG_DUMP_MAGIC = b"PGDMP"
DEFAULT_PG_BIN = "/usr/lib/postgresql/15/bin"
# Rows the migrations add to every new database; their presence does not make it "in use".
REFERENCE_TABLES = frozenset({"alembic_version", "organisation"})


class BackupError(Exception):
    """The backup or restore could not be done; the message says why, for the operator."""


@dataclass(frozen=True)
class Counts:
    tables: int
    rows: int


def _pg_binary(name: str, pg_bin: str | None) -> str:
    for folder in (pg_bin, os.environ.get("LMS_PG_BIN"), DEFAULT_PG_BIN):
        if folder and os.access(Path(folder) / name, os.X_OK):
            return str(Path(folder) / name)
    found = shutil.which(name)
    if found is None:
        raise BackupError(f"{name} is not installed (looked in {pg_bin or DEFAULT_PG_BIN} and "
                          "on PATH). Install the postgresql-client package of the server's "
                          "major version, or set LMS_PG_BIN.")
    return found


def _pg_environment(engine: Engine) -> dict[str, str]:
    """libpq's variables for the engine's database, so no password appears in ``ps``."""
    url = engine.url
    env = dict(os.environ)
    for variable, value in (("PGHOST", url.host), ("PGPORT", url.port),
                            ("PGUSER", url.username), ("PGPASSWORD", url.password),
                            ("PGDATABASE", url.database),
                            ("PGSSLMODE", url.query.get("sslmode"))):
        if value:
            env[variable] = str(value)
    return env


def _run(command: list[str], env: dict[str, str], what: str) -> None:
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False,
                            timeout=3600)
    if result.returncode != 0:
        raise BackupError(f"{what} failed (exit {result.returncode}):\n"
                          f"{(result.stderr or result.stdout).strip()}")


def backup(engine: Engine, path: Path, *, force: bool = False,
           pg_bin: str | None = None) -> Path:
    """Write a consistent copy of the database to ``path`` (written whole, then moved into
    place, so a failed backup never leaves a half file under the real name)."""
    path = Path(path)
    if path.exists() and not force:
        raise BackupError(f"{path} already exists. Choose another name, or use --force to "
                          "replace it.")
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    partial.unlink(missing_ok=True)
    try:
        if engine.dialect.name == "sqlite":
            _sqlite_copy(engine, partial, into_file=True)
        elif engine.dialect.name == "postgresql":
            _run([_pg_binary("pg_dump", pg_bin), "--format=custom", "--no-owner",
                  "--no-privileges", f"--file={partial}"],
                 _pg_environment(engine), "pg_dump")
        else:
            raise BackupError(f"Backups of {engine.dialect.name} databases are not supported")
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    return path


def _sqlite_copy(engine: Engine, file: Path, *, into_file: bool) -> None:
    """Copy the live database into ``file`` (``into_file``) or ``file`` into it."""
    raw = engine.raw_connection()
    try:
        live = raw.driver_connection
        other = sqlite3.connect(str(file))
        try:
            if into_file:
                live.backup(other)
            else:
                other.backup(live)
        finally:
            other.close()
    finally:
        raw.close()


def count_rows(engine: Engine) -> dict[str, int]:
    """Rows in every table of the database (what is there, not what the models say)."""
    with engine.connect() as connection:
        names = inspect(connection).get_table_names()
        return {name: connection.execute(select(text("count(*)")).select_from(table(name))
                                         ).scalar_one() for name in sorted(names)}


def in_use(engine: Engine) -> dict[str, int]:
    """Tables (other than reference data) holding rows, and how many; empty if none."""
    return {name: n for name, n in count_rows(engine).items()
            if n and name not in REFERENCE_TABLES}


def _check_file(engine: Engine, path: Path) -> None:
    if not path.is_file():
        raise BackupError(f"{path} does not exist")
    with path.open("rb") as handle:
        head = handle.read(16)
    expected = {"sqlite": SQLITE_MAGIC, "postgresql": PG_DUMP_MAGIC}.get(engine.dialect.name)
    if expected is None:
        raise BackupError(f"Restoring {engine.dialect.name} databases is not supported")
    if not head.startswith(expected):
        kind = "a SQLite backup" if engine.dialect.name == "sqlite" else "a pg_dump -Fc file"
        raise BackupError(f"{path} is not {kind}, so it cannot be restored into this "
                          f"{engine.dialect.name} database")


def restore(engine: Engine, path: Path, *, force: bool = False,
            pg_bin: str | None = None) -> Counts:
    """Replace the database's contents with the backup at ``path``; returns what it holds
    afterwards. Refuses a database already in use unless ``force``."""
    path = Path(path)
    _check_file(engine, path)
    used = in_use(engine)
    if used and not force:
        sample = ", ".join(f"{n:,} {name}" for name, n in list(used.items())[:4])
        raise BackupError(f"This database already holds data ({sample}...). Restoring would "
                          "replace it all. If that is what you want, stop the service and "
                          "run again with --force.")
    engine.dispose()  # no pooled connection may hold the old data open
    if engine.dialect.name == "sqlite":
        _sqlite_copy(engine, path, into_file=False)
    else:
        _run([_pg_binary("pg_restore", pg_bin), "--clean", "--if-exists", "--no-owner",
              "--no-privileges", "--single-transaction", "--exit-on-error",
              f"--dbname={engine.url.database}", str(path)],
             _pg_environment(engine), "pg_restore")
    engine.dispose()
    counts = count_rows(engine)
    return Counts(tables=len(counts), rows=sum(counts.values()))
