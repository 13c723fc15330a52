"""Certificates without HTTP: issuing (on completion, by faculty), templates, the sandbox and
the static-only URL fetcher, real PDFs, revoke and reissue, verification, zips."""

from __future__ import annotations

import io
import logging
import re
import zipfile
from datetime import timedelta

import pytest
import time_machine
from jinja2 import ChoiceLoader, DictLoader, FileSystemLoader
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from lms.accounts.models import Role
from lms.attendance import completion as attendance_completion
from lms.attendance import services as att
from lms.attendance.models import Completion
from lms.certificates import pages, pdfs, rendering, revocation, services
from lms.certificates.models import (
    Certificate,
    CertificatePdf,
    SerialCounter,
    TemplateChoice,
)
from lms.certificates.rendering import CertificateTemplateError, FetchRefused, fetch_static
from lms.errors import DomainError, NotAllowed, NotFound
from lms.extensions import db
from lms.notifications.models import OutboxMessage
from lms.offerings import services as places
from tests.test_certificates_support import (
    completion_of,
    finished_cohort,
    finished_festival,
    pdf_attachments,
    pdf_text,
)

SERIAL = re.compile(r"^MDSN-\d{4}-\d{6}$")


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def subjects(address: str) -> list[str]:
    return list(db.session.scalars(select(OutboxMessage.subject).where(
        OutboxMessage.to_address == address).order_by(OutboxMessage.id)))


@pytest.fixture
def faculty(ctx, make_user):
    return make_user(Role.FACULTY, org="SU", name="Fay Faculty")


def broken(template: str, source: str):
    """Render with ``template`` replaced by ``source`` (the others as shipped)."""
    return rendering.using(ChoiceLoader([DictLoader({template: source}),
                                         FileSystemLoader(rendering.TEMPLATE_DIR)]))


# ---------------------------------------------------------------------------- issuing


def test_completing_issues_a_certificate_in_the_same_transaction(ctx, make_user, make_cohort):
    """The real path: a register is saved after the last session; completion fires and the
    hook issues the certificate and emails a link. The PDF waits for the first download."""
    teacher = make_user(Role.FACULTY, org="SU")
    cohort = make_cohort(capacity=5)
    cohort.course.requires_feedback = False
    cohort.course.cpd_hours = 3
    asha = make_user(name="Asha Patel")
    places.book(asha, cohort)
    session = cohort.sessions[0]
    with time_machine.travel(session.ends_at + timedelta(minutes=10)):
        att.record_register(teacher, session, {asha.id: ("present", "")})
    certificate = db.session.scalar(select(Certificate))
    assert certificate is not None and certificate.user_id == asha.id
    assert SERIAL.match(certificate.serial) and len(certificate.code) >= 22
    assert (certificate.holder_name, certificate.template) == ("Asha Patel", "course")
    assert certificate.title == f"{cohort.course.title} ({cohort.name})"
    assert float(certificate.cpd_hours) == 3.0 and certificate.issued_by_id is None
    assert subjects(asha.email).count(f"Your certificate: {certificate.title}") == 1
    assert count(CertificatePdf) == 0
    attendance_completion.refresh_completion(cohort)  # completion (and so the hook) fires once
    assert count(Certificate) == 1


def test_the_email_links_to_the_pdf_and_the_verification_page(ctx):
    """One issued alone and two issued in bulk (whose emails are written in one statement):
    each person's email carries their own download and verification links."""
    cohort, enrolments = finished_cohort(names=["Ena Email", "Bea Bulk", "Cai Bulk"])
    alone = services.issue_certificate(completion_of(enrolments[0]))
    many = services.issue_many([completion_of(e).id for e in enrolments[1:]])
    assert len(many) == 2
    for certificate in (alone, *many):
        bodies = list(db.session.scalars(select(OutboxMessage.body_text).where(
            OutboxMessage.to_address == certificate.user.email)))
        assert len(bodies) == 1, certificate.holder_name
        body = bodies[0]
        assert f"http://127.0.0.1:5000/certificates/{certificate.id}/pdf" in body
        assert f"http://127.0.0.1:5000/verify/{certificate.code}" in body
        assert certificate.serial in body and certificate.holder_name in body


def test_serials_count_up_and_codes_are_unguessable(ctx):
    cohort, enrolments = finished_cohort(3)
    issued = [services.issue_certificate(completion_of(e)) for e in enrolments]
    numbers = [int(c.serial.rsplit("-", 1)[1]) for c in issued]
    assert numbers == [numbers[0], numbers[0] + 1, numbers[0] + 2]
    assert len({c.code for c in issued}) == 3
    assert all(re.fullmatch(r"[A-Za-z0-9_-]{22,}", c.code) for c in issued)


def test_faculty_issue_one_person_only_when_eligible(ctx, faculty):
    cohort, (done, not_done) = finished_cohort(names=["Done Person", "Still Going"], complete=1)
    before = count(OutboxMessage)
    with pytest.raises(services.NotEligible, match="Still Going has not completed"):
        services.issue_for(faculty, not_done)
    assert (count(Certificate), count(SerialCounter), count(OutboxMessage)) == (0, 0, before)
    with pytest.raises(NotAllowed):
        services.issue_for(done.user, done)
    certificate = services.issue_for(faculty, done)
    assert certificate.issued_by_id == faculty.id
    with pytest.raises(services.AlreadyIssued, match=certificate.serial):
        services.issue_for(faculty, done)
    assert count(Certificate) == 1


def test_the_schema_refuses_a_second_live_certificate(ctx):
    cohort, (enrolment,) = finished_cohort(1)
    first = services.issue_certificate(completion_of(enrolment))
    twin = Certificate(completion_id=first.completion_id, user_id=first.user_id,
                       offering_id=first.offering_id, serial="MDSN-2000-000001", code="x" * 22,
                       template="course", holder_name="x", achievement="x", title="x",
                       achieved_on=first.achieved_on)
    db.session.add(twin)
    with pytest.raises(IntegrityError):
        db.session.flush()


def test_ensure_certificate_is_idempotent(ctx):
    cohort, (enrolment,) = finished_cohort(1)
    completion = completion_of(enrolment)
    first, new = services.ensure_certificate(completion)
    again, new_again = services.ensure_certificate(completion)
    assert (new, new_again, again.id) == (True, False, first.id)


# ---------------------------------------------------------------------------- templates


def test_each_kind_has_a_default_template_and_courses_or_events_pick_their_own(ctx, faculty):
    from lms.events.models import Festival, NetworkSeries, Webinar

    programme, _ = finished_cohort(1, kind="programme")
    course, _ = finished_cohort(1)
    today = programme.sessions[0].starts_at.date()
    webinar = Webinar(title="Webinar", status="finished")
    festival = Festival(title="Festival", status="finished", first_day=today, last_day=today)
    network = NetworkSeries(title="Huddles", status="running", rrule="FREQ=WEEKLY;COUNT=2",
                            first_day=today, local_start=programme.sessions[0].starts_at.time(),
                            duration_minutes=60)
    db.session.add_all([webinar, festival, network])
    db.session.flush()
    assert [services.template_for(o) for o in (programme, course, webinar, festival, network)] \
        == ["programme", "course", "webinar", "festival", "webinar"]

    services.choose_template(faculty, course, "programme")
    sibling, _ = finished_cohort(1)
    sibling.name, sibling.course = "Autumn 2026", course.course  # same course, new cohort
    db.session.flush()
    assert services.template_for(sibling) == "programme"
    services.choose_template(faculty, webinar, "course")
    assert services.template_for(webinar) == "course"
    services.choose_template(faculty, course, "course")  # back to the default: no row
    assert count(TemplateChoice) == 1
    with pytest.raises(DomainError, match="Choose one"):
        services.choose_template(faculty, course, "comic-sans")
    with pytest.raises(NotAllowed):
        services.choose_template(_enrolled_user(programme), programme, "course")


def _enrolled_user(cohort):
    from lms.offerings.models import Enrolment

    return db.session.scalar(select(Enrolment).where(Enrolment.offering_id == cohort.id)).user


def test_a_template_that_fails_names_itself_and_the_person_and_issues_nothing(ctx, faculty):
    cohort, (enrolment,) = finished_cohort(names=["Priya Shah"])
    before = count(OutboxMessage)
    with broken("course.html", "{% extends '_base.html' %}{% block kind %}{{ c.nope.x }}"
                               "{% endblock %}"), \
            pytest.raises(CertificateTemplateError) as raised:
        services.issue_for(faculty, enrolment)
    message = raised.value.message
    assert "course.html" in message and "Priya Shah" in message
    assert (count(Certificate), count(SerialCounter), count(OutboxMessage)) == (0, 0, before)


def test_a_broken_template_does_not_stop_completion(ctx, make_user, make_cohort, caplog):
    teacher = make_user(Role.FACULTY, org="SU")
    cohort = make_cohort()
    cohort.course.requires_feedback = False
    ben = make_user(name="Ben Okafor")
    places.book(ben, cohort)
    session = cohort.sessions[0]
    with broken("course.html", "{{ c.missing.attribute }}"), \
            time_machine.travel(session.ends_at + timedelta(minutes=5)), \
            caplog.at_level(logging.WARNING, logger="lms.certificates"):
        att.record_register(teacher, session, {ben.id: ("present", "")})
    assert count(Completion) == 1 and count(Certificate) == 0 and count(SerialCounter) == 0
    assert "course.html" in caplog.text and "Ben Okafor" in caplog.text


def test_templates_run_in_a_sandbox(ctx, faculty):
    cohort, (enrolment,) = finished_cohort(1)
    with broken("course.html", "{{ c.__class__.__mro__[1].__subclasses__() }}"), \
            pytest.raises(CertificateTemplateError, match="unsafe"):
        services.issue_for(faculty, enrolment)
    assert count(Certificate) == 0


def test_names_are_escaped(ctx):
    cohort, (enrolment,) = finished_cohort(names=["<script>alert(1)</script> & Co"])
    certificate = services.issue_certificate(completion_of(enrolment))
    html = rendering.certificate_html(certificate)
    assert "<script>alert" not in html and "&lt;script&gt;alert(1)&lt;/script&gt; &amp; Co" in html


# ---------------------------------------------------------------------------- PDFs


def test_the_pdf_says_who_what_and_its_serial(ctx, tmp_path):
    cohort, (enrolment,) = finished_cohort(names=["Lena Learner"], cpd="6.5",
                                           title="Introduction to Decision Quality")
    certificate = services.issue_certificate(completion_of(enrolment))
    pdf = rendering.render_pdf(certificate)
    assert pdf.startswith(b"%PDF")
    text = pdf_text(pdf, tmp_path)
    assert "Certificate of completion" in text and "Lena Learner" in text
    assert "Introduction to Decision Quality (Spring 2026)" in text
    assert certificate.serial in text and certificate.code in text
    assert f"/verify/{certificate.code}" in text and "6.5" in text
    assert qr_in(pdf, tmp_path) == f"http://127.0.0.1:5000/verify/{certificate.code}"


def qr_in(pdf: bytes, tmp_path) -> str:
    """The address whose QR code is one of the PDF's two images (the other is the NHS
    logo), compared module by module with segno's, as no QR reader is installed."""
    import subprocess

    import segno
    from PIL import Image

    (tmp_path / "qr.pdf").write_bytes(pdf)
    subprocess.run(["pdfimages", "-png", str(tmp_path / "qr.pdf"), str(tmp_path / "img")],
                   check=True)
    images = sorted(tmp_path.glob("img-*.png"))
    assert len(images) == 2
    codes = re.findall(r"/verify/([A-Za-z0-9_-]+)", pdf_text(pdf, tmp_path))
    for image in images:
        picture = Image.open(image).convert("L")
        printed = [[picture.getpixel((x, y)) < 128 for x in range(picture.width)]
                   for y in range(picture.height)]
        for code in codes:
            url = f"http://127.0.0.1:5000/verify/{code}"
            matrix = segno.make(url, error="m", micro=False, mask=0).matrix
            if [[bool(m) for m in row] for row in matrix] == printed:
                return url
    return ""


@pytest.mark.parametrize(("template", "heading"), [
    ("programme", "Certificate of completion"), ("course", "Certificate of completion"),
    ("webinar", "Certificate of attendance"), ("festival", "Certificate of attendance")])
def test_every_template_renders(ctx, faculty, tmp_path, template, heading):
    cohort, (enrolment,) = finished_cohort(names=["Tom Template"])
    services.choose_template(faculty, cohort, template)
    certificate = services.issue_certificate(completion_of(enrolment))
    assert certificate.template == template
    text = pdf_text(rendering.render_pdf(certificate), tmp_path)
    assert heading in text and "Tom Template" in text and certificate.serial in text


def test_the_festival_certificate_lists_the_sessions_attended_and_cpd_hours(ctx, tmp_path):
    festival, enrolment = finished_festival("Fola Festival")
    certificate = services.issue_certificate(completion_of(enrolment))
    assert certificate.template == "festival"
    assert [s["title"] for s in certificate.details["sessions"]] == [
        "Opening keynote: decisions under uncertainty", "Workshop: forecasting A&E demand"]
    assert float(certificate.cpd_hours) == 2.5  # 60 + 90 minutes; not the missed panel
    text = pdf_text(rendering.render_pdf(certificate), tmp_path)
    assert "Opening keynote: decisions under uncertainty" in text
    assert "Workshop: forecasting A&E demand" in text
    assert "Panel: analysts in the boardroom" not in text
    assert "CPD HOURS" in text.upper() and "2.5" in text


def test_fonts_and_logo_load_without_a_warning_and_the_bare_call_matches(ctx, caplog):
    """The app's path embeds the shipped fonts and the logo with WeasyPrint silent; the
    benchmark's bare call (default fetcher, fresh font configuration) reaches the same
    files and gives the same pages and fonts, so the comparison is like with like."""
    from bench.workloads import pdf_shape

    cohort, (enrolment,) = finished_cohort(names=["Fern Fonts"])
    certificate = services.issue_certificate(completion_of(enrolment))
    with caplog.at_level(logging.WARNING, logger="weasyprint"):
        app_pdf = rendering.render_pdf(certificate)
        bare_pdf = rendering.bare_render(rendering.certificate_html(certificate,
                                                                    standalone=True))
    assert [r.getMessage() for r in caplog.records if r.name.startswith("weasyprint")] == []
    pages, fonts = pdf_shape(app_pdf)
    assert (pages, fonts) == (1, ["Certificate-Sans (emb yes)",
                                  "Certificate-Sans-Bold (emb yes)"])
    assert pdf_shape(bare_pdf) == (pages, fonts)


def test_pdf_of_renders_once_then_serves_the_stored_copy(ctx, monkeypatch):
    cohort, (enrolment,) = finished_cohort(1)
    certificate = services.issue_certificate(completion_of(enrolment))
    first = pdfs.pdf_of(certificate)
    assert count(CertificatePdf) == 1
    monkeypatch.setattr(rendering, "render_pdf", lambda c: pytest.fail("rendered again"))
    assert pdfs.pdf_of(certificate) == first


# ---------------------------------------------------------------------------- the fetcher

STATIC = f"https://{rendering.STATIC_HOST}/static/"


@pytest.mark.parametrize("url", [
    "file:///etc/passwd",
    "http://example.com/evil.css",
    "https://example.com/logo.png",
    "data:text/plain,hello",
    "ftp://example.com/x",
    f"{STATIC}../../config.py",
    f"{STATIC}%2e%2e/%2e%2e/config.py",
    f"https://{rendering.STATIC_HOST}/etc/passwd",
    f"http://{rendering.STATIC_HOST}/static/fonts/LiberationSans-Regular.ttf",
    f"{STATIC}fonts/no-such-font.ttf",
])
def test_the_fetcher_refuses_anything_but_static_files(url):
    with pytest.raises(FetchRefused):
        fetch_static(url)


def test_the_fetcher_serves_the_apps_static_files():
    got = fetch_static(f"{STATIC}fonts/LiberationSans-Regular.ttf")
    assert got["string"][:4] == b"\x00\x01\x00\x00" and got["mime_type"] == "font/ttf"


HOSTILE = """{% extends "_base.html" %}
{% block body %}
<a rel="attachment" href="file:///etc/passwd">passwd</a>
<img src="file:///etc/passwd" alt="">
<img src="http://example.com/tracker.png" alt="">
<link rel="stylesheet" href="https://example.com/evil.css">
<style>@import url("file:///etc/hostname");
p { background: url("http://example.com/x.png") }</style>
{% endblock %}"""


def test_a_hostile_template_gets_nothing_from_disk_or_network(ctx, tmp_path, monkeypatch,
                                                               caplog):
    import urllib.request

    monkeypatch.setattr(urllib.request, "urlopen",
                        lambda *a, **k: pytest.fail(f"network or file opened: {a[0]}"))
    cohort, (enrolment,) = finished_cohort(names=["Harriet Hostile"])
    certificate = services.issue_certificate(completion_of(enrolment))
    with broken("course.html", HOSTILE), caplog.at_level(logging.WARNING, logger="weasyprint"):
        pdf = rendering.render_pdf(certificate)
    assert "Harriet Hostile" in pdf_text(pdf, tmp_path)
    assert "0 embedded files" in pdf_attachments(pdf, tmp_path)
    assert b"root:" not in pdf
    refused = caplog.text
    for url in ("file:///etc/passwd", "http://example.com/tracker.png",
                "https://example.com/evil.css", "file:///etc/hostname"):
        assert url in refused, url
    assert "FetchRefused" in refused


def test_the_attack_is_real_without_the_fetcher(tmp_path):
    """The same attachment, through WeasyPrint's default fetcher, embeds the file: the
    previous test would catch a fetcher that let it through."""
    pdf = rendering.bare_render('<a rel="attachment" href="file:///etc/passwd">x</a>')
    assert "1 embedded files" in pdf_attachments(pdf, tmp_path)


# ---------------------------------------------------------------------------- revoke, reissue


def test_revoke_needs_a_reason_and_keeps_the_certificate(ctx, faculty):
    cohort, (enrolment,) = finished_cohort(names=["Rita Revoked"])
    certificate = services.issue_certificate(completion_of(enrolment))
    with pytest.raises(DomainError, match="Give a reason"):
        revocation.revoke(faculty, certificate, "   ")
    with pytest.raises(NotAllowed):
        revocation.revoke(enrolment.user, certificate, "mine")
    revocation.revoke(faculty, certificate, "  Issued   in error ")
    assert (certificate.status, certificate.revoked_reason) == ("revoked", "Issued in error")
    assert certificate.revoked_by_id == faculty.id and certificate.revoked_at is not None
    assert services.get_by_code(certificate.code).status == "revoked"
    assert f"Your certificate has been revoked: {certificate.title}" in subjects(
        enrolment.user.email)
    with pytest.raises(DomainError, match="already revoked"):
        revocation.revoke(faculty, certificate, "again")
    with pytest.raises(NotFound):
        services.own_certificate(enrolment.user, certificate.id)


def test_reissue_gives_a_new_serial_and_keeps_the_history(ctx, faculty):
    cohort, (enrolment,) = finished_cohort(names=["Jon Smiht"])
    old = services.issue_certificate(completion_of(enrolment))
    enrolment.user.full_name = "Jon Smith"
    new = revocation.reissue(faculty, old, "Name corrected")
    assert new.serial != old.serial and new.code != old.code
    assert (old.status, new.status, new.replaces_id) == ("revoked", "issued", old.id)
    assert old.replaced_by is new and old.revoked_reason == "Reissued: Name corrected"
    assert (old.holder_name, new.holder_name) == ("Jon Smiht", "Jon Smith")
    assert [c.id for c in pages.history(new)] == [old.id, new.id]
    assert services.live_certificate(old.completion_id) is new
    with pytest.raises(DomainError, match=f"already replaced by {new.serial}"):
        revocation.reissue(faculty, old, "twice")
    mails = subjects(enrolment.user.email)
    assert mails.count(f"Your certificate: {new.title}") == 2  # first issue, then reissue
    assert not any("revoked" in m for m in mails)  # a reissue is one email, not two
    body = db.session.scalars(select(OutboxMessage.body_text).order_by(
        OutboxMessage.id.desc())).first()
    assert f"replaces certificate {old.serial}" in body


def test_a_revoked_certificate_can_be_reissued(ctx, faculty):
    cohort, (enrolment,) = finished_cohort(1)
    old = services.issue_certificate(completion_of(enrolment))
    revocation.revoke(faculty, old, "Wrong course")
    new = revocation.reissue(faculty, old, "It was the right course after all")
    assert new.is_live and old.replaced_by is new


# ---------------------------------------------------------------------------- verification


def test_codes_find_certificates_and_unknown_codes_do_not(ctx):
    cohort, (enrolment,) = finished_cohort(1)
    certificate = services.issue_certificate(completion_of(enrolment))
    assert services.get_by_code(f" {certificate.code} ") is certificate
    for code in ("", "nope", certificate.code.upper() if certificate.code.upper() !=
                 certificate.code else "x", "x" * 500, certificate.serial):
        with pytest.raises(NotFound):
            services.get_by_code(code)


def test_only_holders_and_faculty_get_a_certificate(ctx, faculty, make_user):
    cohort, (mine, theirs) = finished_cohort(2)
    a = services.issue_certificate(completion_of(mine))
    b = services.issue_certificate(completion_of(theirs))
    assert services.own_certificate(mine.user, a.id) is a
    assert services.own_certificate(faculty, b.id) is b
    for user, certificate_id in ((mine.user, b.id), (make_user(Role.DSU_LEAD), a.id),
                                 (mine.user, 999999)):
        with pytest.raises(NotFound):
            services.own_certificate(user, certificate_id)


# ---------------------------------------------------------------------------- zip


def test_the_zip_holds_one_pdf_per_valid_certificate_and_is_written_in_pieces(ctx, faculty):
    cohort, enrolments = finished_cohort(4)
    issued = [services.issue_certificate(completion_of(e)) for e in enrolments]
    revocation.revoke(faculty, issued[0], "Duplicate")
    pdfs.pdf_of(issued[1])  # one stored, the others rendered on the way
    pieces = list(pdfs.zip_stream(pdfs.offering_pdfs(cohort)))
    assert len(pieces) >= 4  # one piece per file, then the directory
    archive = zipfile.ZipFile(io.BytesIO(b"".join(pieces)))
    names = archive.namelist()
    assert sorted(n.split(" ")[0] for n in names) == sorted(c.serial for c in issued[1:])
    assert all(archive.read(n).startswith(b"%PDF") for n in names)
    assert archive.testzip() is None


# ---------------------------------------------------------------------------- demo data


def test_demo_data_has_certificates_for_past_cohorts_and_the_past_festival(ctx):
    from lms.demo import seed_demo
    from lms.offerings.models import Offering

    summary = seed_demo()
    assert summary["certificates"] > 0
    finished = db.session.scalars(select(Offering).where(Offering.status == "finished")).all()
    kinds = {o.kind for o in finished}
    assert {"cohort", "festival"} <= kinds
    for offering in finished:
        live = db.session.scalar(select(func.count(Certificate.id)).where(
            Certificate.offering_id == offering.id, Certificate.status == "issued"))
        assert live > 0, offering.title
    festival = db.session.scalar(select(Certificate).join(
        Offering, Certificate.offering_id == Offering.id).where(
        Offering.kind == "festival", Certificate.status == "issued").limit(1))
    assert festival.template == "festival" and festival.details["sessions"]
    assert float(festival.cpd_hours) > 0
    learner = db.session.scalar(select(Certificate.user_id).where(
        Certificate.replaces_id.is_not(None)).limit(1))
    mine = pages.my_certificates(db.session.get(type(festival.user), learner))
    assert any(c.replaces is not None and not c.replaces.is_live for c in mine)
    assert seed_demo()["certificates"] == 0  # seeding again issues nothing more
