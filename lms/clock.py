"""Time: stored in UTC, shown in Europe/London.

Every feature reads the time through ``utcnow`` so tests can freeze it, and every column of
time uses ``UTCDateTime`` so SQLite and PostgreSQL both hand back aware UTC datetimes.
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import DateTime
from sqlalchemy.types import TypeDecorator

LONDON = ZoneInfo("Europe/London")


def utcnow() -> datetime:
    """The current time, aware, in UTC."""
    return datetime.now(UTC)


def to_london(moment: datetime) -> datetime:
    """Show an aware UTC time on the clocks of Europe/London."""
    return moment.astimezone(LONDON)


def london_text(moment: datetime | None, fmt: str = "%-d %B %Y, %-I:%M%p") -> str:
    """A UTC time written as London clocks show it, "am"/"pm" in lower case, as every page,
    email and refusal writes times ("" for none)."""
    if moment is None:
        return ""
    return to_london(moment).strftime(fmt).replace("AM", "am").replace("PM", "pm")


class UTCDateTime(TypeDecorator):
    """A timestamp stored as UTC and always returned timezone-aware."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column; use lms.clock.utcnow()")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)
