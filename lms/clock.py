"""Time: stored in UTC, shown in Europe/London.

Every feature reads the time through ``utcnow`` so tests can freeze it, and every column of
time uses ``UTCDateTime`` so SQLite and PostgreSQL both hand back aware UTC datetimes.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
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


# The NHS.UK style, the one way every page and email writes a date or a time:
# "Tuesday 14 January 2027, 9:30am"; "9am"; "12 noon"; "12 midnight" (never "12:00am").


def time_text(moment: datetime | time | None) -> str:
    """A UTC time as London clocks show it, in the NHS.UK style ("9am", "9:30am", "12 noon");
    a bare clock time (a network's "meets at") is taken as it is."""
    if moment is None:
        return ""
    local = moment if isinstance(moment, time) else to_london(moment)
    if local.minute == 0 and local.hour == 12:
        return "12 noon"
    if local.minute == 0 and local.hour == 0:
        return "12 midnight"
    hour = local.hour % 12 or 12
    minutes = f":{local.minute:02d}" if local.minute else ""
    return f"{hour}{minutes}{'am' if local.hour < 12 else 'pm'}"


def _day(value: datetime | date) -> date:
    return to_london(value).date() if isinstance(value, datetime) else value


def date_text(value: datetime | date | None, weekday: bool = False) -> str:
    """A day ("14 January 2027", or "Tuesday 14 January 2027"); a datetime is taken on London's
    clocks, a date as it is."""
    if value is None:
        return ""
    day = _day(value)
    text = f"{day.day} {day:%B %Y}"
    return f"{day:%A} {text}" if weekday else text


def when_text(moment: datetime | None) -> str:
    """A moment in full: "Tuesday 14 January 2027, 9:30am"."""
    if moment is None:
        return ""
    return f"{date_text(moment, weekday=True)}, {time_text(moment)}"


def span_text(starts: datetime | None, ends: datetime | None) -> str:
    """A session's times: "Tuesday 14 January 2027, 9:30am to 12 noon" (both days when it runs
    past midnight)."""
    if starts is None:
        return ""
    if ends is None:
        return when_text(starts)
    if _day(starts) == _day(ends):
        return f"{when_text(starts)} to {time_text(ends)}"
    return f"{when_text(starts)} to {when_text(ends)}"


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
