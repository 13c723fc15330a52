"""Recurrence rules for network series: built from a form's plain fields, written as an RFC 5545
RRULE, expanded on London clocks.

A rule is read from a first day and a local start time: a huddle "every second Wednesday at
12:30" is at 12:30 on London clocks in January (GMT) and in July (BST), so its UTC time moves
by an hour across the clock changes while its local time does not.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from dateutil import rrule as du

from lms.clock import LONDON
from lms.errors import DomainError, ErrorCollector

MAX_OCCURRENCES = 500
MAX_INTERVAL = 12


class Frequency(enum.StrEnum):
    WEEKLY = "WEEKLY"
    MONTHLY = "MONTHLY"


FREQUENCY_LABELS = {Frequency.WEEKLY: "Weekly", Frequency.MONTHLY: "Monthly"}

WEEKDAYS = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"]
WEEKDAY_LABELS = {"MO": "Monday", "TU": "Tuesday", "WE": "Wednesday", "TH": "Thursday",
                  "FR": "Friday", "SA": "Saturday", "SU": "Sunday"}
# For monthly rules: which of the month's weekdays (the 2nd Tuesday, the last Friday).
ORDINALS = {1: "First", 2: "Second", 3: "Third", 4: "Fourth", -1: "Last"}


@dataclass(frozen=True)
class Rule:
    """A recurrence as people describe it: every ``interval`` weeks on ``weekdays``, or every
    ``interval`` months on the ``ordinal`` ``weekdays[0]``; ending after ``count`` meetings or
    on ``until`` (a London date, inclusive)."""

    frequency: str
    interval: int
    weekdays: tuple[str, ...] = ()
    ordinal: int | None = None
    count: int | None = None
    until: date | None = None

    def rrule_text(self) -> str:
        """The RRULE value (without DTSTART): FREQ=WEEKLY;INTERVAL=2;BYDAY=WE;COUNT=26."""
        parts = [f"FREQ={self.frequency}", f"INTERVAL={self.interval}"]
        if self.frequency == Frequency.MONTHLY and self.ordinal is not None:
            parts.append(f"BYDAY={self.ordinal}{self.weekdays[0]}")
        elif self.weekdays:
            parts.append("BYDAY=" + ",".join(self.weekdays))
        if self.count is not None:
            parts.append(f"COUNT={self.count}")
        if self.until is not None:
            # With a DTSTART on London clocks, RFC 5545 wants UNTIL in UTC: the last moment
            # of that London day.
            end = datetime.combine(self.until, time(23, 59, 59), tzinfo=LONDON).astimezone(UTC)
            parts.append(f"UNTIL={end:%Y%m%dT%H%M%SZ}")
        return ";".join(parts)

    def describe(self) -> str:
        """In words: "Every 2 weeks on Wednesday, 26 times"."""
        unit = "week" if self.frequency == Frequency.WEEKLY else "month"
        every = f"Every {unit}" if self.interval == 1 else f"Every {self.interval} {unit}s"
        if self.frequency == Frequency.MONTHLY and self.ordinal is not None:
            on = f" on the {ORDINALS[self.ordinal].lower()} {WEEKDAY_LABELS[self.weekdays[0]]}"
        elif self.weekdays:
            on = " on " + ", ".join(WEEKDAY_LABELS[d] for d in self.weekdays)
        else:
            on = ""
        if self.count is not None:
            end = f", {self.count} times"
        elif self.until is not None:
            end = f", until {self.until:%-d %B %Y}"
        else:
            end = ""
        return every + on + end

    @classmethod
    def parse(cls, text: str) -> Rule:
        """Read back an RRULE written by ``rrule_text`` (to fill in the edit form)."""
        values = dict(part.split("=", 1) for part in text.split(";") if "=" in part)
        weekdays: tuple[str, ...] = ()
        ordinal = None
        if "BYDAY" in values:
            days = values["BYDAY"].split(",")
            if len(days) == 1 and days[0][:-2]:
                ordinal, weekdays = int(days[0][:-2]), (days[0][-2:],)
            else:
                weekdays = tuple(d[-2:] for d in days)
        until = None
        if "UNTIL" in values:
            moment = datetime.strptime(values["UNTIL"], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
            until = moment.astimezone(LONDON).date()
        return cls(values["FREQ"], int(values.get("INTERVAL", "1")), weekdays, ordinal,
                   int(values["COUNT"]) if "COUNT" in values else None, until)


@dataclass
class RuleInput:
    """What the rule builder's fields hold (``None`` where a box was left empty)."""

    frequency: str | None
    interval: int | None
    weekdays: list[str] = field(default_factory=list)
    ordinal: int | None = None
    ends: str | None = None  # "count" | "until"
    count: int | None = None
    until: date | None = None


def check_rule(raw: RuleInput, first_day: date | None) -> Rule:
    """A rule from the builder's fields, or ``InvalidInput`` naming every wrong field
    (``frequency``, ``interval``, ``weekdays``, ``ordinal``, ``ends``, ``count``, ``until``)."""
    errors = ErrorCollector()
    if raw.frequency not in (Frequency.WEEKLY, Frequency.MONTHLY):
        errors.errors.append(("frequency", "Choose how often the network meets"))
    if raw.interval is None:
        errors.errors.append(("interval", "Enter how many weeks or months apart the meetings "
                                          "are, like 2"))
    elif not 1 <= raw.interval <= MAX_INTERVAL:
        errors.errors.append(("interval", f"Meetings must be 1 to {MAX_INTERVAL} weeks or "
                                          "months apart"))
    weekdays = tuple(d for d in WEEKDAYS if d in (raw.weekdays or []))
    if raw.weekdays and len(weekdays) != len(set(raw.weekdays)):
        errors.errors.append(("weekdays", "Choose days of the week from the list"))
    elif not weekdays:
        errors.errors.append(("weekdays", "Choose the day of the week the network meets"))
    ordinal = None
    if raw.frequency == Frequency.MONTHLY:
        if raw.ordinal not in ORDINALS:
            errors.errors.append(("ordinal", "Choose which week of the month, like the second"))
        elif len(weekdays) > 1:
            errors.errors.append(("weekdays", "A monthly meeting is on one day of the week"))
        else:
            ordinal = raw.ordinal
    count = until = None
    if raw.ends == "count":
        if raw.count is None:
            errors.errors.append(("count", "Enter how many meetings there will be"))
        elif not 1 <= raw.count <= MAX_OCCURRENCES:
            errors.errors.append(("count", f"The number of meetings must be between 1 and "
                                           f"{MAX_OCCURRENCES}"))
        else:
            count = raw.count
    elif raw.ends == "until":
        if raw.until is None:
            errors.errors.append(("until", "Enter the date of the last meeting"))
        elif first_day is not None and raw.until < first_day:
            errors.errors.append(("until", "The end date must be on or after the first "
                                           "meeting"))
        else:
            until = raw.until
    else:
        errors.errors.append(("ends", "Choose when the meetings end: after a number of "
                                      "meetings or on a date"))
    errors.raise_any()
    return Rule(raw.frequency, raw.interval, weekdays, ordinal, count, until)


def local_datetimes(rule: Rule | str, first_day: date, local_start: time,
                    limit: int = MAX_OCCURRENCES + 1) -> list[datetime]:
    """The rule's meetings as naive London wall-clock times, at most ``limit`` of them."""
    text = rule.rrule_text() if isinstance(rule, Rule) else rule
    start = datetime.combine(first_day, local_start)
    # dateutil wants UNTIL in the DTSTART's terms: naive London time.
    parts = []
    for part in text.split(";"):
        if part.startswith("UNTIL="):
            moment = datetime.strptime(part[6:], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
            part = "UNTIL=" + moment.astimezone(LONDON).strftime("%Y%m%dT%H%M%S")
        parts.append(part)
    generator = du.rrulestr(";".join(parts), dtstart=start)
    out = []
    for moment in generator:
        out.append(moment)
        if len(out) >= limit:
            break
    return out


def to_utc(wall: datetime) -> datetime | None:
    """A London wall-clock time in UTC, or None if the clocks skip it (spring forward).
    In the autumn hour that happens twice, the first (BST) one is meant."""
    aware = wall.replace(tzinfo=LONDON, fold=0)
    moment = aware.astimezone(UTC)
    if moment.astimezone(LONDON).replace(tzinfo=None) != wall:
        return None
    return moment


@dataclass(frozen=True)
class Occurrence:
    starts_at: datetime
    ends_at: datetime


def occurrences(rule: Rule | str, first_day: date, local_start: time,
                duration_minutes: int) -> list[Occurrence]:
    """Every meeting of the rule in UTC, each at ``local_start`` on London clocks. Refuses a
    rule giving no meeting, more than ``MAX_OCCURRENCES``, or a meeting at a time the clocks
    skip."""
    walls = local_datetimes(rule, first_day, local_start)
    if not walls:
        raise DomainError("These settings give no meetings: check the first date, the day of "
                          "the week and the end", "first_day")
    if len(walls) > MAX_OCCURRENCES:
        raise DomainError(f"These settings give more than {MAX_OCCURRENCES} meetings. "
                          "Choose an earlier end or fewer meetings.", "ends")
    length = timedelta(minutes=duration_minutes)
    out = []
    for wall in walls:
        starts_at = to_utc(wall)
        if starts_at is None:
            raise DomainError(
                f"{wall:%H:%M} on {wall:%-d %B %Y} does not exist in the UK: the clocks go "
                "forward that night. Choose another start time.", "local_start")
        # The end is on London clocks too (a meeting over the change keeps its local end).
        ends_at = to_utc(wall + length) or starts_at + length
        out.append(Occurrence(starts_at, ends_at))
    return out
