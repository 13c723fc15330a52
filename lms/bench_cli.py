"""``flask lms seed-bench``: region-scale data for the benchmarks (``bench/`` in the
repository). Never under the production config."""

from __future__ import annotations

import time

import click
from flask import current_app
from flask.cli import with_appcontext


@click.command("seed-bench")
@click.option("--scale", type=float, default=1.0, show_default=True,
              help="1 is the whole region: 3,000 people, 200 cohorts, ~80,000 attendances.")
@click.option("--seed", type=int, default=None, help="Random seed (default: the bench's).")
@click.option("--create-schema", is_flag=True,
              help="Create the tables from the models first (a new, throw-away database).")
@with_appcontext
def seed_bench_command(scale: float, seed: int | None, create_schema: bool) -> None:
    """Fill an empty database with region-scale benchmark data. Refused under the production
    config and on a database that already has people."""
    if current_app.config["LMS_CONFIG_NAME"] == "production":
        raise click.ClickException("seed-bench refuses to run under the production config")
    try:
        from bench.generate import DEFAULT_SEED, generate
    except ImportError:
        raise click.ClickException("seed-bench needs the repository's bench/ folder: run it "
                                   "from the root of a checkout") from None
    from lms.extensions import db

    if create_schema:
        db.create_all()
    started = time.perf_counter()
    try:
        counts = generate(scale, DEFAULT_SEED if seed is None else seed)
    except ValueError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"Benchmark data at scale {scale:g} in {time.perf_counter() - started:.1f} s: "
               + ", ".join(f"{n:,} {table}" for table, n in counts.items()))
