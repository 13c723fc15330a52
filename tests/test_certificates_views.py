"""Certificate pages through the client: My certificates and downloads, verification, and
faculty's page (issue one, bulk issue with progress, zip, revoke, reissue, template)."""

from __future__ import annotations

import io
import re
import zipfile

import pytest

from lms.accounts.models import User
from lms.certificates import bulk, revocation, services
from lms.certificates.models import Certificate
from lms.extensions import db
from tests.test_certificates_support import completion_of, finished_cohort, pdf_text


@pytest.fixture
def world(app, people):
    """A finished course: the learner and Kim completed (with certificates), Lee did not."""
    with app.app_context():
        cohort, enrolments = finished_cohort(names=["Kim Other", "Lee Notyet"], complete=1,
                                             title="Forecasting in practice")
        learner = db.session.get(User, people.learner.id)
        from lms.attendance.models import Completion
        from lms.offerings.models import Enrolment

        mine = Enrolment(offering=cohort, user=learner, state="completed")
        db.session.add(mine)
        db.session.flush()
        db.session.add(Completion(enrolment_id=mine.id, attendance_percent=100,
                                  completed_at=cohort.sessions[0].ends_at))
        db.session.flush()
        own = services.issue_certificate(completion_of(mine))
        kims = services.issue_certificate(completion_of(enrolments[0]))
        db.session.commit()
        return {"offering": cohort.id, "own": own.id, "own_code": own.code,
                "own_serial": own.serial, "kims": kims.id, "lee_enrolment": enrolments[1].id,
                "kim_enrolment": enrolments[0].id}


def test_my_certificates_lists_mine_only(client, login, people, world):
    login(people.learner)
    page = client.get("/my-certificates").get_data(as_text=True)
    assert "<h1>My certificates</h1>" in page and world["own_serial"] in page
    assert "Forecasting in practice (Spring 2026)" in page
    assert f"/certificates/{world['own']}/pdf" in page and f"/certificates/{world['kims']}/" \
        not in page
    assert 'href="/faculty/certificates"' not in page  # faculty's way in is not shown
    assert 'href="/my-certificates"' in client.get("/my-learning").get_data(as_text=True)


def test_downloading_my_pdf_and_not_someone_elses(client, login, people, world, tmp_path):
    login(people.learner)
    response = client.get(f"/certificates/{world['own']}/pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert world["own_serial"] in response.headers["Content-Disposition"]
    text = pdf_text(response.data, tmp_path)
    assert "Lena Learner" in text and world["own_serial"] in text
    assert client.get(f"/certificates/{world['kims']}/pdf").status_code == 404
    login(people.faculty)
    assert client.get(f"/certificates/{world['kims']}/pdf").status_code == 200


def test_the_verification_page_shows_only_name_achievement_date_and_status(client, app,
                                                                          people, world):
    page = client.get(f"/verify/{world['own_code']}").get_data(as_text=True)
    assert "This certificate is valid" in page and "Lena Learner" in page
    assert "Completed the course: Forecasting in practice (Spring 2026)" in page
    with app.app_context():
        certificate = db.session.get(Certificate, world["own"])
        day = certificate.achieved_on
        email, serial = certificate.user.email, certificate.serial
    assert f"{day.day} {day:%B %Y}" in page
    main = page.split('id="maincontent"')[1]
    for private in (email, serial, "Birmingham", "CPD", "Analyst"):
        assert private not in main, private


def test_a_revoked_certificate_says_so_without_the_reason(client, app, login, people, world):
    login(people.faculty)
    client.post(f"/faculty/certificates/{world['own']}/revoke",
                data={"revoke-reason": "Attendance was recorded for the wrong person"})
    page = client.get(f"/verify/{world['own_code']}").get_data(as_text=True)
    assert "This certificate has been revoked" in page and "Lena Learner" in page
    assert "wrong person" not in page and "is valid" not in page
    login(people.learner)
    assert client.get(f"/certificates/{world['own']}/pdf").status_code == 404
    assert "Revoked" in client.get("/my-certificates").get_data(as_text=True)


def test_an_unknown_code_is_a_404_with_a_clear_message(client, world):
    response = client.get("/verify/no-such-code")
    assert response.status_code == 404
    assert "No certificate has this verification code" in response.get_data(as_text=True)
    typed = client.get(f"/verify?code=+{world['own_code']}+")
    assert typed.status_code == 302 and typed.location.endswith(f"/verify/{world['own_code']}")
    assert "Check a certificate" in client.get("/verify").get_data(as_text=True)


def test_faculty_page_lists_people_and_issues_one(client, login, people, world):
    login(people.faculty)
    index = client.get("/faculty/certificates").get_data(as_text=True)
    assert "<h1" in index
    assert f'href="/faculty/offerings/{world["offering"]}/certificates"' in index
    assert re.search(r"Completed </span>2</td>", index)  # the learner and Kim; Lee not yet
    page = client.get(f"/faculty/offerings/{world['offering']}/certificates").get_data(
        as_text=True)
    assert "<h1>Certificates</h1>" in page and "Lee Notyet" in page and "Not eligible yet" in page
    assert world["own_serial"] in page and "Download all 2 certificates (zip)" in page
    response = client.post(f"/faculty/enrolments/{world['lee_enrolment']}/certificate",
                           follow_redirects=True)
    assert "Lee Notyet has not completed" in response.get_data(as_text=True)
    response = client.post(f"/faculty/enrolments/{world['kim_enrolment']}/certificate",
                           follow_redirects=True)
    assert re.search(r"Kim Other already has certificate MDSN-\d{4}-\d{6}",
                     response.get_data(as_text=True))


def test_bulk_issue_from_the_page_with_progress(client, app, login, people, world):
    with app.app_context():
        extra, _ = finished_cohort(3)
        db.session.commit()
        offering_id = extra.id
    login(people.faculty)
    response = client.post(f"/faculty/offerings/{offering_id}/certificates/issue-all",
                           follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "Certificates are being issued" in page
    assert re.search(r'<progress id="batch-progress"[^>]* max="3" value="0"', page)
    assert "Refresh this page" in page and "certificates/batch-progress.js" in page
    assert "<script>" not in page.split('id="maincontent"')[1]  # no inline script
    url = re.search(r'data-batch-progress-url="([^"]+)"', page).group(1)
    assert client.get(url).get_json()["status"] == "pending"
    with app.app_context():
        assert bulk.run_due_batches() == 1
    progress = client.get(url).get_json()
    assert (progress["status"], progress["done"], progress["total"], progress["finished"]) \
        == ("done", 3, 3, True)
    assert "3 newly issued" in progress["message"]
    page = client.get(f"/faculty/offerings/{offering_id}/certificates").get_data(as_text=True)
    assert re.search(r'<progress id="batch-progress"[^>]* max="3" value="3"', page)
    assert "Issue all certificates" in page


def test_the_zip_streams_one_pdf_per_certificate(client, login, people, world):
    login(people.faculty)
    response = client.get(f"/faculty/offerings/{world['offering']}/certificates.zip")
    assert response.status_code == 200 and response.is_streamed
    assert response.mimetype == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.get_data()))
    assert len(archive.namelist()) == 2
    assert any(name.startswith(world["own_serial"]) for name in archive.namelist())
    assert all(archive.read(n).startswith(b"%PDF") for n in archive.namelist())


def test_revoke_and_reissue_from_the_detail_page(client, app, login, people, world):
    login(people.faculty)
    detail = f"/faculty/certificates/{world['kims']}"
    empty = client.post(f"{detail}/reissue", data={"reissue-reason": " "})
    assert empty.status_code == 400 and "Give a reason" in empty.get_data(as_text=True)
    response = client.post(f"{detail}/reissue", data={"reissue-reason": "Name corrected"})
    assert response.status_code == 302
    new_page = client.get(response.location).get_data(as_text=True)
    assert "History" in new_page and "(this one)" in new_page
    assert "Reissued: Name corrected" in new_page
    with app.app_context():
        old = db.session.get(Certificate, world["kims"])
        assert old.status == "revoked" and old.replaced_by is not None
        new_id = old.replaced_by.id
    old_page = client.get(detail).get_data(as_text=True)
    assert "replaced by" in old_page and "Reissue certificate" not in old_page
    assert client.post(f"/faculty/certificates/{new_id}/revoke",
                       data={"revoke-reason": "Left the NHS"}).status_code == 302
    with app.app_context():
        assert db.session.get(Certificate, new_id).revoked_reason == "Left the NHS"


def test_choosing_a_template(client, app, login, people, world):
    login(people.faculty)
    response = client.post(f"/faculty/offerings/{world['offering']}/certificates/template",
                           data={"template": "programme"}, follow_redirects=True)
    assert "programme completion template" in response.get_data(as_text=True)
    with app.app_context():
        from lms.offerings.services import get_offering

        assert services.template_for(get_offering(world["offering"])) == "programme"
    bad = client.post(f"/faculty/offerings/{world['offering']}/certificates/template",
                      data={"template": "wordart"})
    assert bad.status_code == 400
    assert "Choose one of the certificate templates" in bad.get_data(as_text=True)


def test_a_template_failure_on_download_names_template_and_person(client, login, people,
                                                                  world, monkeypatch):
    from lms.certificates import rendering

    def fail(certificate):
        raise rendering.CertificateTemplateError("course.html", certificate.holder_name,
                                                 "UndefinedError: boom")

    monkeypatch.setattr(rendering, "render_pdf", fail)
    login(people.learner)
    response = client.get(f"/certificates/{world['own']}/pdf", follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "course.html" in page and "Lena Learner" in page and "My certificates" in page


def test_a_learner_gets_no_faculty_page(client, login, people, world):
    login(people.learner)
    assert client.get(f"/faculty/offerings/{world['offering']}/certificates").status_code == 403


def test_pages_do_not_query_per_person(client, app, login, people, count_queries):
    """Faculty's page for an offering and a certificate's page (with its history) cost the
    same number of queries for few people or many, reissued certificates included."""
    def build(n: int) -> tuple[int, int]:
        with app.app_context():
            cohort, enrolments = finished_cohort(n)
            faculty = db.session.get(User, people.faculty.id)
            issued = [services.issue_certificate(completion_of(e)) for e in enrolments]
            for certificate in issued[:2]:
                revocation.reissue(faculty, certificate, "Name corrected")
            db.session.commit()
            return cohort.id, issued[0].id

    login(people.faculty)
    counts = []
    for n in (3, 9):
        offering_id, certificate_id = build(n)
        client.get(f"/faculty/offerings/{offering_id}/certificates")  # warm up
        with count_queries() as page:
            assert client.get(f"/faculty/offerings/{offering_id}/certificates").status_code \
                == 200
        with count_queries() as detail:
            assert client.get(f"/faculty/certificates/{certificate_id}").status_code == 200
        counts.append((page.n, detail.n))
    assert counts[0] == counts[1], counts


def test_issue_all_is_offered_only_when_someone_has_completed_and_says_why_not(
        client, app, login, people, world):
    with app.app_context():
        nobody, _ = finished_cohort(names=["Ned Notyet"], complete=0, title="Quiet course")
        db.session.commit()
        nobody_id = nobody.id
    login(people.faculty)
    page = client.get(f"/faculty/offerings/{nobody_id}/certificates").get_data(as_text=True)
    assert "/certificates/issue-all" not in page
    assert "No one has completed Cohort" in page and 'id="cannot-issue-all"' in page
    refused = client.post(f"/faculty/offerings/{nobody_id}/certificates/issue-all",
                          follow_redirects=True).get_data(as_text=True)
    assert "No one has completed Cohort" in refused
    with app.app_context():
        assert bulk.latest_batch(nobody_id) is None
    shown = client.get(f"/faculty/offerings/{world['offering']}/certificates").get_data(
        as_text=True)
    assert f"/faculty/offerings/{world['offering']}/certificates/issue-all" in shown
    assert client.post(f"/faculty/offerings/{world['offering']}/certificates/issue-all"
                       ).status_code == 302
    with app.app_context():
        assert bulk.latest_batch(world["offering"]) is not None
