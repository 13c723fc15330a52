"""The rows of a register page, as HTML built in one pass.

A network's register lists every member (about 600 for the huddles). Through the template,
each row cost a dozen escapes of the person's id and of constant text, which was most of the
page's time; here a row is one f-string, escaping only what people typed (names and notes).
The markup is what ``templates/attendance/register.html`` describes around it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence

from markupsafe import Markup, escape

from lms.attendance.services import RegisterRow


def _options(labels: Mapping[str, str], current: str) -> str:
    choices = [("", "Not marked"), *labels.items()]
    return "".join(f'<option value="{escape(value)}"{" selected" if value == current else ""}>'
                   f"{escape(label)}</option>" for value, label in choices)


def shared_names(rows: Sequence[RegisterRow]) -> set[str]:
    """The names (spaces tidied, case folded: ``name_key``) that two or more rows share."""
    counts = Counter(name_key(row.user.full_name) for row in rows)
    return {name for name, count in counts.items() if count > 1}


def name_key(name: str) -> str:
    return " ".join(name.split()).casefold()


def matching(rows: Sequence[RegisterRow], query: str | None) -> list[RegisterRow]:
    """The rows whose name (or, for people who share a name, email or organisation)
    contains every word of ``query``, ignoring case: the register's name filter without
    JavaScript. The script in ``lms.js`` filters the same way as people type."""
    words = (query or "").casefold().split()
    if not words:
        return list(rows)
    shared = shared_names(rows)
    found = []
    for row in rows:
        text = name_key(row.user.full_name)
        if text in shared:
            text = f"{text} {row.user.email.casefold()} {row.user.organisation.casefold()}"
        if all(word in text for word in words):
            found.append(row)
    return found


def register_rows(rows: Sequence[RegisterRow], labels: Mapping[str, str],
                  everyone: Sequence[RegisterRow] | None = None) -> Markup:
    """One table row per person: their name (with "No place" and minutes online if any, and
    their organisation and email when someone else on the register, ``everyone``, has the
    same name), a choice of mark showing their current one, and a note; each control
    labelled by its column's heading and the person's name."""
    options = {value: _options(labels, value) for value in ("", *labels)}
    shared = shared_names(everyone if everyone is not None else rows)
    no_place = ' <span class="nhsuk-tag nhsuk-tag--grey">No place</span>'
    parts = []
    for row in rows:
        uid = int(row.user.id)
        mark = row.attendance
        minutes = ""
        if mark is not None and mark.minutes is not None:
            minutes = (' <span class="nhsuk-body-s nhsuk-u-secondary-text-color">'
                       f"({int(mark.minutes)} minutes online)</span>")
        search = name_key(row.user.full_name)
        who = ""
        if search in shared:
            search = f"{search} {row.user.email.casefold()} {row.user.organisation.casefold()}"
            who = (f'<span class="lms-register__who">{escape(row.user.organisation)}, '
                   f"{escape(row.user.email)}</span>")
        parts.append(
            f'<tr class="nhsuk-table__row" data-search="{escape(search)}">'
            f'<th scope="row" class="nhsuk-table__header" '
            f'id="person-{uid}">{escape(row.user.full_name)}'
            f'{"" if row.has_place else no_place}{minutes}{who}</th>'
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
