"""Demo places: nominations in every state, a full cohort with a waiting list, requests,
past cohorts with their people. Works on whatever cohorts the catalogue demo made."""

from __future__ import annotations

import random

from sqlalchemy import func, select

from lms.accounts.models import Role, User, UserRole
from lms.extensions import db
from lms.offerings import places as offering_places
from lms.offerings import services as svc
from lms.offerings.models import (
    BookingMode,
    Enrolment,
    EnrolmentEvent,
    Offering,
    OfferingStatus,
)


def _people(rng: random.Random) -> dict[int, list[User]]:
    """Learners (no other role) by organisation."""
    staff = select(UserRole.user_id).where(UserRole.role != Role.LEARNER)
    learners = db.session.scalars(
        select(User).where(User.id.not_in(staff), User.email != "learner@example.nhs.uk")
        .order_by(User.id)
    ).all()
    by_org: dict[int, list[User]] = {}
    for person in learners:
        by_org.setdefault(person.organisation_id, []).append(person)
    for people in by_org.values():
        rng.shuffle(people)
    return by_org


def _has_people(offering: Offering) -> bool:
    return bool(db.session.scalar(
        select(func.count(Enrolment.id)).where(Enrolment.offering_id == offering.id)))


def _record(offering: Offering, person: User, state: str, actor: User | None = None) -> None:
    """Write a past enrolment straight into the database (the rules refuse past dates)."""
    enrolment = Enrolment(offering=offering, user=person, state=state)
    db.session.add(enrolment)
    db.session.add(EnrolmentEvent(enrolment=enrolment, from_state=None, to_state=state,
                                  actor_id=actor.id if actor else person.id,
                                  reason="Demo data"))


def seed(rng: random.Random | None = None) -> dict[str, int]:
    """Idempotent: offerings that already have people are left alone."""
    rng = rng or random.Random(2027)
    offerings = db.session.scalars(select(Offering).order_by(Offering.id)).all()
    by_org = _people(rng)
    learner = db.session.scalar(select(User).where(User.email == "learner@example.nhs.uk"))
    faculty = db.session.scalar(select(User).where(User.email == "faculty@example.nhs.uk"))
    leads = {lead.organisation_id: lead for lead in db.session.scalars(
        select(User).where(User.role_rows.any(UserRole.role == Role.DSU_LEAD))
        .order_by(User.email.desc()))}
    everyone = [p for people in by_org.values() for p in people]
    made = 0
    full_done = False
    for offering in offerings:
        if _has_people(offering):
            continue
        if offering.status in (OfferingStatus.FINISHED, OfferingStatus.RUNNING):
            size = min(offering.capacity or 20, 20)
            chosen = rng.sample(everyone, k=min(size, len(everyone)))
            if learner and learner not in chosen and (
                    offering.status == OfferingStatus.FINISHED
                    or offering.booking_mode == BookingMode.OPEN):
                # The learner finished courses, and has an open course under way.
                chosen[0] = learner
            for person in chosen:
                _record(offering, person, "enrolled", faculty)
                made += 1
            continue
        if offering.status != OfferingStatus.OPEN:
            continue
        if offering.booking_mode == BookingMode.NOMINATION:
            made += _nominations(offering, by_org, leads, faculty, learner)
        elif offering.booking_mode == BookingMode.APPROVAL:
            for person in rng.sample(everyone, k=4):
                svc.book(person, offering)
                made += 1
        elif not full_done and offering.capacity:
            # One full cohort with a queue: everyone books, the learner is waiting.
            pool = iter(rng.sample(everyone, k=offering.capacity + 6))
            while (offering_places.places_left(offering) or 0) > 0:
                svc.book(next(pool), offering)
                made += 1
            if learner:
                # First in the queue; then someone gives up their place, so the learner has
                # an offer to answer before its deadline.
                svc.book(learner, offering)
                leaving = db.session.scalar(
                    select(Enrolment).where(Enrolment.offering_id == offering.id,
                                            Enrolment.state == "enrolled")
                    .order_by(Enrolment.id.desc()))
                svc.withdraw(leaving.user, leaving, "Demo: can no longer attend")
            for _ in range(5):
                svc.book(next(pool), offering)
                made += 1
            full_done = True
        else:
            for person in rng.sample(everyone, k=min(5, (offering.capacity or 8) // 2)):
                svc.book(person, offering)
                made += 1
            if learner and made % 2 == 0:
                svc.book(learner, offering)
    db.session.flush()
    return {"places": made}


def _nominations(offering: Offering, by_org, leads, faculty, learner) -> int:
    """Nominations from several ICSs, in every state."""
    made = 0
    states = ["enrolled", "approved", "nominated", "declined", "rejected", "withdrawn"]
    for index, quota in enumerate(offering.quotas):
        lead = leads.get(quota.organisation_id)
        people = by_org.get(quota.organisation_id, [])
        if lead is None or not people:
            continue
        count = min(quota.places, 2)
        if learner is not None and quota.organisation_id == learner.organisation_id:
            # Only the learner: their DSU lead still has a place to nominate someone to.
            people, count = [learner], 1
        for n in range(count):
            person = people[n]
            enrolment = svc.nominate(lead, offering, person)
            target = "approved" if person is learner else states[(index + n) % len(states)]
            if target in ("approved", "enrolled"):
                svc.approve(faculty, enrolment)
            if target == "enrolled":
                svc.confirm_nomination(person, enrolment)
            elif target == "declined":
                svc.decline(person, enrolment)
            elif target == "rejected":
                svc.reject(faculty, enrolment, "Please nominate someone leading a team")
            elif target == "withdrawn":
                svc.withdraw(lead, enrolment)
            made += 1
    return made
