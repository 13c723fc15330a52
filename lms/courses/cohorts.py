"""The rules for cohorts: their settings (places, how people get a place, nomination windows,
ICS quotas, leads) checked all at once, their status, copying one to new dates, and
cancelling one. Services flush and never commit.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import func, select

from lms.accounts.models import Organisation, OrganisationKind, Role, User, UserRole
from lms.clock import to_london, utcnow
from lms.courses.models import Cohort, Course
from lms.courses.services import (
    BOOKING_MODE_LABELS,
    STATUS_LABELS,
    checked_choice,
    checked_text,
    cohort_title,
)
from lms.errors import DomainError, ErrorCollector, NotAllowed
from lms.extensions import begin_write, db
from lms.offerings import places as offering_places
from lms.offerings import policy
from lms.offerings import services as engine
from lms.offerings.models import (
    ACTIVE,
    BookingMode,
    Enrolment,
    OfferingLead,
    OfferingQuota,
    OfferingStatus,
    Session,
    SessionStatus,
)
from lms.offerings.schedule import (
    SessionDetails,
    check_session,
    local_day_and_time,
    local_day_start,
    local_to_utc,
)

MAX_CAPACITY = 10_000


MAX_OFFER_HOURS = 720


# Where a cohort's status may go next (cancelling is ``cancel_cohort``'s alone).
STATUS_CHANGES = {
    OfferingStatus.DRAFT: {OfferingStatus.OPEN},
    OfferingStatus.OPEN: {OfferingStatus.CLOSED, OfferingStatus.RUNNING},
    OfferingStatus.CLOSED: {OfferingStatus.OPEN, OfferingStatus.RUNNING},
    OfferingStatus.RUNNING: {OfferingStatus.FINISHED},
    OfferingStatus.FINISHED: set(),
    OfferingStatus.CANCELLED: set(),
}


@dataclass
class CohortSettings:
    """A cohort's settings as the form gives them. Dates are London dates: nominations open
    at the start of ``nomination_opens`` and close at the end of ``nomination_closes``;
    unused quota places are released at the start of ``quota_release``. ``quotas`` maps an
    ICS's organisation id to the places reserved for it (an ICS left out has no quota: its
    nominees take places from the open pool)."""

    name: str
    capacity: int | None
    booking_mode: str
    offer_hours: int | None = 48
    nomination_opens: date | None = None
    nomination_closes: date | None = None
    quota_release: date | None = None
    quotas: dict[int, int] = field(default_factory=dict)
    lead_ids: list[int] = field(default_factory=list)


def settings_of(cohort: Cohort) -> CohortSettings:
    """A cohort's current settings, to fill in its form."""
    def day(moment: datetime | None) -> date | None:
        return to_london(moment).date() if moment else None

    closes = cohort.nomination_closes_at
    return CohortSettings(
        name=cohort.name, capacity=cohort.capacity, booking_mode=cohort.booking_mode,
        offer_hours=cohort.offer_hours, nomination_opens=day(cohort.nomination_opens_at),
        # Stored as the midnight that ends the day.
        nomination_closes=day(closes - timedelta(minutes=1)) if closes else None,
        quota_release=day(cohort.quota_release_at),
        quotas={q.organisation_id: q.places for q in cohort.quotas},
        lead_ids=[row.user_id for row in cohort.lead_rows],
    )


def ics_organisations() -> list[Organisation]:
    """The 11 ICSs, by name: the organisations a quota can be for."""
    return list(db.session.scalars(
        select(Organisation).where(Organisation.kind == OrganisationKind.ICS)
        .order_by(Organisation.name)
    ))


def faculty_people() -> list[User]:
    """Everyone who can lead a cohort, by name."""
    return list(db.session.scalars(
        select(User).where(User.role_rows.any(UserRole.role == Role.FACULTY),
                           User.is_active_account.is_(True))
        .order_by(User.full_name, User.id)
    ))


def _name(name: str | None, course: Course, cohort: Cohort | None,
          field_name: str = "name") -> str:
    value = checked_text(name, "Enter a name for the cohort, like Spring 2027", field_name, 100,
                  "The name")
    stmt = select(Cohort.id).where(Cohort.course_id == course.id,
                                   func.lower(Cohort.name) == value.lower())
    if cohort is not None:
        stmt = stmt.where(Cohort.id != cohort.id)
    if db.session.scalar(stmt.limit(1)) is not None:
        raise DomainError("This course already has a cohort with this name", field_name)
    return value


def _capacity(capacity: int | None, booking_mode: str | None) -> int | None:
    if capacity is None:
        if booking_mode == BookingMode.NOMINATION:
            raise DomainError("Enter the number of places: nominations need a capacity",
                              "capacity")
        return None
    if capacity < 1 or capacity > MAX_CAPACITY:
        raise DomainError(f"The number of places must be between 1 and {MAX_CAPACITY:,}, "
                          "or left blank for no limit", "capacity")
    return capacity


def _offer_hours(hours: int | None) -> int:
    if hours is None:
        raise DomainError("Enter how many hours people have to accept an offered place",
                          "offer_hours")
    if hours < 1 or hours > MAX_OFFER_HOURS:
        raise DomainError(f"The time to accept an offer must be between 1 and "
                          f"{MAX_OFFER_HOURS} hours", "offer_hours")
    return hours


def _window(settings: CohortSettings, booking_mode: str | None) -> None:
    dates = (settings.nomination_opens, settings.nomination_closes, settings.quota_release)
    if booking_mode != BookingMode.NOMINATION:
        if any(dates):
            raise DomainError("Nomination dates apply only to nomination by DSU leads. Clear "
                              "them, or choose nomination.", "nomination_opens")
        return
    opens, closes, release = dates
    if opens and closes and closes < opens:
        raise DomainError("Nominations must close on or after the day they open",
                          "nomination_closes")
    if opens and release and release < opens:
        raise DomainError("Unused quota places cannot be released before nominations open",
                          "quota_release")


def _quotas(settings: CohortSettings, booking_mode: str | None, capacity: int | None,
            cohort: Cohort | None) -> dict[int, int]:
    quotas = dict(settings.quotas or {})
    if not quotas:
        return {}
    if booking_mode != BookingMode.NOMINATION:
        raise DomainError("ICS quotas apply only to nomination by DSU leads. Clear them, or "
                          "choose nomination.", "quotas")
    icss = {o.id: o for o in ics_organisations()}
    if any(org_id not in icss for org_id in quotas):
        raise DomainError("Quotas can only be for the 11 ICSs", "quotas")
    if any(places is None or places < 0 for places in quotas.values()):
        raise DomainError("Each ICS quota must be 0 or more places", "quotas")
    total = sum(quotas.values())
    if capacity is not None and total > capacity:
        raise DomainError(f"The ICS quotas add up to {total} places, more than the "
                          f"{capacity} places on the cohort", "quotas")
    if cohort is not None and cohort.id is not None:
        used = offering_places.quota_use(cohort.id)
        for org_id, places in quotas.items():
            if places < used.get(org_id, 0):
                raise DomainError(
                    f"{icss[org_id].name} already has {used[org_id]} places nominated, so "
                    f"its quota cannot be lower than {used[org_id]}", "quotas")
    return quotas


def _leads(lead_ids: list[int]) -> list[User]:
    ids = sorted(set(lead_ids or []))
    if not ids:
        return []
    leads = list(db.session.scalars(
        select(User).where(User.id.in_(ids), User.role_rows.any(UserRole.role == Role.FACULTY))
    ))
    if len(leads) != len(ids):
        raise DomainError("Cohort leads must be faculty members", "lead_ids")
    return leads


def _checked_settings(course: Course, settings: CohortSettings,
                      cohort: Cohort | None) -> tuple[ErrorCollector, dict]:
    errors = ErrorCollector()
    mode = errors.check(checked_choice, settings.booking_mode, BOOKING_MODE_LABELS,
                        "how people get a place", "booking_mode")
    values = {
        "name": errors.check(_name, settings.name, course, cohort),
        "booking_mode": mode,
        "capacity": errors.check(_capacity, settings.capacity, mode),
        "offer_hours": errors.check(_offer_hours, settings.offer_hours),
    }
    errors.check(_window, settings, mode)
    values["quotas"] = errors.check(_quotas, settings, mode, values["capacity"], cohort)
    values["leads"] = errors.check(_leads, settings.lead_ids)
    return errors, values


def _apply_settings(cohort: Cohort, course: Course, settings: CohortSettings,
                    values: dict) -> None:
    """Write checked settings onto a cohort (not its capacity when it already exists: the
    engine changes that under the cohort's lock)."""
    cohort.name = values["name"]
    cohort.title = cohort_title(course.title, values["name"])
    cohort.booking_mode = values["booking_mode"]
    cohort.offer_hours = values["offer_hours"]
    opens, closes = settings.nomination_opens, settings.nomination_closes
    cohort.nomination_opens_at = local_day_start(opens) if opens else None
    cohort.nomination_closes_at = (local_day_start(closes + timedelta(days=1))
                                   if closes else None)
    release = local_day_start(settings.quota_release) if settings.quota_release else None
    if release != cohort.quota_release_at:
        cohort.quota_release_at = release
        # A new release date in the future holds the places back again.
        cohort.quotas_released = bool(release and release <= utcnow()
                                      and cohort.quotas_released)
    wanted = values["quotas"]
    for row in list(cohort.quotas):
        if row.organisation_id not in wanted:
            cohort.quotas.remove(row)
    have = {row.organisation_id: row for row in cohort.quotas}
    for org_id, places in wanted.items():
        if org_id in have:
            have[org_id].places = places
        else:
            cohort.quotas.append(OfferingQuota(organisation_id=org_id, places=places))
    lead_ids = {user.id for user in values["leads"]}
    for row in list(cohort.lead_rows):
        if row.user_id not in lead_ids:
            cohort.lead_rows.remove(row)
    current = {row.user_id for row in cohort.lead_rows}
    for user in values["leads"]:
        if user.id not in current:
            cohort.lead_rows.append(OfferingLead(user=user))


def create_cohort(course: Course, settings: CohortSettings,
                  sessions: list[SessionDetails]) -> Cohort:
    """A new cohort of ``course``, in draft, with at least one session (London times, none in
    the past). Errors on the n-th session name fields ``session{n}_day``, ``…_start`` etc."""
    begin_write()
    errors, values = _checked_settings(course, settings, None)
    checked = []
    if not sessions:
        errors.errors.append(("session1_day", "Add at least one session"))
    for number, details in enumerate(sessions, start=1):
        checked.append(errors.check(check_session, details, prefix=f"session{number}_"))
    errors.raise_any()
    cohort = Cohort(course=course, status=OfferingStatus.DRAFT,
                    capacity=values["capacity"], quotas_released=False)
    _apply_settings(cohort, course, settings, values)
    for session in checked:
        cohort.sessions.append(Session(
            title=session.title, starts_at=session.starts_at, ends_at=session.ends_at,
            location=session.location, join_url=session.join_url, capacity=session.capacity,
            status=SessionStatus.SCHEDULED, sequence=0,
        ))
    db.session.add(cohort)
    db.session.flush()
    return cohort


def _status(cohort: Cohort, status: str | None) -> str:
    if status is None or status == cohort.status:
        return cohort.status
    if status == OfferingStatus.CANCELLED:
        raise DomainError("To cancel a cohort, use “Cancel this cohort”, which tells the "
                          "people booked", "status")
    if status not in STATUS_CHANGES.get(OfferingStatus(cohort.status), set()):
        allowed = STATUS_CHANGES.get(OfferingStatus(cohort.status), set())
        choices = " or ".join(f"“{STATUS_LABELS[s]}”" for s in sorted(allowed))
        raise DomainError(
            f"A cohort that is “{STATUS_LABELS[OfferingStatus(cohort.status)]}” can only "
            + (f"become {choices}" if allowed else "stay as it is"), "status")
    if status == OfferingStatus.OPEN and not cohort.live_sessions:
        raise DomainError("Add a session before opening the cohort for booking", "status")
    return status


def update_cohort(cohort: Cohort, settings: CohortSettings, status: str | None = None) -> None:
    """Change a cohort's settings and status. Capacity never goes below the places already
    held, the booking mode cannot change once people are in play, and a cancelled cohort
    cannot change. More places are offered to people waiting (by the engine)."""
    begin_write()
    if cohort.status == OfferingStatus.CANCELLED:
        raise DomainError("This cohort has been cancelled, so it cannot be changed")
    course = cohort.course
    errors, values = _checked_settings(course, settings, cohort)
    values["status"] = errors.check(_status, cohort, status)
    capacity = values["capacity"]
    if capacity is not None and capacity != cohort.capacity:
        held = engine.count_holding(cohort)
        if capacity < held:
            errors.errors.append((
                "capacity",
                f"{held} places are already taken, so the cohort needs at least {held} places",
            ))
    mode = values["booking_mode"]
    if mode and mode != cohort.booking_mode:
        in_play = db.session.scalar(
            select(func.count(Enrolment.id)).where(Enrolment.offering_id == cohort.id,
                                                   Enrolment.state.in_(ACTIVE))
        )
        if in_play:
            errors.errors.append((
                "booking_mode",
                "People have already booked, asked for or been nominated to places, so how "
                "people get a place cannot change now",
            ))
    errors.raise_any()
    _apply_settings(cohort, course, settings, values)
    cohort.status = values["status"]
    db.session.flush()
    if capacity != cohort.capacity:
        # Under the cohort's lock, the engine checks the places held again and offers any
        # new places to the waiting list.
        engine.change_capacity(cohort, capacity)


def duplicate_cohort(cohort: Cohort, new_name: str, first_day: date | None) -> Cohort:
    """A new draft cohort like ``cohort``: the same settings, quotas and leads, and its
    sessions moved so the first falls on ``first_day``, each at the same London wall-clock
    times (so a 10:00 session stays at 10:00 across a change of the clocks). Nomination and
    quota release dates move by the same number of days. Cancelled sessions are left out."""
    begin_write()
    course = cohort.course
    errors = ErrorCollector()
    name = errors.check(_name, new_name, course, None)
    live = cohort.live_sessions
    if first_day is None:
        errors.errors.append(("first_day", "Enter the date of the new cohort's first session"))
    if not live:
        errors.errors.append((None, "This cohort has no sessions to copy"))
    if first_day is None or not live:
        errors.raise_any()
    shift = first_day - local_day_and_time(live[0].starts_at)[0]

    def moved(moment: datetime | None) -> datetime | None:
        """The same London wall-clock time, ``shift`` days later."""
        if moment is None:
            return None
        day, at = local_day_and_time(moment)
        return errors.check(local_to_utc, day + shift, at, "first_day")

    sessions = [(s, moved(s.starts_at), moved(s.ends_at)) for s in live]
    if sessions[0][1] is not None and sessions[0][1] <= utcnow():
        errors.errors.append(("first_day", "The new cohort's first session must be in the "
                                           "future"))
    windows = [moved(moment) for moment in (cohort.nomination_opens_at,
                                            cohort.nomination_closes_at,
                                            cohort.quota_release_at)]
    errors.raise_any()

    copy = Cohort(
        course=course, name=name, title=cohort_title(course.title, name),
        status=OfferingStatus.DRAFT, booking_mode=cohort.booking_mode,
        capacity=cohort.capacity, offer_hours=cohort.offer_hours,
        nomination_opens_at=windows[0], nomination_closes_at=windows[1],
        quota_release_at=windows[2], quotas_released=False,
    )
    copy.quotas = [OfferingQuota(organisation_id=q.organisation_id, places=q.places)
                   for q in cohort.quotas]
    copy.lead_rows = [OfferingLead(user_id=row.user_id) for row in cohort.lead_rows]
    copy.sessions = [
        Session(title=s.title, starts_at=starts_at, ends_at=ends_at, location=s.location,
                join_url=s.join_url, capacity=s.capacity, status=SessionStatus.SCHEDULED,
                sequence=0)
        for s, starts_at, ends_at in sessions
    ]
    db.session.add(copy)
    db.session.flush()
    return copy


def cancel_cohort(cohort: Cohort, actor: User, reason: str) -> int:
    """Cancel a cohort: the engine cancels every active place, records why and tells each
    person. Returns how many people were told."""
    if not policy.can_manage(actor, cohort):
        raise NotAllowed("Only faculty can cancel a cohort")
    return engine.cancel_offering(cohort, actor, reason)
