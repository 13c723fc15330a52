"""The versions the page cache keeps fragments under (``lms.cache``)."""

from __future__ import annotations

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from lms.extensions import db


class CacheVersion(db.Model):
    """The version of one thing pages are built from: ``*`` (everything), ``offer`` (what
    listings show), ``offering:<id>`` (one offering's page), ``person:<id>`` (one person's
    places). A transaction that changes the thing writes a new random value in the same
    transaction; a fragment kept per process under the values it was built with is served
    while one indexed read finds the same values. Random, not a counter, so a database
    emptied and refilled never meets a value a process kept from before."""

    __tablename__ = "cache_version"

    scope: Mapped[str] = mapped_column(String(40), primary_key=True)
    version: Mapped[str] = mapped_column(String(32))
