"""``flask lms certificates ...``: bulk issue from the command line."""

from __future__ import annotations

import click
from flask.cli import AppGroup

certificates_cli = AppGroup("certificates", help="Certificates: bulk issue.")


@certificates_cli.command("issue")
@click.option("--offering", "offering_id", type=int, required=True,
              help="The id of the cohort or event.")
@click.option("--workers", type=int, default=None,
              help="Worker processes rendering PDFs (default: CERTIFICATE_WORKERS, 2).")
def issue_command(offering_id: int, workers: int | None) -> None:
    """Issue every missing certificate of an offering, render the PDFs and email each person.
    Safe to run again after an interruption: it finishes what is left, nothing twice."""
    from lms.certificates import bulk
    from lms.errors import DomainError, NotFound
    from lms.extensions import db
    from lms.offerings.services import get_offering

    try:
        offering = get_offering(offering_id)
        batch = bulk.start_batch(None, offering)
        db.session.commit()
    except (NotFound, DomainError) as error:
        raise click.ClickException(error.message) from None
    click.echo(f"{offering.title}: bulk issue {batch.id}")
    shown = {"done": -1}

    def report(batch) -> None:
        if batch.done != shown["done"]:
            shown["done"] = batch.done
            click.echo(f"  {batch.done} of {batch.total} certificates ready"
                       f" ({batch.issued} newly issued)")

    try:
        batch = bulk.run_batch(batch.id, workers=workers, on_progress=report)
    except bulk.BatchBusy as error:
        raise click.ClickException(error.message) from None
    if batch.status == "failed":
        raise click.ClickException(f"Stopped: {batch.error}")
    click.echo(f"Done: {batch.done} of {batch.total} certificates ready, "
               f"{batch.issued} newly issued and emailed.")
