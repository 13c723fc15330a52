"""Administering people: finding accounts, and an admin's changes to someone's roles and
organisation."""

from __future__ import annotations

from sqlalchemy import func, or_, select

from lms.accounts.emails import search_text
from lms.accounts.models import Role, User, UserRole
from lms.accounts.services import _organisation
from lms.errors import DomainError, NotAllowed
from lms.extensions import db


def find_users(query: str = "", role: str = "", organisation_id: int | None = None,
               page: int = 1, per_page: int = 25) -> tuple[list[User], int]:
    """People matching a name or email fragment, a role and an organisation; one page of
    them and the total count."""
    conditions = []
    text = " ".join((query or "").split())[:100]
    if text:
        def pattern(fragment: str) -> str:
            return "%" + fragment.replace("\\", "").replace("%", "").replace("_", "") + "%"

        # Emails are stored in their canonical spelling; fold the fragment the same way.
        conditions.append(or_(func.lower(User.full_name).like(pattern(text.lower())),
                              User.email.like(pattern(search_text(text)))))
    if role in set(Role):
        conditions.append(User.role_rows.any(UserRole.role == role))
    if organisation_id:
        conditions.append(User.organisation_id == organisation_id)
    # Counted and paged straight from the table (its name index gives the order), so no
    # search reads every person twice.
    total = db.session.scalar(select(func.count()).select_from(User).where(*conditions)) or 0
    page = max(page, 1)
    users = db.session.scalars(
        select(User).where(*conditions).order_by(User.full_name, User.id)
        .limit(per_page).offset((page - 1) * per_page)
    ).all()
    return list(users), total


def set_roles_and_organisation(actor: User, user: User, roles: set[str],
                               organisation_id: int | None) -> None:
    """An admin changes someone's roles and organisation. Everyone stays a learner; a DSU
    lead must belong to an ICS; admins cannot remove their own admin role."""
    if not actor.is_admin:
        raise NotAllowed("Only admins can change roles")
    unknown = roles - set(Role)
    if unknown:
        raise DomainError("Choose roles from the list", "roles")
    organisation = _organisation(organisation_id)
    wanted = {Role(r) for r in roles} | {Role.LEARNER}
    if Role.DSU_LEAD in wanted and not organisation.is_ics:
        raise DomainError("A DSU lead must belong to one of the 11 ICSs", "roles")
    if actor.id == user.id and Role.ADMIN not in wanted:
        raise DomainError("You cannot remove your own admin role", "roles")
    user.organisation = organisation
    current = {Role(row.role): row for row in user.role_rows}
    for role, row in current.items():
        if role not in wanted:
            user.role_rows.remove(row)
    for role in wanted - current.keys():
        user.role_rows.append(UserRole(role=role))
    db.session.flush()
