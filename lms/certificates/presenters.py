"""Presenter certificates: a certificate for giving a talk at an event, in the event's own
certificate template (``template_for``), with the talk's length as CPD hours. It belongs
to no completion (``completion_id`` is empty); the feature that knows who presented what
(``lms.talks``) decides who may have one and calls ``issue_for_presenting``."""

from __future__ import annotations

import secrets
from datetime import date
from decimal import Decimal

from sqlalchemy import select

from lms.accounts.models import User
from lms.certificates import rendering
from lms.certificates.models import Certificate, CertificateStatus
from lms.certificates.services import (
    AlreadyIssued,
    _email_issued,
    _next_serials,
    template_for,
    write_lock,
)
from lms.clock import to_london, utcnow
from lms.errors import NotAllowed
from lms.extensions import db
from lms.offerings.models import Offering
from lms.offerings.policy import can_manage


def presenting_achievement(talk_title: str) -> str:
    return f"Presented “{talk_title}”"[:200]


def live_presenter_certificate(person: User, offering: Offering,
                               talk_title: str) -> Certificate | None:
    return db.session.scalar(select(Certificate).where(
        Certificate.user_id == person.id, Certificate.offering_id == offering.id,
        Certificate.completion_id.is_(None),
        Certificate.achievement == presenting_achievement(talk_title),
        Certificate.status == CertificateStatus.ISSUED))


def issue_for_presenting(actor: User, person: User, offering: Offering, talk_title: str,
                         given_on: date, minutes: int) -> Certificate:
    """Issue a presenter certificate and email its holder a link (as any certificate)."""
    if not can_manage(actor, offering):
        raise NotAllowed("Only faculty can issue certificates")
    write_lock()
    existing = live_presenter_certificate(person, offering, talk_title)
    if existing is not None:
        raise AlreadyIssued(f"{person.full_name} already has certificate {existing.serial} "
                            "for this talk")
    hours = (Decimal(minutes) / 60).quantize(Decimal("0.1"))
    certificate = Certificate(
        completion_id=None, user_id=person.id, offering_id=offering.id,
        serial="MDSN-0000-000000", code=secrets.token_urlsafe(16),
        status=CertificateStatus.ISSUED, issued_at=utcnow(), issued_by_id=actor.id,
        template=template_for(offering), holder_name=person.full_name,
        achievement=presenting_achievement(talk_title), title=offering.title[:300],
        achieved_on=given_on, cpd_hours=hours,
        details={"kind_label": "Speaker", "sessions": [
            {"title": talk_title, "date": given_on.isoformat(), "hours": str(hours)}]})
    certificate.offering = offering
    certificate.user = person
    rendering.renderer().html(rendering.context_for(certificate, "https://verify.invalid/"),
                              qr=False)
    certificate.serial = _next_serials(to_london(certificate.issued_at).year)[0]
    db.session.add(certificate)
    db.session.flush()
    _email_issued(certificate)
    return certificate
