"""Certificates: who may have one (completion decides), issuing, revoking and reissuing,
verification. (PDFs and zips are in ``pdfs``; what the pages list, in ``pages``.)

Services validate, raise domain errors, queue emails and flush; views and the CLI commit.
Issuing checks that the template renders (as HTML, quickly) before anything is written, and
the unique index on live certificates makes issuing idempotent whatever runs it twice. PDFs
are rendered later (lazily on download, or by a bulk issue's worker processes), never inside
the transaction that completes someone.
"""

from __future__ import annotations

import logging
import secrets
from datetime import datetime
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload, selectinload

from lms.accounts.models import User
from lms.attendance.models import Attendance, Completion
from lms.attendance.standing import counts_as_attended
from lms.certificates import rendering
from lms.certificates.models import (
    Certificate,
    CertificatePdf,
    CertificateStatus,
    CertificateTemplate,
    SerialCounter,
    TemplateChoice,
)
from lms.clock import to_london, utcnow
from lms.errors import DomainError, NotAllowed, NotFound
from lms.extensions import begin_write, db
from lms.notifications.services import link, queue_email
from lms.offerings.models import (
    Enrolment,
    Offering,
    Session,
)
from lms.offerings.policy import can_manage

log = logging.getLogger(__name__)

T = CertificateTemplate
ACHIEVEMENTS = {
    T.PROGRAMME: "Completed the development programme",
    T.COURSE: "Completed the course",
    T.WEBINAR: "Attended",
    T.FESTIVAL: "Attended the festival",
}
KIND_LABELS = {"webinar": "Webinar", "network": "Network meetings", "festival": "Festival"}


class NotEligible(DomainError):
    """The person has not completed, so may not have a certificate."""


class AlreadyIssued(DomainError):
    """The person already has a live certificate for this completion."""


# ---------------------------------------------------------------------------- templates


def default_template(offering: Offering) -> str:
    """Programmes get the programme template, short courses the course one, webinars and
    network meetings the webinar (attendance) one, the festival its own."""
    course = getattr(offering, "course", None)
    if course is not None:
        return T.PROGRAMME if course.kind == "programme" else T.COURSE
    if offering.kind == "festival":
        return T.FESTIVAL
    if offering.kind in ("webinar", "network"):
        return T.WEBINAR
    return T.COURSE


def _choice_for(offering: Offering) -> TemplateChoice | None:
    course = getattr(offering, "course", None)
    if course is not None:
        return db.session.scalar(select(TemplateChoice).where(
            TemplateChoice.course_id == course.id))
    return db.session.scalar(select(TemplateChoice).where(
        TemplateChoice.offering_id == offering.id))


def template_for(offering: Offering) -> str:
    """The template this offering's certificates use: its course's (or event's) choice,
    else the default for its kind."""
    choice = _choice_for(offering)
    return choice.template if choice is not None else default_template(offering)


def choose_template(actor: User, offering: Offering, template: str) -> None:
    """Faculty pick the template: for a cohort it is the course's choice (all its cohorts);
    for an event, the event's. Certificates already issued keep theirs."""
    if not can_manage(actor, offering):
        raise NotAllowed("Only faculty can choose certificate templates")
    if template not in set(T):
        raise DomainError("Choose one of the certificate templates", "template")
    write_lock()
    choice = _choice_for(offering)
    if template == default_template(offering):
        if choice is not None:
            db.session.delete(choice)
    else:
        if choice is None:
            course = getattr(offering, "course", None)
            choice = TemplateChoice(course_id=course.id if course is not None else None,
                                    offering_id=None if course is not None else offering.id)
            db.session.add(choice)
        choice.template = template
    db.session.flush()


# ---------------------------------------------------------------------------- look-ups


# What the pages show of a certificate besides its own columns, loaded with it: templates
# never query.
SHOWN = (selectinload(Certificate.replaced_by), selectinload(Certificate.issued_by),
         selectinload(Certificate.revoked_by), selectinload(Certificate.offering))


def get_certificate(certificate_id: int) -> Certificate:
    certificate = db.session.scalar(select(Certificate).where(Certificate.id == certificate_id)
                                    .options(*SHOWN))
    if certificate is None:
        raise NotFound("No such certificate")
    return certificate


def find_by_code(code: str) -> Certificate | None:
    """The certificate a verification code belongs to, or ``None`` for any other."""
    code = (code or "").strip()
    if not 0 < len(code) <= 43:
        return None
    return db.session.scalar(select(Certificate).where(Certificate.code == code)
                             .options(selectinload(Certificate.replaced_by)))


def get_by_code(code: str) -> Certificate:
    """The certificate a verification code belongs to (``NotFound`` for any other)."""
    certificate = find_by_code(code)
    if certificate is None:
        raise NotFound("No certificate has this verification code")
    return certificate


def own_certificate(user: User, certificate_id: int) -> Certificate:
    """A certificate its holder may download: theirs and live. Anyone else's is 'not found'.
    Faculty may download any."""
    certificate = db.session.get(Certificate, certificate_id)
    if certificate is None:
        raise NotFound("No such certificate")
    if can_manage(user, certificate.offering):
        return certificate
    if certificate.user_id != user.id or not certificate.is_live:
        raise NotFound("No such certificate")
    return certificate


def live_certificate(completion_id: int) -> Certificate | None:
    return db.session.scalar(select(Certificate).where(
        Certificate.completion_id == completion_id,
        Certificate.status == CertificateStatus.ISSUED))


def completion_of(enrolment: Enrolment) -> Completion | None:
    return db.session.scalar(select(Completion).where(Completion.enrolment_id == enrolment.id))


def eligible_completions(offering_id: int) -> list[Completion]:
    """Everyone who has completed the offering: they are the ones a certificate is for."""
    return list(db.session.scalars(
        select(Completion).join(Enrolment, Completion.enrolment_id == Enrolment.id)
        .where(Enrolment.offering_id == offering_id).order_by(Completion.id)))


def count_eligible(offering_id: int) -> int:
    return db.session.scalar(
        select(func.count(Completion.id)).join(Enrolment, Completion.enrolment_id == Enrolment.id)
        .where(Enrolment.offering_id == offering_id)) or 0


def count_rendered(offering_id: int) -> int:
    """Live certificates of the offering whose PDF is stored."""
    return db.session.scalar(
        select(func.count(Certificate.id))
        .join(CertificatePdf, CertificatePdf.certificate_id == Certificate.id)
        .where(Certificate.offering_id == offering_id,
               Certificate.status == CertificateStatus.ISSUED)) or 0


def missing_completion_ids(offering_id: int) -> list[int]:
    """Completions of the offering without a live certificate."""
    return list(db.session.scalars(
        select(Completion.id).join(Enrolment, Completion.enrolment_id == Enrolment.id)
        .where(Enrolment.offering_id == offering_id, _no_live_certificate())
        .order_by(Completion.id)))


def _no_live_certificate():
    """The completion has no live certificate: ``NOT EXISTS``, which PostgreSQL runs as an
    anti-join by the certificates' completion index from the offering's few completions
    (``NOT IN`` a subquery made it scan every completion in the region, 8-15 ms, and a
    certificate with no completion would have made it match none)."""
    return ~select(Certificate.id).where(
        Certificate.completion_id == Completion.id,
        Certificate.status == CertificateStatus.ISSUED).exists()


def missing_counts(offering_ids: list[int]) -> dict[int, int]:
    """``len(missing_completion_ids)`` of each of these offerings that has any, in one query."""
    return dict(db.session.execute(
        select(Enrolment.offering_id, func.count(Completion.id))
        .join(Enrolment, Completion.enrolment_id == Enrolment.id)
        .where(Enrolment.offering_id.in_(offering_ids), _no_live_certificate())
        .group_by(Enrolment.offering_id)).tuples().all())


def unrendered_ids(offering_id: int) -> list[int]:
    """Live certificates of the offering without a stored PDF."""
    stored = select(CertificatePdf.certificate_id)
    return list(db.session.scalars(
        select(Certificate.id).where(Certificate.offering_id == offering_id,
                                     Certificate.status == CertificateStatus.ISSUED,
                                     Certificate.id.not_in(stored))
        .order_by(Certificate.id)))


# ---------------------------------------------------------------------------- issuing


def write_lock() -> None:
    """``begin_write``, unless this transaction already holds the write lock (calling it
    again in a transaction that has only read would roll back, savepoints included)."""
    session = db.session()
    if (session.in_transaction()
            and session.connection().get_execution_options().get("lms_immediate")):
        return
    begin_write()


def _next_serials(year: int, n: int = 1) -> list[str]:
    """``n`` new serials, MDSN-<year>-<number>: one counter row per year, moved on atomically
    (an upsert), so concurrent issuers never share a number. A rolled-back issue leaves a
    gap, which is fine."""
    dialect = db.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = (
        insert(SerialCounter).values(year=year, last=n)
        .on_conflict_do_update(index_elements=[SerialCounter.year],
                               set_={"last": SerialCounter.last + n})
        .returning(SerialCounter.last)
    )
    last = db.session.execute(stmt).scalar_one()
    return [f"MDSN-{year}-{number:06d}" for number in range(last - n + 1, last + 1)]


def _hours_between(start: datetime, end: datetime) -> Decimal:
    return (Decimal((end - start).total_seconds()) / Decimal(3600)).quantize(Decimal("0.1"))


def _sessions_attended(offering: Offering, user_ids: list[int],
                       until: datetime) -> dict[int, list[Session]]:
    """Per person, the offering's sessions they attended (``until``: unused, kept for the
    callers), as the learning record and the dashboards count them
    (``lms.attendance.standing.counts_as_attended``): a certificate never lists a session the
    record does not. One query, however many people."""
    attended: dict[int, list[Session]] = {user_id: [] for user_id in user_ids}
    for user_id, session in db.session.execute(
        select(Attendance.user_id, Session).join(Attendance, Attendance.session_id == Session.id)
        .where(Session.offering_id == offering.id, Attendance.user_id.in_(user_ids),
               *counts_as_attended())
        .order_by(Session.starts_at)
    ).all():
        attended[user_id].append(session)
    return attended


def _snapshot(completion: Completion, template: str, sessions: list[Session]) -> dict:
    """What the certificate will say, fixed at issue."""
    enrolment = completion.enrolment
    offering = enrolment.offering
    person = enrolment.user
    course = getattr(offering, "course", None)
    details: dict = {}
    if course is not None:
        title = f"{course.title} ({offering.name})"
        cpd = Decimal(course.cpd_hours or 0)
        details.update(kind_label=course.kind_label, strand=course.strand_label)
    else:
        title = offering.title
        cpd = sum((_hours_between(s.starts_at, s.ends_at) for s in sessions), Decimal("0"))
        details["kind_label"] = KIND_LABELS.get(offering.kind, "Event")
    details["sessions"] = [
        {"title": s.title or offering.title, "date": to_london(s.starts_at).date().isoformat(),
         "hours": str(_hours_between(s.starts_at, s.ends_at))}
        for s in sessions
    ]
    # The day it was achieved: the last session held by the time of completion (completion
    # itself may fire a day later, in the scheduler's pass).
    ended = [s.ends_at for s in offering.live_sessions if s.ends_at <= completion.completed_at]
    achieved = max(ended) if ended else completion.completed_at
    achievement = ACHIEVEMENTS[T(template)]
    if template == T.WEBINAR and offering.kind == "webinar":
        achievement = "Attended the webinar"
    elif template == T.WEBINAR and offering.kind == "network":
        achievement = "Attended the network's meetings"
    return {
        "template": template,
        "holder_name": person.full_name,
        "achievement": achievement,
        "title": title[:300],
        "achieved_on": to_london(achieved).date(),
        "cpd_hours": cpd,
        "details": details,
    }


def _email_issued(certificate: Certificate, replaces: Certificate | None = None, *,
                  flush: bool = True) -> None:
    queue_email(
        certificate.user.email, f"Your certificate: {certificate.title}",
        "certificates/issued", flush=flush, person=certificate.user, certificate=certificate,
        replaces=replaces,
        download_url=link("certificates.download", id=certificate.id),
        certificates_url=link("certificates.mine"),
        verify_url=link("certificates.verify", code=certificate.code),
    )


def _build(completion: Completion, actor: User | None, template: str,
           sessions: list[Session]) -> Certificate:
    """A certificate for a completion, not yet added, with a placeholder serial, after
    checking that its template renders (as HTML: quick)."""
    certificate = Certificate(
        completion_id=completion.id, user_id=completion.enrolment.user_id,
        offering_id=completion.enrolment.offering_id, serial="MDSN-0000-000000",
        code=secrets.token_urlsafe(16), status=CertificateStatus.ISSUED, issued_at=utcnow(),
        issued_by_id=actor.id if actor else None,
        **_snapshot(completion, template, sessions),
    )
    rendering.renderer().html(rendering.context_for(certificate, "https://verify.invalid/"),
                              qr=False)
    return certificate


def issue_certificate(completion: Completion, actor: User | None = None, *,
                      notify: bool = True, replaces: Certificate | None = None) -> Certificate:
    """Issue the certificate for a completion and email its holder a link.

    ``actor`` is the faculty member issuing it, or None when the system does (on completion,
    in a bulk issue, from the CLI). Raises ``AlreadyIssued`` if a live certificate exists and
    ``CertificateTemplateError`` (naming the template and the person) if the template does
    not render, before anything is written; the caller rolls back in any case, so nothing is
    half-issued.
    """
    offering = completion.enrolment.offering
    if actor is not None and not can_manage(actor, offering):
        raise NotAllowed("Only faculty can issue certificates")
    write_lock()
    existing = live_certificate(completion.id)
    if existing is not None:
        raise AlreadyIssued(f"{completion.enrolment.user.full_name} already has certificate "
                            f"{existing.serial}")
    user_id = completion.enrolment.user_id
    sessions = _sessions_attended(offering, [user_id], completion.completed_at)[user_id]
    certificate = _build(completion, actor, template_for(offering), sessions)
    certificate.serial = _next_serials(to_london(certificate.issued_at).year)[0]
    db.session.add(certificate)
    certificate.replaces = replaces
    db.session.flush()
    if notify:
        _email_issued(certificate, replaces)
    return certificate


def issue_many(completion_ids: list[int], actor: User | None = None, *,
               notify: bool = True) -> list[Certificate]:
    """Bulk issue: the certificates of these completions (of one offering) that have none,
    with the same rules as ``issue_certificate`` in a handful of queries. All or nothing:
    a template that fails stops it before anything is written. If another process issued
    some of them meanwhile, falls back to one at a time (``ensure_certificate``). Returns
    the new certificates."""
    write_lock()
    live = select(Certificate.completion_id).where(
        Certificate.completion_id.in_(completion_ids),
        Certificate.status == CertificateStatus.ISSUED)
    # An inner join: SQLite would otherwise build the whole enrolment-person-offering join
    # (every enrolment in the database) to outer-join a chunk of 25 to it.
    completions = list(db.session.scalars(
        select(Completion).where(Completion.id.in_(completion_ids), Completion.id.not_in(live))
        .options(joinedload(Completion.enrolment, innerjoin=True)).order_by(Completion.id)))
    if not completions:
        return []
    offering = completions[0].enrolment.offering
    if any(c.enrolment.offering_id != offering.id for c in completions):
        raise ValueError("issue_many takes the completions of one offering")
    if actor is not None and not can_manage(actor, offering):
        raise NotAllowed("Only faculty can issue certificates")
    template = template_for(offering)
    until = max(c.completed_at for c in completions)
    sessions = _sessions_attended(offering, [c.enrolment.user_id for c in completions], until)
    certificates = [_build(c, actor, template, sessions[c.enrolment.user_id])
                    for c in completions]
    year = to_london(utcnow()).year
    try:
        with db.session.begin_nested():
            for certificate, serial in zip(certificates, _next_serials(year, len(certificates)),
                                           strict=True):
                certificate.serial = serial
            db.session.add_all(certificates)
            db.session.flush()
    except IntegrityError:
        issued = [ensure_certificate(c, actor, notify=notify) for c in completions]
        return [certificate for certificate, new in issued if new]
    if notify:
        for certificate in certificates:
            _email_issued(certificate, flush=False)
        db.session.flush()  # the emails in one statement
    return certificates


def issue_for(actor: User, enrolment: Enrolment) -> Certificate:
    """Faculty issue one person's certificate. Only people who completed are eligible."""
    if not can_manage(actor, enrolment.offering):
        raise NotAllowed("Only faculty can issue certificates")
    completion = completion_of(enrolment)
    if completion is None:
        raise NotEligible(f"{enrolment.user.full_name} has not completed "
                          f"{enrolment.offering.title}, so cannot have a certificate yet")
    return issue_certificate(completion, actor)


def ensure_certificate(completion: Completion, actor: User | None = None, *,
                       notify: bool = True) -> tuple[Certificate, bool]:
    """The live certificate for a completion, issuing it if there is none. Safe to call
    again, and against a concurrent issuer: the second insert fails on the unique index
    inside a savepoint and the winner's certificate is returned. (Certificate, new?)"""
    write_lock()
    existing = live_certificate(completion.id)
    if existing is not None:
        return existing, False
    try:
        with db.session.begin_nested():
            return issue_certificate(completion, actor, notify=notify), True
    except IntegrityError:
        existing = live_certificate(completion.id)
        if existing is None:
            raise
        return existing, False


def issue_on_completion(completion: Completion) -> None:
    """The completion hook: issue the certificate in the completing transaction. A failure
    here (a broken template) must not undo the completion: it is logged, the savepoint
    leaves nothing behind, and faculty can issue later from the certificates page."""
    try:
        ensure_certificate(completion)
    except DomainError as error:
        log.warning("certificate not issued on completion %s: %s", completion.id, error.message)
    except Exception:  # noqa: BLE001 - certificates must never stop a register being saved
        log.exception("certificate not issued on completion %s", completion.id)
