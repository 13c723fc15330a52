"""Who may record attendance for a session, and when: the one place that says so.

Attendance belongs to sessions that have started. Taking the register (a mark, "mark all
present", a late arrival), checking in and importing a Teams or Zoom report are refused for a
session that has not begun or was cancelled, and an imported report must be of a meeting that
started near the session's own start. The services ask these functions before they write;
the pages ask the same functions to decide which controls to show and to say why one is
missing, so a control shown always works and a refused action is never offered.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from lms.clock import date_text, time_text, utcnow
from lms.errors import ALLOWED, Decision, NotAllowed
from lms.offerings.models import Session
from lms.offerings.policy import can_manage

# A report whose meeting started further than this from the session's start is of another
# meeting (another date, or another session of the series). Wide enough for a meeting opened
# early or run late, and for a report written on another time zone's clocks.
REPORT_START_TOLERANCE = timedelta(hours=6)


def when(moment: datetime) -> str:
    """"10am on Wednesday 3 March 2027", on London clocks, in the NHS.UK style."""
    return f"{time_text(moment)} on {date_text(moment, weekday=True)}"


def has_started(session: Session, now: datetime | None = None) -> bool:
    """Whether a session has begun (attendance can be recorded from its start)."""
    return (now or utcnow()) >= session.starts_at


def _faculty_once_started(actor, session: Session, now: datetime | None, who: str,
                          cancelled: str, wait: str) -> Decision:
    """Recording attendance: faculty only, not for a cancelled session, and only once it has
    started (``wait`` is finished with the start time)."""
    if not can_manage(actor, session.offering):
        return Decision(False, who, NotAllowed)
    if session.is_cancelled:
        return Decision(False, cancelled)
    if not has_started(session, now):
        return Decision(False, f"{wait} {when(session.starts_at)}")
    return ALLOWED


def may_take_register(actor, session: Session, now: datetime | None = None) -> Decision:
    """Whether ``actor`` may mark people on this session's register now: faculty, once the
    session has started, unless it was cancelled."""
    return _faculty_once_started(
        actor, session, now, "Only faculty can take registers",
        "This session was cancelled, so it has no register to take",
        "You can take the register once the session has started at")


def may_import(actor, session: Session, now: datetime | None = None) -> Decision:
    """Whether ``actor`` may import a Teams or Zoom report into this session now."""
    return _faculty_once_started(
        actor, session, now, "Only faculty can import attendance",
        "This session was cancelled, so it has no attendance to import",
        "You can import an attendance report once the session has started at")


def check_in_window(session: Session) -> tuple[datetime, datetime]:
    """When people may check in: from the session's start to its end."""
    return session.starts_at, session.ends_at


def may_check_in(session: Session, has_place: bool, now: datetime | None = None) -> Decision:
    """Whether a person (with a place or not) may check in to this session now."""
    now = now or utcnow()
    opens, closes = check_in_window(session)
    if session.is_cancelled:
        return Decision(False, "This session was cancelled")
    if now < opens:
        return Decision(False, "Check-in has not opened yet. It opens when the session starts "
                        f"at {when(opens)}")
    if now > closes:
        return Decision(False, "Check-in for this session has closed")
    if not has_place:
        return Decision(False, "You do not have a place at this session")
    return ALLOWED


def may_show_check_in(actor, session: Session, now: datetime | None = None) -> Decision:
    """Whether ``actor`` may put up a session's check-in code and QR code: faculty, before
    or during the session (the screen can go up early; people check in once it starts), not
    once check-in has closed or for a cancelled session."""
    if not can_manage(actor, session.offering):
        return Decision(False, "Only faculty can show check-in codes", NotAllowed)
    now = now or utcnow()
    if session.is_cancelled:
        return Decision(False, "This session was cancelled")
    if now > check_in_window(session)[1]:
        return Decision(False, "Check-in for this session has closed")
    return ALLOWED


def session_tools(actor, session: Session, now: datetime | None = None
                  ) -> tuple[Decision, Decision, Decision]:
    """The register, the check-in screen and the report import for one session, each
    allowed or refused with the reason: what faculty's pages offer beside a session."""
    now = now or utcnow()
    return (may_take_register(actor, session, now), may_show_check_in(actor, session, now),
            may_import(actor, session, now))


def report_fits_session(report_starts: tuple[datetime, ...], session: Session) -> Decision:
    """Whether a report's meeting (its possible start times: a date such as 1/12/27 may be
    either way round) started within ``REPORT_START_TOLERANCE`` of the session's start."""
    if not report_starts:
        return Decision(False, "The report does not say when the meeting started, so it "
                        "cannot be checked against this session. Upload the report as Teams "
                        "or Zoom gives it, with its start time")
    if any(abs(start - session.starts_at) <= REPORT_START_TOLERANCE for start in report_starts):
        return ALLOWED
    nearest = min(report_starts, key=lambda start: abs(start - session.starts_at))
    return Decision(False, f"This report is of a meeting that started at {when(nearest)}, but "
                    f"this session started at {when(session.starts_at)}. Import it into the "
                    "session it belongs to")
