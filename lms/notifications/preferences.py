"""Which optional emails a person gets: the one place that decides (``wants``).

Emails about a person's own places (confirmations, offers, cancellations, calendar updates,
certificates, account security) are never optional: the outbox sends them whatever is chosen
here. Only the kinds below can be switched off, and ``queue_email`` asks ``wants`` for any
email queued with one of them, so no sender checks the choice itself.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import delete, select

from lms.extensions import db
from lms.notifications.models import EmailOptOut


class EmailKind(enum.StrEnum):
    SESSION_REMINDERS = "session_reminders"
    FEEDBACK_REMINDERS = "feedback_reminders"
    FACULTY_MESSAGES = "faculty_messages"


@dataclass(frozen=True)
class KindText:
    kind: EmailKind
    label: str
    hint: str


KINDS = (
    KindText(EmailKind.SESSION_REMINDERS, "Session reminders",
             "A reminder the day before and an hour before each session you have a place on."),
    KindText(EmailKind.FEEDBACK_REMINDERS, "Feedback requests and reminders",
             "Asking what you thought of a session or course, and reminding you before a "
             "survey closes."),
    KindText(EmailKind.FACULTY_MESSAGES, "News and messages from faculty",
             "Messages faculty send to everyone on a course, a session or a waiting list."),
)

ALWAYS_SENT = ("Confirmations of your places and bookings", "Places offered to you from a "
               "waiting list, and nominations", "Cancellations and changes to sessions, with "
               "calendar updates", "Certificates, and emails about your account")


def wants(user, kind: str) -> bool:
    """Whether ``user`` gets optional emails of ``kind`` (everyone does until they say no)."""
    return wants_each([user], kind)[0]


def wants_each(users: Sequence, kind: str) -> list[bool]:
    """``wants`` for each of ``users`` (one query): someone not yet saved, or no one, gets
    every kind."""
    kind = str(EmailKind(kind))
    ids = {user.id for user in users if getattr(user, "id", None) is not None}
    off = set(db.session.scalars(select(EmailOptOut.user_id).where(
        EmailOptOut.kind == kind, EmailOptOut.user_id.in_(ids)))) if ids else set()
    return [getattr(user, "id", None) not in off for user in users]


def switched_off(user) -> set[str]:
    return set(db.session.scalars(select(EmailOptOut.kind).where(EmailOptOut.user_id == user.id)))


def choose(user, wanted: list[str]) -> None:
    """Keep ``user``'s choice: they get the kinds in ``wanted`` and none of the others."""
    known = {str(k) for k in EmailKind}
    wanted_set = {w for w in wanted if w in known}
    off = known - wanted_set
    db.session.execute(delete(EmailOptOut).where(EmailOptOut.user_id == user.id,
                                                 EmailOptOut.kind.not_in(off)))
    have = switched_off(user)
    db.session.add_all(EmailOptOut(user_id=user.id, kind=kind) for kind in sorted(off - have))
    db.session.flush()
