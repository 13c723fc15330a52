"""One event for every change to a person's place: ``PlaceChanged``.

The enrolment engine (``lms.offerings.services.transition`` and ``_start``), session
bookings one by one (the festival), session changes (``lms.offerings.schedule`` and the
events' own session edits) and erasure all tell the app through ``lms.listeners.notify``.
Calendars, the festival's bookings and anything else that follows places listen; they are
connected in each feature's ``init_app(app)``.

Listeners run inside the change's transaction, under the offering's lock where the change
took it, after the change is flushed.
"""

from __future__ import annotations

from dataclasses import dataclass

from lms.offerings.models import HOLDS_PLACE, BookingState, EnrolmentState

# What changed: a place on the offering (an enrolment), a place at one session booked on its
# own (a festival session), or a session itself (moved, renamed, cancelled) under a place
# that stays as it was.
PLACE = "place"
SESSION_BOOKING = "session_booking"
SESSION = "session"

# Why, for changes the states alone do not tell apart.
MOVED = "session moved"
SESSION_CANCELLED = "session cancelled"
ERASED = "personal data erased"


@dataclass(frozen=True)
class PlaceChanged:
    """A person's place changed from ``from_state`` to ``to_state``.

    ``session_ids`` are the sessions concerned that are still to come: every live session
    of the offering for a place on it (none for offerings whose sessions are booked one by
    one), the one session for a session booking or a session change. ``from_state`` is None
    for a place that did not exist before. For ``SESSION`` changes both states are the
    person's (unchanged) state."""

    person_id: int
    offering_id: int
    session_ids: tuple[int, ...]
    from_state: str | None
    to_state: str
    actor_id: int | None
    reason: str = ""
    what: str = PLACE

    @property
    def had_sessions(self) -> bool:
        """Whether the person's calendar held the sessions before the change."""
        return self.from_state is not None and _holds(self.what, self.from_state)

    @property
    def has_sessions(self) -> bool:
        """Whether the person's calendar holds the sessions after the change."""
        return _holds(self.what, self.to_state)

    @property
    def loses_sessions(self) -> bool:
        """The person no longer attends the sessions (a cancellation is due)."""
        return self.had_sessions and not self.has_sessions

    @property
    def comes_back(self) -> bool:
        """The place comes back from an ended one (withdrawn, declined, lapsed, cancelled):
        the person may have been sent a cancellation for these sessions before."""
        return self.from_state is not None and self.from_state in _ENDED.get(self.what, ())

    @property
    def changes_place(self) -> bool:
        """The person's standing at the sessions changed (not a change to the sessions)."""
        return self.what != SESSION and self.from_state != self.to_state


_ENDED = {
    PLACE: (EnrolmentState.WITHDRAWN, EnrolmentState.DECLINED, EnrolmentState.REJECTED,
            EnrolmentState.LAPSED, EnrolmentState.CANCELLED),
    SESSION_BOOKING: (BookingState.CANCELLED,),
}


def _holds(what: str, state: str) -> bool:
    """Whether a place in ``state`` puts the sessions on the person's calendar (the personal
    feed shows them; tentatively until the place is confirmed)."""
    if what == SESSION_BOOKING:
        return state == BookingState.BOOKED
    if what == SESSION:
        return state in HOLDS_PLACE or state == BookingState.BOOKED
    return state in HOLDS_PLACE

