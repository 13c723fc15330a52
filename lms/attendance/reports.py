"""Read the attendance reports that Microsoft Teams and Zoom let organisers download.

Teams writes a UTF-16, tab-separated file in sections ("1. Summary", "2. Participants",
"3. In-Meeting Activities"); durations look like "1h 2m 3s" and dates follow the organiser's
locale, so we rely on durations and emails, never on parsing dates. Zoom's participants report
is a CSV (sometimes after a meeting summary block) with "Duration (Minutes)" per join; people
who rejoin appear more than once and their minutes are added up.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass

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


_DURATION = re.compile(r"^\s*(?:(\d+)\s*h)?\s*(?:(\d+)\s*m(?:in)?)?\s*(?:(\d+)\s*s)?\s*$", re.I)


def teams_minutes(text: str) -> int:
    """'1h 2m 3s' -> 62; '45m 10s' -> 45; '59s' -> 1; '01:02:03' -> 62."""
    text = text.strip()
    clock = re.fullmatch(r"(\d+):(\d{2}):(\d{2})", text)
    if clock:
        h, m, s = (int(x) for x in clock.groups())
    else:
        match = _DURATION.match(text)
        if not text or not match or not any(match.groups()):
            raise ValueError(f"not a duration: {text!r}")
        h, m, s = (int(x or 0) for x in match.groups())
    seconds = h * 3600 + m * 60 + s
    return (seconds + 30) // 60


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
        email = cells[email_i].strip().lower() if email_i is not None and email_i < len(cells) \
            else ""
        rows.append(ReportRow(cells[name_i].strip()[:200], email if "@" in email else "",
                              minutes))
    if not rows:
        raise _fail("The Teams report lists no participants")
    return rows


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
        email = cells[email_i].strip().lower() if email_i is not None and email_i < len(cells) \
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
        return Report("teams", parse_teams(text))
    if "Duration (Minutes)" in text[:20000] or "Total Duration (Minutes)" in text[:20000]:
        return Report("zoom", parse_zoom(text))
    if "\t" in head and re.search(r"(?i)\bduration\b", head):
        return Report("teams", parse_teams(text))
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
