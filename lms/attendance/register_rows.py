"""The rows of a register page, as HTML built in one pass.

A network's register lists every member (about 600 for the huddles). Through the template,
each row cost a dozen escapes of the person's id and of constant text, which was most of the
page's time; here a row is one f-string, escaping only what people typed (names and notes).
The markup is what ``templates/attendance/register.html`` describes around it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from markupsafe import Markup, escape

from lms.attendance.services import RegisterRow


def _options(labels: Mapping[str, str], current: str) -> str:
    choices = [("", "Not marked"), *labels.items()]
    return "".join(f'<option value="{escape(value)}"{" selected" if value == current else ""}>'
                   f"{escape(label)}</option>" for value, label in choices)


def register_rows(rows: Sequence[RegisterRow], labels: Mapping[str, str]) -> Markup:
    """One table row per person: their name (with "No place" and minutes online if any), a
    choice of mark showing their current one, and a note; each control labelled by its
    column's heading and the person's name."""
    options = {value: _options(labels, value) for value in ("", *labels)}
    no_place = ' <span class="nhsuk-tag nhsuk-tag--grey">No place</span>'
    parts = []
    for row in rows:
        uid = int(row.user.id)
        mark = row.attendance
        minutes = ""
        if mark is not None and mark.minutes is not None:
            minutes = (' <span class="nhsuk-body-s nhsuk-u-secondary-text-color">'
                       f"({int(mark.minutes)} minutes online)</span>")
        parts.append(
            f'<tr class="nhsuk-table__row"><th scope="row" class="nhsuk-table__header" '
            f'id="person-{uid}">{escape(row.user.full_name)}'
            f'{"" if row.has_place else no_place}{minutes}</th>'
            f'<td class="nhsuk-table__cell lms-register__mark">'
            f'<select class="nhsuk-select" name="status-{uid}" '
            f'aria-labelledby="mark-heading person-{uid}">'
            f'{options[mark.status if mark else ""]}</select></td>'
            f'<td class="nhsuk-table__cell lms-register__note">'
            f'<input class="nhsuk-input" name="note-{uid}" '
            f'type="text" aria-labelledby="note-heading person-{uid}" '
            f'value="{escape(mark.note if mark else "")}"></td></tr>\n')
    # Names, notes and labels are escaped above; the rest is fixed text and numbers.
    return Markup("".join(parts))  # noqa: S704
