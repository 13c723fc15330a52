"""The first admin of a new installation (``flask lms create-admin``): nobody can sign up as
an admin, and roles are given by an admin, so the first one comes from the command line."""

from __future__ import annotations

from sqlalchemy import select

from lms.accounts.models import Organisation, Role, User, UserRole
from lms.accounts.services import (
    check_new_password,
    ensure_organisations,
    get_user_by_email,
    hash_password,
    normalise_email,
)
from lms.clock import utcnow
from lms.errors import DomainError
from lms.extensions import db


def existing_admins() -> list[str]:
    """The email addresses of the people who are admins now."""
    return list(db.session.scalars(
        select(User.email).join(UserRole).where(UserRole.role == Role.ADMIN)
        .order_by(User.email)))


def create_admin(email: str, full_name: str, password: str, organisation_code: str, *,
                 force: bool = False) -> tuple[User, bool]:
    """Make an admin: a new account (email confirmed, the password checked as any new
    password is) or, with ``force``, an existing account given the admin role (its password
    unchanged). Refuses while an admin exists unless ``force``. Flushes; returns the person
    and whether the account is new. They set up two-step verification at first sign-in."""
    email = normalise_email(email)
    admins = existing_admins()
    if admins and not force:
        raise DomainError(f"An admin already exists ({', '.join(admins)}). Admins give roles "
                          "from the Users page; use --force to add another from here.")
    person = get_user_by_email(email)
    if person is not None:
        if not force:
            raise DomainError(f"{email} already has an account: use --force to make it an "
                              "admin (its password stays as it is).")
        if not person.is_admin:
            person.role_rows.append(UserRole(role=Role.ADMIN))
        db.session.flush()
        return person, False
    full_name = " ".join((full_name or "").split())
    if not full_name or len(full_name) > 120:
        raise DomainError("Enter the admin's full name (120 characters or fewer)", "name")
    check_new_password(password, email=email)
    ensure_organisations()
    organisation = db.session.scalar(
        select(Organisation).where(Organisation.code == (organisation_code or "").upper()))
    if organisation is None:
        codes = ", ".join(db.session.scalars(select(Organisation.code).order_by(
            Organisation.code)))
        raise DomainError(f"No organisation has the code {organisation_code!r}: one of {codes}",
                          "organisation")
    person = User(email=email, full_name=full_name, organisation=organisation,
                  password_hash=hash_password(password), email_verified_at=utcnow())
    person.role_rows.extend([UserRole(role=Role.LEARNER), UserRole(role=Role.ADMIN)])
    db.session.add(person)
    db.session.flush()
    return person, True
