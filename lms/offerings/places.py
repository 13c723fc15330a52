"""Counting places: held, reserved for ICS quotas, free, waiting. Read by the enrolment
engine (under the offering's lock, so the counts are true) and by the policy that decides who
may book or nominate."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import lazyload

from lms.accounts.models import User
from lms.clock import utcnow
from lms.extensions import db
from lms.offerings import waitlist
from lms.offerings.models import (
    HOLDS_PLACE,
    BookingMode,
    Enrolment,
    Offering,
    OfferingQuota,
)


def _holding_count(offering_id: int, organisation_id: int | None = None) -> int:
    stmt = select(func.count(Enrolment.id)).where(
        Enrolment.offering_id == offering_id, Enrolment.state.in_(HOLDS_PLACE)
    )
    if organisation_id is not None:
        stmt = stmt.where(Enrolment.quota_organisation_id == organisation_id)
    return db.session.scalar(stmt) or 0


def count_holding(offering: Offering) -> int:
    """How many places are held (booked, offered, nominated, approved, completed)."""
    return _holding_count(offering.id)


def quotas_in_force(offering: Offering, now: datetime | None = None) -> bool:
    """ICS quotas reserve places until the release date."""
    if not offering.quotas or offering.quotas_released:
        return False
    now = now or utcnow()
    return offering.quota_release_at is None or now < offering.quota_release_at


def quota_for(offering: Offering, organisation_id: int) -> OfferingQuota | None:
    return next((q for q in offering.quotas if q.organisation_id == organisation_id), None)


# Places held on one offering by each ICS's nominees (organisation id; None for places
# counted against no quota), as ``holding_by_ics`` gives them: pages listing several
# offerings count them all in one query and pass each offering's to the checks below.
Held = dict[int | None, int]


def holding_by_ics(offering_ids: list[int]) -> dict[int, Held]:
    """Places held per offering and quota ICS (offering id → ``Held``), in one query."""
    if not offering_ids:
        return {}
    found: dict[int, Held] = {offering_id: {} for offering_id in offering_ids}
    for offering_id, organisation_id, n in db.session.execute(
        select(Enrolment.offering_id, Enrolment.quota_organisation_id, func.count(Enrolment.id))
        .where(Enrolment.offering_id.in_(offering_ids), Enrolment.state.in_(HOLDS_PLACE))
        .group_by(Enrolment.offering_id, Enrolment.quota_organisation_id)
    ).tuples():
        found[offering_id][organisation_id] = n
    return found


def quota_used(offering: Offering, organisation_id: int, held: Held | None = None) -> int:
    """Places held by nominees of this ICS (from ``held`` when given)."""
    if held is not None:
        return held.get(organisation_id, 0)
    return _holding_count(offering.id, organisation_id)


def quota_use(offering_id: int) -> dict[int, int]:
    """Places held by each ICS's nominees on the offering (organisation id → places), in one
    query: what quotas are measured against, on every page and in every check."""
    return dict(db.session.execute(
        select(Enrolment.quota_organisation_id, func.count(Enrolment.id))
        .where(Enrolment.offering_id == offering_id, Enrolment.state.in_(HOLDS_PLACE),
               Enrolment.quota_organisation_id.is_not(None))
        .group_by(Enrolment.quota_organisation_id)
    ).tuples().all())


def _reserved_unused(offering: Offering, held: Held | None = None) -> int:
    """Quota places not yet used, still held back for their ICSs."""
    if not quotas_in_force(offering):
        return 0
    used = quota_use(offering.id) if held is None else held
    return sum(max(0, q.places - used.get(q.organisation_id, 0)) for q in offering.quotas)


def free_open_places(offering: Offering, held: Held | None = None) -> int | None:
    """Places anyone may take now (not reserved for an ICS); None when unlimited. ``held``:
    the offering's from ``holding_by_ics``, counted already."""
    if offering.capacity is None:
        return None
    holding = count_holding(offering) if held is None else sum(held.values())
    return max(0, offering.capacity - holding - _reserved_unused(offering, held))


def places_left_for(offering_ids: list[int]) -> dict[int, int | None]:
    """Places left per offering, in one query, as the catalogue shows them: the open pool for
    open and approval booking; every free place for nomination. None means unlimited."""
    if not offering_ids:
        return {}
    holding = (
        select(Enrolment.offering_id.label("offering_id"), func.count(Enrolment.id).label("n"))
        .where(Enrolment.state.in_(HOLDS_PLACE), Enrolment.offering_id.in_(offering_ids))
        .group_by(Enrolment.offering_id)
        .subquery()
    )
    used = (
        select(Enrolment.offering_id.label("offering_id"),
               Enrolment.quota_organisation_id.label("organisation_id"),
               func.count(Enrolment.id).label("n"))
        .where(Enrolment.state.in_(HOLDS_PLACE), Enrolment.offering_id.in_(offering_ids),
               Enrolment.quota_organisation_id.is_not(None))
        .group_by(Enrolment.offering_id, Enrolment.quota_organisation_id)
        .subquery()
    )
    unused = OfferingQuota.places - func.coalesce(used.c.n, 0)
    reserved = (
        select(OfferingQuota.offering_id.label("offering_id"),
               func.sum(case((unused > 0, unused), else_=0)).label("n"))
        .outerjoin(used, and_(used.c.offering_id == OfferingQuota.offering_id,
                              used.c.organisation_id == OfferingQuota.organisation_id))
        .where(OfferingQuota.offering_id.in_(offering_ids))
        .group_by(OfferingQuota.offering_id)
        .subquery()
    )
    rows = db.session.execute(
        select(Offering.id, Offering.capacity, Offering.booking_mode, Offering.quotas_released,
               Offering.quota_release_at, func.coalesce(holding.c.n, 0),
               func.coalesce(reserved.c.n, 0))
        .outerjoin(holding, holding.c.offering_id == Offering.id)
        .outerjoin(reserved, reserved.c.offering_id == Offering.id)
        .where(Offering.id.in_(offering_ids))
    ).all()
    now = utcnow()
    result: dict[int, int | None] = {}
    for oid, capacity, mode, released, release_at, held, held_back in rows:
        if capacity is None:
            result[oid] = None
            continue
        in_force = not released and (release_at is None or now < release_at)
        held_back = held_back if in_force and mode != BookingMode.NOMINATION else 0
        result[oid] = max(0, capacity - held - int(held_back))
    return result


def places_left(offering: Offering) -> int | None:
    return places_left_for([offering.id]).get(offering.id)


def waitlist_length(offering_id: int) -> int:
    """How many people wait for a place on the offering."""
    return waitlist.queue_length(Enrolment, Enrolment.offering_id, offering_id)


def existing(offering: Offering, user: User) -> Enrolment | None:
    """The person's enrolment on the offering, in any state, or None."""
    # Both are already in the session: loading them again through the enrolment's eager
    # joins would run the offering's (and the person's) collection loads a second time.
    return db.session.scalar(
        select(Enrolment).where(Enrolment.offering_id == offering.id,
                                Enrolment.user_id == user.id)
        .options(lazyload(Enrolment.offering), lazyload(Enrolment.user))
    )
