"""Faculty message the people of an offering: everyone with a place, one session's people, or
the waiting list. One email per person through the outbox (never one email to many), each an
optional email of kind ``faculty_messages`` so people who switched those off are skipped by
the outbox itself. Services flush; the view commits."""

from __future__ import annotations

from sqlalchemy import select

from lms.accounts.models import User
from lms.errors import InvalidInput, NotAllowed, NotFound
from lms.extensions import db
from lms.messages.models import Audience, FacultyMessage
from lms.notifications.preferences import EmailKind, wants
from lms.notifications.services import link, queue_email
from lms.offerings import calendar, policy
from lms.offerings.calendar_updates import places_at
from lms.offerings.models import HOLDS_PLACE, Enrolment, EnrolmentState, Offering, Session

SUBJECT_LIMIT = 150
BODY_LIMIT = 5000

AUDIENCE_LABELS = {
    Audience.EVERYONE: "Everyone with a place",
    Audience.SESSION: "People with a place at one session",
    Audience.WAITLIST: "Everyone on the waiting list",
}


def session_of(offering: Offering, session_id: int | None) -> Session | None:
    """One of ``offering``'s sessions that has not been cancelled, or ``None``."""
    if session_id is None:
        return None
    session = db.session.get(Session, session_id)
    if session is None or session.offering_id != offering.id or session.is_cancelled:
        return None
    return session


def recipients(offering: Offering, audience: str, session: Session | None = None) -> list[User]:
    """The people a message to ``audience`` goes to (active accounts, each once)."""
    if audience == Audience.SESSION:
        people = [person for person, _ in places_at(session)] if session is not None else []
    else:
        states = HOLDS_PLACE if audience == Audience.EVERYONE else (EnrolmentState.WAITLISTED,)
        people = list(db.session.scalars(
            select(User).join(Enrolment, Enrolment.user_id == User.id)
            .where(Enrolment.offering_id == offering.id, Enrolment.state.in_(states))
            .order_by(Enrolment.waitlist_position, User.full_name, User.id)))
    return [person for person in dict.fromkeys(people) if person.is_active_account]


def _checked(offering: Offering, audience: str | None, session_id: int | None,
             subject: str | None, body: str | None) -> tuple[str, Session | None, str, str]:
    errors = []
    if audience not in {str(a) for a in Audience}:
        errors.append(("audience", "Select who the message is for"))
    session = session_of(offering, session_id)
    if audience == Audience.SESSION and session is None:
        errors.append(("session_id", "Select the session"))
    subject = " ".join((subject or "").split())
    body = (body or "").strip()
    if not subject:
        errors.append(("subject", "Enter a subject"))
    elif len(subject) > SUBJECT_LIMIT:
        errors.append(("subject", f"Subject must be {SUBJECT_LIMIT} characters or fewer"))
    if not body:
        errors.append(("body", "Enter a message"))
    elif len(body) > BODY_LIMIT:
        errors.append(("body", f"Message must be {BODY_LIMIT:,} characters or fewer"))
    if errors:
        raise InvalidInput(errors)
    return audience, session if audience == Audience.SESSION else None, subject, body


def preview(actor: User, offering: Offering, audience: str | None, session_id: int | None,
            subject: str | None, body: str | None) -> tuple[int, int]:
    """Check a message without sending it: (people it would reach, people on the list who
    have switched faculty messages off)."""
    if not policy.can_manage(actor, offering):
        raise NotAllowed("Only faculty can message the people on an offering")
    audience, session, _, _ = _checked(offering, audience, session_id, subject, body)
    people = recipients(offering, audience, session)
    off = sum(1 for person in people if not wants(person, EmailKind.FACULTY_MESSAGES))
    return len(people) - off, off


def send(actor: User, offering: Offering, audience: str | None, session_id: int | None,
         subject: str | None, body: str | None) -> FacultyMessage:
    """Email each person of ``audience`` on their own, and keep the message on the offering."""
    if not policy.can_manage(actor, offering):
        raise NotAllowed("Only faculty can message the people on an offering")
    audience, session, subject, body = _checked(offering, audience, session_id, subject, body)
    people = recipients(offering, audience, session)
    page_url = calendar.page_url(offering.kind, offering.id)
    queued = 0
    for person in people:
        row = queue_email(person.email, subject, "messages/message", flush=False,
                          optional=EmailKind.FACULTY_MESSAGES, person=person,
                          offering=offering, session=session, sender=actor, body=body,
                          audience=audience, page_url=page_url,
                          preferences_url=link("notifications.email_preferences"))
        queued += row is not None
    message = FacultyMessage(offering_id=offering.id, session_id=session.id if session else None,
                             audience=audience, subject=subject, body=body,
                             sent_by_id=actor.id, recipient_count=queued,
                             switched_off_count=len(people) - queued)
    db.session.add(message)
    db.session.flush()
    return message


def get_message(message_id: int) -> FacultyMessage:
    message = db.session.get(FacultyMessage, message_id)
    if message is None:
        raise NotFound("No such message")
    return message
