"""``flask lms throttles ...``: see which accounts and addresses are paused, and lift a pause
(for example for a trust whose shared address a mistyping script has paused)."""

from __future__ import annotations

import click
from flask.cli import AppGroup, with_appcontext

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


@click.command("create-admin")
@click.option("--email", prompt=True, help="The admin's email address.")
@click.option("--name", prompt="Full name", help="The admin's full name.")
@click.option("--organisation", prompt=True, default="NHSE-MIDS", show_default=True,
              help="The code of the admin's organisation (e.g. NHSE-MIDS, SU, BSOL).")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True,
              envvar="LMS_ADMIN_PASSWORD",
              help="Asked for if not given (or read from LMS_ADMIN_PASSWORD).")
@click.option("--force", is_flag=True,
              help="Add an admin even though one exists, or make an existing account one.")
@with_appcontext
def create_admin_command(email: str, name: str, organisation: str, password: str,
                         force: bool) -> None:
    """Make the first admin of a new installation (safe in production)."""
    from lms.accounts.first_admin import create_admin
    from lms.errors import DomainError
    from lms.extensions import db

    try:
        person, new = create_admin(email, name, password, organisation, force=force)
    except DomainError as error:
        raise click.ClickException(error.message) from None
    db.session.commit()
    if new:
        click.echo(f"Admin {person.email} created. Sign in, then set up two-step "
                   "verification: admins must have it.")
    else:
        click.echo(f"{person.email} is now an admin (password unchanged).")
