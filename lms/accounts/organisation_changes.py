"""Moving to another organisation: a request the new ICS's DSU lead (or an admin) decides.

A person's organisation decides which ICS's reserved places they may take and which DSU
lead may nominate them, so nobody moves themselves: the profile asks, and until an approval
``User.organisation_id`` (which every place, quota and nomination rule reads) stays as it
was. A DSU lead sees and decides the requests to join their own ICS; admins see all.
Requests to join an organisation that is not an ICS (it has no DSU lead) go to admins.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from lms.accounts.models import ChangeStatus, Organisation, OrganisationChange, Role, User, UserRole
from lms.clock import utcnow
from lms.errors import DomainError, NotAllowed, NotFound
from lms.extensions import db
from lms.notifications.services import link, queue_email


def pending_for(user: User) -> OrganisationChange | None:
    """The person's request waiting for a decision, if any."""
    return db.session.scalar(select(OrganisationChange).where(
        OrganisationChange.user_id == user.id,
        OrganisationChange.status == ChangeStatus.PENDING))


def request_move(user: User, organisation: Organisation) -> OrganisationChange | None:
    """Ask to move ``user`` to ``organisation``. A request already waiting for somewhere
    else is withdrawn; asking for the organisation one is in withdraws any request. The DSU
    leads of the new ICS are emailed. Returns the waiting request (``None`` if none)."""
    waiting = pending_for(user)
    if waiting is not None:
        if waiting.to_organisation_id == organisation.id:
            return waiting
        waiting.status, waiting.decided_at = ChangeStatus.WITHDRAWN, utcnow()
    if organisation.id == user.organisation_id:
        db.session.flush()
        return None
    change = OrganisationChange(user_id=user.id, from_organisation_id=user.organisation_id,
                                to_organisation_id=organisation.id)
    db.session.add(change)
    db.session.flush()
    for lead in _leads_of(organisation.id):
        queue_email(lead.email, f"{user.full_name} asks to join {organisation.name}",
                    "accounts/organisation_change_requested", lead=lead, change=change,
                    url=link("organisation_changes.requests"))
    return change


def _leads_of(organisation_id: int) -> list[User]:
    return list(db.session.scalars(select(User).where(
        User.organisation_id == organisation_id,
        User.role_rows.any(UserRole.role == Role.DSU_LEAD)).order_by(User.id)))


def can_decide(actor: User, change: OrganisationChange) -> bool:
    """Admins decide any request; a DSU lead those to join their own ICS."""
    return actor.is_admin or (actor.is_dsu_lead
                              and actor.organisation_id == change.to_organisation_id)


# What a list of requests shows: the person (their roles are not shown), both organisations.
SHOWN_WITH = (joinedload(OrganisationChange.person, innerjoin=True).lazyload(User.role_rows),
              joinedload(OrganisationChange.from_organisation, innerjoin=True),
              joinedload(OrganisationChange.to_organisation, innerjoin=True))


def waiting_for(actor: User) -> list[OrganisationChange]:
    """The requests ``actor`` may decide, oldest first."""
    if not (actor.is_admin or actor.is_dsu_lead):
        raise NotAllowed("Only DSU leads and admins decide moves between organisations")
    stmt = select(OrganisationChange).where(
        OrganisationChange.status == ChangeStatus.PENDING).options(*SHOWN_WITH)
    if not actor.is_admin:
        stmt = stmt.where(OrganisationChange.to_organisation_id == actor.organisation_id)
    return list(db.session.scalars(stmt.order_by(OrganisationChange.requested_at,
                                                 OrganisationChange.id)))


def get_for_decision(actor: User, change_id: int) -> OrganisationChange:
    """A request ``actor`` may decide, or ``NotFound`` (someone else's ICS looks the same as
    no request at all)."""
    change = db.session.get(OrganisationChange, change_id)
    if change is None or not can_decide(actor, change):
        raise NotFound("No such request")
    return change


def _decide(actor: User, change: OrganisationChange, status: ChangeStatus) -> None:
    if not can_decide(actor, change):
        raise NotFound("No such request")
    if change.status != ChangeStatus.PENDING:
        raise DomainError("This request has already been decided or withdrawn")
    change.status, change.decided_at, change.decided_by_id = status, utcnow(), actor.id
    db.session.flush()
    verb = "approved" if status == ChangeStatus.APPROVED else "not approved"
    queue_email(change.person.email, f"Your move to {change.to_organisation.name}: {verb}",
                "accounts/organisation_change_decided", change=change,
                url=link("accounts.profile"))


def approve(actor: User, change: OrganisationChange) -> None:
    """Move the person; from now on places, quotas and nominations follow the new ICS. A
    person who has become a DSU lead meanwhile is moved only by an admin's role change."""
    if can_decide(actor, change) and change.person.is_dsu_lead:
        raise DomainError("This person is now a DSU lead: an admin changes their organisation")
    _decide(actor, change, ChangeStatus.APPROVED)
    change.person.organisation = change.to_organisation
    db.session.flush()


def decline(actor: User, change: OrganisationChange) -> None:
    """Leave the person where they are, and tell them."""
    _decide(actor, change, ChangeStatus.DECLINED)
