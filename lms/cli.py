"""``flask lms ...``: demo data, the scheduler, the outbox, the development server, backups."""

from __future__ import annotations

from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup

lms_cli = AppGroup("lms", help="MDSN Learning & Events commands.")


def commands_of(app: Flask) -> AppGroup:
    """``app``'s own ``flask lms`` group: the commands of this module, to which features add
    theirs from their ``init_app``. Each app has its own group, so a feature's commands are
    in the apps that called its ``init_app`` and in no other."""
    group = app.cli.commands.get("lms")
    if group is None:
        group = AppGroup("lms", help=lms_cli.help)
        for name, command in lms_cli.commands.items():
            group.add_command(command, name)
        app.cli.add_command(group)
    return group


@lms_cli.command("seed-demo")
def seed_demo_command() -> None:
    """Load the demo region (idempotent). Refused under the production config."""
    from lms.demo import seed_demo

    if current_app.config["LMS_CONFIG_NAME"] == "production":
        raise click.ClickException("seed-demo refuses to run under the production config")
    summary = seed_demo()
    click.echo("Demo data: " + ", ".join(f"{n} {what}" for what, n in summary.items()))


@lms_cli.command("seed-if-empty")
def seed_if_empty_command() -> None:
    """Load the demo region only if there are no people yet (used by ``make run``)."""
    from lms.accounts.models import count_users
    from lms.demo import seed_demo

    if current_app.config["LMS_CONFIG_NAME"] == "production":
        raise click.ClickException("demo data is never loaded under the production config")
    if count_users():
        click.echo("Database already has people; demo data not loaded again.")
        return
    summary = seed_demo()
    click.echo("Demo data: " + ", ".join(f"{n} {what}" for what, n in summary.items()))


@lms_cli.command("seed-organisations")
def seed_organisations_command() -> None:
    """Add the region's organisations if missing (safe in production)."""
    from lms.accounts.services import ensure_organisations
    from lms.extensions import db

    added = ensure_organisations()
    db.session.commit()
    click.echo(f"{added} organisations added.")


@lms_cli.command("deliver-outbox")
def deliver_outbox_command() -> None:
    """Send the emails that are due, once."""
    from lms.notifications.delivery import deliver_outbox

    report = deliver_outbox()
    click.echo(f"{report.sent} sent, {report.retried} to retry, {report.failed} failed")


@lms_cli.command("scheduler")
def scheduler_command() -> None:
    """Run the periodic jobs. Run exactly one of these beside the web workers."""
    from lms.jobs import run_forever

    run_forever(current_app._get_current_object())


@lms_cli.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True)
def serve_command(host: str, port: int) -> None:
    """The development server, with the scheduler in the same process."""
    from lms.jobs import start_background

    app = current_app._get_current_object()
    if app.config["SCHEDULER_IN_PROCESS"]:
        start_background(app)
    password, outbox = app.config["DEMO_PASSWORD"], app.config["MAIL_OUTBOX_DIR"]
    click.echo(
        f"\n  MDSN Learning & Events is running at http://{host}:{port}\n\n"
        f"  Demo sign-ins (password: {password}):\n"
        "    learner@example.nhs.uk   learner, Birmingham and Solihull\n"
        "    dsulead@example.nhs.uk   DSU lead, Birmingham and Solihull\n"
        "    faculty@example.nhs.uk   faculty\n"
        "    admin@example.nhs.uk     admin\n\n"
        f"  Emails are written to {outbox} as .eml files.\n"
    )
    # app.run() refuses to start inside a ``flask`` command, so call Werkzeug directly.
    from werkzeug.serving import run_simple

    run_simple(host, port, app, use_reloader=False, threaded=True)


@lms_cli.command("backup")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace PATH if it already exists.")
def backup_command(path: Path, force: bool) -> None:
    """Write a consistent copy of the whole database to PATH, while the service runs
    (SQLite's online backup; pg_dump -Fc on PostgreSQL)."""
    from lms.backup import BackupError, backup, count_rows
    from lms.extensions import db

    try:
        written = backup(db.engine, path, force=force, pg_bin=current_app.config.get("PG_BIN"))
    except BackupError as error:
        raise click.ClickException(str(error)) from None
    counts = count_rows(db.engine)
    click.echo(f"Backed up {len(counts)} tables, {sum(counts.values()):,} rows, to {written} "
               f"({written.stat().st_size:,} bytes).")


@lms_cli.command("restore")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True,
              help="Replace a database that already holds data. Stop the service first.")
def restore_command(path: Path, force: bool) -> None:
    """Replace the database's contents with the backup at PATH. Refuses a database that
    already holds data unless --force is given."""
    from lms.audit.models import AuditAction
    from lms.audit.services import record
    from lms.backup import BackupError, restore
    from lms.extensions import db

    db.session.remove()
    try:
        counts = restore(db.engine, path, force=force, pg_bin=current_app.config.get("PG_BIN"))
    except BackupError as error:
        raise click.ClickException(str(error)) from None
    record(AuditAction.RESTORED, "Database", after={"backup": path.name,
                                                    "tables": counts.tables,
                                                    "rows": counts.rows})
    db.session.commit()
    click.echo(f"Restored {counts.tables} tables, {counts.rows:,} rows, from {path}.")
