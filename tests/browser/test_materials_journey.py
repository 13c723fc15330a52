"""Faculty add pre-reading (a file) to a cohort; a learner with a place downloads it on a
phone. Real Chromium, axe-core on every page state."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from lms.accounts.models import Role, User
from lms.extensions import db
from lms.offerings import services as engine
from tests import catalogue_builders as build
from tests.browser.conftest import no_sideways_scroll, sign_in
from tests.test_learning_storage import PDF

pytestmark = pytest.mark.browser

PHONE = {"width": 375, "height": 812}


def test_faculty_add_pre_reading_and_a_learner_downloads_it(
        page: Page, make_page, live_app, live_user, check_page, tmp_path):
    live_app.config["UPLOAD_DIR"] = str(tmp_path / "uploads")
    live_app.extensions.pop("lms_storage", None)
    faculty = live_user(Role.FACULTY, name="Fay Faculty", org="SU")
    learner = live_user(name="Lena Learner")
    with live_app.app_context():
        cohort = build.cohort(build.course("Evaluation design"), "Nottingham cohort 1")
        engine.book(db.session.get(User, learner.id), cohort)
        db.session.commit()
        cohort_id = cohort.id

    sign_in(page, faculty.email, faculty.password)
    page.goto(f"/cohorts/{cohort_id}")
    page.get_by_role("link", name="Add and manage materials").click()
    expect(page.locator("h1")).to_contain_text("Materials")
    check_page(page)
    page.get_by_role("link", name="Add a file or link").click()
    check_page(page)

    # A web page renamed .pdf is refused, with the error linked to the file box.
    page.get_by_role("radio", name="A file").check()
    page.get_by_label("Title").fill("Pre-reading")
    page.locator("#file").set_input_files(files=[{
        "name": "reading.pdf", "mimeType": "application/pdf",
        "buffer": b"<!DOCTYPE html><html><script>alert(1)</script></html>"}])
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".nhsuk-error-summary")).to_contain_text(
        "The file's content is not a PDF")
    assert check_page(page).startswith("Error: ")

    page.get_by_role("radio", name="A file").check()
    page.get_by_label("Title").fill("Pre-reading")
    page.get_by_label("Short note (optional)").fill("Read chapter 2 before the first day.")
    page.locator("#file").set_input_files(files=[{
        "name": "Pre-reading.pdf", "mimeType": "application/pdf", "buffer": PDF}])
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".nhsuk-notification-banner--success")).to_contain_text(
        "“Pre-reading” has been added")
    check_page(page)

    # The learner, on a phone: the cohort's page lists it, and it downloads as a file.
    phone = make_page(PHONE)
    sign_in(phone, learner.email, learner.password)
    phone.goto(f"/cohorts/{cohort_id}")
    materials = phone.locator("section[aria-labelledby='materials-heading']")
    expect(materials).to_contain_text("Read chapter 2 before the first day.")
    check_page(phone)
    no_sideways_scroll(phone)
    with phone.expect_download() as downloading:
        materials.get_by_role("link", name="Pre-reading").click()
    download = downloading.value
    assert download.suggested_filename == "Pre-reading.pdf"
    assert Path(download.path()).read_bytes() == PDF


def test_a_learner_answers_the_registration_questions_as_they_book_on_a_phone(
        make_page, live_app, live_user, check_page):
    from lms.learning import questions

    faculty = live_user(Role.FACULTY, name="Fay Faculty", org="SU")
    learner = live_user(name="Lena Learner")
    with live_app.app_context():
        cohort = build.cohort(build.course("Evaluation design"), "Nottingham cohort 1")
        author = db.session.get(User, faculty.id)
        questions.add_question(author, cohort, questions.QuestionDetails(
            "dietary", "Do you have any dietary needs for the day?", required=True))
        questions.add_question(author, cohort, questions.QuestionDetails(
            "hopes", "What do you hope to get from this?"))
        db.session.commit()
        cohort_id = cohort.id

    phone = make_page(PHONE)
    sign_in(phone, learner.email, learner.password)
    phone.goto(f"/cohorts/{cohort_id}")
    phone.get_by_role("button", name="Book a place").click()
    expect(phone.locator("h1")).to_contain_text("Before you book")
    check_page(phone)
    no_sideways_scroll(phone)
    phone.get_by_role("button", name="Book").click()
    expect(phone.locator(".nhsuk-error-summary")).to_contain_text(
        "Answer “Do you have any dietary needs for the day?”")
    assert check_page(phone).startswith("Error: ")
    phone.get_by_label("Do you have any dietary needs for the day?").fill("Vegetarian")
    phone.get_by_role("button", name="Book").click()
    expect(phone.locator(".nhsuk-notification-banner--success")).to_contain_text("Booked")
    check_page(phone)

    staff = make_page()
    sign_in(staff, faculty.email, faculty.password)
    staff.goto(f"/faculty/offerings/{cohort_id}/answers")
    expect(staff.locator("main")).to_contain_text("Vegetarian")
    check_page(staff)
