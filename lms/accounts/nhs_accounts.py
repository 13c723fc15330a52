"""What signing in with an NHS account (``lms.sso``) needs of accounts: a new person's
account from what their identity provider vouched for, and a check that someone knows an
account's password before their NHS account is linked to it."""

from __future__ import annotations

from werkzeug.security import check_password_hash

from lms.accounts import throttle
from lms.accounts.models import Role, User, UserRole
from lms.accounts.services import (
    _clean_text,
    _organisation,
    get_user_by_email,
    normalise_email,
)
from lms.accounts.throttle import TOO_MANY, TooManyAttempts
from lms.clock import utcnow
from lms.errors import DomainError, ErrorCollector
from lms.extensions import db


def sign_up_from_identity(email: str, full_name: str, organisation_id: int | None) -> User:
    """A learner whose identity provider vouched for their email address (``lms.sso``): no
    password, confirmed already, in the organisation they chose."""
    errors = ErrorCollector()
    full_name = errors.check(_clean_text, full_name, "full name", "full_name", required=True)
    email = errors.check(normalise_email, email)
    organisation = errors.check(_organisation, organisation_id)
    errors.raise_any()
    if get_user_by_email(email) is not None:
        raise DomainError("An account with this email address already exists. Sign in again "
                          "to link it to your NHS account.")
    user = User(email=email, full_name=full_name, job_title="", organisation=organisation,
                password_hash=None, email_verified_at=utcnow())
    user.role_rows.append(UserRole(role=Role.LEARNER))
    db.session.add(user)
    db.session.flush()
    return user


def confirm_password(user: User, password: str, address: str = "unknown") -> None:
    """Check that the person knows ``user``'s password (to prove the account is theirs),
    counted and paused like sign-in; ``DomainError`` if not."""
    if throttle.sign_in_refused(user.email, address):
        raise TooManyAttempts(TOO_MANY, "password")
    if not user.password_hash or not check_password_hash(user.password_hash, password or ""):
        raise DomainError("Enter the correct password for this account", "password")
