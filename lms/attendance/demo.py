"""Demo registers for what is under way: the sessions already held of running cohorts and
the latest meetings of each network, taken through the real register (``record_register``),
so progress pages, "In progress" on people's homes, the dashboards and the charts show real
attendance rather than zeros. (Finished offerings' registers come with their completions,
in ``lms.certificates.demo``.)

Idempotent: a session that has any mark is left alone. Flushes; ``lms.demo`` commits.
"""

from __future__ import annotations

from sqlalchemy import select

from lms.accounts.models import User
from lms.attendance import services
from lms.attendance.models import Attendance, Mark
from lms.attendance.standing import is_held
from lms.clock import utcnow
from lms.extensions import db
from lms.offerings.models import Offering, OfferingStatus

FACULTY = "faculty@example.nhs.uk"
LEARNER = "learner@example.nhs.uk"
# The network meetings given a register: the latest few held (a year of huddles would be
# thousands of marks, and slow seeding for nothing).
NETWORK_MEETINGS = 2


def _marks(user_ids: list[int], session_number: int, network: bool) -> dict:
    """Most people present, some late, a few absent (many more at a drop-in network); the
    demo learner always came."""
    marks = {}
    for user_id in user_ids:
        turn = (user_id * 7 + session_number * 3) % 10
        if network:
            status = Mark.PRESENT if turn < 4 else Mark.LATE if turn < 5 else Mark.ABSENT
        else:
            status = Mark.ABSENT if turn == 0 else Mark.LATE if turn == 1 else Mark.PRESENT
        marks[user_id] = (status, "")
    return marks


def seed() -> dict[str, int]:
    """Registers for the held sessions of running cohorts and recent network meetings."""
    faculty = db.session.scalar(select(User).where(User.email == FACULTY))
    learner = db.session.scalar(select(User).where(User.email == LEARNER))
    if faculty is None:
        return {"register marks": 0}
    now = utcnow()
    marked_sessions = set(db.session.scalars(select(Attendance.session_id).distinct()))
    offerings = db.session.scalars(
        select(Offering).where(
            (Offering.status == OfferingStatus.RUNNING)
            | ((Offering.kind == "network") & (Offering.status == OfferingStatus.OPEN)))
        .order_by(Offering.id)).all()
    made = 0
    for offering in offerings:
        network = offering.kind == "network"
        held = [s for s in offering.live_sessions if is_held(s, now)]
        if network:
            held = held[-NETWORK_MEETINGS:]
        for number, session in enumerate(held):
            if session.id in marked_sessions:
                continue
            people = [row.user.id for row in services.register(session) if row.has_place]
            marks = _marks(people, number, network)
            if learner is not None and learner.id in marks:
                marks[learner.id] = (Mark.PRESENT, "")
            made += services.record_register(faculty, session, marks)
    db.session.flush()
    return {"register marks": made}
