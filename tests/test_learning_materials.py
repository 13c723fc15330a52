"""Materials on an offering or a session: faculty add files and links through the pages,
people with a place download them (local disk and S3, the same tests), nobody else does;
wrong files and storage failures leave nothing half-saved."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from lms.accounts.models import Role, User
from lms.clock import utcnow
from lms.courses.models import Cohort
from lms.extensions import db
from lms.learning import materials
from lms.learning.materials_models import Material
from lms.learning.storage import storage
from lms.offerings import services as engine
from tests.test_learning_storage import PDF


def material_count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Material))


@pytest.fixture
def course(app, make_user, make_cohort):
    """A cohort with Lena booked on it, Otto booked on another cohort, and faculty."""
    cohort = make_cohort()
    other = make_cohort()
    lena = make_user(name="Lena Learner")
    otto = make_user(name="Otto Other")
    faculty = make_user(Role.FACULTY, name="Fay Faculty")
    with app.app_context():
        engine.book(db.session.get(User, lena.id), db.session.get(Cohort, cohort.id))
        engine.book(db.session.get(User, otto.id), db.session.get(Cohort, other.id))
        db.session.commit()
    return cohort, other, lena, otto, faculty


def add_file(client, cohort_id, name="Pre-reading.pdf", content=PDF, **fields):
    data = {"kind": "file", "title": "Pre-reading", "note": "Read *before* session 1",
            "session_id": "", "visible_from": "now", "position": "",
            "file": (io.BytesIO(content), name), **fields}
    return client.post(f"/faculty/offerings/{cohort_id}/materials/new", data=data,
                       content_type="multipart/form-data")


def test_faculty_add_a_file_and_a_learner_with_a_place_downloads_it(
        app, client, login, course, any_storage):
    cohort, _, lena, otto, faculty = course
    login(faculty)
    response = add_file(client, cohort.id)
    assert response.status_code == 302
    assert response.location.endswith(f"/offerings/{cohort.id}/materials")
    with app.app_context():
        material = db.session.scalar(select(Material))
        assert storage().exists(material.file_key)
        material_id = material.id

    login(lena)
    page = client.get(f"/cohorts/{cohort.id}").get_data(as_text=True)
    assert "Materials" in page and "Pre-reading" in page
    assert "<em>before</em>" in page  # the note is formatted text
    download = client.get(f"/materials/{material_id}/file")
    assert download.status_code == 200
    assert download.data == PDF
    assert download.headers["Content-Disposition"].startswith(
        'attachment; filename="Pre-reading.pdf"')
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert download.mimetype == "application/pdf"

    # Another cohort's learner, and anyone signed out: no such file.
    login(otto)
    assert client.get(f"/materials/{material_id}/file").status_code == 404
    assert client.get(f"/offerings/{cohort.id}/materials").status_code == 404
    assert "Pre-reading" not in client.get(f"/cohorts/{cohort.id}").get_data(as_text=True)
    login(None)
    assert client.get(f"/materials/{material_id}/file").status_code == 404


@pytest.mark.parametrize(("name", "content", "message"), [
    ("slides.pdf", b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>",
     "The file&#39;s content is not a PDF"),
    ("logo.svg", b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>",
     "The file must be"),
])
def test_a_wrong_file_is_refused_and_nothing_is_stored(app, client, login, course, any_storage,
                                                      name, content, message):
    cohort, *_, faculty = course
    login(faculty)
    response = add_file(client, cohort.id, name=name, content=content)
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert "There is a problem" in response.get_data(as_text=True)
    assert material_count(app) == 0


def test_every_problem_is_shown_at_once(app, client, login, course):
    cohort, *_, faculty = course
    login(faculty)
    response = client.post(f"/faculty/offerings/{cohort.id}/materials/new", data={
        "kind": "link", "title": "", "url": "javascript:alert(1)", "visible_from": "now"})
    page = response.get_data(as_text=True)
    assert "Enter a title" in page and "Enter the link as a full web address" in page
    assert material_count(app) == 0


@pytest.mark.parametrize("any_storage", ["s3"], indirect=True)
def test_an_object_store_that_is_down_saves_no_row_and_says_so(app, client, login, course,
                                                               any_storage, s3_server):
    cohort, *_, faculty = course
    login(faculty)
    s3_server.stop()
    response = add_file(client, cohort.id)
    assert response.status_code == 200
    assert "The file could not be saved. Try again later." in response.get_data(as_text=True)
    assert material_count(app) == 0


def test_a_file_whose_row_is_not_saved_is_deleted(ctx, app, make_cohort, make_user,
                                                 any_storage):
    cohort = make_cohort()
    faculty = make_user(Role.FACULTY)
    material = materials.add_material(faculty, cohort, materials.MaterialDetails(
        kind="file", title="Slides", upload=materials.Upload("slides.pdf", io.BytesIO(PDF))))
    key = material.file_key
    assert storage().exists(key)
    db.session.rollback()
    assert not storage().exists(key)


def test_a_removed_file_goes_only_when_the_removal_commits(ctx, make_cohort, make_user,
                                                          any_storage):
    cohort = make_cohort()
    faculty = make_user(Role.FACULTY)
    material = materials.add_material(faculty, cohort, materials.MaterialDetails(
        kind="file", title="Slides", upload=materials.Upload("slides.pdf", io.BytesIO(PDF))))
    db.session.commit()
    key = material.file_key
    materials.remove_material(faculty, material)
    db.session.rollback()
    assert storage().exists(key)
    materials.remove_material(faculty, db.session.get(Material, material.id))
    db.session.commit()
    assert not storage().exists(key)


def test_materials_wait_for_their_moment(app, client, login, course):
    cohort, _, lena, _, faculty = course
    login(faculty)
    with app.app_context():
        session_id = db.session.get(Cohort, cohort.id).sessions[0].id
    for title, visible in (("Before", "now"), ("During", "start"), ("Afterwards", "after")):
        response = client.post(f"/faculty/offerings/{cohort.id}/materials/new", data={
            "kind": "link", "title": title, "url": f"https://example.org/{title}",
            "session_id": str(session_id), "visible_from": visible})
        assert response.status_code == 302
    faculty_page = client.get(f"/offerings/{cohort.id}/materials").get_data(as_text=True)
    assert "Afterwards" in faculty_page and "Shown from" in faculty_page

    login(lena)
    page = client.get(f"/offerings/{cohort.id}/materials").get_data(as_text=True)
    assert "Before" in page and "During" not in page and "Afterwards" not in page
    with app.app_context():
        session = db.session.get(Cohort, cohort.id).sessions[0]
        ends = session.ends_at
    import time_machine
    with time_machine.travel(ends + timedelta(minutes=1)):
        login(lena)  # a fresh session: the old one timed out in the meantime
        page = client.get(f"/offerings/{cohort.id}/materials").get_data(as_text=True)
    assert "During" in page and "Afterwards" in page


def test_faculty_reorder_change_and_remove(app, client, login, course):
    cohort, *_, faculty = course
    login(faculty)
    for title in ("First", "Second"):
        client.post(f"/faculty/offerings/{cohort.id}/materials/new", data={
            "kind": "link", "title": title, "url": "https://example.org/", "visible_from": "now"})
    with app.app_context():
        second = db.session.scalar(select(Material).where(Material.title == "Second")).id
    client.post(f"/faculty/materials/{second}/move", data={"direction": "up"})
    page = client.get(f"/offerings/{cohort.id}/materials").get_data(as_text=True)
    assert page.index(">Second</a>") < page.index(">First</a>")
    response = client.post(f"/faculty/materials/{second}/edit", data={
        "title": "Second, renamed", "url": "https://example.org/2", "visible_from": "now",
        "session_id": ""})
    assert response.status_code == 302
    assert "Second, renamed" in client.get(f"/offerings/{cohort.id}/materials").get_data(
        as_text=True)
    assert "Remove “Second, renamed”?" in client.get(
        f"/faculty/materials/{second}/remove").get_data(as_text=True)
    assert client.post(f"/faculty/materials/{second}/remove").status_code == 302
    assert material_count(app) == 1


def test_only_open_events_may_have_public_materials(ctx, make_cohort, make_user):
    from lms.errors import InvalidInput

    cohort = make_cohort()
    with pytest.raises(InvalidInput, match="Only an open event"):
        materials.add_material(make_user(Role.FACULTY), cohort, materials.MaterialDetails(
            kind="link", title="Reading", url="https://example.org", public=True))


def test_home_lists_the_materials_a_person_may_see(ctx, make_cohort, make_user):
    cohort, other = make_cohort(), make_cohort()
    faculty, lena = make_user(Role.FACULTY), make_user()
    engine.book(lena, cohort)
    for offering, title in ((cohort, "Mine"), (other, "Not mine")):
        materials.add_material(faculty, offering, materials.MaterialDetails(
            kind="link", title=title, url="https://example.org"))
    later = materials.add_material(faculty, cohort, materials.MaterialDetails(
        kind="link", title="Later", url="https://example.org", visible_from="after"))
    assert later.visible_at() > utcnow()
    assert [m.title for m in materials.materials_for(lena)] == ["Mine"]


def test_a_cohort_session_recording_reaches_those_who_missed_it(app, client, login, make_user,
                                                                 make_cohort, mailbox):
    import time_machine

    from lms.attendance.models import Attendance

    cohort = make_cohort()
    came, missed = make_user(name="Cara Came"), make_user(name="Mo Missed")
    faculty = make_user(Role.FACULTY)
    with app.app_context():
        offering = db.session.get(Cohort, cohort.id)
        for person in (came, missed):
            engine.book(db.session.get(User, person.id), offering)
        session = offering.sessions[0]
        db.session.add(Attendance(session_id=session.id, user_id=came.id, status="present",
                                  source="register"))
        db.session.commit()
        session_id, ends = session.id, session.ends_at
    mailbox.deliver()
    url = f"/faculty/sessions/{session_id}/recording"
    login(faculty)
    early = client.post(url, data={"url": "https://video.example.com/s1"})
    assert "once the session is over" in early.get_data(as_text=True)
    with time_machine.travel(ends + timedelta(hours=1)):
        login(faculty)
        assert "Publish the recording" in client.get(
            f"/offerings/{cohort.id}/materials").get_data(as_text=True)
        response = client.post(url, data={"url": "https://video.example.com/s1"},
                               follow_redirects=True)
        assert "1 person who missed the session emailed" in response.get_data(as_text=True)
        for person in (came, missed):
            login(person)
            page = client.get(f"/offerings/{cohort.id}/materials").get_data(as_text=True)
            assert 'href="https://video.example.com/s1"' in page
        mailbox.deliver()  # queued at this later moment
    [email] = [m for m in mailbox.to(missed.email) if m["Subject"].startswith("Recording")]
    assert "https://video.example.com/s1" in email.get_body(("plain",)).get_content()
    assert not [m for m in mailbox.to(came.email) if m["Subject"].startswith("Recording")]


def test_the_materials_page_reads_a_fixed_number_of_queries(app, client, login, course,
                                                            count_queries):
    cohort, _, lena, _, faculty = course

    def add(n):
        with app.app_context():
            offering = db.session.get(Cohort, cohort.id)
            author = db.session.get(User, faculty.id)
            for i in range(n):
                materials.add_material(author, offering, materials.MaterialDetails(
                    kind="link", title=f"Reading {i}", url="https://example.org"))
            db.session.commit()

    login(lena)
    client.get("/help")  # Lena kept, in both counts below
    add(2)
    with count_queries() as few:  # built (the materials changed)
        assert ">Reading 1</a>" in client.get(
            f"/offerings/{cohort.id}/materials").get_data(as_text=True)
    add(15)
    with count_queries() as many:  # built again, for 17
        assert ">Reading 14</a>" in client.get(
            f"/offerings/{cohort.id}/materials").get_data(as_text=True)
    assert many.n == few.n
    with count_queries() as kept:  # kept: one read of the versions, Lena's and the cohort's
        assert ">Reading 14</a>" in client.get(
            f"/offerings/{cohort.id}/materials").get_data(as_text=True)
    assert kept.n == 1, kept.statements


def test_a_disk_that_cannot_take_the_file_saves_no_row_and_says_so(app, client, login, course,
                                                                   tmp_path):
    cohort, *_, faculty = course
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the uploads folder should be")
    saved = app.config["UPLOAD_DIR"]
    app.config["UPLOAD_DIR"] = str(blocked)
    app.extensions.pop("lms_storage", None)
    try:
        login(faculty)
        response = add_file(client, cohort.id)
        assert response.status_code == 200
        assert "The file could not be saved. Try again later." in response.get_data(as_text=True)
        assert material_count(app) == 0
    finally:
        app.config["UPLOAD_DIR"] = saved
        app.extensions.pop("lms_storage", None)
