"""Demo certificates: everyone with a place on a finished cohort or event (the past festival
included) completed, bar a few, and has a certificate; the demo learner has one that was
reissued, to show the history. PDFs are made when first downloaded.

A completion is backed by the register, as it is outside the demo: its person is marked at
the sessions held (a festival's: those they booked), absent from one where the rule allows,
so the progress page, the learning record, the certificate and the dashboards all show the
same attendance (``lms.attendance.standing``).

Idempotent: completions are added only where missing, certificates only where no live one
exists. Flushes; ``lms.demo.seed_demo`` commits.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from lms.accounts.models import User
from lms.attendance import standing
from lms.attendance.completion import rule_for
from lms.attendance.models import Attendance, Completion, Mark, Source
from lms.certificates import pages, revocation, services
from lms.certificates.models import Certificate, CertificateStatus
from lms.clock import utcnow
from lms.extensions import db
from lms.offerings.models import (
    Booking,
    BookingState,
    Enrolment,
    EnrolmentEvent,
    EnrolmentState,
    Offering,
    OfferingStatus,
)

LEARNER = "learner@example.nhs.uk"
FACULTY = "faculty@example.nhs.uk"


def _complete_finished() -> int:
    """Completion rows for people with a place on finished offerings; one in nine did not
    complete (the demo learner always did). Returns how many were added."""
    done = select(Completion.enrolment_id)
    rows = db.session.execute(
        select(Enrolment, Offering)
        .join(Offering, Enrolment.offering_id == Offering.id)
        .where(Offering.status == OfferingStatus.FINISHED,
               Enrolment.state.in_((EnrolmentState.ENROLLED, EnrolmentState.COMPLETED)),
               Enrolment.id.not_in(done))
        .order_by(Enrolment.id)
    ).all()
    added = 0
    for enrolment, offering in rows:
        if enrolment.id % 9 == 0 and enrolment.user.email != LEARNER:
            continue
        ended = offering.ends_at or utcnow()
        _mark_register(enrolment, offering)
        db.session.flush()
        share = standing.share_of(enrolment)
        db.session.add(Completion(enrolment_id=enrolment.id,
                                  completed_at=ended + timedelta(hours=1),
                                  attendance_percent=share.percent or 0))
        if enrolment.state != EnrolmentState.COMPLETED:
            db.session.add(EnrolmentEvent(enrolment_id=enrolment.id, from_state=enrolment.state,
                                          to_state=EnrolmentState.COMPLETED,
                                          reason="Completion rule met (demo data)"))
            enrolment.state = EnrolmentState.COMPLETED
        added += 1
    db.session.flush()
    return added


def _mark_register(enrolment: Enrolment, offering: Offering) -> None:
    """Mark a person who completed at the sessions held (a festival's: those they booked);
    one in three missed one, where the rule still lets them complete."""
    now = utcnow()
    held = [s for s in offering.live_sessions if standing.is_held(s, now)]
    if offering.kind == "festival":
        booked = set(db.session.scalars(select(Booking.session_id).where(
            Booking.user_id == enrolment.user_id, Booking.state == BookingState.BOOKED)))
        held = [s for s in held if s.id in booked]
    marked = set(db.session.scalars(select(Attendance.session_id).where(
        Attendance.user_id == enrolment.user_id,
        Attendance.session_id.in_([s.id for s in held]))))
    needed = rule_for(offering).min_attendance_percent
    missed = (held[-1].id if enrolment.id % 3 == 0 and len(held) > 1
              and 100 * (len(held) - 1) / len(held) >= needed else None)
    db.session.add_all(
        Attendance(session_id=s.id, user_id=enrolment.user_id, source=Source.REGISTER,
                   status=Mark.ABSENT if s.id == missed else Mark.PRESENT)
        for s in held if s.id not in marked)


def seed() -> dict[str, int]:
    """Complete the finished offerings' people and issue their certificates."""
    completed = _complete_finished()
    finished = select(Offering.id).where(Offering.status == OfferingStatus.FINISHED)
    live = select(Certificate.completion_id).where(Certificate.status == CertificateStatus.ISSUED,
                                                   Certificate.completion_id.is_not(None))
    completions = db.session.scalars(
        select(Completion).join(Enrolment, Completion.enrolment_id == Enrolment.id)
        .where(Enrolment.offering_id.in_(finished), Completion.id.not_in(live))
        .order_by(Completion.id)).all()
    issued = 0
    for completion in completions:
        _, new = services.ensure_certificate(completion, notify=False)
        issued += new
    issued += _reissue_example()
    db.session.flush()
    return {"completions": completed, "certificates": issued}


def _reissue_example() -> int:
    """The demo learner's oldest certificate was reissued once (a name corrected)."""
    learner = db.session.scalar(select(User).where(User.email == LEARNER))
    faculty = db.session.scalar(select(User).where(User.email == FACULTY))
    if learner is None or faculty is None:
        return 0
    mine = pages.my_certificates(learner)
    if not mine or any(not c.is_live for c in mine):
        return 0
    revocation.reissue(faculty, mine[-1], "Name corrected at the learner's request")
    return 1
