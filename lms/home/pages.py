"""What each person's home shows: a learner's actions, next sessions and progress, and
what is coming up for everyone (faculty, DSU lead and admin sections are in
``lms.home.staff``).

Every button is the policy's answer (``lms.offerings.policy.answers``,
``lms.attendance.policy.may_check_in``); where one cannot succeed the page says why. The
data comes in a fixed number of queries whatever the number of places a person holds, and
a learner's home is kept for them (``lms.home.kept``) with the moment time alone changes it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from markupsafe import Markup
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import joinedload, lazyload, selectin_polymorphic

from lms.accounts.models import Role, User
from lms.attendance import policy as attendance_policy
from lms.attendance.completion import Progress, progress_of_places
from lms.extensions import db
from lms.offerings import calendar, feed, policy
from lms.offerings.models import (
    HOLDS_PLACE,
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
# How far ahead work still to hand in is looked at (when it comes within ASSIGNMENTS_DUE_SOON).
WORK_LOOKS_AHEAD = timedelta(days=3650)
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
class LearnerLearning:
    """What a person's learning decides, kept for them (``lms.home.kept``): feedback asked
    and work due (after the place actions), the places under way with their progress, the
    newest materials, and until when that holds without any change (a survey opening or
    closing, work coming due or its deadline passing, a session ending, a material's moment
    coming, midnight)."""

    actions: list[Action]
    in_progress: list[Progress]
    materials: list  # lms.learning Material rows, newest first
    valid_until: datetime | None


@dataclass
class LearnerHome:
    """A learner's home, kept (``lms.home.kept``): the action cards of their places and
    then those of their learning, their next sessions, and their progress and materials
    (HTML, each part under the versions it is built from)."""

    kept_actions: Markup = Markup("")
    learning_actions: Markup = Markup("")
    next_sessions_html: Markup = Markup("")
    learning_html: Markup = Markup("")


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


def _feedback_actions(user: User, now: datetime) -> tuple[list[Action], list[datetime]]:
    """Surveys open now on the person's places that they have not answered, and the
    moments that changes by itself (one closing, another on their places opening)."""
    from lms.feedback.models import Survey
    from lms.feedback.pages import open_surveys_for

    rows = open_surveys_for(user, now)
    actions = [Action("feedback", row.survey.offering.title if row.survey.offering
                      else row.survey.title, "", row.survey.closes_at,
                      survey_id=row.survey.id, has_draft=row.has_draft)
               for row in rows if not row.answered]
    opening = db.session.scalar(
        select(func.min(Survey.opens_at)).join(Enrolment,
                                               Enrolment.offering_id == Survey.offering_id)
        .where(Enrolment.user_id == user.id, Enrolment.state.in_(HOLDS_PLACE),
               Survey.is_template.is_(False), Survey.opens_at > now))
    return actions, [row.survey.closes_at for row in rows] + [opening]


def _assignment_actions(user: User, now: datetime) -> tuple[list[Action], list[datetime]]:
    """Project work due soon that the person has still to hand in (or hand in again), and
    the moments that changes by itself (work coming within ``ASSIGNMENTS_DUE_SOON`` of its
    deadline, a deadline passing)."""
    from flask import url_for

    from lms.learning.assignments_pages import open_assignments_for

    pending = open_assignments_for(user, now, WORK_LOOKS_AHEAD)
    due = [d for d in pending if d.deadline <= now + ASSIGNMENTS_DUE_SOON]
    moments = [d.deadline - ASSIGNMENTS_DUE_SOON for d in pending] + [
        d.deadline + timedelta(microseconds=1) for d in due]
    return [Action("assignment", f"{d.title} ({d.offering_title})",
                   url_for("assignments.assignment", id=d.assignment_id), d.deadline,
                   reason="resubmit" if d.resubmit else "") for d in due], moments


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


def learner_learning(user: User, now: datetime) -> LearnerLearning:
    """Feedback asked, work due, the places under way with their progress and the newest
    materials, and when time alone would change them."""
    from lms.cache.kept import earliest_after, next_midnight
    from lms.learning.materials import materials_for

    feedback, feedback_moments = _feedback_actions(user, now)
    work, work_moments = _assignment_actions(user, now)
    materials = list(materials_for(user, limit=NEW_MATERIALS))
    enrolled = enrolments_of(user, (S.ENROLLED,))
    found = progress_of_places(enrolled, now)
    # Under way: a session has been held (places not yet begun are in "Next sessions").
    in_progress = [found[e.id] for e in enrolled if found[e.id].held]
    moments = [next_midnight(now), *feedback_moments, *work_moments,
               *_session_moments(user, now)]
    return LearnerLearning(feedback + work, in_progress, materials,
                           earliest_after(moments, now))


def _session_moments(user: User, now: datetime) -> tuple[datetime | None, datetime | None]:
    """When the next session of the person's places starts and when the next one ends: one
    more is held then, and a material shown from a session's (or its offering's) start or
    end comes then (one query)."""
    found = db.session.execute(
        select(func.min(Session.starts_at).filter(Session.starts_at > now),
               func.min(Session.ends_at).filter(Session.ends_at > now))
        .join(Enrolment, Enrolment.offering_id == Session.offering_id)
        .where(Enrolment.user_id == user.id, Enrolment.state.in_(HOLDS_PLACE))).one()
    return found[0], found[1]


def learner_home(user: User) -> LearnerHome:
    """A learner's home: what needs their action, their next sessions, their progress,
    each part kept for them (``lms.home.kept``)."""
    from lms.home.kept import kept_learning, kept_places

    home = LearnerHome()
    home.kept_actions, home.next_sessions_html = kept_places(user)
    home.learning_actions, home.learning_html = kept_learning(user)
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
