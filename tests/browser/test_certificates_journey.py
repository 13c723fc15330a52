"""Certificates in a real browser: faculty issue a whole cohort's certificates and watch the
progress bar fill (the page's script polls); the learner downloads theirs and an employer
checks it. axe-core on every page state."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from lms.accounts.models import Role, User
from lms.attendance.models import Completion
from lms.extensions import db
from lms.offerings.models import Enrolment
from tests.browser.conftest import sign_in
from tests.test_certificates_support import finished_cohort

pytestmark = pytest.mark.browser


def test_bulk_issue_with_progress_then_download_and_verify(page: Page, make_page, live_app,
                                                          live_user, check_page):
    from lms.certificates import bulk

    faculty = live_user(Role.FACULTY, name="Fay Faculty", org="SU")
    learner = live_user(name="Lena Learner")
    with live_app.app_context():
        cohort, _ = finished_cohort(3, title="Evaluation design")
        enrolment = Enrolment(offering=cohort, user=db.session.get(User, learner.id),
                              state="completed")
        db.session.add(enrolment)
        db.session.flush()
        db.session.add(Completion(enrolment_id=enrolment.id, attendance_percent=100,
                                  completed_at=cohort.sessions[0].ends_at))
        db.session.commit()
        offering_id = cohort.id

    sign_in(page, faculty.email, faculty.password)
    page.goto(f"/faculty/offerings/{offering_id}/certificates")
    expect(page.locator("h1")).to_have_text("Certificates")
    check_page(page)
    page.get_by_role("button", name="Issue all certificates").click()
    status = page.get_by_role("status")
    expect(status).to_contain_text("Waiting to start")
    expect(page.locator("progress")).to_have_attribute("max", "4")
    check_page(page)
    with live_app.app_context():  # what the scheduler does
        assert bulk.run_due_batches() == 1
    expect(status).to_contain_text("Finished: 4 of 4 certificates ready", timeout=15_000)
    expect(page.locator("progress")).to_have_attribute("value", "4")
    page.get_by_role("link", name="Refresh this page").click()
    expect(page.get_by_role("link", name="Download all 4 certificates (zip)")).to_be_visible()
    check_page(page)

    learner_page = make_page()
    sign_in(learner_page, learner.email, learner.password)
    learner_page.get_by_role("navigation", name="Menu").get_by_role(
        "link", name="My learning").click()
    learner_page.get_by_role("link", name="Your certificates").click()
    expect(learner_page.locator("h1")).to_have_text("My certificates")
    check_page(learner_page)
    with learner_page.expect_download() as download:
        learner_page.get_by_role("link", name=re.compile("Download PDF")).click()
    assert download.value.suggested_filename.endswith("Lena Learner.pdf")
    serial = download.value.suggested_filename.split(" ")[0]

    with live_app.app_context():
        from lms.certificates.models import Certificate

        code = db.session.scalar(select(Certificate.code).where(Certificate.serial == serial))
    employer = make_page()
    employer.goto(f"/verify/{code}")
    expect(employer.locator("h1")).to_have_text("Certificate check")
    expect(employer.get_by_text("This certificate is valid")).to_be_visible()
    expect(employer.get_by_text("Lena Learner")).to_be_visible()
    check_page(employer)
    employer.goto("/verify")
    employer.get_by_label("Verification code").fill("not-a-code")
    employer.get_by_role("button", name="Check certificate").click()
    expect(employer.locator("h1")).to_have_text("Certificate not found")
    check_page(employer)
