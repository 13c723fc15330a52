"""What the certificates pages show: a person's certificates, a certificate's history, and
faculty's lists of offerings with completions and of the people in one."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import lazyload, selectinload

from lms.accounts.models import User
from lms.attendance.models import Completion
from lms.certificates.models import (
    Certificate,
    CertificatePdf,
    CertificateStatus,
)
from lms.certificates.services import SHOWN
from lms.extensions import db
from lms.offerings.models import Enrolment, Offering


def my_certificates(user: User) -> list[Certificate]:
    """A person's certificates, newest first, revoked ones included (they say so), with
    what replaced each: two queries (not their holder again, nor the holder's roles)."""
    return list(db.session.scalars(
        select(Certificate).where(Certificate.user_id == user.id)
        .options(lazyload(Certificate.user),
                 selectinload(Certificate.replaced_by).lazyload(Certificate.user))
        .order_by(Certificate.achieved_on.desc(), Certificate.id.desc())))


def history(certificate: Certificate) -> list[Certificate]:
    """Every certificate ever issued for the same completion, oldest first (a presenter
    certificate, of no completion, is its own history)."""
    if certificate.completion_id is None:
        return [certificate]
    return list(db.session.scalars(
        select(Certificate).where(Certificate.completion_id == certificate.completion_id)
        .options(*SHOWN).order_by(Certificate.id)))


@dataclass
class OfferingRow:
    """One line of faculty's list of offerings with completions."""

    offering: Offering
    completed: int
    issued: int
    last_completed_at: datetime


def offerings_with_completions() -> list[OfferingRow]:
    """Every offering someone has completed, most recent completion first, with how many
    completed and how many hold a valid certificate. Three queries."""
    completed = db.session.execute(
        select(Enrolment.offering_id, func.count(Completion.id), func.max(Completion.completed_at))
        .join(Completion, Completion.enrolment_id == Enrolment.id)
        .group_by(Enrolment.offering_id)
    ).all()
    issued = dict(db.session.execute(
        select(Certificate.offering_id, func.count(Certificate.id))
        .where(Certificate.status == CertificateStatus.ISSUED)
        .group_by(Certificate.offering_id)
    ).all())
    offerings = {o.id: o for o in db.session.scalars(
        select(Offering).where(Offering.id.in_([row[0] for row in completed])))}
    rows = [OfferingRow(offerings[oid], n, issued.get(oid, 0), last)
            for oid, n, last in completed if oid in offerings]
    rows.sort(key=lambda row: row.last_completed_at, reverse=True)
    return rows


class PersonRow:
    """One line of faculty's certificates page."""

    def __init__(self, enrolment: Enrolment, completion: Completion | None,
                 certificate: Certificate | None, rendered: bool):
        self.enrolment = enrolment
        self.completion = completion
        self.certificate = certificate
        self.rendered = rendered


def people_for(offering: Offering) -> list[PersonRow]:
    """Everyone who completed or holds a place, with their live certificate if any. Four
    queries, whatever the number of people."""
    enrolments = list(db.session.scalars(
        select(Enrolment).join(User, Enrolment.user_id == User.id)
        .where(Enrolment.offering_id == offering.id,
               Enrolment.state.in_(("enrolled", "completed")))
        .order_by(User.full_name)))
    ids = [e.id for e in enrolments]
    completions = {c.enrolment_id: c for c in db.session.scalars(
        select(Completion).where(Completion.enrolment_id.in_(ids)))}
    live = {c.completion_id: c for c in db.session.scalars(
        select(Certificate).where(Certificate.offering_id == offering.id,
                                  Certificate.status == CertificateStatus.ISSUED))}
    rendered = set(db.session.scalars(
        select(CertificatePdf.certificate_id).where(
            CertificatePdf.certificate_id.in_([c.id for c in live.values()]))))
    rows = []
    for e in enrolments:
        completion = completions.get(e.id)
        certificate = live.get(completion.id) if completion else None
        rows.append(PersonRow(e, completion, certificate,
                              certificate is not None and certificate.id in rendered))
    return rows
