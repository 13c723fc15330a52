"""UK GDPR: a person downloads everything held about them (JSON, and a zip of CSV files),
and nobody else's; an admin erases a person, and every count in the reports stays the same.
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

import pytest
from flask_login import login_user
from sqlalchemy import func, select

from lms.accounts.models import AccountToken, Role, SignInAttempt, User, UserRole
from lms.accounts.services import authenticate, load_user_from_session
from lms.api.models import ApiToken
from lms.attendance.models import Attendance, AttendanceImport, Completion, SignOff, UnmatchedRow
from lms.audit.models import AuditEntry
from lms.certificates.models import Certificate, CertificatePdf
from lms.clock import to_london, utcnow
from lms.competencies import services as competencies
from lms.competencies.models import Competency, CompetencyEvidence
from lms.courses.models import Cohort, Course
from lms.errors import DomainError
from lms.events.models import CalendarFeedToken
from lms.extensions import db
from lms.feedback.models import (
    Survey,
    SurveyAnswer,
    SurveyDraft,
    SurveyQuestion,
    SurveyRespondent,
    SurveyResponse,
)
from lms.notifications.models import OutboxMessage
from lms.notifications.services import queue_email
from lms.offerings import pages
from lms.offerings import services as places
from lms.offerings.models import Enrolment, EnrolmentEvent, Session
from lms.privacy import services as privacy
from tests.conftest import PASSWORD, TOTP_SECRET, organisation, sign_in_with_code


@dataclass
class History:
    learner_id: int
    other_id: int
    admin_id: int
    cohort_id: int
    future_id: int
    survey_id: int
    named_survey_id: int


def build_history(app) -> History:
    """A learner (Lena, BSOL) who finished a past cohort: attended two of two sessions
    (a faculty note on one), completed, got a certificate and course evidence, answered an
    anonymous and a named survey, left a draft, has a calendar feed, a reset link, failed
    sign-ins and emails; holds a place on a future cohort with one person waiting. Another
    BSOL learner, Otto, did the same past cohort."""
    with app.test_request_context():
        competencies.ensure_framework()
        forecasting = db.session.scalar(select(Competency).where(
            Competency.code == "forecasting"))
        faculty = _person("fay@example.nhs.uk", "Fay Faculty", Role.FACULTY, org="SU")
        admin = _person("ada@example.nhs.uk", "Ada Admin", Role.ADMIN, org="SU")
        lena = _person("lena@example.nhs.uk", "Lena Learner", job="Senior analyst")
        otto = _person("otto@example.nhs.uk", "Otto Other")
        course = Course(title="Forecasting", summary="s", kind="short_course",
                        strand="analytical_capability", format="online", cpd_hours=6)
        past = Cohort(course=course, name="Spring", title="Forecasting: Spring",
                      capacity=20, status="finished", booking_mode="open")
        now = utcnow()
        for days in (40, 20):
            start = now - timedelta(days=days)
            past.sessions.append(Session(starts_at=start, ends_at=start + timedelta(hours=2)))
        future = Cohort(course=course, name="Autumn", title="Forecasting: Autumn",
                        capacity=1, status="open", booking_mode="open")
        start = now + timedelta(days=30)
        future.sessions.append(Session(starts_at=start, ends_at=start + timedelta(hours=2)))
        db.session.add_all([past, future])
        db.session.flush()
        for person in (lena, otto):
            enrolment = Enrolment(offering_id=past.id, user_id=person.id, state="completed")
            enrolment.history.append(EnrolmentEvent(from_state=None, to_state="enrolled",
                                                    actor_id=person.id, reason="Booked"))
            enrolment.history.append(EnrolmentEvent(from_state="enrolled",
                                                    to_state="completed", reason="Met rule"))
            db.session.add(enrolment)
            for session in past.sessions:
                db.session.add(Attendance(session_id=session.id, user_id=person.id,
                                          status="present", source="register",
                                          recorded_by_id=faculty.id,
                                          note=f"{person.full_name} led the discussion"))
            db.session.flush()
            completion = Completion(enrolment_id=enrolment.id, attendance_percent=100)
            db.session.add(completion)
            db.session.add(SignOff(enrolment_id=enrolment.id, signed_off_by_id=faculty.id,
                                   note=f"Well done {person.full_name}"))
            db.session.flush()
            certificate = Certificate(
                completion_id=completion.id, user_id=person.id, offering_id=past.id,
                serial=f"MDSN-2026-{person.id:06d}", code=f"code{person.id:039d}",
                template="course", holder_name=person.full_name,
                achievement="Completed the course", title=past.title,
                achieved_on=to_london(utcnow()).date(), cpd_hours=Decimal("6"),
                issued_by_id=faculty.id)
            db.session.add(certificate)
            db.session.flush()
            db.session.add(CertificatePdf(certificate_id=certificate.id, pdf=b"%PDF-1.7 ...",
                                          size=12))
            db.session.add(CompetencyEvidence(user_id=person.id, competency_id=forecasting.id,
                                              level=3, source="course",
                                              completion_id=completion.id, course_id=course.id,
                                              note="Completed Forecasting"))
            db.session.add(CompetencyEvidence(user_id=person.id, competency_id=forecasting.id,
                                              level=4, source="faculty",
                                              recorded_by_id=faculty.id,
                                              note=f"{person.full_name} teaches others now"))
        anonymous = _survey(past, anonymous=True)
        named = _survey(past, anonymous=False)
        for person, number, words in ((lena, 5, "Loved it"), (otto, 3, "Fine")):
            for survey, who in ((anonymous, None), (named, person.id)):
                response = SurveyResponse(survey_id=survey.id, anonymous=who is None,
                                          user_id=who, submitted_at=who and now)
                response.answers.append(SurveyAnswer(question_id=survey.questions[0].id,
                                                     number=number))
                response.answers.append(SurveyAnswer(question_id=survey.questions[1].id,
                                                     text=f"{words} ({survey.title})"))
                db.session.add(response)
                db.session.add(SurveyRespondent(survey_id=survey.id, user_id=person.id))
        later = Survey(title="Follow-up", anonymous=False, offering_id=past.id)
        db.session.add(later)
        db.session.flush()
        db.session.add(SurveyDraft(survey_id=later.id, user_id=lena.id,
                                   answers={"1": ["half-written thoughts"]}))
        db.session.add(CalendarFeedToken(user_id=lena.id, token_hash="f" * 64))
        db.session.add(ApiToken(user_id=lena.id, name="My spreadsheet", prefix="lms_abcd",
                                token_hash="c" * 64, scope="read",
                                expires_at=now + timedelta(days=90)))
        db.session.add(AccountToken(user_id=lena.id, purpose="reset_password",
                                    token_hash="a" * 64, expires_at=now + timedelta(hours=1)))
        db.session.add_all([SignInAttempt(email=lena.email, address="203.0.113.1"),
                            SignInAttempt(email=otto.email, address="203.0.113.2")])
        queue_email(lena.email, "Your place is booked", "accounts/password_changed", user=lena)
        queue_email(otto.email, "Your place is booked", "accounts/password_changed", user=otto)
        report = AttendanceImport(session_id=past.sessions[0].id, kind="teams",
                                  filename="teams.csv", sha256="b" * 64,
                                  imported_by_id=faculty.id)
        report.unmatched.append(UnmatchedRow(name="Lena L (home laptop)",
                                             email="lena@example.nhs.uk", minutes=50,
                                             resolution="open"))
        db.session.add(report)
        db.session.flush()
        places.book(lena, future)
        places.book(otto, future)  # waits behind Lena
        db.session.commit()
        return History(lena.id, otto.id, admin.id, past.id, future.id, anonymous.id,
                       named.id)


def _person(email: str, name: str, *roles: Role, org: str = "BSOL", job: str = "Analyst"):
    from lms.accounts.services import hash_password

    user = User(email=email, full_name=name, job_title=job, organisation=organisation(org),
                password_hash=hash_password(PASSWORD), email_verified_at=utcnow())
    user.role_rows.extend(UserRole(role=r) for r in {Role.LEARNER, *roles})
    if Role.ADMIN in roles:  # admins must have two-step verification on
        user.totp_secret, user.totp_enabled_at = TOTP_SECRET, utcnow()
    db.session.add(user)
    db.session.flush()
    return user


def _survey(offering, anonymous: bool) -> Survey:
    survey = Survey(title="Anonymous feedback" if anonymous else "Named feedback",
                    anonymous=anonymous, offering_id=offering.id)
    survey.questions.append(SurveyQuestion(position=1, kind="agreement", text="Useful?"))
    survey.questions.append(SurveyQuestion(position=2, kind="long_text", text="Why?",
                                           required=False))
    db.session.add(survey)
    db.session.flush()
    return survey


@pytest.fixture
def history(app) -> History:
    return build_history(app)


def _sign_in(client, email: str) -> None:
    response = client.post("/sign-in", data={"email": email, "password": PASSWORD})
    assert response.status_code == 302, response.get_data(as_text=True)


# ---------------------------------------------------------------------------- the copy


def test_the_json_copy_has_everything_about_the_person_and_nothing_about_others(
        app, client, history):
    _sign_in(client, "lena@example.nhs.uk")
    response = client.get("/profile/your-data.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert "attachment" in response.headers["Content-Disposition"]
    assert response.headers["Cache-Control"] == "no-store"
    data = response.get_json()
    text = response.get_data(as_text=True)
    person = data["person"]
    assert (person["full_name"], person["email"], person["job_title"]) == (
        "Lena Learner", "lena@example.nhs.uk", "Senior analyst")
    assert person["organisation"] == "Birmingham and Solihull"
    assert person["roles"] == ["Learner"]
    assert person["password_hash"] == "[not included]"
    records = data["records"]
    places_held = {r["offering_title"]: r["state"] for r in records["enrolment"]["rows"]}
    assert places_held == {"Forecasting: Spring": "completed",
                           "Forecasting: Autumn": "enrolled"}
    assert {r["to_state"] for r in records["enrolment_event"]["rows"]} == {"enrolled",
                                                                          "completed"}
    assert len(records["attendance"]["rows"]) == 2
    assert len(records["completion"]["rows"]) == 1
    assert len(records["completion_sign_off"]["rows"]) == 1
    assert records["certificate"]["rows"][0]["holder_name"] == "Lena Learner"
    assert records["certificate_pdf"]["rows"][0]["pdf"].endswith("not included]")
    assert {r["level"] for r in records["competency_evidence"]["rows"]} == {3, 4}
    # The named survey's answers are hers; the anonymous survey's are nobody's.
    assert len(records["survey_response"]["rows"]) == 1
    assert {r.get("text") for r in records["survey_answer"]["rows"]} == {
        None, "Loved it (Named feedback)"}
    assert "Loved it (Anonymous feedback)" not in text
    assert len(records["survey_respondent"]["rows"]) == 2  # that she answered both
    assert records["survey_draft"]["rows"][0]["answers"] == {"1": ["half-written thoughts"]}
    assert records["calendar_feed_token"]["rows"][0]["token_hash"] == "[not included]"
    assert records["account_token"]["rows"][0]["token_hash"] == "[not included]"
    [api_token] = records["api_token"]["rows"]
    assert (api_token["name"], api_token["scope"], api_token["token_hash"]) == (
        "My spreadsheet", "read", "[not included]")
    assert [r["address"] for r in records["sign_in_attempt"]["rows"]] == ["203.0.113.1"]
    assert [r["subject"] for r in records["outbox_message"]["rows"]].count(
        "Your place is booked") == 1
    assert records["attendance_unmatched_row"]["rows"][0]["name"] == "Lena L (home laptop)"
    assert records["enrolment"]["description"].startswith("A person's place")
    # Nothing about anyone else: not Otto, and no secrets.
    for leak in ("otto@example.nhs.uk", "Otto Other", "Fine (", "feed-secret", "a" * 64, "c" * 64,
                 "fay@example.nhs.uk", "203.0.113.2"):
        assert leak not in text, leak


def test_records_made_about_others_are_counted_not_copied(app, client, history):
    _sign_in(client, "fay@example.nhs.uk")
    data = client.get("/profile/your-data.json").get_json()
    made = data["records_you_made_about_others"]
    assert made["attendance.recorded_by_id"]["rows"] == 4
    assert made["completion_sign_off.signed_off_by_id"]["rows"] == 2
    text = json.dumps(data)
    assert "Lena" not in text and "Otto" not in text


def test_the_zip_has_one_spreadsheet_per_kind_of_record(app, client, history):
    with app.app_context():
        db.session.get(User, history.learner_id).job_title = "=HYPERLINK(\"http://x\")"
        db.session.commit()
    _sign_in(client, "lena@example.nhs.uk")
    response = client.get("/profile/your-data.zip")
    assert response.status_code == 200 and response.mimetype == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.data))
    names = set(archive.namelist())
    assert {"README.txt", "person.csv", "enrolment.csv", "attendance.csv",
            "certificate.csv", "survey_answer.csv"} <= names
    person = dict(csv.reader(io.StringIO(archive.read("person.csv").decode("utf-8-sig"))))
    assert person["full_name"] == "Lena Learner"
    assert person["job_title"] == "'=HYPERLINK(\"http://x\")"  # not a formula
    rows = list(csv.DictReader(io.StringIO(archive.read("enrolment.csv").decode("utf-8-sig"))))
    assert {r["state"] for r in rows} == {"completed", "enrolled"}
    readme = archive.read("README.txt").decode()
    assert "enrolment.csv: A person's place" in readme


def test_the_page_links_both_formats(client, login, people):
    login(people.learner)
    page = client.get("/profile/your-data").get_data(as_text=True)
    assert "/profile/your-data.zip" in page and "/profile/your-data.json" in page
    assert page.count("<h1") == 1
    assert "/profile/your-data" in client.get("/profile").get_data(as_text=True)


def test_a_new_table_pointing_at_people_is_found_without_being_listed(app, make_user):
    """Discovery is by foreign keys: a table made here, after the fact, is covered."""
    from sqlalchemy import Column, ForeignKey, Integer, MetaData, String, Table

    scratch = MetaData()
    Table("user_account", scratch, Column("id", Integer, primary_key=True))
    gadget = Table("zz_gadget", scratch, Column("id", Integer, primary_key=True),
                   Column("user_id", ForeignKey("user_account.id")),
                   Column("note", String(50)))
    user = make_user(name="Gadget owner")
    with app.app_context():
        gadget.create(db.engine)
        # Discovery walks the app's metadata: add the table to it for this test only.
        copied = gadget.to_metadata(db.metadata)
        try:
            db.session.execute(gadget.insert().values(user_id=user.id, note="mine"))
            data = privacy.personal_data(db.session.get(User, user.id))
            assert data["records"]["zz_gadget"]["rows"] == [
                {"id": 1, "user_id": user.id, "note": "mine"}]
        finally:
            db.metadata.remove(copied)
            db.session.rollback()
            gadget.drop(db.engine)


# ---------------------------------------------------------------------------- erasure


def _figures(history: History) -> dict:
    """Every count the reports show about the cohort, the ICS and the region."""
    from lms.feedback.results import response_count
    from lms.reports import regional
    from lms.reports import services as reports

    bsol = organisation("BSOL")
    today = to_london(utcnow()).date()
    # Up to today: the cohort not yet started loses the erased person's place (next test).
    until_today = reports.ReportFilters(None, today - timedelta(days=90), today)
    ics = reports.ics_dashboard(bsol, until_today)
    region = regional.region_dashboard(until_today)
    return {
        "ics": (ics.bookings, ics.attendances, ics.completions, ics.offerings.rows,
                ics.quotas.rows, [row[2:] for row in ics.people.rows]),
        "region": {key: table.rows for key, table in region.tables.items()},
        "answers": (response_count(history.survey_id), response_count(history.named_survey_id),
                    db.session.scalar(select(func.count(SurveyAnswer.id)))),
        "attendance": db.session.scalar(select(func.count(Attendance.id))),
        "completions": db.session.scalar(select(func.count(Completion.id))),
        "evidence": db.session.scalar(select(func.count(CompetencyEvidence.id))),
        "past places": db.session.scalar(select(func.count(Enrolment.id)).where(
            Enrolment.offering_id == history.cohort_id)),
    }


def _erase(app, history: History) -> dict:
    with app.test_request_context("/admin/users/x/erase", method="POST"):
        admin = db.session.get(User, history.admin_id)
        login_user(admin)
        summary = privacy.erase_person(admin, db.session.get(User, history.learner_id))
        db.session.commit()
        return summary


def test_erasure_removes_personal_data_and_keeps_every_count(app, history):
    with app.app_context():
        before = _figures(history)
        db.session.rollback()
    _erase(app, history)
    with app.app_context():
        after = _figures(history)
        erased = db.session.get(User, history.learner_id)
        assert erased.full_name == "Erased person"
        assert erased.email == f"erased-{history.learner_id}@invalid"
        assert erased.job_title == "" and erased.password_hash is None
        assert erased.organisation.code == "BSOL"
        assert erased.roles == {Role.LEARNER}
        # Still counted as one of the ICS's people, so every share stays right.
        assert erased.is_active_account
        assert after == before
        assert after["ics"][:3] == (2, 4, 2) and after["attendance"] == 4
        certificate = db.session.scalar(select(Certificate).where(
            Certificate.user_id == history.learner_id))
        assert certificate.holder_name == "Erased person"
        assert db.session.scalar(select(func.count(CertificatePdf.certificate_id))) == 1
        notes = db.session.scalars(select(Attendance.note).where(
            Attendance.user_id == history.learner_id)).all()
        assert notes == ["", ""]
        assert db.session.scalar(select(SignOff.note).join(
            Enrolment, Enrolment.id == SignOff.enrolment_id).where(
            Enrolment.user_id == history.learner_id)) == ""
        assert set(db.session.scalars(select(CompetencyEvidence.note).where(
            CompetencyEvidence.user_id == history.learner_id))) == {""}
        for model in (SurveyDraft, CalendarFeedToken, AccountToken, ApiToken):
            assert db.session.scalar(select(func.count()).select_from(model).where(
                model.user_id == history.learner_id)) == 0, model
        assert db.session.scalar(select(func.count(SignInAttempt.id)).where(
            SignInAttempt.email == "lena@example.nhs.uk")) == 0
        # Only the calendar cancellations the erasure wrote are left to send (so the
        # meetings leave Lena's calendar); every other email to her is gone.
        left = db.session.scalars(select(OutboxMessage).where(
            OutboxMessage.to_address == "lena@example.nhs.uk")).all()
        assert all(m.subject.startswith("Removed from your calendar") and all(
            "method=CANCEL" in a.mimetype for a in m.attachments) and m.attachments
            for m in left)
        unmatched = db.session.scalar(select(UnmatchedRow))
        assert (unmatched.name, unmatched.email) == ("Erased person", "")
        # Otto is untouched.
        otto = db.session.get(User, history.other_id)
        assert otto.full_name == "Otto Other" and db.session.scalar(
            select(func.count(SignInAttempt.id))) == 1
        assert "Otto Other led the discussion" in db.session.scalars(
            select(Attendance.note)).all()
        # The named answers stay (counted), linked to the erased account.
        assert db.session.scalar(select(func.count(SurveyResponse.id)).where(
            SurveyResponse.user_id == history.learner_id)) == 1
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "erased"))
        assert entry.actor_id == history.admin_id
        assert entry.after["places withdrawn"] == 1
        dumped = json.dumps([(e.before, e.after) for e in db.session.scalars(
            select(AuditEntry))])
        assert "Lena" not in dumped and "lena@example" not in dumped


def test_erasure_gives_up_places_not_yet_started(app, history):
    _erase(app, history)
    with app.app_context():
        states = dict(db.session.execute(select(Enrolment.user_id, Enrolment.state).where(
            Enrolment.offering_id == history.future_id)).tuples().all())
        assert states == {history.learner_id: "withdrawn", history.other_id: "offered"}


def test_an_erased_person_cannot_sign_in_and_their_sessions_end(app, client, history):
    _sign_in(client, "lena@example.nhs.uk")
    assert client.get("/profile").status_code == 200
    _erase(app, history)
    assert client.get("/profile").status_code == 302
    with app.app_context():
        with pytest.raises(DomainError):
            authenticate("lena@example.nhs.uk", PASSWORD)
        with pytest.raises(DomainError):
            authenticate(f"erased-{history.learner_id}@invalid", PASSWORD)
        assert load_user_from_session(f"{history.learner_id}:1") is None


def test_erasure_earlier_audit_entries_are_scrubbed(app, client, history):
    sign_in_with_code(client, "ada@example.nhs.uk")
    client.post(f"/admin/users/{history.learner_id}", data={
        "roles": ["dsu_lead"], "organisation_id": _org_id(app, "BSOL")})
    with app.app_context():
        db.session.get(User, history.learner_id)
        assert db.session.scalar(select(func.count(AuditEntry.id)).where(
            AuditEntry.subject_user_id == history.learner_id)) >= 1
    _erase(app, history)
    with app.app_context():
        kept = db.session.scalars(select(AuditEntry).where(
            AuditEntry.subject_user_id == history.learner_id)).all()
        assert any(e.model == "UserRole" for e in kept)  # that it happened stays
        assert "Lena" not in json.dumps([(e.before, e.after) for e in kept])


def _org_id(app, code: str) -> int:
    with app.app_context():
        return organisation(code).id


def test_the_erase_page_asks_for_confirmation(app, client, history):
    sign_in_with_code(client, "ada@example.nhs.uk")
    url = f"/admin/users/{history.learner_id}/erase"
    page = client.get(url).get_data(as_text=True)
    assert "<title>Erase Lena Learner's personal data" in page
    assert "1 will be withdrawn" in page
    unticked = client.post(url, data={})
    assert unticked.status_code == 200
    assert "There is a problem" in unticked.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(User, history.learner_id).full_name == "Lena Learner"
    done = client.post(url, data={"understood": "y"})
    assert done.status_code == 302 and done.location.endswith(
        f"/admin/users/{history.learner_id}")
    assert "already been erased" in client.get(url).get_data(as_text=True)
    assert "Erased person" in client.get(done.location).get_data(as_text=True)


def test_admins_cannot_erase_themselves(app, client, history):
    sign_in_with_code(client, "ada@example.nhs.uk")
    response = client.post(f"/admin/users/{history.admin_id}/erase", data={"understood": "y"})
    assert response.status_code == 200
    assert "You cannot erase your own account" in response.get_data(as_text=True)
    assert client.get("/admin/users/999999/erase").status_code == 404


def test_an_erased_person_is_no_longer_offered_to_their_dsu_lead(app, history):
    """Erasure withdraws their future place, which would make them nominable again: the
    erased account is unconfirmed, so it is not."""
    with app.app_context():
        lead_id = _person("dee@example.nhs.uk", "Dee Lead", Role.DSU_LEAD).id
        pat_id = _person("pat@example.nhs.uk", "Pat Placeless").id
        db.session.commit()

    def nominable() -> set[int]:
        with app.app_context():
            return {u.id for u in pages.nominable_people(
                db.session.get(User, lead_id), db.session.get(Cohort, history.future_id))}

    assert pat_id in nominable()
    _erase(app, history)
    assert history.learner_id not in nominable() and pat_id in nominable()
    with app.app_context(), pytest.raises(DomainError, match="no confirmed account"):
        places.nominate(db.session.get(User, lead_id), db.session.get(Cohort, history.future_id),
                        db.session.get(User, history.learner_id))
