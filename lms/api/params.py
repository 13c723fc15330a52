"""Query parameters: read strictly, so a mistyped filter is a clear 400 rather than a silently
different answer. Each reader raises ``InvalidParameters`` naming every parameter that is
wrong."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from lms.accounts.models import Organisation, OrganisationKind
from lms.clock import LONDON
from lms.errors import InvalidInput
from lms.extensions import db

DEFAULT_PER_PAGE = 50
MAX_PER_PAGE = 200
MAX_PAGE = 100_000
# Ids are 32-bit integers on every database we run on.
MAX_ID = 2_147_483_647
# Dates outside these years are refused: nothing here happened before, and the ends of the
# calendar overflow when turned into moments.
FIRST_YEAR, LAST_YEAR = 2000, 2099
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


class InvalidParameters(InvalidInput):
    """One or more query parameters are not valid (the API answers 400)."""


@dataclass(frozen=True)
class Paging:
    page: int = 1
    per_page: int = DEFAULT_PER_PAGE

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.per_page


@dataclass(frozen=True)
class DateRange:
    """London dates, both ends included; either may be open."""

    starts: date | None = None
    ends: date | None = None

    @property
    def window(self) -> tuple[datetime | None, datetime | None]:
        """As UTC moments: from the first day's midnight to (not including) the midnight
        after the last day, on London clocks."""
        return (_midnight(self.starts) if self.starts else None,
                _midnight(self.ends + timedelta(days=1)) if self.ends else None)


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(0, 0), tzinfo=LONDON).astimezone(UTC)


class Reader:
    """Collects every problem with the query string, then raises them together."""

    def __init__(self, args: MultiDict):
        self.args = args
        self.errors: list[tuple[str | None, str]] = []

    def _one(self, name: str) -> str | None:
        values = self.args.getlist(name)
        if len(values) > 1:
            self.errors.append((name, f"Give {name} once only"))
            return None
        return values[0] if values else None

    def whole_number(self, name: str, default: int, low: int, high: int) -> int:
        raw = self._one(name)
        if raw is None or raw == "":
            return default
        if not re.fullmatch(r"\d{1,7}", raw) or not low <= int(raw) <= high:
            self.errors.append((name, f"{name} must be a whole number from {low} to {high}"))
            return default
        return int(raw)

    def optional_id(self, name: str) -> int | None:
        raw = self._one(name)
        if raw is None or raw == "":
            return None
        if not re.fullmatch(r"\d{1,10}", raw) or not 1 <= int(raw) <= MAX_ID:
            self.errors.append((name, f"{name} must be the id of one, a whole number"))
            return None
        return int(raw)

    def paging(self) -> Paging:
        return Paging(self.whole_number("page", 1, 1, MAX_PAGE),
                      self.whole_number("per_page", DEFAULT_PER_PAGE, 1, MAX_PER_PAGE))

    def day(self, name: str) -> date | None:
        raw = self._one(name)
        if raw is None or raw == "":
            return None
        try:
            if not _DATE.fullmatch(raw):
                raise ValueError(raw)
            value = date.fromisoformat(raw)
        except ValueError:
            self.errors.append((name, f"{name} must be a real date written as YYYY-MM-DD, "
                                      "like 2027-03-29"))
            return None
        if not FIRST_YEAR <= value.year <= LAST_YEAR:
            self.errors.append((name, f"{name} must be a date from {FIRST_YEAR} to "
                                      f"{LAST_YEAR}"))
            return None
        return value

    def dates(self) -> DateRange:
        starts, ends = self.day("from"), self.day("to")
        if starts and ends and ends < starts:
            self.errors.append(("to", "to must be the same as or after from"))
        return DateRange(starts, ends)

    def choice(self, name: str, allowed: list[str]) -> str | None:
        raw = self._one(name)
        if raw is None or raw == "":
            return None
        if raw not in allowed:
            self.errors.append((name, f"{name} must be one of: {', '.join(allowed)}"))
            return None
        return raw

    def ics(self, name: str = "ics") -> Organisation | None:
        raw = self._one(name)
        if raw is None or raw == "":
            return None
        ics = db.session.scalar(select(Organisation).where(
            Organisation.code == raw.strip().upper()[:20],
            Organisation.kind == OrganisationKind.ICS))
        if ics is None:
            codes = db.session.scalars(select(Organisation.code).where(
                Organisation.kind == OrganisationKind.ICS).order_by(Organisation.code))
            self.errors.append((name, f"{name} must be the code of an ICS: "
                                      f"{', '.join(codes)}"))
        return ics

    def done(self) -> None:
        """Raise every problem found, if any."""
        if self.errors:
            raise InvalidParameters(self.errors)
