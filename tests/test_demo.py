"""The demo region tells the truth about "today": past sessions have the attendance their
completions and certificates say, and something is on now for every persona's home."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import func, select

from lms.accounts.models import OrganisationChange, User
from lms.attendance import standing
from lms.attendance.completion import rule_for
from lms.attendance.models import Attendance, Completion
from lms.certificates.models import Certificate, CertificateStatus
from lms.clock import utcnow
from lms.demo import seed_demo
from lms.extensions import db
from lms.feedback.models import Survey
from lms.offerings import policy
from lms.offerings.models import (
    Enrolment,
    EnrolmentState,
    Offering,
    OfferingStatus,
    Session,
)
from lms.offerings.places import quota_use


def _text(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)))


def _person(email: str) -> User:
    return db.session.scalar(select(User).where(User.email == email))


def test_the_demo_is_coherent_around_today(app, client, login):
    with app.app_context():
        first = seed_demo()
        assert first["register marks"] > 0
        now = utcnow()

        # Every completion is backed by the register it reports, and has its certificate.
        completions = db.session.scalars(select(Completion)).all()
        assert len(completions) > 100
        live = set(db.session.scalars(select(Certificate.completion_id).where(
            Certificate.status == CertificateStatus.ISSUED)))
        for completion in completions:
            enrolment = db.session.get(Enrolment, completion.enrolment_id)
            share = standing.share_of(enrolment)
            assert share.percent == completion.attendance_percent
            if enrolment.offering.kind != "festival":
                # (A festival's people attend the sessions they booked, so its share of all
                # sessions held is low by design: see the report's caveat.)
                assert share.percent >= rule_for(enrolment.offering).min_attendance_percent
            assert completion.id in live

        # What is under way has its registers: every held session of a running cohort.
        running = db.session.scalars(select(Offering).where(
            Offering.status == OfferingStatus.RUNNING)).all()
        assert running and any(o.starts_at < now < o.ends_at for o in running)
        for offering in running:
            for session in offering.live_sessions:
                if standing.is_held(session, now):
                    assert db.session.scalar(select(func.count(Attendance.id)).where(
                        Attendance.session_id == session.id)) > 0, session.title

        # A huddle this week (today or in the next six days), with the last one's register.
        huddles = db.session.scalar(select(Offering).where(
            Offering.title == "Midlands Analyst Network huddles"))
        this_week = [s for s in huddles.live_sessions
                     if now - timedelta(hours=12) < s.starts_at < now + timedelta(days=7)]
        assert len(this_week) == 1
        last_held = [s for s in huddles.live_sessions if standing.is_held(s, now)][-1]
        assert db.session.scalar(select(func.count(Attendance.id)).where(
            Attendance.session_id == last_held.id)) > 20

        # A survey open now, and a nomination window open with places left for the demo lead.
        assert db.session.scalar(select(func.count(Survey.id)).where(
            Survey.opens_at <= now, Survey.closes_at > now, Survey.is_template.is_(False)))
        lead = _person("dsulead@example.nhs.uk")
        windows = [o for o in db.session.scalars(select(Offering).where(
            Offering.booking_mode == "nomination", Offering.status == OfferingStatus.OPEN))
            if policy.nominations_closed(o, now) is None]
        assert windows and any(policy.may_nominate(lead, o, now=now) for o in windows)
        assert any(quota_use(o.id).get(lead.organisation_id, 0) < 2 for o in windows)

        # The learner has an offer and an approved nomination to answer, and a move waits.
        learner = _person("learner@example.nhs.uk")
        states = {e.state: e for e in db.session.scalars(select(Enrolment).where(
            Enrolment.user_id == learner.id))}
        assert states[EnrolmentState.OFFERED].offer_expires_at > now
        assert EnrolmentState.APPROVED in states
        assert db.session.scalar(select(func.count(OrganisationChange.id)).where(
            OrganisationChange.status == "pending",
            OrganisationChange.to_organisation_id == lead.organisation_id)) == 1
        # Learning: pre-reading (a link and a stored PDF) and a recording on the learner's
        # running cohort, their work awaiting marking, a network resource, a registration
        # question on an upcoming offering and an entry in their reflective log.
        from lms.events.models import SessionRecording
        from lms.learning import demo as learning_demo
        from lms.learning.assignments_models import Assignment, Submission
        from lms.learning.materials_models import Material
        from lms.learning.questions_models import RegistrationQuestion
        from lms.learning.reflection_models import ReflectionEntry
        from lms.learning.resources_models import NetworkResource
        from lms.learning.storage import storage

        reading = db.session.scalar(select(Material).where(
            Material.title == learning_demo.READING))
        handout = db.session.scalar(select(Material).where(
            Material.title == learning_demo.HANDOUT))
        cohort = reading.offering
        assert cohort.status == OfferingStatus.RUNNING and handout.offering_id == cohort.id
        assert reading.kind == "link" and handout.is_file
        with storage().open(handout.file_key) as stored:
            assert stored.read().startswith(b"%PDF-")
        assert db.session.scalar(select(func.count()).select_from(SessionRecording).join(
            Session, Session.id == SessionRecording.session_id).where(
            Session.offering_id == cohort.id, Session.ends_at < now)) >= 1
        work = db.session.scalar(select(Assignment).where(
            Assignment.title == learning_demo.ASSIGNMENT))
        assert work.offering_id == cohort.id and work.due_at > now
        submission = db.session.scalar(select(Submission).where(
            Submission.assignment_id == work.id, Submission.user_id == learner.id))
        assert submission is not None and submission.outcome is None
        resource = db.session.scalar(select(NetworkResource).where(
            NetworkResource.title == learning_demo.RESOURCE))
        assert db.session.get(Offering, resource.network_id).kind == "network"
        question = db.session.scalar(select(RegistrationQuestion).where(
            RegistrationQuestion.text == learning_demo.QUESTION))
        assert db.session.get(Offering, question.offering_id).starts_at > now
        assert db.session.scalar(select(ReflectionEntry).where(
            ReflectionEntry.user_id == learner.id,
            ReflectionEntry.title == learning_demo.REFLECTION)) is not None
        people = {email: _person(email) for email in (
            "learner@example.nhs.uk", "dsulead@example.nhs.uk", "faculty@example.nhs.uk",
            "admin@example.nhs.uk")}
        for person in people.values():
            db.session.expunge(person)

    login(people["learner@example.nhs.uk"])
    home = _text(client.get("/"))
    action = home[home.index("Needs your action"):home.index("Next sessions")]
    assert "A place is offered to you" in action and "Confirm your place" in action
    assert "Give feedback" in action
    assert "Midlands Analyst Network huddles" in home[home.index("Next sessions"):]
    assert "You attended" in home[home.index("In progress"):]
    assert "Pre-reading: forecasting demand" in home[home.index("Materials"):]
    login(people["faculty@example.nhs.uk"])
    faculty = _text(client.get("/"))
    assert "Midlands Analyst Network huddles" in faculty[
        faculty.index("Your sessions today and this week"):faculty.index("Offerings needing")]
    login(people["dsulead@example.nhs.uk"])
    assert "Nominate people to" in _text(client.get("/"))
    login(people["admin@example.nhs.uk"])
    assert "asks to move from The Black Country" in _text(client.get("/"))
    # An open huddle call with proposals and a review (lms.talks.demo).
    login(people["learner@example.nhs.uk"])
    calls = _text(client.get("/calls"))
    assert "Huddle talks: the next three months" in calls
    assert "Forecasting A&amp;E demand with Prophet" in _text(client.get("/my-proposals"))
    login(people["faculty@example.nhs.uk"])
    assert first["talk_proposals"] == 3

    with app.app_context():
        again = seed_demo()
    assert again["register marks"] == 0 and again["places"] == 0
    assert again["learning items"] == 0
    assert again["talk_calls"] == 0
