"""Revoking and reissuing certificates: faculty say why; the row stays, verification shows
'revoked', and a reissue takes what the certificate says afresh."""

from __future__ import annotations

from lms.accounts.models import User
from lms.certificates.models import Certificate, CertificateStatus
from lms.certificates.services import issue_certificate, live_certificate, write_lock
from lms.clock import utcnow
from lms.errors import DomainError, NotAllowed
from lms.extensions import db
from lms.notifications.services import link, queue_email
from lms.offerings.policy import can_manage


def _reason(reason: str) -> str:
    reason = " ".join((reason or "").split())
    if not reason:
        raise DomainError("Give a reason", "reason")
    if len(reason) > 1000:
        raise DomainError("The reason must be 1,000 characters or fewer", "reason")
    return reason


def revoke(actor: User, certificate: Certificate, reason: str, *, notify: bool = True) -> None:
    """Faculty revoke a certificate, saying why. The row stays; verification shows
    'revoked'."""
    if not can_manage(actor, certificate.offering):
        raise NotAllowed("Only faculty can revoke certificates")
    reason = _reason(reason)
    if not certificate.is_live:
        raise DomainError(f"Certificate {certificate.serial} is already revoked")
    write_lock()
    certificate.status = CertificateStatus.REVOKED
    certificate.revoked_at = utcnow()
    certificate.revoked_by_id = actor.id
    certificate.revoked_reason = reason
    db.session.flush()
    if notify:
        queue_email(certificate.user.email, f"Your certificate has been revoked: "
                    f"{certificate.title}", "certificates/revoked",
                    person=certificate.user, certificate=certificate,
                    certificates_url=link("certificates.mine"))


def reissue(actor: User, certificate: Certificate, reason: str) -> Certificate:
    """Replace a certificate with a new one (new serial and code, what it says taken afresh,
    e.g. after a name is corrected). The old one is revoked, and kept."""
    if not can_manage(actor, certificate.offering):
        raise NotAllowed("Only faculty can reissue certificates")
    reason = _reason(reason)
    if certificate.completion_id is None:
        raise DomainError("A presenter certificate is not reissued: revoke it and issue a new "
                          "one from the talk")
    if certificate.replaced_by is not None:
        raise DomainError(f"Certificate {certificate.serial} was already replaced by "
                          f"{certificate.replaced_by.serial}")
    if certificate.is_live:
        revoke(actor, certificate, f"Reissued: {reason}", notify=False)
    elif live_certificate(certificate.completion_id) is not None:
        raise DomainError("This person already has a live certificate for this; reissue "
                          "that one instead")
    return issue_certificate(certificate.completion, actor, replaces=certificate)
