"""``flask lms ...``: demo data, the scheduler, the outbox, the development server."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

lms_cli = AppGroup("lms", help="MDSN Learning & Events commands.")


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
    from lms.notifications.services import deliver_outbox

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
