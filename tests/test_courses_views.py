"""Course pages through the test client: what people see, what faculty change, and that the
public pages run the same number of queries however much data there is."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
import time_machine
from sqlalchemy import func, select

from lms.courses.models import Cohort, Course
from lms.extensions import db
from lms.offerings.models import Session
from tests import catalogue_builders as build
from tests.conftest import reset_database

NOW = datetime(2027, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def utc(*parts) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def commit(app, make):
    """Run ``make`` in its own context, commit, and return the ids it returns."""
    with app.app_context():
        result = make()
        db.session.commit()
        return result


def html(response) -> str:
    return response.get_data(as_text=True)


def titles_of(page: str) -> list[str]:
    return re.findall(r"<title>(.*?) – MDSN", page)


@pytest.fixture
def catalogue_world(app, frozen) -> dict:
    def make():
        forecasting = build.course("Time-series forecasting with R", cpd_hours=7.5)
        # 23:30 UTC on 31 March is 00:30 on 1 April in London (BST).
        soon = build.cohort(forecasting, "Spring", starts=[utc(2027, 3, 31, 23, 30)],
                            capacity=3)
        build.enrol(soon)
        numbers = build.course("Communicating with numbers", format="in_person")
        full = build.cohort(numbers, "Full", starts=[utc(2027, 4, 6, 9, 0)], capacity=1)
        build.enrol(full)
        build.course("Evaluation design")
        hidden = build.course("Hidden course", published=False)
        build.cohort(hidden, "Hidden cohort")
        draft = build.cohort(forecasting, "Draft cohort", status="draft")
        return {"forecasting": forecasting.id, "soon": soon.id, "hidden": hidden.id,
                "draft": draft.id, "full": full.id}

    return commit(app, make)


# ---------------------------------------------------------------------------- public pages


def test_catalogue_lists_courses_with_next_run_places_and_a_count(client, catalogue_world):
    page = html(client.get("/courses"))
    assert titles_of(page) == ["Courses and programmes"]
    assert page.count("<h1") == 1
    assert '<p role="status" class="nhsuk-body-l">3 courses found</p>' in page
    assert "Hidden course" not in page
    assert "1 April 2027" in page  # the next run, on London's calendar
    assert "2 places left" in page
    assert "Full – join the waiting list" in page
    assert "No upcoming dates" in page
    assert ">7.5<" in page
    assert f'href="/cohorts/{catalogue_world["soon"]}"' in page


def test_catalogue_filters_come_from_the_query_string(client, catalogue_world):
    page = html(client.get("/courses?format=in_person&q=NUMBERS"))
    assert "1 course found" in page
    assert "Communicating with numbers" in page and "Time-series" not in page
    assert titles_of(page) == ["Courses and programmes (filtered)"]
    assert 'value="NUMBERS"' in page and '<option value="in_person" selected>' in page
    page = html(client.get("/courses?has_places=y"))
    assert "1 course found" in page and "Time-series" in page


def test_a_bad_date_filter_is_an_error_linked_to_its_field(client, catalogue_world):
    page = html(client.get("/courses?starts_after=31/02/2027"))
    assert titles_of(page) == ["Error: Courses and programmes"]
    assert '<a href="#starts_after">The date must be a real date</a>' in page
    assert 'value="31"' in page and 'value="02"' in page and 'value="2027"' in page
    assert "3 courses found" in page  # the other filters still apply


def test_the_catalogue_shows_twenty_courses_a_page_keeping_the_filters(app, client, frozen):
    """45 courses: three pages of at most 20, each linking to the next and the previous with
    the filters kept; anything but a page number shows the nearest page, never an error."""
    def make():
        for n in range(45):
            build.course(f"Course {n:02}", format="online" if n % 5 else "in_person")

    commit(app, make)
    first = html(client.get("/courses"))
    assert "45 courses found" in first and "Showing 1 to 20 (page 1 of 3)" in first
    assert titles_of(first) == ["Courses and programmes (page 1 of 3)"]
    assert first.count('<li class="nhsuk-card">') == 20
    assert 'class="nhsuk-pagination"' in first
    assert 'href="/courses?page=2"' in first and "Previous</span>" not in first

    last = html(client.get("/courses?page=3"))
    assert last.count('<li class="nhsuk-card">') == 5
    assert "Showing 41 to 45 (page 3 of 3)" in last and "Next</span>" not in last
    assert 'href="/courses?page=2"' in last
    pages = [html(client.get(f"/courses?page={n}")) for n in (1, 2, 3)]
    assert [sum(f">Course {n:02}<" in page for page in pages) for n in range(45)] == [1] * 45

    filtered = html(client.get("/courses?format=online&page=2"))  # 36 online: 2 pages
    assert "36 courses found" in filtered and "Showing 21 to 36 (page 2 of 2)" in filtered
    assert 'href="/courses?page=1&amp;format=online"' in filtered  # the filter kept
    for odd in ("abc", "0", "-1", "99", "9" * 40, "2.5"):
        response = client.get(f"/courses?page={odd}")
        assert response.status_code == 200, odd
    assert "(page 3 of 3)" in html(client.get("/courses?page=99"))
    assert "(page 1 of 3)" in html(client.get("/courses?page=abc"))


def test_course_page_lists_cohorts_with_dates_and_places(client, catalogue_world, login,
                                                         people):
    page = html(client.get(f"/courses/{catalogue_world['forecasting']}"))
    assert titles_of(page) == ["Time-series forecasting with R"]
    assert "Spring" in page and "1 April 2027" in page and "2 places left" in page
    assert "Draft cohort" not in page
    assert "Edit this course" not in page
    login(people.faculty)
    page = html(client.get(f"/courses/{catalogue_world['forecasting']}"))
    assert "Draft cohort" in page and "Edit this course" in page


def test_cohort_page_shows_sessions_in_london_time_and_the_booking_panel(
    client, catalogue_world
):
    page = html(client.get(f"/cohorts/{catalogue_world['soon']}"))
    assert titles_of(page) == ["Time-series forecasting with R: Spring"]
    assert page.count("<h1") == 1
    assert "Thursday 1 April 2027" in page
    assert "12:30am to 2:30am" in page
    assert "2 places left" in page
    assert 'id="booking"' in page and "Sign in to book" in page


def test_cohort_page_offers_its_sessions_as_a_calendar_file(client, catalogue_world):
    page = html(client.get(f"/cohorts/{catalogue_world['soon']}"))
    link = re.search(r'<a href="([^"]+)" download>Add every session to my calendar', page)
    assert link, "the cohort page has no calendar file link"
    response = client.get(link.group(1))
    assert response.status_code == 200
    assert response.mimetype == "text/calendar"
    body = response.get_data(as_text=True)
    assert body.count("BEGIN:VEVENT") == 1
    assert "SUMMARY:Time-series forecasting with R – Spring: Session 1" in body
    # 23:30 UTC on 31 March is 00:30 on 1 April on London clocks.
    assert "DTSTART;TZID=Europe/London:20270401T003000" in body


@pytest.mark.parametrize("key", ["hidden", "draft"])
def test_unpublished_and_draft_pages_are_404_for_learners_but_not_faculty(
    client, catalogue_world, login, people, key
):
    url = (f"/courses/{catalogue_world[key]}" if key == "hidden"
           else f"/cohorts/{catalogue_world[key]}")
    for person in (None, people.learner, people.dsu_same):
        login(person)
        assert client.get(url).status_code == 404
    login(people.faculty)
    assert client.get(url).status_code == 200


# ---------------------------------------------------------------------------- query counts


def test_public_pages_run_the_same_number_of_queries_at_1x_and_10x(app, client, login,
                                                                   make_user, count_queries):
    counts = {}
    for scale in (1, 10):
        with app.app_context():
            reset_database()
        ids = commit(app, lambda scale=scale: build.region(scale))
        login(make_user())
        pages = {"catalogue": "/courses", "course": f"/courses/{ids['course_id']}",
                 "cohort": f"/cohorts/{ids['cohort_id']}"}
        for page, url in pages.items():
            assert client.get(url).status_code == 200
            with count_queries() as counted:
                response = client.get(url)
            assert response.status_code == 200
            counts[(page, scale)] = counted.n
    # 4 or 31 courses in the catalogue; the course has 2 or 20 cohorts; the cohort has 3 or 30
    # sessions and 3 or 21 people.
    for page in ("catalogue", "course", "cohort"):
        assert counts[(page, 1)] == counts[(page, 10)], counts


def test_catalogue_course_and_cohort_query_counts_are_small(app, client, count_queries):
    """Anonymous: no user to load, so these are the pages' own queries."""
    ids = commit(app, lambda: build.region(1))
    measured = {}
    for url in ["/courses", f"/courses/{ids['course_id']}", f"/cohorts/{ids['cohort_id']}"]:
        with count_queries() as counted:
            assert client.get(url).status_code == 200
        measured[url] = counted.n
    assert max(measured.values()) <= 10, measured


# ---------------------------------------------------------------------------- faculty: courses


def course_form(**changes) -> dict:
    data = {"title": "Population health analytics", "summary": "Segment your population",
            "description": "", "kind": "short_course", "strand": "analytical_capability",
            "format": "blended", "target_audience": "", "cpd_hours": "12",
            "competency_ids": [], "min_attendance_percent": "75",
            "requires_feedback": "y", "published": "y"}
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def _competencies(app) -> list[int]:
    from lms.clock import utcnow
    from lms.competencies.models import Competency
    with app.app_context():
        made = [Competency(name=name, domain=domain, description="x") for name, domain in (
            ("Forecasting", "analytical_capability"), ("Storytelling", "beyond_numbers"),
            ("Old methods", "analytical_capability"))]
        db.session.add_all(made)
        db.session.flush()
        made[2].retired_at = utcnow()
        db.session.commit()
        return [c.id for c in made]


def test_faculty_pick_competencies_by_name_grouped_by_strand(app, client, login, people):
    forecasting, storytelling, retired = _competencies(app)
    login(people.faculty)
    page = html(client.get("/faculty/courses/new"))
    assert 'name="competency_ids"' in page and 'type="checkbox"' in page
    assert "The ids of the competencies" not in page
    capability = page.index("Strengthening analytical capability</legend>")
    beyond = page.index("Moving beyond the numbers</legend>")
    assert capability < page.index(">Forecasting</label>") < beyond < page.index(
        ">Storytelling</label>")
    assert "Old methods" not in page  # retired: not offered to new courses
    assert "You can use Markdown" in page
    refused = client.post("/faculty/courses/new", data=course_form(competency_ids=[
        str(forecasting), str(retired)]))
    assert '<a href="#competency_ids">Choose the competencies from the list</a>' in html(refused)
    with app.app_context():
        assert db.session.scalar(select(Course)) is None


def test_faculty_add_a_course_then_its_first_cohort(app, client, login, people, frozen):
    forecasting, storytelling, _ = _competencies(app)
    login(people.faculty)
    assert "Manage courses" in html(client.get("/"))
    response = client.post("/faculty/courses/new", data=course_form(
        competency_ids=[str(storytelling), str(forecasting)]))
    assert response.status_code == 302
    with app.app_context():
        course = db.session.scalar(select(Course))
        assert (course.title, course.competency_ids, float(course.cpd_hours)) == \
            ("Population health analytics", sorted([forecasting, storytelling]), 12.0)
        course_id = course.id
    assert response.location.endswith(f"/faculty/courses/{course_id}/cohorts/new")

    response = client.post(f"/faculty/courses/{course_id}/cohorts/new", data={
        "name": "Cohort 1", "booking_mode": "open", "capacity": "25", "offer_hours": "48",
        "lead_ids": str(people.faculty.id), "session1_title": "Introduction",
        "session1_day": "2027-03-29", "session1_start": "10:00", "session1_end": "12:00",
        "session1_location": "", "session1_join_url": "https://teams.example/x",
        "session1_capacity": "",
    })
    assert response.status_code == 302
    with app.app_context():
        cohort = db.session.scalar(select(Cohort))
        assert (cohort.status, cohort.capacity, cohort.title) == \
            ("draft", 25, "Population health analytics – Cohort 1")
        assert cohort.sessions[0].starts_at == utc(2027, 3, 29, 9, 0)  # 10:00 BST
        assert response.location.endswith(f"/faculty/cohorts/{cohort.id}")


def test_an_empty_course_form_shows_every_error_linked_and_saves_nothing(app, client, login,
                                                                         people):
    login(people.admin)
    page = html(client.post("/faculty/courses/new", data={"cpd_hours": "six"}))
    assert titles_of(page) == ["Error: Add a course"]
    assert '<a href="#cpd_hours">Enter the CPD hours as a number, like 6 or 7.5</a>' in page
    assert 'value="six"' in page
    page = html(client.post("/faculty/courses/new", data={"cpd_hours": "6"}))
    for field in ("title", "summary", "kind", "strand", "format"):
        assert f'href="#{field}"' in page, field
    assert 'id="kind"' in page  # the first radio carries the id the summary links to
    with app.app_context():
        assert db.session.scalar(select(func.count(Course.id))) == 0


def test_edit_course_keeps_values_and_saves(app, client, login, people, catalogue_world):
    login(people.faculty)
    url = f"/faculty/courses/{catalogue_world['forecasting']}/edit"
    page = html(client.get(url))
    assert 'value="Time-series forecasting with R"' in page and 'value="7.5"' in page
    response = client.post(url, data=course_form(title="Forecasting with R", published=None))
    assert response.status_code == 302
    with app.app_context():
        course = db.session.get(Course, catalogue_world["forecasting"])
        assert course.title == "Forecasting with R" and course.published is False
        assert db.session.get(Cohort, catalogue_world["soon"]).title == \
            "Forecasting with R – Spring"


# ---------------------------------------------------------------------------- faculty: cohorts


def settings_form(cohort_id: int, app, **changes) -> dict:
    with app.app_context():
        cohort = db.session.get(Cohort, cohort_id)
        data = {"name": cohort.name, "booking_mode": cohort.booking_mode,
                "capacity": str(cohort.capacity or ""), "offer_hours": "48",
                "status": cohort.status}
    data.update(changes)
    return data


def test_manage_page_shows_errors_and_changes_nothing(
    app, client, login, people, catalogue_world
):
    login(people.faculty)
    url = f"/faculty/cohorts/{catalogue_world['soon']}"
    page = html(client.get(url))
    assert titles_of(page) == ["Manage Time-series forecasting with R: Spring"]
    assert "Birmingham and Solihull" in page  # a quota box per ICS
    page = html(client.post(url, data=settings_form(catalogue_world["soon"], app,
                                                     capacity="0")))
    assert titles_of(page)[0].startswith("Error: ")
    page = html(client.post(url, data=settings_form(catalogue_world["soon"], app,
                                                     capacity="3", name="")))
    assert "Enter a name for the cohort" in page
    with app.app_context():
        assert db.session.get(Cohort, catalogue_world["soon"]).name == "Spring"


def test_capacity_below_holders_message(app, client, login, people, catalogue_world):
    def fill():
        cohort = db.session.get(Cohort, catalogue_world["soon"])
        build.enrol(cohort)
    commit(app, fill)
    login(people.faculty)
    page = html(client.post(f"/faculty/cohorts/{catalogue_world['soon']}",
                            data=settings_form(catalogue_world["soon"], app, capacity="1")))
    assert "2 places are already taken, so the cohort needs at least 2 places" in page
    with app.app_context():
        assert db.session.get(Cohort, catalogue_world["soon"]).capacity == 3


def test_quota_errors_link_to_the_quota_group(app, client, login, people, catalogue_world):
    login(people.faculty)
    with app.app_context():
        from tests.conftest import organisation
        bsol = organisation("BSOL").id
    page = html(client.post(f"/faculty/cohorts/{catalogue_world['soon']}",
                            data=settings_form(catalogue_world["soon"], app,
                                               **{f"quota_{bsol}": "2"})))
    assert '<a href="#quotas">ICS quotas apply only to nomination' in page
    assert 'id="quotas"' in page


def test_add_change_and_cancel_sessions_email_people_with_places(app, client, login, people,
                                                                 catalogue_world, mailbox):
    login(people.faculty)
    cohort_id = catalogue_world["soon"]
    response = client.post(f"/faculty/cohorts/{cohort_id}/sessions/new", data={
        "title": "Part 2", "day": "2027-04-07", "start": "09:30", "end": "12:30",
        "location": "Room 1", "join_url": "", "capacity": ""})
    assert response.status_code == 302
    with app.app_context():
        added = db.session.scalar(select(Session).where(Session.title == "Part 2"))
        assert added.starts_at == utc(2027, 4, 7, 8, 30)
        session_id = added.id

    edit = f"/faculty/sessions/{session_id}/edit"
    page = html(client.get(edit))
    assert 'name="day-day" type="text" inputmode="numeric" value="7"' in page
    assert 'value="9:30am"' in page
    # A cohort's sessions have pages of their own titles: the date tells them apart.
    assert "<title>Change the session on 7 April 2027 – " in page
    assert "<title>Cancel the session on 7 April 2027 – " in html(
        client.get(f"/faculty/sessions/{session_id}/cancel"))
    response = client.post(edit, data={"title": "Part 2", "day": "2027-04-08",
                                       "start": "09:30", "end": "12:30", "location": "Room 1",
                                       "join_url": "", "capacity": ""})
    assert response.status_code == 302
    sent = mailbox.deliver()
    # One person holds a place on the cohort: they hear about the move, nobody else does.
    assert len(sent) == 1 and sent[0]["Subject"].startswith("Session changed")

    page = html(client.post(f"/faculty/sessions/{session_id}/cancel", data={"reason": ""}))
    assert '<a href="#reason">Give a reason' in page
    response = client.post(f"/faculty/sessions/{session_id}/cancel",
                           data={"reason": "Room unavailable"})
    assert response.status_code == 302
    with app.app_context():
        cancelled = db.session.get(Session, session_id)
        assert cancelled.is_cancelled and cancelled.sequence == 2
    assert any("Room unavailable" in m.get_body(("plain",)).get_content()
               for m in mailbox.deliver())


def test_a_session_in_the_spring_gap_is_refused_on_the_form(app, client, login, people,
                                                           catalogue_world):
    login(people.faculty)
    page = html(client.post(f"/faculty/cohorts/{catalogue_world['soon']}/sessions/new", data={
        "title": "", "day": "2027-03-28", "start": "01:30", "end": "03:00", "location": "",
        "join_url": "", "capacity": ""}))
    assert '<a href="#start">01:30 on 28 March 2027 does not exist in the UK' in page
    assert 'value="1:30am"' in page


def test_duplicate_and_cancel_a_cohort(app, client, login, people, catalogue_world, mailbox):
    login(people.faculty)
    soon = catalogue_world["soon"]
    response = client.post(f"/faculty/cohorts/{soon}/duplicate",
                           data={"name": "Autumn", "first_day": "2027-10-26"})
    assert response.status_code == 302
    with app.app_context():
        copy = db.session.scalar(select(Cohort).where(Cohort.name == "Autumn"))
        # 00:30 BST on 1 April, moved to 26 October: 00:30 BST again, so 23:30 UTC the day before.
        assert copy.status == "draft"
        assert copy.sessions[0].starts_at == utc(2027, 10, 25, 23, 30)
    page = html(client.post(f"/faculty/cohorts/{soon}/cancel", data={"reason": ""}))
    assert "Give a reason for cancelling" in page
    response = client.post(f"/faculty/cohorts/{soon}/cancel", data={"reason": "Trainer ill"})
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(Cohort, soon).status == "cancelled"
    assert any("Trainer ill" in m.get_body(("plain",)).get_content() for m in mailbox.deliver())
    page = html(client.get(f"/faculty/cohorts/{soon}"))
    assert "Cancel this cohort" not in page and "Save settings" not in page


def test_learners_do_not_see_manage_links(client, login, people):
    login(people.learner)
    page = html(client.get("/"))
    assert "Courses" in page and "Manage courses" not in page
    assert client.get("/faculty/courses").status_code == 403


def test_a_summer_session_is_shown_an_hour_ahead_of_utc(client, catalogue_world):
    page = html(client.get(f"/cohorts/{catalogue_world['full']}"))
    assert "Tuesday 6 April 2027" in page and "10am to 12 noon" in page


@pytest.mark.parametrize("url", [
    "/courses/999999", "/cohorts/999999", "/faculty/courses/999999/edit",
    "/faculty/courses/999999/cohorts/new", "/faculty/cohorts/999999",
    "/faculty/cohorts/999999/sessions/new", "/faculty/sessions/999999/edit",
    "/faculty/sessions/999999/cancel", "/faculty/cohorts/999999/duplicate",
])
def test_missing_things_are_404_for_faculty(client, login, people, url):
    login(people.faculty)
    assert client.get(url).status_code == 404


def test_sessions_of_other_kinds_of_offering_are_not_managed_here(app, client, login, people):
    from lms.offerings.models import Offering

    def make():
        offering = Offering(title="A webinar", status="open")
        offering.sessions.append(Session(starts_at=utc(2027, 5, 1, 9, 0),
                                         ends_at=utc(2027, 5, 1, 10, 0)))
        db.session.add(offering)
        db.session.flush()
        return offering.sessions[0].id

    session_id = commit(app, make)
    login(people.faculty)
    assert client.get(f"/faculty/sessions/{session_id}/edit").status_code == 404
    assert client.get(f"/cohorts/{session_id}").status_code == 404


def test_a_course_description_is_markdown_shown_safely(app, client, login, people):
    login(people.faculty)
    client.post("/faculty/courses/new", data=course_form(
        description="You will learn:\n\n- **forecasting**\n- [R](https://www.r-project.org)"
                    "\n\n<script>alert(1)</script>"))
    with app.app_context():
        course_id = db.session.scalar(select(Course.id))
    page = html(client.get(f"/courses/{course_id}"))
    assert "<li><strong>forecasting</strong></li>" in page
    assert '<a href="https://www.r-project.org" rel="noopener noreferrer nofollow">R</a>' in page
    assert "<script>alert(1)" not in page and "&lt;script&gt;alert(1)" in page
