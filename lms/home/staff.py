"""The home's sections for faculty, DSU leads and admins.

Links to registers, check-in screens and imports are shown only where
``lms.attendance.policy`` allows them now, and otherwise the page says why; the DSU lead's
"Nominate" is ``policy.may_nominate``. Each section runs a fixed number of queries (a few
per offering needing attention, and there are few).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from flask import render_template
from markupsafe import Markup
from sqlalchemy import case, func, select
from sqlalchemy.orm import contains_eager, defaultload, lazyload

from lms.accounts.models import User
from lms.attendance import policy as attendance_policy
from lms.cache import OFFER, PEOPLE, cached, person, prefetch
from lms.cache.kept import SLOT_FORM, earliest_after, with_csrf
from lms.clock import to_london, utcnow
from lms.errors import Decision
from lms.extensions import db
from lms.home.attention import ATTENTION, Attention, attention, attention_html, led_ids, render
from lms.offerings import policy
from lms.offerings.models import (
    HOLDS_PLACE,
    Enrolment,
    EnrolmentState,
    Offering,
    OfferingStatus,
    Session,
    SessionStatus,
)
from lms.offerings.schedule import local_day_start

S = EnrolmentState
# The DSU lead's comparison with the region looks back this far.
COMPARISON_PERIOD = timedelta(days=365)
# The scheduler sends the outbox every minute: an email waiting longer than this means it
# is not running (or cannot reach the mail server).
SCHEDULER_LATE = timedelta(minutes=15)


# ---------------------------------------------------------------------------- faculty


@dataclass(frozen=True)
class SessionTools:
    """One of faculty's sessions today or this week, with the register, check-in screen and
    import each either allowed or refused with the policy's reason."""

    session: Session
    today: bool
    register: Decision
    check_in: Decision
    import_report: Decision


@dataclass
class FacultyHome:
    sessions: list[SessionTools] = field(default_factory=list)
    attention: list[Attention] = field(default_factory=list)
    leads_any: bool = False
    sessions_html: Markup = Markup("")  # the sessions with their tools, as shown (kept)
    attention_html: Markup = Markup("")  # the offerings needing attention, as shown (kept)


def _led_ids(user: User) -> list[int]:
    return led_ids(user.id)


def faculty_home(user: User, now: datetime | None = None) -> FacultyHome:
    """Faculty's sessions today and in the next seven days (of the offerings they lead, or
    every offering when they lead none), and their offerings needing attention.

    Both sections are kept as shown (``lms.cache``): the sessions are built from sessions,
    offerings and leads, all watched (the listings' version and the person's, which their
    leading an offering renews), and kept until a tool opens or closes, midnight or a session
    comes into the seven days; the offerings needing attention as ``lms.home.attention``
    says. A repeat request reads the versions and nothing else. ``now`` other than the
    present builds them afresh."""
    if now is None:
        key = (user.id, tuple(sorted(user.roles)))
        prefetch(person(user.id), OFFER, ATTENTION)
        sessions_html = Markup(cached(  # noqa: S704 - a kept fragment of this page
            "home_faculty_sessions", key, depends_on=person(user.id) + OFFER, size=512,
            build=lambda: _render_sessions(user, utcnow())))
        return FacultyHome(sessions_html=sessions_html, attention_html=attention_html(user))
    led = _led_ids(user)
    home = FacultyHome(leads_any=bool(led))
    home.sessions, _ = faculty_sessions(user, led, now)
    home.sessions_html = _render(home.sessions, bool(led))
    home.attention = [a for a in attention(led, now) if a.needs_attention]
    home.attention_html = Markup(render(home.attention))  # noqa: S704 - our template
    return home


def _render(sessions: list[SessionTools], leads_any: bool) -> Markup:
    return Markup(render_template("home/_faculty_sessions.html",  # noqa: S704 - our template
                                  sessions=sessions, leads_any=leads_any))


def _render_sessions(user: User, now: datetime) -> tuple[str, datetime | None]:
    """The sessions as shown, and until when (``cached``'s build)."""
    led = _led_ids(user)  # read after the versions, like everything kept under them
    sessions, until = faculty_sessions(user, led, now)
    return str(_render(sessions, bool(led))), until


def faculty_sessions(user: User, led: list[int], now: datetime
                     ) -> tuple[list[SessionTools], datetime | None]:
    """The sessions today and in the next seven days (of the offerings ``led``, or every
    offering's), each with its tools, and the next moment the list would change by itself:
    a session starting or ending (a tool opens or closes), midnight in London ("today"), or
    the next session coming into the seven days."""
    today_starts = local_day_start(to_london(now).date())
    tomorrow = local_day_start((to_london(now) + timedelta(days=1)).date())
    week_ends = now + timedelta(days=7)
    shown = [Session.status != SessionStatus.CANCELLED,
             Offering.status.not_in([OfferingStatus.DRAFT, OfferingStatus.CANCELLED])]
    if led:
        shown.append(Session.offering_id.in_(led))
    # Each shows its offering's title and link: not the offering's own collections.
    stmt = (select(Session).join(Session.offering)
            .options(contains_eager(Session.offering).lazyload(Offering.sessions),
                     contains_eager(Session.offering).lazyload(Offering.quotas),
                     contains_eager(Session.offering).lazyload(Offering.lead_rows))
            .where(Session.ends_at > today_starts, Session.starts_at < week_ends, *shown)
            .order_by(Session.starts_at, Session.id))
    sessions = [SessionTools(session, session.starts_at < tomorrow,
                             *attendance_policy.session_tools(user, session, now))
                for session in db.session.scalars(stmt.limit(20))]
    next_in = db.session.scalar(select(func.min(Session.starts_at)).join(Session.offering)
                                .where(Session.starts_at >= week_ends, *shown))
    moments = [tomorrow, *(m for t in sessions for m in (t.session.starts_at,
                                                         t.session.ends_at))]
    if next_in is not None:
        moments.append(next_in - timedelta(days=7))
    return sessions, earliest_after(moments, now)


# ---------------------------------------------------------------------------- DSU lead


@dataclass(frozen=True)
class Window:
    """An open nomination window: the ICS's places left (None: no quota, the open pool),
    the deadline, and whether the lead may nominate now (and why not)."""

    offering: Offering
    quota: int | None
    used: int
    remaining: int | None
    closes_at: datetime | None
    may_nominate: Decision


@dataclass(frozen=True)
class Comparison:
    """Completion of places held over the period: the ICS's against the region's."""

    ics_places: int
    ics_completed: int
    region_places: int
    region_completed: int

    @staticmethod
    def _percent(part: int, whole: int) -> int | None:
        return round(100 * part / whole) if whole else None

    @property
    def ics_percent(self) -> int | None:
        return self._percent(self.ics_completed, self.ics_places)

    @property
    def region_percent(self) -> int | None:
        return self._percent(self.region_completed, self.region_places)


@dataclass
class LeadHome:
    windows: list[Window] = field(default_factory=list)
    moves: list = field(default_factory=list)  # organisation changes to decide
    to_confirm: list[Enrolment] = field(default_factory=list)  # approved, not yet confirmed
    comparison: Comparison | None = None
    body: Markup = Markup("")  # the windows and the people waiting, as shown (kept)


def lead_home(lead: User, now: datetime | None = None) -> LeadHome:
    """A DSU lead's open nomination windows with their ICS's places, the people of their
    ICS waiting for a decision, and their ICS against the region.

    The windows and the people waiting are kept as shown (``lms.cache``) per lead, ICS and
    roles (``kept_nominations.lead_key``): they are built from offerings, their sessions, quotas
    and places (the listings' version) and from people and their moves between
    organisations (``PEOPLE``), and kept until a window opens or closes by itself. Their
    forms' CSRF token is filled in per request. ``now`` other than the present builds them
    afresh."""
    from lms.offerings.kept_nominations import lead_key

    at_now = now is None
    now = now or utcnow()
    home = LeadHome()
    if not lead.organisation.is_ics:
        return home
    if at_now:
        prefetch(OFFER, PEOPLE, person(lead.id))  # this page's versions, in one statement
        home.body = with_csrf(cached("home_lead", lead_key(lead), depends_on=OFFER + PEOPLE,
                                     size=256, build=lambda: _render_lead(lead, utcnow())))
    else:
        home.body = with_csrf(_render_lead(lead, now, home)[0])
    home.comparison = _comparison(lead.organisation_id, now, kept=at_now)
    return home


def _render_lead(lead: User, now: datetime, home: LeadHome | None = None
                 ) -> tuple[str, datetime | None]:
    """The windows and the people waiting as shown, and until when (``cached``'s build)."""
    from lms.offerings.kept_nominations import window_moments

    home = home or LeadHome()
    considered = _lead_sections(lead, now, home)
    body = render_template("home/_lead_body.html", lead=home, form=SLOT_FORM,
                           organisation=lead.organisation)
    return body, earliest_after(window_moments(considered), now)


def _lead_sections(lead: User, now: datetime, home: LeadHome) -> list[Offering]:
    """Fill ``home``'s windows, moves and places to confirm; the offerings considered for
    windows (whose times decide when the windows change)."""
    from lms.accounts.organisation_changes import waiting_for
    from lms.offerings.places import holding_by_ics, quotas_in_force

    # Their sessions (start and end) and quotas decide the window; their leads are not shown.
    offerings = db.session.scalars(
        select(Offering).options(lazyload(Offering.lead_rows))
        .where(*policy.visible_filter(lead),
                               Offering.booking_mode == "nomination",
                               Offering.status == OfferingStatus.OPEN)
        .order_by(Offering.nomination_closes_at, Offering.id)).all()
    held_on = holding_by_ics([o.id for o in offerings])  # one query for every window
    for offering in offerings:
        if policy.nominations_closed(offering, now) is not None:
            continue
        quota = next((q.places for q in offering.quotas
                      if q.organisation_id == lead.organisation_id), None)
        in_force = quotas_in_force(offering, now) and quota is not None
        held = held_on[offering.id]
        used = held.get(lead.organisation_id, 0)
        home.windows.append(Window(
            offering, quota if in_force else None, used,
            max(0, quota - used) if in_force and quota is not None else None,
            offering.nomination_closes_at,
            policy.may_nominate(lead, offering, now=now, held=held)))
    home.moves = waiting_for(lead)
    # Each shows its person's name and its offering's title and link: the offering's own
    # collections (sessions, quotas, leads) are not needed, so not loaded.
    home.to_confirm = list(db.session.scalars(
        select(Enrolment).options(defaultload(Enrolment.offering).lazyload("*"),
                                  defaultload(Enrolment.user).lazyload("*"))
        .where(Enrolment.quota_organisation_id == lead.organisation_id,
                                Enrolment.state == S.APPROVED)
        .order_by(Enrolment.updated_at)))
    return list(offerings)


# Places held in the period and completed, per organisation of the people holding them.
ByOrganisation = dict[int | None, tuple[int, int]]


def _comparison(organisation_id: int, now: datetime, kept: bool = True) -> Comparison:
    """Places held in the period and how many were completed: the ICS's and the region's.

    Counting them reads every place taken in the region in a year, so the figures of every
    organisation are counted together and kept (``lms.cache``) under the listings' version,
    which every change to a place renews, as does a person moving organisation (the
    offerings feature watches ``user_account.organisation_id``); kept until the oldest place
    counted leaves the period. Every DSU lead's home reads the same kept figures. ``kept``:
    False counts afresh (a ``now`` other than the present)."""
    if kept:
        by_organisation = cached("home_completion_by_organisation", "region",
                                 depends_on=OFFER,
                                 build=lambda: _completion_by_organisation(now))
    else:
        by_organisation = _completion_by_organisation(now)[0]
    ics, ics_done = by_organisation.get(organisation_id, (0, 0))
    return Comparison(ics, ics_done, sum(n for n, _ in by_organisation.values()),
                      sum(done for _, done in by_organisation.values()))


def _completion_by_organisation(now: datetime) -> tuple[ByOrganisation, datetime | None]:
    """(places held in the period and completed, per organisation; when the oldest of them
    leaves the period), in one query."""
    since = now - COMPARISON_PERIOD
    done = case((Enrolment.state == S.COMPLETED, 1), else_=0)
    found: ByOrganisation = {}
    oldest: datetime | None = None
    for organisation_id, places, completed, first in db.session.execute(
        select(User.organisation_id, func.count(Enrolment.id), func.sum(done),
               func.min(Enrolment.created_at))
        .join(User, User.id == Enrolment.user_id)
        .where(Enrolment.state.in_(HOLDS_PLACE), Enrolment.created_at > since)
        .group_by(User.organisation_id)).tuples():
        found[organisation_id] = (int(places), int(completed or 0))
        if first is not None:
            first = first if first.tzinfo else first.replace(tzinfo=UTC)
            oldest = first if oldest is None else min(oldest, first)
    return found, (oldest + COMPARISON_PERIOD if oldest is not None else None)


# ---------------------------------------------------------------------------- admin


@dataclass
class AdminHome:
    moves: list = field(default_factory=list)
    audit: list = field(default_factory=list)
    failed_count: int = 0
    failed: list = field(default_factory=list)
    waiting_count: int = 0
    oldest_waiting: datetime | None = None
    scheduler_late: bool = False


def admin_home(admin: User, now: datetime | None = None) -> AdminHome:
    """Organisation changes waiting for a decision, the latest audit entries, emails that
    failed for good, and whether the scheduler is sending the outbox."""
    from lms.accounts.organisation_changes import waiting_for
    from lms.audit.services import AuditFilters, find_entries
    from lms.notifications.models import OutboxMessage, OutboxStatus

    now = now or utcnow()
    home = AdminHome(moves=waiting_for(admin))
    home.audit, _ = find_entries(AuditFilters(), per_page=5)
    home.failed_count = db.session.scalar(select(func.count(OutboxMessage.id)).where(
        OutboxMessage.status == OutboxStatus.FAILED)) or 0
    home.failed = list(db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.status == OutboxStatus.FAILED)
        .order_by(OutboxMessage.created_at.desc()).limit(5)))
    home.waiting_count, home.oldest_waiting = db.session.execute(
        select(func.count(OutboxMessage.id), func.min(OutboxMessage.next_attempt_at))
        .where(OutboxMessage.status.in_([OutboxStatus.PENDING, OutboxStatus.SENDING]),
               OutboxMessage.next_attempt_at <= now)).one()
    home.scheduler_late = (home.oldest_waiting is not None
                           and now - home.oldest_waiting > SCHEDULER_LATE)
    return home
