"""Demo learning materials and project work, through the real services: pre-reading (a link
and a small PDF) and a recording on the running cohort the demo learner is on, an
assignment there with the learner's work awaiting marking, a resource on the network, a
registration question on an upcoming offering and an entry in the learner's reflective log.

Idempotent: nothing is added once the pre-reading exists. Flushes; ``lms.demo`` commits.
"""

from __future__ import annotations

import io
from datetime import timedelta

from sqlalchemy import select

from lms.accounts.models import User
from lms.clock import to_london, utcnow
from lms.extensions import db
from lms.learning import assignments, materials, questions, reflection, resources
from lms.learning.materials_models import Material
from lms.offerings.models import Enrolment, EnrolmentState, Offering, OfferingStatus

FACULTY = "faculty@example.nhs.uk"
LEARNER = "learner@example.nhs.uk"
READING = "Pre-reading: forecasting demand in the NHS"
HANDOUT = "Session handout (PDF)"
ASSIGNMENT = "Forecasting project plan"
RESOURCE = "NHS-R Community: forecasting with fable"
QUESTION = "Do you have any access needs we should plan for?"
REFLECTION = "Presenting a forecast to the board"
RECORDING = "https://www.youtube.com/watch?v=demo-recording"


def handout_pdf(title: str = "Forecasting demand: session handout") -> bytes:
    """A one-page PDF with a line of text, built by hand (offsets counted), so the demo
    needs no PDF library."""
    text = title.replace("\\", "").replace("(", "").replace(")", "")
    stream = f"BT /F1 18 Tf 72 760 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    table = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1, table)
    return bytes(out)


def _person(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == email))


def _running_cohort(learner: User) -> Offering | None:
    """The running cohort the demo learner has taken a place on."""
    return db.session.scalar(
        select(Offering).join(Enrolment, Enrolment.offering_id == Offering.id)
        .where(Enrolment.user_id == learner.id, Enrolment.state == EnrolmentState.ENROLLED,
               Offering.status == OfferingStatus.RUNNING, Offering.kind == "cohort")
        .order_by(Offering.id).limit(1))


def _upcoming(now) -> Offering | None:
    """The soonest offering open for booking that has not started."""
    offerings = db.session.scalars(select(Offering).where(
        Offering.status == OfferingStatus.OPEN).order_by(Offering.id))
    upcoming = [o for o in offerings if o.starts_at is not None and o.starts_at > now]
    return min(upcoming, key=lambda o: o.starts_at, default=None)


def seed() -> dict[str, int]:
    from lms.events import services as event_services
    from lms.events.pages import recordings_for

    faculty, learner = _person(FACULTY), _person(LEARNER)
    if faculty is None or learner is None or db.session.scalar(
            select(Material.id).where(Material.title == READING)):
        return {"learning items": 0}
    now = utcnow()
    cohort = _running_cohort(learner)
    added = 0
    if cohort is not None:
        materials.add_material(faculty, cohort, materials.MaterialDetails(
            kind="link", title=READING, url="https://www.england.nhs.uk/forecasting/",
            note="Read this before the next session: **sections 1 to 3**."))
        materials.add_material(faculty, cohort, materials.MaterialDetails(
            kind="file", title=HANDOUT, upload=materials.Upload(
                "forecasting-handout.pdf", io.BytesIO(handout_pdf()))))
        held = [s for s in cohort.live_sessions if s.ends_at < now]
        if held and held[-1].id not in recordings_for([held[-1].id]):
            event_services.publish_recording(faculty, held[-1], RECORDING)
            added += 1
        due = to_london(now + timedelta(days=10))
        work = assignments.set_assignment(faculty, cohort, assignments.AssignmentDetails(
            title=ASSIGNMENT, due_day=due.date(), due_time=assignments.DEFAULT_DUE_TIME,
            brief="Write a one-page plan for a forecast your service needs: the decision it "
                  "informs, the data, the method and how you will show the uncertainty."))
        assignments.submit(learner, work, "My plan forecasts weekly A&E attendances for "
                           "Birmingham to inform winter staffing, using four years of ECDS "
                           "data and an ETS model, with 80% and 95% intervals.")
        added += 4
    network = db.session.scalar(select(Offering).where(Offering.kind == "network")
                                .order_by(Offering.id).limit(1))
    if network is not None:
        resources.add_resource(faculty, network, resources.ResourceDetails(
            kind="link", title=RESOURCE, url="https://nhsrcommunity.com/",
            description="Worked examples of forecasting NHS activity in R.",
            tags="forecasting, R", members_only=False))
        added += 1
    upcoming = _upcoming(now)
    if upcoming is not None:
        questions.add_question(faculty, upcoming, questions.QuestionDetails(
            kind="access", text=QUESTION, hint="For example, step-free access or captions."))
        added += 1
    reflection.write_entry(learner, reflection.EntryDetails(
        happened_on=to_london(now).date() - timedelta(days=2), title=REFLECTION,
        what_happened="I showed our winter forecast; the board asked for a single number.",
        what_learned="Lead with the decision, then show the range and what it means.",
        do_differently="Bring one chart with the interval shaded, not a table.",
        link=f"offering:{cohort.id}" if cohort is not None else ""))
    return {"learning items": added + 1}
