"""What erasure looks for beyond the rows about a person (``services.erase_person``):
copies of their address, name and the words written about them in any table, the audit
log, emails and development ``.eml`` files, and SQLite's log of earlier page versions."""

from __future__ import annotations

import json
from email import policy
from email.parser import BytesParser
from pathlib import Path

from flask import current_app
from sqlalchemy import JSON, String, Table, Text, cast, func, or_, select, update

from lms.audit import services as audit
from lms.audit.models import AuditEntry
from lms.extensions import db, empty_sqlite_log
from lms.notifications.models import OutboxAttachment, OutboxMessage
from lms.privacy.rows import Found, blank_all, key_of, user_columns

# Columns (and audit keys) holding words written about the person, searched for everywhere
# else on erasure when at least MIN_FREE_TEXT characters long.
FREE_TEXT = frozenset({"note", "reason", "revoked_reason", "text", "cancelled_reason",
                       "resolution", "details"})
MIN_FREE_TEXT = 8
# Tables holding copies of what was said about people, swept for those words on erasure.
COPY_TABLES = frozenset({"audit_entry", "outbox_message"})


def calendar_cancellations(address: str, after_id: int) -> set[int]:
    """The calendar cancellations the erasure itself has just written (one per session the
    person loses). They still leave: without them the meetings, with their joining links,
    stay in the person's calendar. They are marked so that, once sent, the stored row loses
    the address, the name and the invitation, and no development copy is kept (see
    ``OutboxMessage.secrets_to_remove``)."""
    return set(db.session.scalars(
        select(OutboxMessage.id).join(OutboxAttachment,
                                      OutboxAttachment.message_id == OutboxMessage.id)
        .where(OutboxMessage.id > after_id, OutboxMessage.to_address == address,
               OutboxAttachment.mimetype.like("%method=CANCEL%"))))


def free_texts(found: Found, person_id: int) -> set[str]:
    """What was written about the person in words (reasons, notes, named answers), in rows
    about them and in the audit entries about them, to be searched for everywhere else."""
    texts: set[str] = set()
    for rows in found.rows.values():
        for row in rows.values():
            texts.update(v for k, v in row.items() if k in FREE_TEXT and isinstance(v, str))
    for entry in db.session.scalars(select(AuditEntry).where(
            AuditEntry.subject_user_id == person_id)):
        for side in (entry.before or {}, entry.after or {}):
            texts.update(v for k, v in side.items() if k in FREE_TEXT and isinstance(v, str))
    return {t.strip() for t in texts if len(t.strip()) >= MIN_FREE_TEXT}


def _text_columns(table: Table) -> list:
    return [c for c in table.columns if isinstance(c.type, String | Text | JSON)
            and not audit.is_secret(c.name)]


def sweep_tables(person_id: int, address: dict[str, str], name: dict[str, str],
                  free: dict[str, str], *, keep_rows: dict[str, set]) -> int:
    """Replace the person's address, name and the words written about them, in any case,
    in the text columns of every table (found from the schema), so nothing about them is
    left where the rows about them did not reach: emails to other people naming them, audit
    entries, import rows. Each ``dict`` maps a text to what replaces it.

    The address goes everywhere. The name is left in rows that belong to someone else (a
    ``user_id`` naming another person), who may share it. Words about them are searched
    for only in copies (audit entries and emails), since the same reason ("Met the rule")
    is in many people's own records. Returns how many rows changed."""
    connection = db.session.connection()
    changed = 0
    for table in db.metadata.sorted_tables:
        columns = _text_columns(table)
        if table.name == "user_account" or not columns:
            continue
        wanted = {**address, **name, **(free if table.name in COPY_TABLES else {})}
        needles = set()
        for text in wanted:
            needles.add(text.lower())
            needles.add(json.dumps(text)[1:-1].lower())  # as JSON stores non-ASCII text
        conditions = [func.lower(cast(c, Text)).contains(n, autoescape=True)
                      for c in columns for n in needles]
        owners = user_columns(table)
        keys = list(table.primary_key.columns)
        for row in connection.execute(select(table).where(or_(*conditions))).mappings().all():
            key = key_of(table, row)
            if key in keep_rows.get(table.name, ()):
                continue
            others = any(row[c.key] not in (None, person_id) for c in owners)
            use = address if others else wanted
            values = {}
            for column in columns:
                old = new = row[column.key]
                for text, replacement in sorted(use.items(), key=lambda i: -len(i[0])):
                    new = blank_all(new, [text], replacement)
                if new != old:
                    values[column.key] = new
            if values:
                connection.execute(update(table).where(
                    *(c == v for c, v in zip(keys, key, strict=True))).values(**values))
                changed += 1
    return changed


def sweep_files(address: str, texts: list[str]) -> int:
    """Development copies of emails (``MAIL_OUTBOX_DIR``): those to the person go, and those
    to other people that name them or repeat what was written about them go too (they are
    a developer's record, not anyone's mailbox). Returns how many files went."""
    folder = Path(current_app.config.get("MAIL_OUTBOX_DIR") or "")
    if not folder.is_dir():
        return 0
    removed = 0
    lowered = [t.lower() for t in texts if t]
    for path in folder.glob("*.eml*"):
        raw = path.read_bytes()
        message = BytesParser(policy=policy.default).parsebytes(raw)
        seen = [raw.decode("utf-8", "replace"), str(message.get("To", ""))]
        for part in message.walk():
            if not part.is_multipart():
                try:
                    content = part.get_content()
                except (LookupError, ValueError):
                    continue
                seen.append(content.decode("utf-8", "replace")
                            if isinstance(content, bytes) else str(content))
        haystack = "\n".join(seen).lower()
        if address.lower() in haystack or any(t in haystack for t in lowered):
            path.unlink(missing_ok=True)
            removed += 1
    return removed


ERASED_IN_SESSION = "lms_erased_person"


def after_commit(session) -> None:
    """After a transaction that erased someone commits: empty SQLite's write-ahead log, which
    still holds the earlier versions of the pages the erasure changed."""
    if session.info.pop(ERASED_IN_SESSION, False):
        empty_sqlite_log(session.get_bind())


