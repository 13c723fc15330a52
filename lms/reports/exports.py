"""Every table on a dashboard downloads as CSV and as Excel, cell for cell as the page shows it.

Text that a spreadsheet would run as a formula (starting ``=``, ``+``, ``-``, ``@``, a tab
or a carriage return) is neutralised with a leading apostrophe, by the same rule as the
feedback exports; numbers stay numbers.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from markupsafe import Markup, escape
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

from lms.feedback.exports import neutralise

BOLD = Font(bold=True)
XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
Cell = str | int | float | Decimal | date | None


@dataclass
class Table:
    """A table of a dashboard: its name in the download's address (``key``), its caption, a
    header row and body rows. ``row_keys`` optionally names each row (an ICS code, a person's
    id) so a page can link it."""

    key: str
    title: str
    header: list[str]
    rows: list[list[Cell]]
    row_keys: list[str] = field(default_factory=list)

    @property
    def numeric(self) -> list[bool]:
        """Columns whose every filled cell is a number (right-aligned on the page)."""
        flags = []
        for index in range(len(self.header)):
            cells = [row[index] for row in self.rows if row[index] not in (None, "")]
            flags.append(bool(cells) and all(
                isinstance(c, int | float | Decimal) for c in cells))
        return flags


NONE = Markup('<span aria-hidden="true">–</span><span class="nhsuk-u-visually-hidden">none'
              "</span>")


def cell_text(value: Cell) -> Markup:
    """A cell as the page shows it: numbers with thousands separators, dates as 4 Mar 2027,
    nothing as a dash that screen readers read as "none"."""
    if value is None or value == "":
        return NONE
    if isinstance(value, bool):
        return escape(str(value))
    if isinstance(value, int | float | Decimal):
        return Markup(f"{value:,}")  # noqa: S704 - a number
    if isinstance(value, date):
        return Markup(value.strftime("%-d %b %Y"))  # noqa: S704 - a date
    return escape(value)


def _plain(value: Cell):
    """Decimals as floats for spreadsheets, text neutralised, the rest as is."""
    if isinstance(value, Decimal):
        return float(value)
    return neutralise(value)


def _text(value: Cell) -> str:
    """A cell as CSV text: dates as 2027-03-29."""
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()
    return _plain(value)


def to_csv(table: Table) -> bytes:
    """The table as CSV, UTF-8 with a byte-order mark so Excel reads it as such."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([_plain(cell) for cell in table.header])
    for row in table.rows:
        writer.writerow([_text(cell) for cell in row])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def to_xlsx(table: Table) -> bytes:
    """The table as an Excel workbook of one sheet, its header in bold and frozen."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(_sheet_title(table.title))
    sheet.freeze_panes = "A2"
    sheet.append([_cell(sheet, value, bold=True) for value in table.header])
    for row in table.rows:
        sheet.append([_cell(sheet, value) for value in row])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _sheet_title(title: str) -> str:
    cleaned = "".join(" " if ch in "[]:*?/\\" else ch for ch in title).strip()
    return (cleaned or "Table")[:31]


def _cell(sheet, value: Cell, *, bold: bool = False):
    value = _plain(value)
    if isinstance(value, date):
        cell = WriteOnlyCell(sheet, value=value)
        cell.number_format = "yyyy-mm-dd"
        return cell
    if not isinstance(value, str) and not bold:
        return value
    cell = WriteOnlyCell(sheet, value=value)
    if isinstance(value, str):
        # Whatever openpyxl would guess, text stays text.
        cell.data_type = "s"
    if bold:
        cell.font = BOLD
    return cell
