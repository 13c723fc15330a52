"""``flask lms feedback ...``: survey commands."""

from __future__ import annotations

import click
from flask.cli import AppGroup

feedback_cli = AppGroup("feedback", help="Feedback survey commands.")


@feedback_cli.command("seed-templates")
def seed_templates_command() -> None:
    """Add the standard survey templates if missing (idempotent; safe in production)."""
    from lms.extensions import db
    from lms.feedback.builder import ensure_standard_templates

    added = ensure_standard_templates()
    db.session.commit()
    click.echo(f"{added} survey templates added.")


@feedback_cli.command("send-reminders")
def send_reminders_command() -> None:
    """Email people who have not answered an open survey, once per reminder due."""
    from lms.extensions import db
    from lms.feedback.services import send_reminders

    sent = send_reminders()
    db.session.commit()
    click.echo(f"{sent} survey reminders queued.")
