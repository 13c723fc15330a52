"""Project work and reflection in a real browser (issue 18): faculty set an assignment that
evidences a competency and counts towards completion; a learner submits, writes a reflection
and shares it; faculty read it and return feedback "met"; the competency evidence, the
completion and the certificate follow. axe-core on every page, and a phone-width check."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from lms.accounts.models import Role, User
from lms.attendance.models import Attendance, Completion
from lms.certificates.models import Certificate
from lms.clock import to_london, utcnow
from lms.competencies.models import Competency, CompetencyEvidence
from lms.competencies.services import ensure_framework
from lms.extensions import db
from tests.browser.conftest import fill_date, no_sideways_scroll, sign_in
from tests.learning_work_builders import PDF, cohort_with

pytestmark = pytest.mark.browser


def test_assignment_reflection_feedback_competency_completion_certificate(
        page: Page, make_page, live_app, live_user, live_mail, check_page, tmp_path):
    faculty = live_user(Role.FACULTY, name="Fay Faculty", org="SU")
    learner = live_user(name="Lena Learner")
    with live_app.app_context():
        ensure_framework()
        cohort = cohort_with([db.session.get(User, learner.id)], "Leadership for Analysts")
        db.session.add(Attendance(session_id=cohort.sessions[0].id, user_id=learner.id,
                                  status="present", source="register"))
        db.session.commit()
        cohort_id = cohort.id
    due = to_london(utcnow() + timedelta(days=14)).date()

    # Faculty add pre-reading to the cohort...
    sign_in(page, faculty.email, faculty.password)
    page.goto(f"/cohorts/{cohort_id}")
    page.get_by_role("link", name="Add and manage materials").click()
    page.get_by_role("link", name="Add a file or link").click()
    page.get_by_role("radio", name="A file").check()
    page.get_by_label("Title").fill("Pre-reading")
    page.get_by_label("Short note (optional)").fill("Read chapter 2 before the first day.")
    page.locator("#file").set_input_files(files=[{
        "name": "Pre-reading.pdf", "mimeType": "application/pdf", "buffer": PDF}])
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".nhsuk-notification-banner--success")).to_contain_text(
        "“Pre-reading” has been added")
    check_page(page)

    # ...and set the assignment.
    page.goto(f"/faculty/offerings/{cohort_id}/marking")
    expect(page.locator("h1")).to_have_text("Assignments and marking")
    check_page(page)
    page.get_by_role("link", name="Set an assignment").click()
    page.get_by_role("button", name="Save assignment").click()
    expect(page.locator(".nhsuk-error-summary")).to_contain_text("Enter a title")
    check_page(page)
    page.get_by_label("Title").fill("Project plan")
    page.get_by_label("Brief").fill("Plan a **forecasting** project for your ICS.")
    fill_date(page, "Date it is due", due)
    page.get_by_label("Must be met to complete the course").check()
    page.get_by_label("Forecasting", exact=True).select_option(label="Practitioner")
    page.get_by_role("button", name="Save assignment").click()
    expect(page.get_by_text("Project plan has been set.")).to_be_visible()
    expect(page.get_by_text("0 of 1 submitted")).to_be_visible()

    # The learner reads the pre-reading, then submits, on a phone.
    phone = make_page({"width": 375, "height": 740})
    sign_in(phone, learner.email, learner.password)
    phone.goto(f"/cohorts/{cohort_id}")
    materials = phone.locator("section[aria-labelledby='materials-heading']")
    expect(materials).to_contain_text("Read chapter 2 before the first day.")
    with phone.expect_download() as downloading:
        materials.get_by_role("link", name="Pre-reading").click()
    assert Path(downloading.value.path()).read_bytes() == PDF
    phone.goto(f"/offerings/{cohort_id}/assignments")
    expect(phone.locator("h1")).to_have_text("Assignments")
    check_page(phone)
    no_sideways_scroll(phone)
    phone.get_by_role("link", name="Project plan").click()
    expect(phone.locator("strong", has_text="forecasting")).to_be_visible()
    phone.get_by_label("Your work").fill("My plan: forecast A&E demand.")
    plan = tmp_path / "plan.pdf"
    plan.write_bytes(PDF)
    phone.get_by_label("Files").set_input_files(str(plan))
    check_page(phone)
    no_sideways_scroll(phone)
    phone.get_by_role("button", name="Submit your work").click()
    expect(phone.get_by_text("Your work has been submitted.")).to_be_visible()
    expect(phone.get_by_text("Outcome: Not marked yet")).to_be_visible()
    check_page(phone)

    # ...writes a reflection and shares it.
    phone.goto("/reflection")
    expect(phone.locator("h1")).to_have_text("Your reflective log")
    check_page(phone)
    phone.get_by_role("link", name="Write an entry").click()
    fill_date(phone, "Date", to_london(utcnow()).date())
    phone.get_by_label("Title").fill("Scoping with my director")
    phone.get_by_label("What happened").fill("We argued about the horizon.")
    phone.get_by_label("What I learned").fill("Agree the decision first.")
    phone.get_by_label("Linked to").select_option(label="Leadership for Analysts: Spring")
    check_page(phone)
    no_sideways_scroll(phone)
    phone.get_by_role("button", name="Save entry").click()
    expect(phone.get_by_text("Only you can see it")).to_be_visible()
    phone.get_by_role("button", name="Share with the faculty").click()
    expect(phone.get_by_text("Your entry is shared with the faculty.")).to_be_visible()
    check_page(phone)

    # Faculty read the reflection and return feedback "met".
    page.goto("/faculty/reflections")
    check_page(page)
    page.get_by_role("link", name="Scoping with my director").click()
    expect(page.get_by_text("Agree the decision first.")).to_be_visible()
    page.get_by_label("Your comment").fill("A good lesson.")
    page.get_by_role("button", name="Add comment").click()
    expect(page.get_by_text("Your comment has been added.")).to_be_visible()
    check_page(page)
    page.goto(f"/faculty/offerings/{cohort_id}/marking")
    expect(page.get_by_text("1 of 1 submitted, 1 to mark")).to_be_visible()
    page.get_by_role("link", name="Mark the work of Lena Learner").click()
    expect(page.get_by_role("link", name="plan.pdf")).to_be_visible()
    check_page(page)
    page.get_by_label("Met", exact=True).check()
    page.get_by_label("Feedback").fill("A clear, well-scoped plan.")
    page.get_by_role("button", name="Return feedback").click()
    expect(page.get_by_text("Feedback returned.")).to_be_visible()
    check_page(page)

    # The evidence, the completion and the certificate follow; the learner is told.
    with live_app.app_context():
        forecasting = db.session.scalar(select(Competency.id).where(
            Competency.code == "forecasting"))
        evidence = db.session.scalar(select(CompetencyEvidence).where(
            CompetencyEvidence.user_id == learner.id))
        assert (evidence.competency_id, evidence.level) == (forecasting, 3)
        assert db.session.scalar(select(Completion.id)) is not None
        assert db.session.scalar(select(Certificate.user_id)) == learner.id
    subjects = [m["Subject"] for m in live_mail.messages(learner.email)]
    assert "Feedback on Project plan" in subjects
    assert any("completed" in s for s in subjects)
    phone.goto("/learning-record")
    # The evidence is listed under the competency (inside its expandable details).
    expect(phone.locator("#competencies ~ *").filter(has_text="Forecasting").first
           ).to_contain_text("Practitioner")
    expect(phone.locator("main")).to_contain_text("Assignment met: Project plan")
    check_page(phone)
    no_sideways_scroll(phone)
