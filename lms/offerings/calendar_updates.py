"""Keeping people's calendars right when places and sessions change.

``follow_place_change`` listens to every ``PlaceChanged`` (connected in
``lms.offerings.init_app``) and sends the ``METHOD:CANCEL`` when someone loses their sessions;
``session_changed`` tells the listeners about a session moved or cancelled under everyone's
places; ``places_at`` and ``people_with_places`` say who is at a session. The iCalendar text
itself is ``lms.offerings.calendar``'s.
"""

from __future__ import annotations

from sqlalchemy import select, update

from lms.accounts.models import User
from lms.clock import utcnow
from lms.extensions import db
from lms.listeners import notify
from lms.notifications.services import link, queue_email
from lms.offerings import calendar
from lms.offerings.models import HOLDS_PLACE, Booking, BookingState, Enrolment, Session
from lms.offerings.transitions import SESSION, PlaceChanged


def follow_place_change(event: PlaceChanged) -> None:
    """The calendar side of every change to a person's place (connected in
    ``lms.offerings.init_app``).

    When the person no longer attends, each session concerned gets a higher SEQUENCE and
    they are sent a ``METHOD:CANCEL`` at it for every session still to come (a cancelled
    session has had its own): the SEQUENCE only grows, so the cancellation is above any
    invitation they were sent. When a place comes back after such a cancellation, the
    SEQUENCE grows again, so the next invitation is above the cancellation and puts the
    meeting back. Changes to a session itself (moved, cancelled) bump the SEQUENCE where
    they are made and carry the calendar message in their own email, so they need nothing
    here; nor does a first booking (its confirmation carries the invitation)."""
    if not event.changes_place or not event.session_ids:
        return
    if not (event.loses_sessions or event.comes_back):
        return
    # In SQL, not read-modify-write: a faculty edit of the session (which does not take the
    # offering's lock) cannot lose this bump, nor this one lose theirs.
    db.session.execute(
        update(Session).where(Session.id.in_(event.session_ids))
        .values(sequence=Session.sequence + 1)
        .execution_options(synchronize_session="fetch")
    )
    if not event.loses_sessions:
        return
    sessions = [s for s in (db.session.get(Session, sid) for sid in event.session_ids)
                if s is not None]
    now = utcnow()
    lost = [s for s in sessions if not s.is_cancelled and s.ends_at > now]
    person = db.session.get(User, event.person_id)
    if not lost or person is None:
        return
    offering = lost[0].offering
    queue_email(
        person.email, f"Removed from your calendar: {offering.title}",
        "offerings/calendar_cancelled", attachments=calendar.cancellations(lost, person),
        person=person, offering=offering, sessions=lost,
        my_learning_url=link("offerings.my_learning"),
    )


def places_at(session: Session) -> list[tuple[User, str]]:
    """Everyone with a place at ``session``, with the state of that place: for sessions
    booked one by one, those who booked it (``booked``) and are still registered; otherwise
    everyone holding a place on the offering (their enrolment's state)."""
    offering = session.offering
    if calendar.books_sessions(offering):
        people = db.session.scalars(
            select(User).join(Booking, Booking.user_id == User.id)
            .join(Enrolment, (Enrolment.user_id == User.id)
                  & (Enrolment.offering_id == offering.id))
            .where(Booking.session_id == session.id, Booking.state == BookingState.BOOKED,
                   Enrolment.state.in_(calendar.CONFIRMED))
            .order_by(User.full_name, User.id)
        ).all()
        return [(person, str(BookingState.BOOKED)) for person in people]
    rows = db.session.execute(
        select(User, Enrolment.state).join(Enrolment, Enrolment.user_id == User.id)
        .where(Enrolment.offering_id == offering.id, Enrolment.state.in_(HOLDS_PLACE))
        .order_by(User.full_name, User.id)
    ).all()
    return [(person, state) for person, state in rows]


def people_with_places(session: Session) -> list[tuple[User, bool]]:
    """Everyone to tell about a change to ``session``, with whether their place is confirmed
    (only confirmed places get calendar invitations and joining links)."""
    return [(person, state in calendar.CONFIRMED or state == BookingState.BOOKED)
            for person, state in places_at(session)]


def session_changed(session: Session, reason: str, actor: User | None = None) -> None:
    """A session moved or was cancelled under everyone's places: one ``PlaceChanged`` per
    person at it (their state unchanged), for the app's listeners. The change's own email
    carries the calendar message (``invitation``) at the session's new SEQUENCE."""
    for person, state in places_at(session):
        notify(PlaceChanged(
            person_id=person.id, offering_id=session.offering_id, session_ids=(session.id,),
            from_state=state, to_state=state, actor_id=actor.id if actor else None,
            reason=reason, what=SESSION,
        ))
