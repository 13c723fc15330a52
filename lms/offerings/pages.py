"""What the places pages show: the booking box on an offering's page, My learning, a DSU
lead's quotas and nominations, and faculty's view of an offering's people.

View-models and the queries that fill them; the rules they show are the policy's
(``lms.offerings.policy``) and the changes are the engine's (``lms.offerings.services``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import bindparam, case, func, or_, select
from sqlalchemy.orm import joinedload, lazyload, selectinload

from lms.accounts.models import Organisation, User
from lms.cache import cached, person
from lms.clock import utcnow
from lms.errors import NotAllowed
from lms.extensions import db, read_row
from lms.offerings import places, policy
from lms.offerings.models import (
    ACTIVE,
    BookingMode,
    Enrolment,
    EnrolmentEvent,
    EnrolmentState,
    Offering,
    OfferingStatus,
    Session,
    SessionStatus,
)
from lms.offerings.places import (
    Held,
    holding_by_ics,
    places_left,
    quota_for,
    quotas_in_force,
    waitlist_length,
)
from lms.web import page_count

S = EnrolmentState


@dataclass
class BookingPanel:
    """What the booking box on an offering's page shows one person."""

    offering_id: int
    enrolment: Enrolment | Place | None
    places_left: int | None
    action: str | None = None  # book | request | waitlist
    message: str = ""
    actions: list[str] = field(default_factory=list)  # withdraw, accept, decline, confirm


@dataclass(frozen=True)
class Standing:
    """What the booking box of an offering shows everyone, whoever looks: the places left,
    why booking is closed (or None), and the waiting list when it is full. It holds until
    the offering, its sessions or its places change (see ``lms.cache``), or until
    ``until``, when time closes booking."""

    offering_id: int
    booking_mode: str
    places_left: int | None
    closed: str | None
    waiting: int | None
    until: datetime | None


def standing(offering: Offering) -> Standing:
    """The offering's standing now, for ``panel_for``."""
    left = places_left(offering)
    now = utcnow()
    closed = policy.booking_closed(offering, now)
    moments = [offering.ends_at]
    if not getattr(offering, "late_joining", False):
        moments.append(offering.starts_at)
    later = [m for m in moments if m is not None and m > now]
    full_and_open = (closed is None and offering.booking_mode == BookingMode.OPEN
                     and left is not None and left <= 0)
    return Standing(offering.id, offering.booking_mode, left, closed,
                    waitlist_length(offering.id) if full_and_open else None,
                    min(later) if later and closed is None else None)


@dataclass(frozen=True)
class Place:
    """A person's enrolment as their booking box shows it (plain columns, no entity)."""

    id: int
    state: str
    waitlist_position: int | None
    offer_expires_at: datetime | None
    user_id: int
    quota_organisation_id: int | None

    @property
    def is_active(self) -> bool:
        return self.state in ACTIVE


_place_statement = (
    select(Enrolment.id, Enrolment.state, Enrolment.waitlist_position,
           Enrolment.offer_expires_at, Enrolment.user_id, Enrolment.quota_organisation_id)
    .where(Enrolment.offering_id == bindparam("offering_id"),
           Enrolment.user_id == bindparam("user_id")))


def viewer_place(user, offering_id: int) -> Place | None:
    """The person's enrolment on an offering (any state), or None; None for anonymous. It
    runs on every view of a kept offering page, so it is kept too, under the person's version
    (renewed by any change to their places, which the signed-in request has read already);
    built from one query of plain columns on a driver cursor (``read_row``: committed data,
    so not after a write in the same request)."""
    if not user.is_authenticated:
        return None
    return cached("viewer_place", (user.id, offering_id), depends_on=person(user.id),
                  build=lambda: (_read_place(user.id, offering_id), None), size=4096)


def _read_place(user_id: int, offering_id: int) -> Place | None:
    row = read_row(_place_statement, offering_id=offering_id, user_id=user_id)
    if row is None:
        return None
    # The driver's raw value (text on SQLite): an aware UTC time, as the column gives it.
    place = list(row)
    if isinstance(place[3], str):
        place[3] = datetime.fromisoformat(place[3])
    if place[3] is not None and place[3].tzinfo is None:
        place[3] = place[3].replace(tzinfo=UTC)
    return Place(*place)


def panel_for(standing: Standing, enrolment: Enrolment | Place | None,
              viewer) -> BookingPanel:
    """One person's booking box from the offering's standing and their enrolment: the
    buttons are the policy's answers (the engine enforces the same ones), and when booking is
    refused the box says why."""
    panel = BookingPanel(standing.offering_id, enrolment, standing.places_left)
    e = enrolment
    if e is not None and e.is_active:
        panel.message = {
            S.ENROLLED: "You have a place.",
            S.COMPLETED: "You have completed this.",
            S.REQUESTED: "You have asked for a place. Faculty will approve or decline it.",
            S.NOMINATED: "You have been nominated. Faculty will approve the nomination.",
            S.APPROVED: "Your nomination is approved. Confirm that you will take the place.",
            S.WAITLISTED: f"You are number {e.waitlist_position} on the waiting list.",
            S.OFFERED: "A place is offered to you. Accept it before the deadline.",
        }[EnrolmentState(e.state)]
        now = utcnow()
        panel.actions = policy.answers(viewer, e, now)
        if e.state == S.OFFERED and "accept" not in panel.actions:
            panel.message = policy.may_accept(viewer, e, now).reason + "."
        return panel
    decision = policy.decide_booking(standing.closed, standing.booking_mode,
                                     e.state if e is not None else None)
    if not decision:
        panel.message = decision.reason + "."
    elif standing.booking_mode == BookingMode.APPROVAL:
        panel.action = "request"
    elif panel.places_left is not None and panel.places_left <= 0:
        panel.action = "waitlist"
        panel.message = f"This is full. {standing.waiting} people are waiting."
    else:
        panel.action = "book"
    return panel


def booking_panel(user, offering: Offering) -> BookingPanel:
    """The person's standing on an offering and what they can do next."""
    enrolment = places.existing(offering, user) if user.is_authenticated else None
    return panel_for(standing(offering), enrolment, user)




def my_enrolments(user: User) -> list[Enrolment]:
    """Everything a person has booked, asked for, been nominated to or is waiting for,
    newest first; finished ones too. Each offering comes with its title and kind only (not
    its sessions, quotas and leads: see ``first_session_starts``). One query."""
    return list(db.session.scalars(
        select(Enrolment).where(Enrolment.user_id == user.id)
        .options(joinedload(Enrolment.offering).lazyload("*"), lazyload(Enrolment.user))
        .order_by(Enrolment.updated_at.desc(), Enrolment.id.desc())
    ))


def first_session_starts(offering_ids: list[int]) -> dict[int, datetime]:
    """When each offering's first session that is not cancelled starts (as
    ``Offering.starts_at``), for many offerings in one query."""
    if not offering_ids:
        return {}
    return dict(db.session.execute(
        select(Session.offering_id, func.min(Session.starts_at))
        .where(Session.offering_id.in_(offering_ids),
               Session.status != SessionStatus.CANCELLED)
        .group_by(Session.offering_id)
    ).tuples().all())


@dataclass(frozen=True)
class LearningRow:
    """One line of My learning: the place, its offering's next session still to come (a
    network's next meeting, not its first), whether any session has been held, and the
    answers the person may give now (the policy's)."""

    enrolment: Enrolment
    next_starts: datetime | None
    started: bool
    answers: tuple[str, ...]


@dataclass
class MyLearning:
    """My learning in four groups: action needed (a nomination to confirm, a place offered),
    upcoming (soonest first), in progress (a place whose sessions have begun), finished."""

    action: list[LearningRow] = field(default_factory=list)
    upcoming: list[LearningRow] = field(default_factory=list)
    in_progress: list[LearningRow] = field(default_factory=list)
    finished: list[LearningRow] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.action or self.upcoming or self.in_progress or self.finished)


def session_dates(offering_ids: list[int], now: datetime) -> dict[int, tuple]:
    """For each offering: its first session's start and its next session's start (one not
    cancelled that has not ended by ``now``), in one query."""
    if not offering_ids:
        return {}
    to_come = case((Session.ends_at > now, Session.starts_at))
    return {oid: (first, following) for oid, first, following in db.session.execute(
        select(Session.offering_id, func.min(Session.starts_at), func.min(to_come))
        .where(Session.offering_id.in_(offering_ids),
               Session.status != SessionStatus.CANCELLED)
        .group_by(Session.offering_id)).tuples().all()}


def my_learning(user: User, now: datetime | None = None) -> MyLearning:
    """A person's places grouped for My learning, in a fixed number of queries."""
    now = now or utcnow()
    enrolments = my_enrolments(user)
    dates = session_dates([e.offering_id for e in enrolments if e.is_active], now)
    page = MyLearning()
    for e in enrolments:
        first, following = dates.get(e.offering_id, (None, None))
        if following is not None and following.tzinfo is None:
            following = following.replace(tzinfo=UTC)  # a CASE loses the column's type
        row = LearningRow(e, following, first is not None and first <= now,
                          tuple(policy.answers(user, e, now)) if e.is_active else ())
        if e.state in (S.APPROVED, S.OFFERED):
            page.action.append(row)
        elif not e.is_active or e.state == S.COMPLETED:
            page.finished.append(row)
        elif e.state == S.ENROLLED and row.started:
            page.in_progress.append(row)
        else:
            page.upcoming.append(row)
    far = datetime.max.replace(tzinfo=UTC)
    page.upcoming.sort(key=lambda r: r.next_starts or far)
    page.in_progress.sort(key=lambda r: r.next_starts or far)
    return page


@dataclass
class QuotaView:
    """A DSU lead's view of one offering: their ICS's quota and nominations, whether they
    may nominate now (and why not), and which nominations they may withdraw."""

    offering: Offering
    quota: int | None
    used: int
    in_force: bool
    nominations: list[Enrolment]
    may_nominate: policy.Decision
    withdrawable: set[int] = field(default_factory=set)

    @property
    def remaining(self) -> int | None:
        return None if self.quota is None else max(0, self.quota - self.used)


def nomination_offerings(lead: User) -> list[QuotaView]:
    """Offerings by nomination that a DSU lead can see, with their ICS's quota use and
    whether nominations are open (see ``QuotaView.may_nominate``): the same few queries
    for any number of offerings."""
    if not lead.is_dsu_lead:
        raise NotAllowed("Only DSU leads nominate")
    offerings = db.session.scalars(
        select(Offering).where(*policy.visible_filter(lead),
                               Offering.booking_mode == BookingMode.NOMINATION,
                               Offering.status.in_([OfferingStatus.OPEN,
                                                    OfferingStatus.CLOSED,
                                                    OfferingStatus.RUNNING]))
        .order_by(Offering.id)
    ).all()
    ids = [o.id for o in offerings]
    held = holding_by_ics(ids)
    nominations = _nominations_of(lead.organisation_id, ids)
    return [_quota_view(lead, o, nominations.get(o.id, []), held[o.id]) for o in offerings]


def quota_view(lead: User, offering: Offering) -> QuotaView:
    """A DSU lead's view of one offering: their ICS's quota, use and nominations."""
    if not lead.is_dsu_lead:
        raise NotAllowed("Only DSU leads nominate")
    return _quota_view(lead, offering,
                       _nominations_of(lead.organisation_id, [offering.id]).get(offering.id, []),
                       holding_by_ics([offering.id])[offering.id])


def _nominations_of(organisation_id: int, offering_ids: list[int]) -> dict[int, list[Enrolment]]:
    """The places counted against an ICS's quota on each offering, by name (one query)."""
    found: dict[int, list[Enrolment]] = {}
    if not offering_ids:
        return found
    for enrolment in db.session.scalars(
        select(Enrolment).join(User, Enrolment.user_id == User.id)
        .where(Enrolment.offering_id.in_(offering_ids),
               Enrolment.quota_organisation_id == organisation_id)
        .order_by(User.full_name)
    ):
        found.setdefault(enrolment.offering_id, []).append(enrolment)
    return found


def _quota_view(lead: User, offering: Offering, nominations: list[Enrolment],
                held: Held) -> QuotaView:
    quota = quota_for(offering, lead.organisation_id)
    return QuotaView(offering, quota.places if quota else None,
                     sum(1 for e in nominations if e.holds_place),
                     quotas_in_force(offering), nominations,
                     policy.may_nominate(lead, offering, held=held),
                     {e.id for e in nominations if policy.may_withdraw(lead, e)})


def nominable_people(lead: User, offering: Offering, query: str = "") -> list[User]:
    """Confirmed accounts of the lead's own ICS with no active place on the offering (an
    erased person's account is unconfirmed, so it is not offered)."""
    active = select(Enrolment.user_id).where(Enrolment.offering_id == offering.id,
                                             Enrolment.state.in_(ACTIVE))
    stmt = select(User).where(User.organisation_id == lead.organisation_id,
                              User.is_active_account.is_(True),
                              User.email_verified_at.is_not(None), User.id.not_in(active))
    text = " ".join((query or "").split())[:100].lower()
    if text:
        cleaned = text.replace("%", "").replace("_", "").replace("\\", "")
        stmt = stmt.where(func.lower(User.full_name).like(f"%{cleaned}%")
                          | User.email.like(f"%{cleaned}%"))
    return list(db.session.scalars(stmt.order_by(User.full_name).limit(200)))


# Faculty's people page shows the long lists (places, and people no longer taking part) a
# page at a time: a festival or a national network has thousands, and the page costs the
# same for any offering.
PEOPLE_PER_PAGE = 100
# Sessions listed (with their register links) beside those to come, unless all are asked
# for: a network's years of meetings would otherwise make the page grow with its history.
RECENT_SESSIONS = 6
DECIDE = (S.REQUESTED, S.NOMINATED, S.APPROVED)
PLACES = (S.ENROLLED, S.OFFERED, S.COMPLETED)


@dataclass
class PeopleOn:
    """Faculty's view of an offering's people: requests and nominations and the waiting list
    in full (each has actions), one page of the places and one of everyone else (history),
    with the totals and the reasons given for the history shown."""

    requests: list[Enrolment]
    nominations: list[Enrolment]
    waiting: list[Enrolment]
    places: list[Enrolment]
    places_total: int
    page: int
    pages: int
    others: list[Enrolment]
    others_total: int
    history: int
    history_pages: int
    reasons: dict[int, str]
    sessions: list[Session]
    sessions_hidden: int
    all_sessions: bool


def sessions_listed(offering: Offering, show_all: bool = False) -> tuple[list[Session], int]:
    """The sessions the people page lists, in order: the latest ``RECENT_SESSIONS`` held
    and all those to come (or every one), and how many earlier ones are left out."""
    sessions = list(offering.sessions)
    if show_all:
        return sessions, 0
    now = utcnow()
    held = [s for s in sessions if s.ends_at <= now]
    shown = held[-RECENT_SESSIONS:] + [s for s in sessions if s.ends_at > now]
    return shown, len(sessions) - len(shown)


def people_on(offering: Offering, page: int = 1, history: int = 1,
              all_sessions: bool = False) -> PeopleOn:
    """Faculty's view of an offering's people, grouped: requests, nominations, places,
    waiting list, and everyone else (history), the places and the history ``page`` and
    ``history`` of their pages (a page past the last shows the last), and the sessions to
    list (``sessions_listed``). The same queries whatever the number of people."""
    counts = dict(db.session.execute(
        select(Enrolment.state, func.count()).where(Enrolment.offering_id == offering.id)
        .group_by(Enrolment.state)).tuples().all())
    places_total = sum(counts.get(state, 0) for state in PLACES)
    others_total = sum(n for state, n in counts.items()
                       if state not in (*DECIDE, *PLACES, S.WAITLISTED))
    pages, history_pages = (page_count(places_total, PEOPLE_PER_PAGE),
                            page_count(others_total, PEOPLE_PER_PAGE))
    page, history = min(max(page, 1), pages), min(max(history, 1), history_pages)

    named = (Enrolment.waitlist_position, User.full_name, Enrolment.id)

    def one_page(chosen, number: int):
        return (select(Enrolment.id).join(User, Enrolment.user_id == User.id)
                .where(Enrolment.offering_id == offering.id, chosen).order_by(*named)
                .limit(PEOPLE_PER_PAGE).offset((number - 1) * PEOPLE_PER_PAGE))

    # One load of the people shown (and their accounts), however they are grouped.
    kept = (*DECIDE, *PLACES, S.WAITLISTED)
    shown = db.session.scalars(
        select(Enrolment).join(User, Enrolment.user_id == User.id)
        .options(selectinload(Enrolment.nominated_by))  # "by <DSU lead>": not one per row
        .where(Enrolment.offering_id == offering.id,
               or_(Enrolment.state.in_((*DECIDE, S.WAITLISTED)),
                   Enrolment.id.in_(one_page(Enrolment.state.in_(PLACES), page)),
                   Enrolment.id.in_(one_page(Enrolment.state.not_in(kept), history))))
        .order_by(*named)).all()
    others = [e for e in shown if e.state not in kept]
    sessions, hidden = sessions_listed(offering, all_sessions)
    return PeopleOn(
        requests=[e for e in shown if e.state == S.REQUESTED],
        nominations=[e for e in shown if e.state in (S.NOMINATED, S.APPROVED)],
        waiting=[e for e in shown if e.state == S.WAITLISTED],
        places=[e for e in shown if e.state in PLACES], places_total=places_total, page=page,
        pages=pages, others=others, others_total=others_total, history=history,
        history_pages=history_pages, reasons=reasons_of(others), sessions=sessions,
        sessions_hidden=hidden, all_sessions=all_sessions)


GIVEN_UP = (S.WITHDRAWN, S.DECLINED, S.REJECTED, S.CANCELLED)


def reasons_of(enrolments: list[Enrolment]) -> dict[int, str]:
    """The reason given when each place that has ended was given up, declined, rejected or
    cancelled (its latest such change with a reason), for faculty and DSU leads to read."""
    ended = [e.id for e in enrolments if e.state in GIVEN_UP]
    if not ended:
        return {}
    rows = db.session.execute(
        select(EnrolmentEvent.enrolment_id, EnrolmentEvent.reason)
        .where(EnrolmentEvent.enrolment_id.in_(ended), EnrolmentEvent.to_state.in_(GIVEN_UP),
               EnrolmentEvent.reason != "")
        .order_by(EnrolmentEvent.at, EnrolmentEvent.id)).tuples().all()
    return dict(rows)


def organisation_name(organisation_id: int) -> str:
    org = db.session.get(Organisation, organisation_id)
    return org.name if org else ""

