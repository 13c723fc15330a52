"""Attendance pages through the test client."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import time_machine
from sqlalchemy import func, select

from lms.accounts.models import Role
from lms.attendance.models import Attendance, AttendanceImport, CheckInCode
from lms.extensions import db

TEAMS = (Path(__file__).parent / "data" / "teams_attendance_report.csv").read_bytes()


# The sample report's meeting: 10am on 12 January 2027. Each test books a month before it
# (``make_cohort`` puts the session 30 days ahead) and takes the register after it starts.
MEETING = datetime(2027, 1, 12, 10, 0, tzinfo=UTC)


@pytest.fixture
def clock():
    """"Now" pinned a month before the meeting; ``clock.move_to`` to go to the session."""
    with time_machine.travel(MEETING - timedelta(days=30), tick=False) as traveller:
        yield traveller


def attendance(app) -> dict[int, str]:
    with app.app_context():
        return dict(db.session.execute(select(Attendance.user_id, Attendance.status)).all())


def test_register_on_the_page(app, client, login, make_user, make_cohort, clock):
    faculty = make_user(Role.FACULTY, org="SU")
    cohort = make_cohort(capacity=5)
    a, b = make_user(name="Alma Ames"), make_user(name="Bo Bright")
    for person in (a, b):
        login(person)
        client.post(f"/offerings/{cohort.id}/book")
    login(faculty)
    sid = cohort.sessions[0].id
    # Before the session: who is booked, no controls, and when the register can be taken.
    page = client.get(f"/faculty/sessions/{sid}/register").get_data(as_text=True)
    assert "You can take the register once the session has started at 10am on Tuesday " \
           "12 January 2027." in page
    assert "Alma Ames" in page and "Bo Bright" in page
    assert 'name="status-' not in page and "all-present" not in page
    assert "Add as late" not in page and "Import a Teams or Zoom report" not in page
    refused = client.post(f"/faculty/sessions/{sid}/register/all-present",
                          follow_redirects=True).get_data(as_text=True)
    assert "You can take the register once the session has started" in refused
    client.post(f"/faculty/sessions/{sid}/register", data={f"status-{a.id}": "present"})
    assert attendance(app) == {}
    clock.move_to(MEETING + timedelta(minutes=5))
    login(faculty)
    page = client.get(f"/faculty/sessions/{sid}/register").get_data(as_text=True)
    assert "once the session has started" not in page
    assert "Alma Ames" in page and "Bo Bright" in page and f'name="status-{a.id}"' in page
    client.post(f"/faculty/sessions/{sid}/register", data={
        f"status-{a.id}": "late", f"note-{a.id}": "Train delayed"})
    assert attendance(app) == {a.id: "late"}
    client.post(f"/faculty/sessions/{sid}/register/all-present")
    assert attendance(app) == {a.id: "late", b.id: "present"}
    bad = client.post(f"/faculty/sessions/{sid}/register/add",
                      data={"email": "ghost@example.nhs.uk"}).get_data(as_text=True)
    assert "There is a problem" in bad and "No one has an account" in bad


def test_register_shows_each_mark_and_note_and_a_browser_post_keeps_unmarked_people(
        app, client, login, make_user, make_cohort, clock):
    faculty = make_user(Role.FACULTY, org="SU")
    cohort = make_cohort(capacity=5)
    a, b = make_user(name="Alma Ames"), make_user(name="Bo <Bright>")
    for person in (a, b):
        login(person)
        client.post(f"/offerings/{cohort.id}/book")
    clock.move_to(MEETING + timedelta(minutes=5))
    login(faculty)
    sid = cohort.sessions[0].id
    client.post(f"/faculty/sessions/{sid}/register", data={
        f"status-{a.id}": "late", f"note-{a.id}": "Train \"delayed\""})
    page = client.get(f"/faculty/sessions/{sid}/register").get_data(as_text=True)
    # Each person's choice shows their mark, and is labelled by the column and their name.
    select_a = re.search(rf'<select[^>]*name="status-{a.id}"[^>]*>(.*?)</select>', page).group(0)
    select_b = re.search(rf'<select[^>]*name="status-{b.id}"[^>]*>(.*?)</select>', page).group(0)
    assert '<option value="late" selected>Late</option>' in select_a
    assert '<option value="" selected>Not marked</option>' in select_b
    assert " selected" not in select_b.replace('value="" selected', "")
    assert f'aria-labelledby="mark-heading person-{a.id}"' in select_a
    assert f'id="person-{b.id}">Bo &lt;Bright&gt;' in page and 'id="mark-heading"' in page
    assert f'name="note-{a.id}" type="text" aria-labelledby="note-heading person-{a.id}" ' \
           'value="Train &#34;delayed&#34;"' in page
    # The whole form as a browser sends it: Bo is left "Not marked", so stays unmarked.
    client.post(f"/faculty/sessions/{sid}/register", data={
        f"status-{a.id}": "late", f"note-{a.id}": "Train", f"status-{b.id}": "",
        f"note-{b.id}": ""})
    assert attendance(app) == {a.id: "late"}


def test_check_in_by_qr_link_and_by_typing(app, client, login, make_user, make_cohort, clock):
    faculty = make_user(Role.FACULTY, org="SU")
    learner = make_user()
    cohort = make_cohort(capacity=5)
    login(learner)
    client.post(f"/offerings/{cohort.id}/book")
    login(faculty)
    sid = cohort.sessions[0].id
    shown = client.get(f"/faculty/sessions/{sid}/check-in").get_data(as_text=True)
    assert "<svg" in shown
    with app.app_context():
        code = db.session.scalar(select(CheckInCode.code))
    assert code in shown
    login(learner)
    with app.app_context():
        starts = cohort.sessions[0].starts_at
    too_soon = client.post(f"/check-in/{code}", data={"code": code}).get_data(as_text=True)
    assert "It opens when the session starts at 10am on Tuesday 12 January 2027" in too_soon
    with time_machine.travel(starts + timedelta(minutes=5)):
        login(learner)  # sessions older than 12 hours are refused, and we jumped ahead
        page = client.get(f"/check-in/{code}").get_data(as_text=True)
        assert f'value="{code}"' in page
        done = client.post(f"/check-in/{code}", data={"code": code}, follow_redirects=True)
        assert "You are checked in" in done.get_data(as_text=True)
        wrong = client.post("/check-in", data={"code": "nope"}).get_data(as_text=True)
        assert "Error: Check in" in wrong
    assert attendance(app) == {learner.id: "present"}


def test_import_page_upload_and_errors(app, client, login, make_user, make_cohort, clock):
    faculty = make_user(Role.FACULTY, org="SU")
    asha = make_user(email="asha.patel@example.nhs.uk")
    cohort = make_cohort(capacity=5)
    login(asha)
    client.post(f"/offerings/{cohort.id}/book")
    login(faculty)
    sid = cohort.sessions[0].id
    early = client.get(f"/faculty/sessions/{sid}/import").get_data(as_text=True)
    assert "You can import an attendance report once the session has started at 10am " \
           "on Tuesday 12 January 2027." in early and 'type="file"' not in early
    clock.move_to(MEETING + timedelta(hours=3))
    login(faculty)
    done = client.post(f"/faculty/sessions/{sid}/import", data={
        "report": (io.BytesIO(TEAMS), "Attendance report.csv"), "min_percent": "50"},
        content_type="multipart/form-data", follow_redirects=True).get_data(as_text=True)
    assert "Imported: 1 matched, 1 present" in done
    assert "Guest Phone User" in done
    again = client.post(f"/faculty/sessions/{sid}/import", data={
        "report": (io.BytesIO(TEAMS), "Attendance report.csv"), "min_percent": "50"},
        content_type="multipart/form-data").get_data(as_text=True)
    assert "already been imported" in again and 'href="#report"' in again
    empty = client.post(f"/faculty/sessions/{sid}/import", data={
        "report": (io.BytesIO(b""), "empty.csv"), "min_percent": "50"},
        content_type="multipart/form-data").get_data(as_text=True)
    assert "The file is empty" in empty
    with app.app_context():
        assert db.session.scalar(select(func.count(AttendanceImport.id))) == 1
    assert attendance(app) == {asha.id: "present"}


def test_the_register_filters_by_name_without_javascript_and_tells_namesakes_apart(
        app, client, login, make_user, make_cohort, clock):
    faculty = make_user(Role.FACULTY, org="SU")
    cohort = make_cohort(capacity=5)
    people = [make_user(name="Kim Lee", org="BSOL", email="kim.lee@bsol.example.nhs.uk"),
              make_user(name="Kim  lee", org="BC", email="kim.lee@bc.example.nhs.uk"),
              make_user(name="Ola Ode")]
    for person in people:
        login(person)
        client.post(f"/offerings/{cohort.id}/book")
    sid = cohort.sessions[0].id
    clock.move_to(MEETING + timedelta(minutes=5))
    login(faculty)
    page = client.get(f"/faculty/sessions/{sid}/register").get_data(as_text=True)
    assert "Showing all 3 people." in page
    assert "The Black Country, kim.lee@bc.example.nhs.uk" in page
    assert len(re.findall('class="lms-register__who"', page)) == 2  # not for Ola Ode
    only = client.get(f"/faculty/sessions/{sid}/register?q=LEE+bc.example").get_data(
        as_text=True)
    assert re.findall(r'name="status-(\d+)"', only) == [str(people[1].id)]
    assert "Showing 1 of 3 people matching" in only
    # Saving a filtered register marks only who was shown, and comes back filtered.
    saved = client.post(f"/faculty/sessions/{sid}/register?q=ode",
                        data={f"status-{people[2].id}": "present"})
    assert saved.headers["Location"].endswith(f"/faculty/sessions/{sid}/register?q=ode")
    assert attendance(app) == {people[2].id: "present"}
    none = client.get(f"/faculty/sessions/{sid}/register?q=nobody").get_data(as_text=True)
    assert "No one on the register matches “nobody”." in none


def test_a_long_register_is_read_and_saved_a_page_at_a_time(
        app, client, login, make_user, make_cohort, clock, monkeypatch):
    """A register longer than a page (500 people; 2 here) shows a page of it with links to
    the others, keeps the page when saved, and saves only the people that page shows; the
    name filter still looks through everyone."""
    from lms.attendance import register_kept

    monkeypatch.setattr(register_kept, "REGISTER_PAGE_SIZE", 2)
    faculty = make_user(Role.FACULTY, org="SU")
    cohort = make_cohort(capacity=10)
    people = [make_user(name=f"{first} Person") for first in ("Ada", "Ben", "Cat", "Dan", "Eve")]
    for person in people:
        login(person)
        client.post(f"/offerings/{cohort.id}/book")
    clock.move_to(MEETING + timedelta(minutes=5))
    login(faculty)
    url = f"/faculty/sessions/{cohort.sessions[0].id}/register"

    first = client.get(url).get_data(as_text=True)
    assert "Ada Person" in first and "Ben Person" in first and "Cat Person" not in first
    assert "People 1 to 2 of 5 on the register" in first
    assert "Showing 1 to 2 of 5 people, 3 pages" in first
    assert "data-register-filter" not in first, "the live filter would see one page only"
    assert f'href="{url}?page=2"' in first and "Page 2 of 3" in first
    assert "Save this page of the register" in first

    second = client.get(f"{url}?page=2").get_data(as_text=True)
    assert "Cat Person" in second and "Dan Person" in second and "Ada Person" not in second
    assert f'href="{url}?page=1"' in second and f'href="{url}?page=3"' in second
    # Saved from page 2: the marks of that page, and back to page 2.
    saved = client.post(f"{url}?page=2", data={f"status-{people[2].id}": "present",
                                                f"status-{people[3].id}": "late"})
    assert saved.status_code == 302 and saved.location.endswith(f"{url}?page=2")
    assert attendance(app) == {people[2].id: "present", people[3].id: "late"}

    last = client.get(f"{url}?page=99").get_data(as_text=True)
    assert "Eve Person" in last and "People 5 to 5 of 5" in last
    assert "Ada Person" in client.get(f"{url}?page=x1").get_data(as_text=True)
    found = client.get(f"{url}?q=eve").get_data(as_text=True)
    assert "Eve Person" in found and "Ada Person" not in found
    assert "data-register-filter" in found, "one page: the live filter again"
