"""What each person's home shows: a learner's actions, next sessions and progress, and
what is coming up for everyone (faculty, DSU lead and admin sections are in
``lms.home.staff``).

Every button is the policy's answer (``lms.offerings.policy.answers``,
``lms.attendance.policy.may_check_in``); where one cannot succeed the page says why. The
data comes in a fixed number of queries whatever the number of places a person holds.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import joinedload, lazyload, selectin_polymorphic

from lms.accounts.models import Role, User
from lms.attendance import policy as attendance_policy
from lms.attendance.completion import Progress, progress_of_places
from lms.clock import utcnow
from lms.extensions import db
from lms.offerings import calendar, feed, policy
from lms.offerings.models import (
    Enrolment,
    EnrolmentState,
    Offering,
    OfferingStatus,
    Session,
    SessionStatus,
)

S = EnrolmentState
log = logging.getLogger(__name__)

# How many of each list the home shows (the full lists are a link away).
NEXT_SESSIONS = 5
COMING_UP = 6
NEW_MATERIALS = 5
# Work due within this long is listed under "Needs your action".
ASSIGNMENTS_DUE_SOON = timedelta(days=14)
# A joining link is put on the home page once the session is this close (or under way);
# before that the page says the link is in the person's calendar and on the event page.
JOIN_LINK_LEAD = timedelta(hours=24)


@dataclass(frozen=True)
class Action:
    """Something the person must do, with its deadline and the buttons that will work:
    ``kind`` is confirm (an approved nomination), offer (a waiting-list place), feedback or
    check_in; ``answers`` are the policy's answers for the place; ``reason`` says why a
    button is missing."""

    kind: str
    title: str
    url: str
    deadline: datetime | None = None
    enrolment_id: int | None = None
    answers: tuple[str, ...] = ()
    reason: str = ""
    survey_id: int | None = None
    has_draft: bool = False


@dataclass(frozen=True)
class NextSession:
    """One of the person's next sessions: when, where, and the joining link when close."""

    session_id: int
    offering_title: str
    title: str
    url: str
    starts_at: datetime
    ends_at: datetime
    location: str
    online: bool
    join_url: str  # empty unless the place is confirmed and the session is close
    confirmed: bool


@dataclass
class LearnerPlaces:
    """What a person's places alone decide, kept for them (``lms.home.kept``): places to
    confirm or accept and sessions to check in to, their next sessions, and until when
    that holds without any change (a session starting or ending, a joining link due, an
    offer lapsing, an offering starting, midnight)."""

    actions: list[Action]
    next_sessions: list[NextSession]
    valid_until: datetime | None


@dataclass
class LearnerHome:
    """A learner's home: the kept part of their places (HTML, ``lms.home.kept``) and what
    is built per request (work due, feedback asked, progress, materials)."""

    kept_actions: Markup = Markup("")
    next_sessions_html: Markup = Markup("")
    actions: list[Action] = field(default_factory=list)  # after the kept ones
    in_progress: list[Progress] = field(default_factory=list)
    materials: list = field(default_factory=list)  # lms.learning Material rows, newest first


def is_learner(user) -> bool:
    return bool(user.is_authenticated and user.has_role(Role.LEARNER))


def enrolments_of(user: User, states: tuple[str, ...], *,
                  answering: bool = False) -> list[Enrolment]:
    """The person's places in ``states``, newest first, each with its offering loaded as
    its own kind (so a cohort's course, and its completion rule, come with it), and with
    its quotas and leads when ``answering`` (what the policy's answers read): a fixed
    number of queries whatever the number of places."""
    extra = () if answering else (lazyload(Offering.quotas), lazyload(Offering.lead_rows))
    kinds = [m.class_ for m in Offering.__mapper__.self_and_descendants
             if m.class_ is not Offering]
    return list(db.session.scalars(
        select(Enrolment).where(Enrolment.user_id == user.id, Enrolment.state.in_(states))
        .options(joinedload(Enrolment.offering).options(
            selectin_polymorphic(Offering, kinds), lazyload(Offering.sessions), *extra),
            lazyload(Enrolment.user))
        .order_by(Enrolment.updated_at.desc(), Enrolment.id.desc())))


def _place_actions(user: User, enrolments: list[Enrolment], starts: dict[int, datetime],
                   now: datetime, url_of) -> list[Action]:
    """Approved nominations to confirm (before the offering starts) and offered places to
    accept (before the offer lapses), with the answers the policy allows now."""
    actions = []
    for e in enrolments:
        if e.state not in (S.APPROVED, S.OFFERED):
            continue
        answers = tuple(policy.answers(user, e, now))
        reason = ""
        if e.state == S.OFFERED and "accept" not in answers:
            reason = policy.may_accept(user, e, now).reason
        deadline = e.offer_expires_at if e.state == S.OFFERED else starts.get(e.offering_id)
        actions.append(Action("offer" if e.state == S.OFFERED else "confirm",
                              e.offering.title, url_of(e.offering), deadline, e.id,
                              answers, reason))
    return actions


def _feedback_actions(user: User, now: datetime) -> list[Action]:
    """Surveys open now on the person's places that they have not answered."""
    from lms.feedback.pages import open_surveys_for

    return [Action("feedback", row.survey.offering.title if row.survey.offering
                   else row.survey.title, "", row.survey.closes_at,
                   survey_id=row.survey.id, has_draft=row.has_draft)
            for row in open_surveys_for(user, now) if not row.answered]


def _assignment_actions(user: User, now: datetime) -> list[Action]:
    """Project work due soon that the person has still to hand in (or hand in again)."""
    from flask import url_for

    from lms.learning.assignments_pages import open_assignments_for

    return [Action("assignment", f"{due.title} ({due.offering_title})",
                   url_for("assignments.assignment", id=due.assignment_id), due.deadline,
                   reason="resubmit" if due.resubmit else "")
            for due in open_assignments_for(user, now, ASSIGNMENTS_DUE_SOON)]


def _next_sessions(user: User, now: datetime, url_of) -> tuple[list[NextSession], list]:
    """The person's sessions still to come (or under way), soonest first, and the rows
    (for check-in) the feed gives."""
    rows = [r for r in feed.sessions_with_place(user.id, now)
            if r.status != SessionStatus.CANCELLED
            and r.offering_status != OfferingStatus.CANCELLED]
    shown = []
    for r in rows[:NEXT_SESSIONS]:
        confirmed = calendar.shows_join_link(r.state)
        close = r.starts_at - now <= JOIN_LINK_LEAD
        shown.append(NextSession(
            r.id, r.offering_title, r.title, url_of(r.kind, r.offering_id), r.starts_at,
            r.ends_at, r.location, bool(r.join_url),
            r.join_url if confirmed and close else "", confirmed))
    return shown, rows


def _check_in_actions(rows: list, now: datetime, url_of) -> list[Action]:
    """Sessions the person may check in to right now (``may_check_in`` on the very window
    the check-in page uses)."""
    actions = []
    for r in rows:
        if r.starts_at > now:
            break
        window = Session(starts_at=r.starts_at, ends_at=r.ends_at, status=r.status)
        confirmed = calendar.shows_join_link(r.state)
        if attendance_policy.may_check_in(window, confirmed, now):
            title = r.offering_title + (f": {r.title}" if r.title else "")
            actions.append(Action("check_in", title, url_of(r.kind, r.offering_id),
                                  r.ends_at))
    return actions


def _url_by_kind():
    """An offering's page address by (kind, id), each built once."""
    from flask import url_for

    from lms.web import offering_page

    pages: dict[tuple[str, int], str] = {}

    def url_by_kind(kind: str, offering_id: int) -> str:
        if (kind, offering_id) not in pages:
            endpoint = offering_page(kind)
            pages[kind, offering_id] = url_for(endpoint, id=offering_id) if endpoint else "#"
        return pages[kind, offering_id]
    return url_by_kind


def learner_places(user: User, now: datetime) -> LearnerPlaces:
    """Places to answer and sessions to check in to (the policy's answers now), the next
    sessions, and when time alone would change them."""
    from lms.cache.kept import earliest_after, next_midnight
    from lms.offerings.pages import first_session_starts
    from lms.web import offering_url

    url_by_kind = _url_by_kind()
    waiting = enrolments_of(user, (S.APPROVED, S.OFFERED), answering=True)
    starts = first_session_starts([e.offering_id for e in waiting])
    next_sessions, rows = _next_sessions(user, now, url_by_kind)
    actions = (_place_actions(user, waiting, starts, now, offering_url)
               + _check_in_actions(rows, now, url_by_kind))
    moments = [next_midnight(now), *starts.values()]
    moments += [e.offer_expires_at for e in waiting if e.state == S.OFFERED]
    for r in rows:  # a joining link due, check-in opening, a session ending
        moments += [r.starts_at - JOIN_LINK_LEAD, r.starts_at, r.ends_at]
    return LearnerPlaces(actions, next_sessions, earliest_after(moments, now))


def learner_home(user: User, now: datetime | None = None) -> LearnerHome:
    """A learner's home: what needs their action, their next sessions, their progress."""
    from lms.home.kept import kept_places
    from lms.learning.materials import materials_for

    now = now or utcnow()
    home = LearnerHome()
    home.kept_actions, home.next_sessions_html = kept_places(user)
    home.actions = _feedback_actions(user, now) + _assignment_actions(user, now)
    home.materials = list(materials_for(user, limit=NEW_MATERIALS))
    enrolled = enrolments_of(user, (S.ENROLLED,))
    found = progress_of_places(enrolled, now)
    # Under way: a session has been held (places not yet begun are in "Next sessions").
    home.in_progress = [found[e.id] for e in enrolled if found[e.id].held]
    return home


# ---------------------------------------------------------------------------- coming up


@dataclass(frozen=True)
class ComingUp:
    """One thing open to the person that starts soon: a course's next cohort or an event."""

    title: str
    kind: str
    url: str
    starts_at: datetime
    places_left: int | None


def coming_up(user, limit: int = COMING_UP) -> list[ComingUp]:
    """The next few events and cohorts the person may see (``policy.can_see`` through the
    events listing and the public catalogue), soonest first: kept in the page cache under
    the offer's version, per audience (managers see drafts), until an event listed ends or
    the catalogue's next run moves on."""
    from lms.cache import OFFER, cached
    from lms.offerings.policy import can_manage

    return cached("coming_up", (can_manage(user), limit), depends_on=OFFER,
                  build=lambda: _coming_up(user, limit))


def _coming_up(user, limit: int) -> tuple[list[ComingUp], datetime | None]:
    from flask import url_for

    from lms.courses.catalogue import CatalogueFilters, catalogue_listing
    from lms.events.listing import events_list
    from lms.web import offering_url

    events = [e for e in events_list(user)[:limit] if e.upcoming]
    items = [ComingUp(e.event.title, e.event.kind, offering_url(e.event),
                      e.session.starts_at, e.places_left) for e in events]
    catalogue = catalogue_listing(CatalogueFilters())
    for entry in catalogue.entries:
        if entry.next_cohort_id is None or entry.next_starts_at is None:
            continue
        items.append(ComingUp(f"{entry.course.title} ({entry.next_cohort_name})", "cohort",
                              url_for("courses.cohort", id=entry.next_cohort_id),
                              entry.next_starts_at, entry.places_left))
    moments = [e.session.ends_at for e in events]
    if catalogue.valid_until is not None:
        moments.append(catalogue.valid_until)
    return sorted(items, key=lambda item: item.starts_at)[:limit], min(moments, default=None)


def coming_up_if_reachable(user) -> list[ComingUp] | None:
    """``coming_up``, or None when the database cannot be reached: the signed-out home page
    still says what the service is and where to start while the database is away (the
    signed-in sections need the person, so those pages answer 503 then)."""
    try:
        return coming_up(user)
    except OperationalError as error:
        log.error("home page: what is coming up could not be read: %s", error)
        db.session.rollback()
        return None
