"""Who an identity provider's sign-in is: a linked account, an existing account to link
(only once the person proves it is theirs), or a new person. Services flush; views commit."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from lms.accounts import nhs_accounts
from lms.accounts import services as accounts
from lms.accounts.models import User
from lms.clock import utcnow
from lms.errors import DomainError
from lms.extensions import db
from lms.sso.issuers import Claims, Issuer, SignInRefused
from lms.sso.models import ExternalIdentity


@dataclass(frozen=True)
class Outcome:
    """``signed_in`` (``user`` is who), ``link`` (``user`` has the address: they must prove
    the account is theirs) or ``new`` (nobody has the address)."""

    kind: str
    user: User | None = None


def _linked(issuer: Issuer, subject: str) -> ExternalIdentity | None:
    return db.session.scalar(select(ExternalIdentity).where(
        ExternalIdentity.issuer == issuer.issuer, ExternalIdentity.subject == subject))


def recognise(issuer: Issuer, claims: Claims) -> Outcome:
    """What a checked sign-in from ``issuer`` leads to. An account is matched by email only
    when the issuer vouches for the address, and is then not linked here: the person must
    prove it is theirs first (``link_with_password``)."""
    identity = _linked(issuer, claims.subject)
    if identity is not None:
        if not identity.user.is_active_account:
            raise SignInRefused("This account has been closed. Contact the MDSN team.")
        identity.last_used_at = utcnow()
        db.session.flush()
        return Outcome("signed_in", identity.user)
    if not claims.email:
        raise SignInRefused(f"{issuer.label} did not tell us your email address, so we cannot "
                            "sign you in with it. Sign in with your email and password.")
    if not claims.email_verified:
        raise SignInRefused(
            f"{issuer.label} has not confirmed your email address ({claims.email}), so we "
            "cannot use it to sign you in. Confirm it with your NHS account's administrator, "
            "or sign in with your email and password.")
    user = accounts.get_user_by_email(claims.email)
    if user is not None:
        return Outcome("link", user)
    return Outcome("new")


def link(user: User, issuer: Issuer, subject: str) -> ExternalIdentity:
    """Link an identity at ``issuer`` to ``user``."""
    if _linked(issuer, subject) is not None:
        raise DomainError("This NHS account is already linked to an account here. "
                          "Sign in again.")
    identity = ExternalIdentity(issuer=issuer.issuer, subject=subject, user=user,
                                last_used_at=utcnow())
    db.session.add(identity)
    db.session.flush()
    return identity


def link_with_password(user: User, issuer: Issuer, subject: str, password: str,
                       address: str) -> User:
    """Link after the person typed the account's password."""
    nhs_accounts.confirm_password(user, password, address)
    link(user, issuer, subject)
    return user


LINK_EMAIL_MINUTES = 30
_LINK_SALT = "sso-link-account"


def _link_serializer():
    from flask import current_app
    from itsdangerous import URLSafeTimedSerializer

    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=_LINK_SALT)


def email_link(user: User, issuer: Issuer, subject: str, address: str = "unknown") -> None:
    """Email ``user`` a link that proves the account is theirs (for people who have no
    password, or whose domain may not use one). It links ``subject`` at ``issuer`` only, and
    only in the browser that asked (``link_by_email``). Counted with the password-reset
    emails, which also prove an address: a few an hour."""
    from lms.accounts import throttle
    from lms.notifications.services import link as email_address_of
    from lms.notifications.services import queue_email

    throttle.check_and_record(throttle.FORGOT_PASSWORD, user.email, address)

    token = _link_serializer().dumps({"user": user.id, "issuer": issuer.issuer,
                                      "subject": subject})
    queue_email(user.email, f"Link your {issuer.label} account", "sso/link_account",
                user=user, label=issuer.label, minutes=LINK_EMAIL_MINUTES, secrets=[token],
                link=email_address_of("sso.link_by_email", token=token))


def link_by_email(token: str, issuer: Issuer, subject: str, email: str) -> User:
    """Link after the person followed the emailed link, in the browser whose sign-in from
    ``issuer`` as ``subject`` (with ``email``) is waiting."""
    from itsdangerous import BadData

    expired = DomainError("This link has expired or was sent for another sign-in. "
                          "Sign in with your NHS account again.")
    try:
        found = _link_serializer().loads(token, max_age=LINK_EMAIL_MINUTES * 60)
    except BadData:
        raise expired from None
    if not isinstance(found, dict) or found.get("issuer") != issuer.issuer or \
            found.get("subject") != subject:
        raise expired
    user = db.session.get(User, found.get("user"))
    if user is None or user.email != email or not user.is_active_account:
        raise expired
    link(user, issuer, subject)
    return user


def join(issuer: Issuer, subject: str, email: str, name: str,
         organisation_id: int | None) -> User:
    """A new person's account from their identity provider's details, in the organisation
    they chose, linked to that identity."""
    user = nhs_accounts.sign_up_from_identity(email, name, organisation_id)
    link(user, issuer, subject)
    return user


def linked_accounts(user: User) -> list[ExternalIdentity]:
    return list(db.session.scalars(select(ExternalIdentity)
                                   .where(ExternalIdentity.user_id == user.id)))
