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
from urllib.parse import quote

from flask import url_for
from markupsafe import Markup, escape
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

from lms.clock import date_text
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
        return escape(date_text(value))
    return escape(value)


_HEADING = Markup('<span class="nhsuk-table-responsive__heading" aria-hidden="true">{} </span>')
_CELL = Markup('<td class="nhsuk-table__cell">')
_NUMERIC_CELL = Markup('<td class="nhsuk-table__cell nhsuk-table__cell--numeric">')
# A stand-in row key that every URL converter (numbers or text) accepts.
_LINK_KEY = "2147483647"


def table_rows(table: Table, *, headings: bool = True, link: tuple[str, str] | None = None
               ) -> Markup:
    """The body rows of a dashboard table as HTML: the first cell a row header (linked to
    ``link``, an (endpoint, argument) pair, with the row's key), numbers right-aligned and,
    if ``headings``, each cell led by its column's name for the stacked layout on phones.

    Built here in one pass, not by the template: a people table has thousands of cells, and a
    macro call, a column lookup and several escapes per cell cost more than the dashboard's
    queries. Each column's opening tag and heading is made once."""
    heads = [_HEADING.format(h) if headings else Markup("") for h in table.header]
    opens = [(_NUMERIC_CELL if numeric else _CELL) + heads[index]
             for index, numeric in enumerate(table.numeric)]
    # One url_for for the whole table; row keys (ICS codes, ids) are put in its place.
    pattern = (url_for(link[0], **{link[1]: _LINK_KEY}).split(_LINK_KEY, 1)
               if link else None)
    keys = table.row_keys
    parts: list[str] = []
    for number, row in enumerate(table.rows):
        first = cell_text(row[0])
        key = keys[number] if keys else ""
        if pattern and key:
            first = Markup('<a href="{}{}{}">{}</a>').format(pattern[0], quote(key, safe=""),
                                                             pattern[1], first)
        parts += ('<tr class="nhsuk-table__row"><th scope="row" class="nhsuk-table__header">',
                  heads[0], first, "</th>")
        for index in range(1, len(row)):
            parts += (opens[index], cell_text(row[index]), "</td>")
        parts.append("</tr>\n")
    return Markup("".join(parts))  # noqa: S704 - every part is escaped above


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
