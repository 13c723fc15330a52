"""Email domains whose people must sign in with their NHS account: for them, password
sign-in, password reset and sign-up are refused with a message pointing to that button.
Admins set them (``lms.sso``'s admin page); the audit log records each change."""

from __future__ import annotations

import re

from sqlalchemy import select

from lms.accounts.models import SsoOnlyDomain
from lms.errors import DomainError
from lms.extensions import db

USE_SSO = ("People with an {domain} email address sign in with their NHS account. "
           "Use the \u201cSign in with\u201d button on the sign-in page")
_DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")


class SsoRequired(DomainError):
    """This address's domain signs in only with an NHS account."""


def domain_of(email: str) -> str:
    return (email or "").rpartition("@")[2].strip().lower()


def sso_only_domains() -> list[SsoOnlyDomain]:
    """Every SSO-only domain, by name."""
    return list(db.session.scalars(select(SsoOnlyDomain).order_by(SsoOnlyDomain.domain)))


def refuse_password_for(email: str, field: str = "email") -> None:
    """Raise ``SsoRequired`` if ``email``'s domain (or a parent domain: ``nhs.net`` covers
    ``x.nhs.net``) signs in only with an NHS account."""
    domain = domain_of(email)
    if not domain:
        return
    parts = domain.split(".")
    candidates = [".".join(parts[i:]) for i in range(len(parts) - 1)]
    found = db.session.scalar(select(SsoOnlyDomain.domain)
                              .where(SsoOnlyDomain.domain.in_(candidates)).limit(1))
    if found is not None:
        raise SsoRequired(USE_SSO.format(domain=found), field)


def require_sso(domain: str) -> SsoOnlyDomain:
    """Make ``domain`` SSO-only (an admin's decision)."""
    domain = (domain or "").strip().lower().lstrip("@")
    if not domain:
        raise DomainError("Enter an email domain, like nhs.net", "domain")
    if not _DOMAIN.match(domain):
        raise DomainError("Enter an email domain in the correct format, like nhs.net",
                          "domain")
    if db.session.scalar(select(SsoOnlyDomain).where(SsoOnlyDomain.domain == domain)):
        raise DomainError(f"{domain} already signs in only with an NHS account", "domain")
    row = SsoOnlyDomain(domain=domain)
    db.session.add(row)
    db.session.flush()
    return row


def allow_passwords(domain_id: int) -> str:
    """Let a domain's people use passwords again; the domain's name."""
    from lms.errors import NotFound

    row = db.session.get(SsoOnlyDomain, domain_id)
    if row is None:
        raise NotFound("No such domain")
    db.session.delete(row)
    db.session.flush()
    return row.domain
