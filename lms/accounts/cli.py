"""``flask lms throttles ...``: see which accounts and addresses are paused, and lift a pause
(for example for a trust whose shared address a mistyping script has paused)."""

from __future__ import annotations

import click
from flask.cli import AppGroup

throttles_cli = AppGroup("throttles", help="Throttles: see and clear paused accounts and "
                                           "addresses.")


@throttles_cli.command("list")
def list_command() -> None:
    """Every account and address paused right now, per door, and until when (UTC)."""
    from lms.accounts.throttle import current_throttles

    paused = current_throttles()
    if not paused:
        click.echo("Nothing is throttled.")
        return
    for t in paused:
        click.echo(f"{t.bucket:20} {t.kind:8} {t.key:40} {t.hits:>4}/{t.limit:<4} "
                   f"until {t.until:%Y-%m-%d %H:%M}")


@throttles_cli.command("clear")
@click.argument("key", required=False)
@click.option("--bucket", type=click.Choice(["sign_in", "forgot_password", "sign_up",
                                             "resend_confirmation", "check_in"]),
              help="Only this door.")
@click.option("--all", "everything", is_flag=True, help="Clear every throttle.")
def clear_command(key: str | None, bucket: str | None, everything: bool) -> None:
    """Lift the pause on KEY: an email address (any spelling) or a client address."""
    from lms.accounts.throttle import clear
    from lms.extensions import db

    if not key and not everything:
        raise click.UsageError("Give an email address or client address, or --all")
    removed = clear(key, bucket)
    db.session.commit()
    click.echo(f"{removed} attempts cleared.")
