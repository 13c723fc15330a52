"""The enrolment engine: one set of rules for places on every kind of offering.

Capacity, waiting lists with automatic offers, approvals, nominations and per-ICS quotas.
Every change that touches an offering's places first takes that offering's lock
(``lock_offering``: ``SELECT ... FOR UPDATE`` on PostgreSQL, ``BEGIN IMMEDIATE`` on SQLite),
so concurrent bookings are serialised per offering and counts read under the lock are true.
Services validate, raise domain errors, record history, queue emails and flush; views commit.
Who may do what is ``lms.offerings.policy``; counting places is ``lms.offerings.places``; what
the pages show is ``lms.offerings.pages``; the jobs that lapse offers and release quotas are
``lms.offerings.lapses``.
"""

from __future__ import annotations

from sqlalchemy import inspect, select, update
from sqlalchemy.orm import lazyload, selectinload

from lms.accounts.models import User
from lms.clock import utcnow
from lms.errors import DomainError, NotAllowed, NotFound
from lms.extensions import begin_write, db
from lms.listeners import notify
from lms.notifications.services import link, queue_email
from lms.offerings import places, policy, waitlist
from lms.offerings.booking_steps import check_booking
from lms.offerings.models import (
    ACTIVE,
    BookingMode,
    Enrolment,
    EnrolmentEvent,
    EnrolmentState,
    Offering,
    OfferingStatus,
)
from lms.offerings.places import (
    count_holding,
    free_open_places,
    quotas_in_force,
    waitlist_length,
)
from lms.offerings.transitions import PlaceChanged

S = EnrolmentState
REASON_LIMIT = 1000


# ---------------------------------------------------------------------------- loading


def leads_loaded(via=None):
    """The loader option to load offerings (directly, or ``via`` a loader option that
    reaches them) with their leads, in one more query (each lead's account comes joined, by
    an inner join: ``OfferingLead.user`` is required)."""
    return (via.selectinload(Offering.lead_rows) if via is not None
            else selectinload(Offering.lead_rows))


# ---------------------------------------------------------------------------- locking


def lock_offering(offering_id: int) -> Offering:
    """Take the offering's lock for the rest of the transaction and return it fresh."""
    begin_write()
    locked = db.session.scalar(
        select(Offering.id).where(Offering.id == offering_id).with_for_update()
    )
    if locked is None:
        raise NotFound("No such course, cohort or event")
    return db.session.get(Offering, offering_id, populate_existing=True,
                          options=[leads_loaded()])


def _locked(enrolment: Enrolment) -> tuple[Offering, Enrolment]:
    """Lock an enrolment's offering and reload the enrolment under that lock."""
    offering = lock_offering(enrolment.offering_id)
    fresh = db.session.get(Enrolment, enrolment.id, populate_existing=True)
    return offering, fresh


# ---------------------------------------------------------------------------- history, email


def transition(enrolment: Enrolment, to: EnrolmentState, actor: User | None,
               reason: str = "") -> None:
    """Change state and write the history row, and tell the listeners. Position and
    deadline follow the state. The caller holds the offering's lock."""
    before = enrolment.state
    enrolment.state = to
    if to != S.WAITLISTED:
        enrolment.waitlist_position = None
    if to != S.OFFERED:
        enrolment.offer_expires_at = None
    db.session.add(EnrolmentEvent(
        enrolment=enrolment, from_state=before, to_state=to,
        waitlist_position=enrolment.waitlist_position,
        actor_id=actor.id if actor else None, reason=reason or "",
    ))
    _place_changed(enrolment, before, to, actor, reason)


def sessions_of_place(offering: Offering) -> tuple[int, ...]:
    """The sessions a place on ``offering`` puts on a person's calendar: every live session
    not yet over (none where sessions are booked one by one: each booking says its own)."""
    from lms.offerings.calendar import books_sessions

    if books_sessions(offering):
        return ()
    now = utcnow()
    return tuple(s.id for s in offering.live_sessions if s.ends_at > now)


def _place_changed(enrolment: Enrolment, before: str | None, to: str, actor: User | None,
                   reason: str = "") -> None:
    """Every change of an enrolment's state is told, once, to the app's listeners."""
    db.session.flush()
    notify(PlaceChanged(
        person_id=enrolment.user_id, offering_id=enrolment.offering_id,
        session_ids=sessions_of_place(enrolment.offering), from_state=before,
        to_state=str(to), actor_id=actor.id if actor else None, reason=reason or "",
    ))


def _booked_subject(offering: Offering) -> str:
    """A network is joined and a festival registered for; anything else has a place."""
    what = {"network": "You have joined", "festival": "You are registered for"}
    return f"{what.get(offering.kind, 'Your place is booked')}: {offering.title}"


def email_person(enrolment: Enrolment, template: str, subject: str, to: User | None = None,
                 **context) -> None:
    """Queue the email ``offerings/<template>`` about an enrolment, to its learner (or
    ``to``); a confirmed place carries its calendar invitations."""
    person = to or enrolment.user
    attachments = []
    if template == "enrolled" and person.id == enrolment.user_id:
        # The place is confirmed: invitations for the learner's calendar, with joining links.
        from lms.offerings.calendar import invitations_for_place

        attachments = invitations_for_place(enrolment.offering, person)
    queue_email(
        person.email, subject, f"offerings/{template}", attachments=attachments,
        person=person, learner=enrolment.user, enrolment=enrolment,
        offering=enrolment.offering,
        my_learning_url=link("offerings.my_learning"),
        **context,
    )


# ---------------------------------------------------------------------------- the waiting list


def _close_gap(offering_id: int, position: int) -> None:
    """Move everyone behind ``position`` up one place."""
    waitlist.close_gap(Enrolment, Enrolment.offering_id, offering_id, position)


def _join_waitlist(enrolment: Enrolment, actor: User | None) -> None:
    enrolment.waitlist_position = waitlist_length(enrolment.offering_id) + 1
    transition(enrolment, S.WAITLISTED, actor)
    db.session.flush()
    email_person(enrolment, "waitlisted",
           f"You are on the waiting list: {enrolment.offering.title}")


def promote_waitlist(offering: Offering, actor: User | None = None) -> list[Enrolment]:
    """Offer each free open place to the first person waiting, with a deadline. The caller
    holds the offering's lock."""
    offered: list[Enrolment] = []
    if offering.status not in (OfferingStatus.OPEN, OfferingStatus.RUNNING):
        return offered
    while True:
        free = free_open_places(offering)
        if free is not None and free <= 0:
            break
        first = waitlist.first_waiting(Enrolment, Enrolment.offering_id, offering.id)
        if first is None:
            break
        position = first.waitlist_position
        first.offer_expires_at = waitlist.offer_deadline(offering)
        transition(first, S.OFFERED, actor, reason="A place became free")
        db.session.flush()
        _close_gap(offering.id, position)
        email_person(first, "offered", f"A place is available for you: {offering.title}",
               deadline=first.offer_expires_at)
        offered.append(first)
    return offered


def move_in_waitlist(actor: User, enrolment: Enrolment, new_position: int, reason: str) -> None:
    """Faculty move someone up or down the queue, saying why."""
    if not policy.can_manage(actor, enrolment.offering):
        raise NotAllowed("Only faculty can reorder the waiting list")
    reason = " ".join((reason or "").split())
    if not reason:
        raise DomainError("Give a reason for moving this person", "reason")
    offering, enrolment = _locked(enrolment)
    if enrolment.state != S.WAITLISTED:
        raise DomainError("This person is not on the waiting list")
    length = waitlist_length(offering.id)
    if not 1 <= new_position <= length:
        raise DomainError(f"Choose a position from 1 to {length}", "position")
    old = enrolment.waitlist_position
    if new_position == old:
        return
    if new_position < old:
        shift, lo, hi = 1, new_position, old - 1
    else:
        shift, lo, hi = -1, old + 1, new_position
    db.session.execute(
        update(Enrolment)
        .where(Enrolment.offering_id == offering.id, Enrolment.state == S.WAITLISTED,
               Enrolment.waitlist_position.between(lo, hi))
        .values(waitlist_position=Enrolment.waitlist_position + shift)
        .execution_options(synchronize_session="fetch")
    )
    enrolment.waitlist_position = new_position
    db.session.add(EnrolmentEvent(
        enrolment=enrolment, from_state=S.WAITLISTED, to_state=S.WAITLISTED,
        waitlist_position=new_position, actor_id=actor.id,
        reason=f"Moved from {old} to {new_position}: {reason}",
    ))
    db.session.flush()
    email_person(enrolment, "waitlist_moved",
           f"Your place in the waiting list has changed: {offering.title}",
           old=old, new=new_position)


# ---------------------------------------------------------------------------- booking


def _existing(offering: Offering, user: User) -> Enrolment | None:
    return places.existing(offering, user)


def _start(offering: Offering, user: User, to: EnrolmentState, actor: User,
           **fields) -> Enrolment:
    """Create the person's enrolment (or reuse their old, inactive one) in state ``to``."""
    enrolment = _existing(offering, user)
    if enrolment is None:
        enrolment = Enrolment(offering=offering, user=user, state=to)
        db.session.add(enrolment)
        before = None
    else:
        before = enrolment.state
    for name, value in fields.items():
        setattr(enrolment, name, value)
    enrolment.state = to
    if to != S.WAITLISTED:
        enrolment.waitlist_position = None
    if to != S.OFFERED:
        enrolment.offer_expires_at = None
    db.session.add(EnrolmentEvent(
        enrolment=enrolment, from_state=before, to_state=to,
        waitlist_position=enrolment.waitlist_position, actor_id=actor.id,
    ))
    db.session.flush()
    _place_changed(enrolment, before, to, actor)
    return enrolment


def book(user: User, offering: Offering) -> Enrolment:
    """A person books for themselves: a place if one is free (open booking), a request
    (approval booking), or a place on the waiting list when full."""
    offering = lock_offering(offering.id)
    policy.may_book(user, offering).enforce()
    check_booking(user, offering)
    plain = {"quota_organisation_id": None, "nominated_by_id": None}
    if offering.booking_mode == BookingMode.APPROVAL:
        enrolment = _start(offering, user, S.REQUESTED, user, **plain)
        email_person(enrolment, "requested", f"Your request has been received: {offering.title}")
        return enrolment
    free = free_open_places(offering)
    if free is None or free > 0:
        enrolment = _start(offering, user, S.ENROLLED, user, **plain)
        email_person(enrolment, "enrolled", _booked_subject(offering))
        return enrolment
    position = waitlist_length(offering.id) + 1
    enrolment = _start(offering, user, S.WAITLISTED, user, waitlist_position=position, **plain)
    email_person(enrolment, "waitlisted", f"You are on the waiting list: {offering.title}")
    return enrolment


def nominate(lead: User, offering: Offering, person: User) -> Enrolment:
    """A DSU lead puts someone of their own ICS forward, within the ICS's quota and while the
    nomination window is open."""
    offering = lock_offering(offering.id)
    policy.may_nominate(lead, offering, person).enforce()
    org_id = person.organisation_id
    enrolment = _start(offering, person, S.NOMINATED, lead, quota_organisation_id=org_id,
                       nominated_by=lead)
    email_person(enrolment, "nominated", f"You have been nominated: {offering.title}")
    return enrolment


def approve(actor: User, enrolment: Enrolment) -> Enrolment:
    """Faculty approve a request (it takes a place, or the waiting list when full) or a
    nomination (the nominee then confirms)."""
    if not policy.can_manage(actor, enrolment.offering):
        raise NotAllowed("Only faculty can approve")
    offering, enrolment = _locked(enrolment)
    if enrolment.state == S.NOMINATED:
        transition(enrolment, S.APPROVED, actor)
        db.session.flush()
        email_person(enrolment, "nomination_approved",
               f"Please confirm your place: {offering.title}")
        if enrolment.nominated_by:
            email_person(enrolment, "nomination_approved_lead",
                   f"Nomination approved: {enrolment.user.full_name}",
                   to=enrolment.nominated_by)
        return enrolment
    if enrolment.state != S.REQUESTED:
        raise DomainError("Only requests and nominations can be approved")
    free = free_open_places(offering)
    if free is None or free > 0:
        transition(enrolment, S.ENROLLED, actor, reason="Request approved")
        db.session.flush()
        email_person(enrolment, "enrolled", _booked_subject(offering))
    else:
        _join_waitlist(enrolment, actor)
    return enrolment


def reject(actor: User, enrolment: Enrolment, reason: str) -> Enrolment:
    """Faculty decline a request or a nomination, saying why."""
    if not policy.can_manage(actor, enrolment.offering):
        raise NotAllowed("Only faculty can decline")
    reason = " ".join((reason or "").split())
    if not reason:
        raise DomainError("Give a reason, so the person knows why", "reason")
    offering, enrolment = _locked(enrolment)
    if enrolment.state not in (S.REQUESTED, S.NOMINATED):
        raise DomainError("Only requests and nominations can be declined")
    transition(enrolment, S.REJECTED, actor, reason)
    db.session.flush()
    email_person(enrolment, "rejected", f"Your place was not approved: {offering.title}",
           reason=reason)
    if enrolment.nominated_by:
        email_person(enrolment, "rejected", f"Nomination not approved: {enrolment.user.full_name}",
               to=enrolment.nominated_by, reason=reason)
    promote_waitlist(offering, actor)
    return enrolment


def confirm_nomination(user: User, enrolment: Enrolment) -> Enrolment:
    """The nominee takes the approved place."""
    policy.may_confirm(user, enrolment).enforce()
    offering, enrolment = _locked(enrolment)
    policy.may_confirm(user, enrolment).enforce()
    transition(enrolment, S.ENROLLED, user, reason="Nomination confirmed")
    db.session.flush()
    email_person(enrolment, "enrolled", _booked_subject(offering))
    if enrolment.nominated_by:
        email_person(enrolment, "nomination_confirmed_lead",
               f"{user.full_name} confirmed their place", to=enrolment.nominated_by)
    return enrolment


def accept_offer(user: User, enrolment: Enrolment) -> Enrolment:
    """Take a place offered from the waiting list, before its deadline."""
    policy.may_accept(user, enrolment).enforce()
    offering, enrolment = _locked(enrolment)
    policy.may_accept(user, enrolment).enforce()
    transition(enrolment, S.ENROLLED, user, reason="Offer accepted")
    db.session.flush()
    email_person(enrolment, "enrolled", _booked_subject(offering))
    return enrolment


def reason_text(raw: str | None) -> str:
    """A reason typed for giving up or declining a place, spaces tidied."""
    reason = " ".join((raw or "").split())
    if len(reason) > REASON_LIMIT:
        raise DomainError(f"The reason must be {REASON_LIMIT:,} characters or fewer", "reason")
    return reason


def decline(user: User, enrolment: Enrolment, reason: str = "") -> Enrolment:
    """Say no to a nomination or an offered place; the place goes back (to the ICS quota, or
    to the next person waiting). ``reason`` is kept in the place's history and told to the
    DSU lead who nominated them."""
    reason = reason_text(reason)
    policy.may_decline(user, enrolment).enforce()
    offering, enrolment = _locked(enrolment)
    policy.may_decline(user, enrolment).enforce()
    transition(enrolment, S.DECLINED, user, reason)
    db.session.flush()
    email_person(enrolment, "declined", f"You declined: {offering.title}", reason=reason)
    if enrolment.nominated_by:
        email_person(enrolment, "declined_lead", f"{user.full_name} declined their nomination",
                     to=enrolment.nominated_by, reason=reason)
    promote_waitlist(offering, user)
    return enrolment


def withdraw(actor: User, enrolment: Enrolment, reason: str = "") -> Enrolment:
    """Give up a place, a request, a nomination or a queue position. The person themselves,
    or the DSU lead who made the nomination (or leads that ICS), may do it. What hangs off
    the place (a festival's session bookings) is given back by listeners of the
    ``PlaceChanged`` this sends, under the offering's lock, before the freed place is offered
    on."""
    is_self = enrolment.user_id == actor.id
    reason = reason_text(reason)
    policy.may_withdraw(actor, enrolment).enforce()
    offering, enrolment = _locked(enrolment)
    policy.may_withdraw(actor, enrolment).enforce()
    position = enrolment.waitlist_position
    transition(enrolment, S.WITHDRAWN, actor, reason)
    db.session.flush()
    if position is not None:
        _close_gap(offering.id, position)
    email_person(enrolment, "withdrawn", f"You have withdrawn: {offering.title}", reason=reason,
                 actor=actor)
    if not is_self:  # the policy let a DSU lead withdraw their ICS's nomination
        email_person(enrolment, "withdrawn", f"Nomination withdrawn: {enrolment.user.full_name}",
                     to=actor, reason=reason, actor=actor)
    elif enrolment.nominated_by is not None:  # the lead who nominated them hears why
        email_person(enrolment, "withdrawn_lead",
                     f"{actor.full_name} has withdrawn from {offering.title}",
                     to=enrolment.nominated_by, reason=reason)
    promote_waitlist(offering, actor)
    return enrolment


def cancel_offering(offering: Offering, actor: User, reason: str) -> int:
    """Cancel the whole offering: every active enrolment is cancelled and told why.
    Returns how many people were told."""
    if not policy.can_manage(actor, offering):
        raise NotAllowed("Only faculty can cancel")
    reason = " ".join((reason or "").split())
    if not reason:
        raise DomainError("Give a reason for cancelling", "reason")
    offering = lock_offering(offering.id)
    if offering.status == OfferingStatus.CANCELLED:
        raise DomainError("This is already cancelled")
    offering.status = OfferingStatus.CANCELLED
    offering.cancelled_reason = reason
    active = db.session.scalars(
        select(Enrolment).where(Enrolment.offering_id == offering.id,
                                Enrolment.state.in_([s for s in ACTIVE if s != S.COMPLETED]))
    ).all()
    for enrolment in active:
        transition(enrolment, S.CANCELLED, actor, reason)
    db.session.flush()
    for enrolment in active:
        email_person(enrolment, "offering_cancelled", f"Cancelled: {offering.title}", reason=reason)
    return len(active)


def change_capacity(offering: Offering, capacity: int | None) -> None:
    """Set the capacity; never below the places held. More places go to people waiting."""
    offering = lock_offering(offering.id)
    if capacity is not None:
        if capacity < 0:
            raise DomainError("Capacity cannot be negative", "capacity")
        held = count_holding(offering)
        if capacity < held:
            raise DomainError(
                f"Capacity cannot be lower than the {held} places already taken", "capacity"
            )
        reserved = sum(q.places for q in offering.quotas)
        if capacity < reserved and quotas_in_force(offering):
            raise DomainError(
                f"Capacity cannot be lower than the {reserved} places reserved for ICSs",
                "capacity",
            )
    offering.capacity = capacity
    db.session.flush()
    promote_waitlist(offering)


# ---------------------------------------------------------------------------- loading by id


def get_enrolment(enrolment_id: int) -> Enrolment:
    enrolment = db.session.get(Enrolment, enrolment_id)
    if enrolment is None:
        raise NotFound("No such booking")
    return enrolment


def load_as(kind: type[Offering], offering_id: int) -> Offering | None:
    """The offering if it is a ``kind``, with its leads (and a subclass's own columns); else None.
    One loaded earlier through a relationship came as the base class: its own columns (a
    cohort's course, a webinar's description) would each load while the page renders. They
    are filled in here, in one query (its collections, already loaded, are not read again)."""
    offering = db.session.get(kind, offering_id, options=[leads_loaded()])
    if offering is not None and kind is not Offering:
        state = inspect(offering)
        if state.unloaded & set(state.mapper.column_attrs.keys()):
            cls = type(offering)
            db.session.scalars(select(cls).where(cls.id == offering_id).options(*(
                lazyload(getattr(cls, n)) for n in ("sessions", "quotas", "lead_rows")))).one()
    return offering


def get_offering(offering_id: int) -> Offering:
    offering = db.session.get(Offering, offering_id, options=[leads_loaded()])
    if offering is None:
        raise NotFound("No such course, cohort or event")
    return offering
