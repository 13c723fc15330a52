"""The demo region: each feature seeds its own part, in the order the data flows."""

from __future__ import annotations

from lms.extensions import db


def seed_demo() -> dict[str, int]:
    """Load every feature's demo data (idempotent) and commit once."""
    from lms.accounts import demo as accounts_demo

    summary: dict[str, int] = {}
    summary.update(accounts_demo.seed())
    db.session.commit()
    return summary
