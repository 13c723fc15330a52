"""Offers and quotas that time runs out: the scheduler's jobs on places.

An offer of a place not accepted by its deadline lapses and the place goes to the next person
waiting; after an offering's quota release date its unused ICS places go to everyone. Each
works on one offering under the engine's lock (``services.lock_offering``), flushes, and is
committed per offering by ``lms.jobs``.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from lms.extensions import db
from lms.offerings import services, waitlist
from lms.offerings.models import Enrolment, EnrolmentState, Offering

S = EnrolmentState


def offerings_with_lapsed_offers(now: datetime) -> list[int]:
    """The offerings with an offer past its deadline, of a place or of a place at one of its
    sessions (for the job)."""
    return sorted(set(db.session.scalars(
        select(Enrolment.offering_id).where(Enrolment.state == S.OFFERED,
                                            Enrolment.offer_expires_at <= now).distinct()
    )) | set(waitlist.offerings_with_lapsed_session_offers(now)))


def lapse_offers(offering_id: int, now: datetime) -> int:
    """On one offering, under its lock, offers past their deadline lapse (places on the
    offering, and places at sessions booked one by one) and the places go to the next people
    waiting. Idempotent: only offers still open are lapsed. Flushes; the job commits each
    offering."""
    offering = services.lock_offering(offering_id)
    due = db.session.scalars(
        select(Enrolment).where(Enrolment.offering_id == offering_id,
                                Enrolment.state == S.OFFERED,
                                Enrolment.offer_expires_at <= now)
    ).all()
    for enrolment in due:
        services.transition(enrolment, S.LAPSED, None, reason="Offer not accepted in time")
        db.session.flush()
        services.email_person(enrolment, "lapsed",
                              f"Your offer of a place has lapsed: {offering.title}")
    lapsed = len(due) + waitlist.lapse_session_offers(offering_id, now)
    services.promote_waitlist(offering)
    return lapsed


def offerings_due_quota_release(now: datetime) -> list[int]:
    """The offerings past their quota release date whose places have not been released."""
    return list(db.session.scalars(
        select(Offering.id).where(Offering.quotas_released.is_(False),
                                  Offering.quota_release_at.is_not(None),
                                  Offering.quota_release_at <= now)
    ))


def release_quotas(offering_id: int) -> bool:
    """After an offering's release date, its unused ICS quota places go to the open pool
    and the waiting list. Idempotent through ``quotas_released``: ``False`` if already done.
    Flushes; the job commits each offering."""
    offering = services.lock_offering(offering_id)
    if offering.quotas_released:
        return False
    offering.quotas_released = True
    db.session.flush()
    services.promote_waitlist(offering)
    return True
