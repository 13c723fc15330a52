"""Reminders before sessions, and emails after them (such as a request for feedback).

Each (session, person, kind) is sent exactly once. A sweep claims it by inserting a
``ReminderSent`` row (``INSERT ... ON CONFLICT DO NOTHING`` on a unique constraint) and queues
the outbox email in the same transaction: both exist or neither does. So two sweeps at once
(two schedulers by mistake) cannot both send, and a sweep killed mid-run sends, when run
again, only what the killed one had not committed. Work is done in batches, each committed.

Before a session: by default a day and an hour before (``Offering.reminder_minutes``), to
everyone with a confirmed place. A reminder whose moment passed without being sent (the
scheduler was down) is still sent until the next one is due; never after the session starts.

After a session: features add senders (``add_after_session``, from their ``init_app``) saying
for which sessions they have something to send, e.g. the feedback feature for sessions with a
survey. ``Offering.after_session_emails`` turns them off per offering.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import Flask, current_app
from sqlalchemy import and_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import selectinload

from lms.accounts.models import User
from lms.clock import utcnow
from lms.events.models import ReminderSent
from lms.extensions import begin_write, db
from lms.notifications.preferences import EmailKind
from lms.notifications.services import Email, queue_emails
from lms.offerings import calendar, policy
from lms.offerings.models import (
    Booking,
    BookingState,
    Enrolment,
    Offering,
    OfferingStatus,
    Session,
    SessionStatus,
)
from lms.offerings.services import leads_loaded

log = logging.getLogger(__name__)

# Reminders claimed and queued per transaction: big enough that the per-batch loads and
# commit cost little per email, small enough that a batch holds SQLite's write lock for a
# fraction of a second (about 0.1 s at 500).
BATCH = 500
# Offerings may ask for reminders at most this long before.
MAX_LEAD = timedelta(days=7)
LIVE = (OfferingStatus.OPEN, OfferingStatus.CLOSED, OfferingStatus.RUNNING)


def before_kind(minutes: int) -> str:
    return f"before:{minutes}"


def lead_time_words(minutes: int) -> str:
    """60 -> "1 hour", 1440 -> "1 day", 90 -> "1 hour 30 minutes"."""
    days, rest = divmod(minutes, 1440)
    hours, mins = divmod(rest, 60)
    parts = []
    for n, unit in ((days, "day"), (hours, "hour"), (mins, "minute")):
        if n:
            parts.append(f"{n} {unit}{'s' if n != 1 else ''}")
    return " ".join(parts) or "0 minutes"


# ---------------------------------------------------------------------------- after sessions


@dataclass(frozen=True)
class AfterSessionSender:
    """Something to email people after a session they had a place at.

    ``kind`` names it in ``ReminderSent`` (e.g. "feedback"); ``sessions_with(ids, now)``
    returns which of those ended sessions it has something for at the sweep's ``now`` (one
    query: e.g. those with a survey open to answers); ``template`` and ``subject(session)``
    make the email, whose context gains ``context(session, now)`` (called once per session in
    a batch, so a query there is not repeated for each person). ``skip(ids, now)``, if given,
    names the (session, person) pairs that need nothing (e.g. they have already answered the
    survey). Sent ``delay`` after the session ends, and not at all once ``window`` has passed
    (a scheduler down for a week does not send stale requests). ``optional`` is the kind of
    optional email it is (``lms.notifications.preferences.EmailKind``), if people may
    switch it off.
    """

    kind: str
    sessions_with: Callable[[list[int], datetime], set[int]]
    template: str
    subject: Callable[[Session], str]
    context: Callable[[Session, datetime], dict] = lambda session, now: {}
    skip: Callable[[list[int], datetime], set[tuple[int, int]]] | None = None
    delay: timedelta = timedelta(minutes=5)
    window: timedelta = timedelta(days=3)
    optional: str | None = None


_AFTER = "lms.after_session_senders"


def add_after_session(app: Flask, sender: AfterSessionSender) -> None:
    """Add (or replace) an after-session sender in ``app``; features call this from their
    ``init_app``."""
    app.extensions.setdefault(_AFTER, {})[sender.kind] = sender


def remove_after_session(app: Flask, kind: str) -> None:
    app.extensions.get(_AFTER, {}).pop(kind, None)


def after_session_senders(app: Flask | None = None) -> list[AfterSessionSender]:
    """The senders of ``app`` (by default the current one)."""
    return list(_senders(app).values())


def _senders(app: Flask | None = None) -> dict[str, AfterSessionSender]:
    app = app or current_app._get_current_object()
    return app.extensions.get(_AFTER, {})


# ---------------------------------------------------------------------------- what is due


@dataclass(frozen=True)
class Due:
    session_id: int
    user_id: int
    kind: str


def _recipients(session_ids: list[int], kinds_by_session: dict[int, list[str]],
                skip: set[tuple[int, int, str]] | None = None) -> list[Due]:
    """People with a confirmed place at each session, less those already sent each kind (or
    who need nothing of that kind: ``skip``)."""
    if not session_ids:
        return []
    per_session = calendar.session_booked_kinds()
    by_enrolment = (
        select(Session.id.label("session_id"), Enrolment.user_id.label("user_id"))
        .join(Offering, Offering.id == Session.offering_id)
        .join(Enrolment, Enrolment.offering_id == Offering.id)
        .where(Session.id.in_(session_ids), Enrolment.state.in_(calendar.CONFIRMED),
               Offering.kind.not_in(per_session))
    )
    by_booking = (
        select(Session.id.label("session_id"), Booking.user_id.label("user_id"))
        .join(Booking, Booking.session_id == Session.id)
        .join(Enrolment, and_(Enrolment.offering_id == Session.offering_id,
                              Enrolment.user_id == Booking.user_id))
        .where(Session.id.in_(session_ids), Booking.state == BookingState.BOOKED,
               Enrolment.state.in_(calendar.CONFIRMED))
    )
    people = by_enrolment.union_all(by_booking).subquery()
    already = {(r.session_id, r.user_id, r.kind) for r in db.session.execute(
        select(ReminderSent.session_id, ReminderSent.user_id, ReminderSent.kind)
        .where(ReminderSent.session_id.in_(session_ids)))} | (skip or set())
    due = []
    for session_id, user_id in db.session.execute(
        select(people.c.session_id, people.c.user_id)
        .order_by(people.c.session_id, people.c.user_id)
    ):
        for kind in kinds_by_session.get(session_id, []):
            if (session_id, user_id, kind) not in already:
                due.append(Due(session_id, user_id, kind))
    return due


def due_before(now: datetime) -> list[Due]:
    """Reminders due now: for each session about to start, the nearest reminder whose moment
    has come (an earlier one not sent in time is dropped once a nearer one is due)."""
    rows = db.session.execute(
        select(Session.id, Session.starts_at, Offering.reminder_minutes)
        .join(Offering, Offering.id == Session.offering_id)
        .where(Session.status == SessionStatus.SCHEDULED, Offering.status.in_(LIVE),
               Session.starts_at > now, Session.starts_at <= now + MAX_LEAD)
        .where(*policy.public_filter())  # no emails about what people may not see
    ).all()
    kinds: dict[int, list[str]] = {}
    for session_id, starts_at, minutes in rows:
        offsets = sorted(int(m) for m in (minutes or []))  # nearest first
        for offset in offsets:
            if starts_at - timedelta(minutes=offset) <= now:
                kinds[session_id] = [before_kind(offset)]
                break
    return _recipients(sorted(kinds), kinds)


def due_after(now: datetime) -> list[Due]:
    """After-session emails due now, from every registered sender."""
    senders = after_session_senders()
    if not senders:
        return []
    widest = max(s.window for s in senders)
    rows = db.session.execute(
        select(Session.id, Session.ends_at)
        .join(Offering, Offering.id == Session.offering_id)
        .where(Session.status == SessionStatus.SCHEDULED, Offering.after_session_emails,
               Offering.status != OfferingStatus.CANCELLED,
               Session.ends_at <= now, Session.ends_at > now - widest)
        .where(*policy.public_filter())  # no emails about what people may not see
    ).all()
    kinds: dict[int, list[str]] = {}
    skip: set[tuple[int, int, str]] = set()
    for sender in senders:
        ready = [sid for sid, ends_at in rows
                 if ends_at + sender.delay <= now < ends_at + sender.window]
        found = sorted(sender.sessions_with(ready, now)) if ready else []
        for session_id in found:
            kinds.setdefault(session_id, []).append(sender.kind)
        if found and sender.skip is not None:
            skip |= {(sid, uid, sender.kind) for sid, uid in sender.skip(found, now)}
    return _recipients(sorted(kinds), kinds, skip)


# ---------------------------------------------------------------------------- sending


def _claim(dues: list[Due]) -> set[tuple[int, int, str]]:
    """Insert the ReminderSent rows that do not exist yet, in one statement; returns the
    (session, person, kind) of those this transaction made (the others were already sent, or
    are being sent by a sweep that got there first)."""
    if not dues:
        return set()
    now = utcnow()
    values = [{"session_id": d.session_id, "user_id": d.user_id, "kind": d.kind,
               "sent_at": now} for d in dues]
    dialect = db.session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    table = ReminderSent.__table__
    statement = insert(table).on_conflict_do_nothing(
        index_elements=["session_id", "user_id", "kind"]
    ).returning(table.c.session_id, table.c.user_id, table.c.kind)
    # Executed with many parameter sets: one statement, compiled once and cached (a
    # ``values(list)`` is compiled anew for every batch), sent as multi-row INSERTs.
    # RETURNING says which rows this statement made (rowcount is not reliable on every
    # driver, and would not say which).
    return {(row.session_id, row.user_id, row.kind)
            for row in db.session.execute(statement, values)}


def _email(due: Due, session: Session, person: User, extra: dict) -> Email:
    """The email for one claimed reminder (not queued if the person has switched that kind
    of email off: ``queue_emails`` asks)."""
    offering = session.offering
    page = calendar.page_url(offering.kind, offering.id)
    context = {"person": person, "session": session, "offering": offering, "page_url": page}
    if due.kind.startswith("before:"):
        minutes = int(due.kind.split(":", 1)[1])
        summary = calendar.summary_of(offering.title, session.title)
        return Email(person.email, f"Reminder: {summary}", "events/reminder",
                     {**context, "lead_time": lead_time_words(minutes)},
                     optional=EmailKind.SESSION_REMINDERS)
    sender = _senders()[due.kind]
    return Email(person.email, sender.subject(session), sender.template,
                 {**context, **extra}, optional=sender.optional)


def _send(batch: list[Due], now: datetime) -> int:
    """Claim and queue one batch in one transaction, then commit. Returns how many went."""
    begin_write()
    sessions = {s.id: s for s in db.session.scalars(
        select(Session).where(Session.id.in_({d.session_id for d in batch}))
        .options(leads_loaded(selectinload(Session.offering))))}
    people = {u.id: u for u in db.session.scalars(
        select(User).where(User.id.in_({d.user_id for d in batch})))}
    senders = _senders()
    wanted = []
    for due in dict.fromkeys(batch):
        if due.kind not in senders and not due.kind.startswith("before:"):
            continue
        person = people.get(due.user_id)
        if due.session_id not in sessions or person is None or not person.is_active_account:
            continue
        wanted.append(due)
    # One statement claims the whole batch; the emails go in the same transaction, in one
    # more statement.
    claimed = _claim(wanted)
    emails = []
    extras: dict[tuple[str, int], dict] = {}
    for due in wanted:
        if (due.session_id, due.user_id, due.kind) in claimed:
            session = sessions[due.session_id]
            if due.kind in senders and (due.kind, session.id) not in extras:
                extras[due.kind, session.id] = senders[due.kind].context(session, now)
            emails.append(_email(due, session, people[due.user_id],
                                 extras.get((due.kind, session.id), {})))
    sent = len(queue_emails(emails))
    db.session.commit()
    return sent


def send_due_reminders(now: datetime | None = None, batch_size: int | None = None,
                       after_batch: Callable[[int], None] | None = None) -> int:
    """Send every reminder and after-session email that is due, each exactly once.
    Commits after each batch; safe to run in several processes at once. Returns how many
    emails this run queued. ``after_batch`` (tests) is called with the running total."""
    now = now or utcnow()
    batch_size = batch_size or current_app.config.get("REMINDER_BATCH", BATCH)
    due = due_before(now) + due_after(now)
    db.session.rollback()
    sent = 0
    for start in range(0, len(due), batch_size):
        sent += _send(due[start:start + batch_size], now)
        if after_batch is not None:
            after_batch(sent)
    return sent
