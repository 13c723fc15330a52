"""Read the attendance reports that Microsoft Teams and Zoom let organisers download.

Teams writes a UTF-16, tab-separated file in sections ("1. Summary", "2. Participants",
"3. In-Meeting Activities"); durations look like "1h 2m 3s" and dates follow the organiser's
locale, so minutes come from durations, and people from emails. Zoom's participants report
is a CSV (sometimes after a meeting summary block) with "Duration (Minutes)" per join; people
who rejoin appear more than once and their minutes are added up.

The meeting's start (the summary's "Start time", else the earliest join) is read only to check
the report belongs to the session: a date such as "1/12/27" may be 12 January (US order, the
default of both tools) or 1 December (UK order), so both readings are kept, on London clocks.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime

from lms.accounts.emails import email_key
from lms.clock import LONDON
from lms.errors import DomainError

MAX_BYTES = 2 * 1024 * 1024
FIELD = "report"


@dataclass
class ReportRow:
    name: str
    email: str  # lower-case, may be empty for guests
    minutes: int


@dataclass
class Report:
    kind: str  # teams | zoom
    rows: list[ReportRow]
    # When the meeting started, as UTC; two readings if its date could be either way round.
    starts: tuple[datetime, ...] = field(default_factory=tuple)

    def fingerprint(self) -> str:
        """A digest of what the report says (kind, start, people and minutes), not of its
        bytes: the same report saved again with other line endings, an extra blank line or
        its rows in another order is the same report."""
        rows = sorted((row.email, row.name, row.minutes) for row in self.rows)
        canon = repr((self.kind, sorted(start.isoformat() for start in self.starts), rows))
        return hashlib.sha256(canon.encode()).hexdigest()


def _fail(message: str) -> DomainError:
    return DomainError(message, FIELD)


def decode(data: bytes) -> str:
    """Bytes to text: UTF-16 (with a BOM, as Teams writes) or UTF-8."""
    if not data or not data.strip(b"\x00\r\n\t \xef\xbb\xbf\xff\xfe"):
        raise _fail("The file is empty")
    if len(data) > MAX_BYTES:
        raise _fail("The file must be 2MB or smaller")
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            raise _fail("The file could not be read: it is not valid UTF-16 text") from None
    if b"\x00" in data[:200]:
        # UTF-16 without a byte order mark: Teams on some systems.
        for encoding in ("utf-16-le", "utf-16-be"):
            try:
                text = data.decode(encoding)
            except UnicodeDecodeError:
                continue
            if "\t" in text or "," in text:
                return text
        raise _fail("The file is not a text file. Upload the .csv report from Teams or Zoom")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            return data.decode("cp1252")
        except UnicodeDecodeError:
            raise _fail("The file could not be read as text") from None


# A cell longer than this is not a duration (Teams writes at most "999h 59m 59s").
MAX_CELL = 64
# Tokens of a duration: a run of digits, a run of letters, or any other single character.
# Each alternative is one quantifier over a class the others exclude, so scanning is linear.
_TOKEN = re.compile(r"\d+|[^\W\d_]+|\S")
_UNITS = {"h": 0, "m": 1, "min": 1, "s": 2}


def _clock(text: str) -> tuple[int, int, int] | None:
    """'01:02:03' -> (1, 2, 3); anything else None."""
    parts = text.split(":")
    if len(parts) != 3 or not all(p.isascii() and p.isdigit() for p in parts) \
            or len(parts[1]) != 2 or len(parts[2]) != 2:
        return None
    return int(parts[0]), int(parts[1]), int(parts[2])


def teams_minutes(text: str) -> int:
    """'1h 2m 3s' -> 62; '45m 10s' -> 45; '59s' -> 1; '01:02:03' -> 62.

    Read by a tokeniser, not a backtracking pattern: any cell, however long or odd, is read
    (or refused) in time linear in its length, and a cell over ``MAX_CELL`` is refused."""
    text = text.strip()
    if len(text) > MAX_CELL:
        raise ValueError("too long to be a duration")
    clock = _clock(text)
    if clock:
        h, m, s = clock
    else:
        values = [0, 0, 0]
        tokens = _TOKEN.findall(text)
        if not tokens or len(tokens) % 2:
            raise ValueError(f"not a duration: {text!r}")
        last = -1
        for number, unit in zip(tokens[::2], tokens[1::2], strict=True):
            slot = _UNITS.get(unit.lower())
            if not (number.isascii() and number.isdigit()) or slot is None or slot <= last:
                raise ValueError(f"not a duration: {text!r}")
            values[slot], last = int(number), slot
        h, m, s = values
    seconds = h * 3600 + m * 60 + s
    return (seconds + 30) // 60


_MOMENT = re.compile(
    r"^\s*(?:(?P<y1>\d{4})-(?P<m1>\d{1,2})-(?P<d1>\d{1,2})"
    r"|(?P<a>\d{1,2})[/.](?P<b>\d{1,2})[/.](?P<y2>\d{2}|\d{4}))"
    r"[,T\s]+(?P<h>\d{1,2}):(?P<mi>\d{2})(?::(?P<s>\d{2}))?(?:\.\d+)?"
    r"(?:\s*(?P<ampm>[AaPp]\.?[Mm]\.?))?"
    r"(?:\s*(?:Z|[+-]\d{2}:?\d{2}))?$")


def read_moment(text: str) -> tuple[datetime, ...]:
    """A report's date and time as UTC: one reading, two if the day and month could be
    either way round (month first, as Teams and Zoom write by default, then day first), none
    if it is not a date we know."""
    text = (text or "").strip()
    if len(text) > MAX_CELL:
        return ()
    match = _MOMENT.match(text)
    if not match:
        return ()
    hour, minute, second = int(match["h"]), int(match["mi"]), int(match["s"] or 0)
    ampm = (match["ampm"] or "").lower().replace(".", "")
    if ampm == "pm" and hour < 12:
        hour += 12
    elif ampm == "am" and hour == 12:
        hour = 0
    if match["y1"]:
        orders = [(int(match["y1"]), int(match["m1"]), int(match["d1"]))]
    else:
        year = int(match["y2"]) + (2000 if len(match["y2"]) == 2 else 0)
        a, b = int(match["a"]), int(match["b"])
        orders = [(year, a, b), (year, b, a)]
    readings: list[datetime] = []
    for year, month, day in orders:
        try:
            local = datetime(year, month, day, hour, minute, second, tzinfo=LONDON)
        except ValueError:
            continue
        moment = local.astimezone(UTC)
        if moment not in readings:
            readings.append(moment)
    return tuple(readings)


def _earliest(values: list[str]) -> tuple[datetime, ...]:
    """The readings of the earliest of several times (joins), compared by their first
    reading."""
    readings = [r for r in (read_moment(v) for v in values) if r]
    return min(readings, key=lambda r: r[0]) if readings else ()


def _norm(header: str) -> str:
    return re.sub(r"\s+", " ", header.strip().strip('"').lower())


def _find(headers: list[str], *candidates: str) -> int | None:
    normalised = [_norm(h) for h in headers]
    for candidate in candidates:
        if candidate in normalised:
            return normalised.index(candidate)
    return None


def parse_teams(text: str) -> list[ReportRow]:
    """The participants section of a Teams attendance report."""
    lines = text.splitlines()
    header_at = None
    for index, line in enumerate(lines):
        cells = line.split("\t")
        if _find(cells, "name", "full name") is not None and _find(
            cells, "in-meeting duration", "duration"
        ) is not None:
            header_at = index
            break
    if header_at is None:
        raise _fail("The Teams report has no participants table")
    headers = lines[header_at].split("\t")
    name_i = _find(headers, "name", "full name")
    duration_i = _find(headers, "in-meeting duration", "duration")
    email_i = _find(headers, "email", "participant id (upn)", "upn")
    role_i = _find(headers, "role")
    rows: list[ReportRow] = []
    for number, line in enumerate(lines[header_at + 1:], start=header_at + 2):
        if not line.strip():
            break  # the blank line that ends the section
        cells = line.split("\t")
        if re.match(r"^\d+\.\s", cells[0]):
            break  # the next section's heading
        if len(cells) <= max(i for i in (name_i, duration_i) if i is not None):
            raise _fail(f"Line {number} of the Teams report is incomplete")
        if role_i is not None and role_i < len(cells) and cells[role_i].strip().lower() == \
                "organizer":
            continue
        try:
            minutes = teams_minutes(cells[duration_i])
        except ValueError:
            raise _fail(f"Line {number} of the Teams report has a duration we cannot read: "
                        f"{cells[duration_i].strip()[:40]!r}") from None
        email = email_key(cells[email_i]) if email_i is not None and email_i < len(cells) \
            else ""
        rows.append(ReportRow(cells[name_i].strip()[:200], email if "@" in email else "",
                              minutes))
    if not rows:
        raise _fail("The Teams report lists no participants")
    return rows


def teams_start(text: str) -> tuple[datetime, ...]:
    """When a Teams meeting started: the summary's start time, else the earliest join."""
    lines = text.splitlines()
    for line in lines:
        cells = line.split("\t")
        if (len(cells) >= 2 and _norm(cells[0]) in ("start time", "meeting start time")
                and (found := read_moment(cells[1]))):
            return found
    for index, line in enumerate(lines):
        cells = line.split("\t")
        join_i = _find(cells, "first join", "join time")
        if join_i is not None and _find(cells, "name", "full name") is not None:
            joins = []
            for row in lines[index + 1:]:
                if not row.strip():
                    break
                parts = row.split("\t")
                if join_i < len(parts):
                    joins.append(parts[join_i].strip())
            return _earliest(joins)
    return ()


def zoom_start(text: str) -> tuple[datetime, ...]:
    """When a Zoom meeting started: the meeting summary's start time, else the earliest
    join."""
    table = list(csv.reader(io.StringIO(text)))
    for index, cells in enumerate(table[:-1]):
        start_i = _find(cells, "start time")
        if (start_i is not None and start_i < len(table[index + 1])
                and (found := read_moment(table[index + 1][start_i]))):
            return found
    for index, cells in enumerate(table):
        join_i = _find(cells, "join time")
        if join_i is not None:
            return _earliest([row[join_i] for row in table[index + 1:] if join_i < len(row)])
    return ()


def parse_zoom(text: str) -> list[ReportRow]:
    """The participants table of a Zoom report."""
    table = list(csv.reader(io.StringIO(text)))
    header_at = None
    for index, cells in enumerate(table):
        if _find(cells, "name (original name)", "name", "participant") is not None and _find(
            cells, "duration (minutes)", "total duration (minutes)", "duration (mins)"
        ) is not None and _find(cells, "participants") is None:
            header_at = index
            break
    if header_at is None:
        raise _fail("The Zoom report has no participants table")
    headers = table[header_at]
    name_i = _find(headers, "name (original name)", "name", "participant")
    duration_i = _find(headers, "duration (minutes)", "total duration (minutes)",
                       "duration (mins)")
    email_i = _find(headers, "user email", "email")
    rows: list[ReportRow] = []
    for number, cells in enumerate(table[header_at + 1:], start=header_at + 2):
        if not any(c.strip() for c in cells):
            continue
        if len(cells) <= max(name_i, duration_i):
            raise _fail(f"Line {number} of the Zoom report is incomplete")
        try:
            minutes = int(float(cells[duration_i].strip()))
        except ValueError:
            raise _fail(f"Line {number} of the Zoom report has a duration that is not a "
                        "number") from None
        if minutes < 0:
            raise _fail(f"Line {number} of the Zoom report has a negative duration")
        email = email_key(cells[email_i]) if email_i is not None and email_i < len(cells) \
            else ""
        rows.append(ReportRow(cells[name_i].strip()[:200], email if "@" in email else "",
                              minutes))
    if not rows:
        raise _fail("The Zoom report lists no participants")
    return rows


def read_report(data: bytes, filename: str) -> Report:
    """Recognise and parse a Teams or Zoom attendance report, or explain what is wrong."""
    if not filename.lower().endswith((".csv", ".txt", ".tsv")):
        raise _fail("Upload the report as the .csv file that Teams or Zoom gives you")
    text = decode(data)
    head = text[:4000]
    if "\t" in head and re.search(r"(?im)^(1\.\s*summary|meeting summary|.*in-meeting "
                                  r"duration|full name\tuser action)", head):
        return Report("teams", parse_teams(text), teams_start(text))
    if "Duration (Minutes)" in text[:20000] or "Total Duration (Minutes)" in text[:20000]:
        return Report("zoom", parse_zoom(text), zoom_start(text))
    if "\t" in head and re.search(r"(?i)\bduration\b", head):
        return Report("teams", parse_teams(text), teams_start(text))
    raise _fail("This is not a Teams or Zoom attendance report")


def merge(rows: list[ReportRow]) -> tuple[dict[str, ReportRow], list[ReportRow]]:
    """Rows with an email merged per email (minutes added); rows without an email apart."""
    by_email: dict[str, ReportRow] = {}
    no_email: list[ReportRow] = []
    for row in rows:
        if not row.email:
            no_email.append(row)
        elif row.email in by_email:
            by_email[row.email].minutes += row.minutes
        else:
            by_email[row.email] = ReportRow(row.name, row.email, row.minutes)
    return by_email, no_email
