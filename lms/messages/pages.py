"""What the messages page shows: the offering's sessions to choose from and what was sent."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from lms.extensions import db
from lms.messages.forms import MessageForm
from lms.messages.models import FacultyMessage
from lms.messages.services import AUDIENCE_LABELS
from lms.offerings.models import Offering


def sent_on(offering: Offering, limit: int | None = None) -> list[FacultyMessage]:
    """Messages sent to people of ``offering``, newest first (the latest ``limit``)."""
    return list(db.session.scalars(
        select(FacultyMessage).where(FacultyMessage.offering_id == offering.id)
        .options(selectinload(FacultyMessage.sent_by), selectinload(FacultyMessage.session))
        .order_by(FacultyMessage.sent_at.desc(), FacultyMessage.id.desc()).limit(limit)))


RECENT = 3


def recent_on(offering: Offering) -> tuple[list[FacultyMessage], int]:
    """The latest ``RECENT`` messages sent on ``offering`` and how many were sent in all, for
    its people page (the same statements however many were sent)."""
    total = db.session.scalar(select(func.count()).select_from(FacultyMessage)
                              .where(FacultyMessage.offering_id == offering.id)) or 0
    return (sent_on(offering, RECENT) if total else []), total


def fill_choices(form: MessageForm, sessions: Iterable[tuple[str, str]]) -> None:
    """The form's audiences, and ``sessions`` (id, how it reads) to choose one from."""
    form.audience.choices = [(str(k), label) for k, label in AUDIENCE_LABELS.items()]
    form.session_id.choices = [("", "Choose a session"), *sessions]


def audience_text(message: FacultyMessage) -> str:
    if message.audience == "session" and message.session is not None:
        label = message.session.title or "the session"
        from lms.clock import when_text

        return f"People at {label} ({when_text(message.session.starts_at)})"
    return AUDIENCE_LABELS.get(message.audience, message.audience)
