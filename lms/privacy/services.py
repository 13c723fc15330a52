"""UK GDPR: a person's copy of everything held about them, and erasing a person.

What is "about a person" is found from the schema, not listed by hand, so a new feature's
tables are covered the day they land:

- rows of any table with a column ``user_id`` or ``<something>_user_id`` pointing at the
  person's account (their places, marks, bookings, answers to named surveys, evidence,
  certificates, tokens...), and rows of any table with an ``email`` or ``to_address``
  column holding their address (failed sign-ins, emails sent to them);
- then, following foreign keys, the rows that hang off those (an enrolment's history and
  completion, a named response's answers), three levels deep, except through a foreign key
  marked ``info={"followed": False}`` (reviews of a proposal are the reviewers' records,
  and a proposer is never told who reviewed them).

Columns pointing at the person in other ways (``recorded_by_id``, ``actor_id``...) are things
they did to other people's records: the copy counts them but does not copy other people's
data. Anonymous survey answers carry no user, so they are never found or touched.

Erasure keeps the account row, pseudonymised, so every count in every report stays right:
attendance, completions, places and answers still belong to "Erased person" of the same
organisation. Names, email, job title, notes about them, secrets and drafts go. The account
is not marked inactive, because the reports count active accounts as an ICS's staff beside
everyone who attended: closing it would change those shares. Nobody can sign in to it: it
has no password, no reachable email address, and every session it had is ended.
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import (
    LargeBinary,
    Table,
    and_,
    delete,
    func,
    or_,
    select,
    update,
)

from lms.accounts.models import Role, User
from lms.audit import services as audit
from lms.audit.models import AuditAction
from lms.clock import utcnow
from lms.errors import DomainError, NotAllowed
from lms.extensions import db
from lms.listeners import notify
from lms.notifications import services as notifications
from lms.notifications.models import OutboxMessage
from lms.privacy.rows import Found, blank_all, key_of, user_columns

ERASED_NAME = "Erased person"
NOT_INCLUDED = "[not included]"
EMAIL_COLUMNS = ("email", "to_address")
DEPTH = 3
# Free text that may say something about the person, and what it becomes on erasure.
BLANKED = {"note": "", "reason": "", "revoked_reason": "", "holder_name": ERASED_NAME,
           "name": ERASED_NAME, "email": "", "text": ""}
# Tables whose rows about the person are deleted outright on erasure (besides rows holding
# secrets or files, and rows found only by email address).
DELETED_TABLES = frozenset({"survey_draft", "offering_lead", "survey_reminder",
                            "external_identity", "registration_answer"})
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class Erasing:
    """A person's data is being erased: features delete what the person wrote or uploaded
    (listeners, in the erasure's transaction) before the rows about them are found."""

    person_id: int


# ---------------------------------------------------------------------------- discovery


def _tables() -> list[Table]:
    return [t for t in db.metadata.sorted_tables if t.name != "user_account"]


def _email_columns(table: Table) -> list:
    return [c for c in table.columns if c.name in EMAIL_COLUMNS and not c.foreign_keys]


def _actor_columns(table: Table) -> list:
    named = set(user_columns(table))
    return [c for c in table.columns if c not in named
            and any(fk.column.table.name == "user_account" for fk in c.foreign_keys)]


def _chunks(values: list, size: int = 500):
    for start in range(0, len(values), size):
        yield values[start:start + size]


def find_rows(user: User) -> Found:
    """Every row about ``user`` (see the module's docstring)."""
    connection = db.session.connection()
    found = Found()
    tables = {t.name: t for t in _tables()}
    for table in tables.values():
        named = [c == user.id for c in user_columns(table)]
        emailed = [c == user.email for c in _email_columns(table)]
        if named or emailed:
            for row in connection.execute(select(table).where(or_(*named, *emailed))
                                          ).mappings():
                found.rows[table.name][key_of(table, row)] = dict(row)
            if emailed and not named:
                found.by_email.add(table.name)
        for column in _actor_columns(table):
            n = connection.execute(select(func.count()).select_from(table)
                                   .where(column == user.id)).scalar() or 0
            if n:
                found.acted[f"{table.name}.{column.name}"] = n
    frontier = set(found.rows)
    for _ in range(DEPTH):
        reached = set()
        for table in tables.values():
            for fk in table.foreign_keys:
                parent = fk.column.table
                if parent is table or parent.name not in frontier \
                        or fk.column not in parent.primary_key.columns.values() \
                        or fk.parent.info.get("followed") is False:
                    continue
                ids = [row[fk.column.key] for row in found.rows[parent.name].values()]
                for chunk in _chunks(ids):
                    for row in connection.execute(select(table).where(fk.parent.in_(chunk))
                                                  ).mappings():
                        key = key_of(table, row)
                        if key not in found.rows[table.name]:
                            found.rows[table.name][key] = dict(row)
                            reached.add(table.name)
        frontier = reached
        if not frontier:
            break
    return found


# ---------------------------------------------------------------------------- the copy


def _shown(column, value):
    if value is None:
        return None
    if audit.is_secret(column.name):
        return NOT_INCLUDED
    if isinstance(column.type, LargeBinary):
        return f"[a file of {len(value)} bytes, not included]"
    return audit.jsonable(value)


def _secret_values(value) -> list[str]:
    if isinstance(value, str):
        return [value] if value else []
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, list | tuple):
        return [v for item in value for v in _secret_values(item)]
    return []


def _without_secrets(table: Table, item: dict, row: dict) -> dict:
    """A row's secret values (a live link's token waiting in an unsent email) are not shown
    anywhere in the row, not only in their own column."""
    hidden = [v for c in table.columns if audit.is_secret(c.name)
              for v in _secret_values(row[c.key])]
    if not hidden:
        return item
    return {key: blank_all(value, hidden, NOT_INCLUDED) for key, value in item.items()}


def _labels(table: Table, rows: list[dict]) -> dict[str, dict]:
    """For foreign keys to things with a title or name (an offering, a course, a
    competency), the title, so the copy reads without the rest of the database."""
    labels: dict[str, dict] = {}
    connection = db.session.connection()
    for fk in table.foreign_keys:
        target = fk.column.table
        if target.name == "user_account" or not fk.parent.name.endswith("_id"):
            continue
        title = target.c.get("title") if "title" in target.c else target.c.get("name")
        if title is None:
            continue
        ids = sorted({row[fk.parent.key] for row in rows if row[fk.parent.key] is not None})
        if not ids:
            continue
        names = {}
        for chunk in _chunks(ids):
            names.update(connection.execute(select(fk.column, title)
                                            .where(fk.column.in_(chunk))).tuples().all())
        labels[fk.parent.key] = names
    return labels


def _description(table_name: str) -> str:
    for mapper in db.Model.registry.mappers:
        if mapper.local_table is not None and mapper.local_table.name == table_name:
            doc = (mapper.class_.__doc__ or "").strip()
            return " ".join(doc.split("\n\n")[0].split())
    return ""


def _profile(user: User) -> dict:
    table = User.__table__
    row = db.session.connection().execute(select(table).where(table.c.id == user.id)
                                          ).mappings().one()
    profile = {c.key: _shown(c, row[c.key]) for c in table.columns}
    profile["organisation"] = user.organisation.name
    profile["roles"] = sorted(role.label for role in user.roles)
    return profile


def personal_data(user: User) -> dict:
    """Everything held about ``user``, as one JSON-ready document."""
    found = find_rows(user)
    tables = {t.name: t for t in _tables()}
    records = {}
    for name in sorted(found.rows):
        table = tables[name]
        rows = sorted(found.rows[name].values(), key=lambda r: [str(v) for v in key_of(table, r)])
        if not rows:
            continue
        labels = _labels(table, rows)
        shown = []
        for row in rows:
            item = _without_secrets(table, {c.key: _shown(c, row[c.key]) for c in table.columns},
                                    row)
            for key, names in labels.items():
                item[f"{key.removesuffix('_id')}_title"] = names.get(row[key])
            shown.append(item)
        records[name] = {"description": _description(name), "rows": shown}
    return {
        "service": "MDSN Learning & Events",
        "generated_at": utcnow().isoformat(),
        "about": ("All the data this service holds about you. Secrets (passwords, links and "
                  "codes) are held only in a form nobody can read back, so they are not "
                  "included. Answers to anonymous surveys are not linked to you, so they "
                  "cannot be included."),
        "person": _profile(user),
        "records": records,
        "records_you_made_about_others": {
            key: {"rows": n, "note": "Other people's data, counted but not copied"}
            for key, n in sorted(found.acted.items())},
    }


def as_json(data: dict) -> bytes:
    """The document as pretty JSON."""
    return json.dumps(data, indent=2, ensure_ascii=False).encode()


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, list | dict):
        value = json.dumps(value, ensure_ascii=False)
    value = str(value)
    # A spreadsheet would run these as formulas.
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def _csv(header: list[str], rows: list[list]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([_cell(h) for h in header])
    writer.writerows([[_cell(v) for v in row] for row in rows])
    return ("\ufeff" + out.getvalue()).encode()  # Excel reads UTF-8 with a BOM


def as_zip(data: dict) -> bytes:
    """The document as a zip of CSV files: ``person.csv``, one file per kind of record, and
    a README saying what each holds."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        person = data["person"]
        archive.writestr("person.csv", _csv(["field", "value"],
                                            [[k, v] for k, v in person.items()]))
        readme = [f"{data['service']}: your data, {data['generated_at']}", "", data["about"],
                  "", "person.csv: your account."]
        for name, record in data["records"].items():
            header = list(dict.fromkeys(k for row in record["rows"] for k in row))
            archive.writestr(f"{name}.csv", _csv(header, [[row.get(k) for k in header]
                                                          for row in record["rows"]]))
            readme.append(f"{name}.csv: {record['description'] or name}")
        if data["records_you_made_about_others"]:
            readme += ["", "Records you made about other people (counted, not copied):"]
            readme += [f"  {key}: {item['rows']}" for key, item
                       in data["records_you_made_about_others"].items()]
        archive.writestr("README.txt", "\n".join(readme) + "\n")
    return buffer.getvalue()


def export_filename(user: User, extension: str, now: datetime | None = None) -> str:
    return f"mdsn-your-data-{(now or utcnow()).date().isoformat()}.{extension}"


# ---------------------------------------------------------------------------- erasure


def is_erased(user: User) -> bool:
    return user.email == erased_email(user.id)


def erased_email(user_id: int) -> str:
    return f"erased-{user_id}@invalid"


@dataclass
class ErasurePreview:
    """What erasing a person will do, to show before the admin confirms."""

    places_to_withdraw: int
    bookings_to_cancel: int
    records_kept: int
    rows_deleted: int


def _future_places(user: User):
    from lms.offerings.models import ACTIVE, Enrolment, EnrolmentState, Offering, Session

    now = utcnow()
    future = select(Session.offering_id).where(Session.starts_at > now,
                                               Session.status != "cancelled")
    return list(db.session.scalars(
        select(Enrolment).join(Offering).where(
            Enrolment.user_id == user.id, Enrolment.state.in_(ACTIVE),
            Enrolment.state != EnrolmentState.COMPLETED, Offering.id.in_(future))
        .order_by(Enrolment.id)))


def _future_bookings(user: User):
    from lms.offerings.models import Booking, BookingState, Session

    return list(db.session.scalars(
        select(Booking).join(Session, Session.id == Booking.session_id).where(
            Booking.user_id == user.id, Booking.state != BookingState.CANCELLED,
            Session.starts_at > utcnow()).order_by(Booking.id)))


def _to_delete(found: Found, tables: dict[str, Table]) -> set[str]:
    doomed = set(found.by_email) | (DELETED_TABLES & set(found.rows))
    for name in found.rows:
        columns = tables[name].columns
        if any(audit.is_secret(c.name) or isinstance(c.type, LargeBinary) for c in columns):
            doomed.add(name)
    return doomed


def preview_erasure(user: User) -> ErasurePreview:
    """Counts for the confirmation page."""
    found = find_rows(user)
    tables = {t.name: t for t in _tables()}
    doomed = _to_delete(found, tables)
    return ErasurePreview(
        places_to_withdraw=len(_future_places(user)),
        bookings_to_cancel=len(_future_bookings(user)),
        records_kept=sum(len(rows) for name, rows in found.rows.items() if name not in doomed),
        rows_deleted=sum(len(rows) for name, rows in found.rows.items() if name in doomed),
    )


def erase_person(actor: User, person: User) -> dict[str, int]:
    """Erase a person's personal data, keeping what reports count.

    Places and session bookings not yet started are given up first (the waiting list moves
    up, as if they had withdrawn); the calendar cancellations that writes still leave, and
    lose the address, name and invitation once sent. Then: name "Erased person", email
    ``erased-<id>@invalid``, job title blank, no password, second factor off, every session
    ended, only the learner role; tokens, recovery codes, drafts, rendered certificates,
    emails to them and failed sign-ins with their address deleted; notes, reasons, named
    answers and names in rows about them blanked; audit entries about them keep the action,
    the kind of record and the time, every value becomes "[erased]". Finally every text
    column of every table is searched for their address and name, and the audit log and
    emails for the words written about them (``_sweep_tables``), and development ``.eml``
    copies that hold any of it are deleted. Once committed, SQLite's log is emptied (see
    ``after_commit``). Their organisation, places, marks, completions and answers stay, so
    every count stays right. Returns what was done, by kind.
    """
    from lms.events import session_bookings
    from lms.offerings import services as places
    from lms.offerings.transitions import ERASED
    from lms.privacy import leftovers

    if not actor.is_admin:
        raise NotAllowed("Only admins can erase a person's data")
    if actor.id == person.id:
        raise DomainError("You cannot erase your own account. Ask another admin.")
    if is_erased(person):
        raise DomainError("This person's data has already been erased")
    summary: dict[str, int] = defaultdict(int)
    person_id, address, name = person.id, person.email, person.full_name
    last_email = db.session.scalar(select(func.max(OutboxMessage.id))) or 0
    for booking in _future_bookings(person):
        session_bookings.cancel_booking(person, booking, reason=ERASED)
        summary["session bookings cancelled"] += 1
    for enrolment in _future_places(person):
        places.withdraw(person, enrolment, reason=ERASED)
        summary["places withdrawn"] += 1
    db.session.flush()
    notify(Erasing(person_id))
    db.session.flush()

    found = find_rows(person)
    free_texts = leftovers.free_texts(found, person_id)
    leaving = leftovers.calendar_cancellations(address, last_email)
    for key in [k for k in found.rows.get("outbox_message", {}) if k[0] in leaving]:
        del found.rows["outbox_message"][key]
    attachments = found.rows.get("outbox_attachment", {})
    for key in [k for k, row in attachments.items() if row["message_id"] in leaving]:
        del attachments[key]
    for message in db.session.scalars(select(OutboxMessage).where(
            OutboxMessage.id.in_(leaving))):
        notifications.remove_after_sending(message, [address, name, *free_texts])
    db.session.flush()
    tables = {t.name: t for t in _tables()}
    doomed = _to_delete(found, tables)
    for name_ in sorted(doomed, key=lambda n: [t.name for t in _tables()].index(n),
                        reverse=True):
        table = tables[name_]
        keys = list(found.rows[name_])
        columns = list(table.primary_key.columns)
        for chunk in _chunks(keys):
            if len(columns) == 1:
                condition = columns[0].in_([k[0] for k in chunk])
            else:
                condition = or_(*(and_(*(c == v for c, v in zip(columns, k, strict=True)))
                                  for k in chunk))
            db.session.execute(delete(table).where(condition))
        summary[f"{name_} rows deleted"] += len(keys)
    for name_, rows in found.rows.items():
        if name_ in doomed:
            continue
        table = tables[name_]
        blank = {c.key: BLANKED[c.name] for c in table.columns if c.name in BLANKED}
        if not blank:
            continue
        columns = list(table.primary_key.columns)
        for key in rows:
            db.session.execute(update(table).where(
                *(c == v for c, v in zip(columns, key, strict=True))).values(**blank))
        summary[f"{name_} rows blanked"] += len(rows)

    users = User.__table__
    db.session.execute(update(users).where(users.c.id == person_id).values(
        full_name=ERASED_NAME, email=erased_email(person_id), job_title="",
        password_hash=None, email_verified_at=None,
        session_version=users.c.session_version + 1,
        **{c.name: None for c in users.columns if c.name.startswith("totp_")}))
    roles = db.metadata.tables["user_role"]
    db.session.execute(delete(roles).where(roles.c.user_id == person_id,
                                           roles.c.role != Role.LEARNER))
    db.session.expire(person)
    audit.scrub_person(person_id)
    swept = leftovers.sweep_tables(person_id, {address: erased_email(person_id)},
                          {name: ERASED_NAME} if name else {},
                          dict.fromkeys(free_texts, audit.ERASED),
                          keep_rows={"outbox_message": {(i,) for i in leaving}})
    if swept:
        summary["other rows naming them cleaned"] = swept
    files = leftovers.sweep_files(address, [name, *free_texts])
    if files:
        summary["email copies deleted"] = files
    summary = dict(summary)
    audit.record(AuditAction.ERASED, "User", str(person_id), subject_user_id=person_id,
                 after=summary)
    db.session.info[leftovers.ERASED_IN_SESSION] = True
    return summary
