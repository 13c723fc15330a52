"""How erasure and the person's own download read rows about one person: which columns name
them, a row's key, the rows found, and text blanked wherever it appears in a value."""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import Table

from lms.audit import services as audit


def user_columns(table: Table) -> list:
    """The columns of ``table`` that name a person (their own rows)."""
    return audit._user_columns(table)


def key_of(table: Table, row) -> tuple:
    """A row's primary key, as a tuple."""
    return tuple(row[c.key] for c in table.primary_key.columns)


@dataclass
class Found:
    """Rows about one person: table name → primary key → row, and how each table was
    reached (``by_email`` for rows found only through the address)."""

    rows: dict[str, dict[tuple, dict]] = field(default_factory=lambda: defaultdict(dict))
    by_email: set[str] = field(default_factory=set)
    acted: dict[str, int] = field(default_factory=dict)


def blank_all(value, texts: list[str], replacement: str):
    """``value`` (text, or JSON of lists and dicts) with every ``texts`` replaced, ignoring
    case."""
    if isinstance(value, str):
        for text in sorted(texts, key=len, reverse=True):
            value = re.sub(re.escape(text), replacement, value, flags=re.IGNORECASE)
        return value
    if isinstance(value, list):
        return [blank_all(v, texts, replacement) for v in value]
    if isinstance(value, dict):
        return {k: blank_all(v, texts, replacement) for k, v in value.items()}
    return value
