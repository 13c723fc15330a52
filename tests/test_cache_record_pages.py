"""A learner's record pages kept in the page cache (``lms.cache``): the learning record, My
certificates, an offering's materials and an assignment. Each is served again for the
versions' read (and the signed-in person; an assignment also asks which cohort it is on)
when nothing changed, shows each kind of change at the next request, moves on by itself
when time changes what it shows, and keeps other people's data apart."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest

from lms.accounts.models import User
from lms.attendance.models import Attendance, Completion
from lms.certificates import revocation
from lms.certificates import services as certificates
from lms.certificates.models import Certificate
from lms.clock import to_london, utcnow
from lms.competencies import services as competencies
from lms.competencies.models import Competency
from lms.courses.models import Cohort, Course
from lms.extensions import db
from lms.learning import assignments as work
from lms.learning import cpd, groups, materials
from lms.learning.assignments_models import Assignment, Submission
from lms.offerings.kept_learning import CSRF_SLOT
from lms.offerings.models import Enrolment, Session
from tests.learning_work_builders import cohort_with, person, set_work
from tests.test_cache_pages import text_of, with_clock_at


def kept_for(client, count_queries, url: str, statements: int) -> str:
    """The page, asked twice: the second time costs ``statements`` (the versions of the
    signed-in person, kept, and of their pages; an offering's; for an assignment its
    cohort)."""
    first = text_of(client.get(url))
    with count_queries() as counted:
        again = text_of(client.get(url))
    assert counted.n == statements, counted.statements
    assert again.count("<h2") == first.count("<h2") and CSRF_SLOT not in again
    return again


def get(model, ident):
    return db.session.get(model, ident)


# ---------------------------------------------------------------------------- learning record


def finished_place(learner: User, title: str = "Forecasting with R") -> Completion:
    """A finished cohort the learner completed (rows written directly: no hook fires)."""
    course = Course(title=title, summary="s", kind="short_course",
                    strand="analytical_capability", format="online", cpd_hours=Decimal("6.5"),
                    requires_feedback=False)
    cohort = Cohort(course=course, name="Spring", title=f"{title}: Spring", capacity=None,
                    status="finished")
    start = utcnow() - timedelta(days=10)
    cohort.sessions.append(Session(starts_at=start, ends_at=start + timedelta(hours=3),
                                   title="Session 1"))
    db.session.add(cohort)
    db.session.flush()
    enrolment = Enrolment(offering_id=cohort.id, user_id=learner.id, state="completed")
    db.session.add(enrolment)
    db.session.flush()
    completion = Completion(enrolment_id=enrolment.id, attendance_percent=100,
                            completed_at=start + timedelta(days=1))
    db.session.add(completion)
    db.session.flush()
    return completion


def a_webinar_session(starts_in: timedelta, minutes: int = 60) -> Session:
    from lms.events.models import Webinar

    start = utcnow() + starts_in
    webinar = Webinar(title="Evaluating huddles", status="open", booking_mode="open")
    session = Session(offering=webinar, starts_at=start,
                      ends_at=start + timedelta(minutes=minutes), title="Webinar")
    db.session.add_all([webinar, session])
    db.session.flush()
    return session


def courses_completed(page: str) -> str:
    return re.search(r"Courses completed</dt><dd[^>]*>(\d+)<", page).group(1)


def event_sessions(page: str) -> str:
    return re.search(r"Event sessions attended</dt><dd[^>]*>(\d+)<", page).group(1)


def test_the_learning_record_is_kept_and_shows_each_change_at_once(app, client, login, people,
                                                                    count_queries):
    with app.app_context():
        competencies.ensure_framework()
        forecasting = db.session.scalar(db.select(Competency.id).where(
            Competency.code == "forecasting"))
        db.session.commit()
    login(people.learner)
    page = kept_for(client, count_queries, "/learning-record", 1)
    assert courses_completed(page) == "0" and "No certificates yet" in page
    with app.app_context():  # evidence recorded by faculty
        competencies.rate(get(User, people.faculty.id), get(User, people.learner.id),
                          forecasting, 3, "Led the winter forecast")
        db.session.commit()
    page = text_of(client.get("/learning-record"))
    assert "Led the winter forecast" in page and "by Fay Faculty" in page
    with app.app_context():  # a course completed, its certificate issued
        completion = finished_place(get(User, people.learner.id))
        serial = certificates.issue_certificate(completion, notify=False).serial
        db.session.commit()
    page = text_of(client.get("/learning-record"))
    assert courses_completed(page) == "1" and serial in page and "Revoked" not in page
    with app.app_context():  # ... and revoked
        certificate = db.session.query(Certificate).filter_by(serial=serial).one()
        revocation.revoke(get(User, people.faculty.id), certificate, "Issued in error",
                          notify=False)
        db.session.commit()
    assert "Revoked" in text_of(client.get("/learning-record"))
    with app.app_context():  # an event session attended (the register)
        session = a_webinar_session(-timedelta(days=2))
        db.session.add(Attendance(session_id=session.id, user_id=people.learner.id,
                                  status="present", source="register"))
        db.session.commit()
        session_id = session.id
    assert event_sessions(text_of(client.get("/learning-record"))) == "1"
    with app.app_context():  # CPD done elsewhere
        cpd.record_activity(get(User, people.learner.id), cpd.ActivityDetails(
            "NHS-R conference", to_london(utcnow()).date() - timedelta(days=3), "6", ""))
        db.session.commit()
    assert "NHS-R conference" in text_of(client.get("/learning-record"))
    with app.app_context():  # an event renamed: the offer's version
        session = db.session.get(Session, session_id)
        session.offering.title = "Evaluating the huddles"
        db.session.commit()
    page = text_of(client.get("/learning-record"))
    assert "Evaluating the huddles" in page
    # Someone else's record is their own, not the first person's kept page.
    login(people.dsu_same)
    other = text_of(client.get("/learning-record"))
    assert serial not in other and "NHS-R conference" not in other
    login(people.faculty)  # faculty's view of the learner is built as before
    assert "NHS-R conference" in text_of(
        client.get(f"/faculty/people/{people.learner.id}/learning-record"))


def test_the_learning_record_counts_a_session_once_it_ends_without_any_change(
        app, client, login, people):
    with app.app_context():  # checked in to a webinar that is on now
        session = a_webinar_session(-timedelta(minutes=30))
        db.session.add(Attendance(session_id=session.id, user_id=people.learner.id,
                                  status="present", source="check_in"))
        db.session.commit()
        ends = session.ends_at
    login(people.learner)
    assert event_sessions(text_of(client.get("/learning-record"))) == "0"
    with_clock_at(ends + timedelta(minutes=1))
    login(people.learner)
    assert event_sessions(text_of(client.get("/learning-record"))) == "1"


# ---------------------------------------------------------------------------- certificates


def test_my_certificates_is_kept_per_person_and_shows_issue_and_revocation_at_once(
        app, client, login, people, count_queries):
    login(people.learner)
    assert "You have no certificates yet" in kept_for(client, count_queries,
                                                      "/my-certificates", 1)
    with app.app_context():
        completion = finished_place(get(User, people.learner.id))
        certificate = certificates.issue_certificate(completion, notify=False)
        serial, certificate_id = certificate.serial, certificate.id
        db.session.commit()
    page = text_of(client.get("/my-certificates"))
    assert serial in page and "Valid" in page and "issue, download and revoke" not in page
    with app.app_context():
        revocation.revoke(get(User, people.faculty.id), get(Certificate, certificate_id),
                          "Issued in error", notify=False)
        db.session.commit()
    page = text_of(client.get("/my-certificates"))
    assert "Revoked" in page and "Download PDF" not in page
    login(people.dsu_same)  # another person: their own (empty) list
    assert serial not in text_of(client.get("/my-certificates"))
    assert client.get(f"/certificates/{certificate_id}/pdf").status_code == 404
    login(people.faculty)
    assert "issue, download and revoke" in text_of(client.get("/my-certificates"))


# ---------------------------------------------------------------------------- materials


@pytest.fixture
def cohort(app, people) -> dict:
    """A cohort the learner is on, its one session in two days."""
    with app.app_context():
        made = cohort_with([get(User, people.learner.id)], session_days=2)
        db.session.commit()
        return {"id": made.id, "session": made.sessions[0].id,
                "starts": made.sessions[0].starts_at}


def add_material(app, people, cohort_id: int, title: str, **fields) -> None:
    with app.app_context():
        materials.add_material(get(User, people.faculty.id), get(Cohort, cohort_id),
                               materials.MaterialDetails(kind="link", title=title,
                                                         url="https://example.org/r",
                                                         **fields))
        db.session.commit()


def test_the_materials_page_is_kept_and_shows_changes_and_time_at_once(
        app, client, login, people, cohort, count_queries):
    url = f"/offerings/{cohort['id']}/materials"
    add_material(app, people, cohort["id"], "Pre-reading")
    add_material(app, people, cohort["id"], "Slides", session_id=cohort["session"],
                 visible_from="start")
    login(people.learner)
    page = kept_for(client, count_queries, url, 1)
    assert ">Pre-reading</a>" in page and "Slides" not in page
    add_material(app, people, cohort["id"], "Data set")
    assert ">Data set</a>" in text_of(client.get(url))
    with_clock_at(cohort["starts"] + timedelta(minutes=1))  # shown from the session's start
    login(people.learner)
    assert ">Slides</a>" in text_of(client.get(url))
    login(people.faculty)  # faculty manage it, with the move buttons' own CSRF token
    page = text_of(client.get(url))
    assert "Move up" in page and CSRF_SLOT not in page and 'name="csrf_token" value="' in page
    login(people.dsu_same)  # no place: 404, kept as such, until they get one
    assert client.get(url).status_code == 404
    assert client.get(url).status_code == 404
    with app.app_context():
        db.session.add(Enrolment(offering_id=cohort["id"], user_id=people.dsu_same.id,
                                 state="enrolled"))
        db.session.commit()
    assert ">Data set</a>" in text_of(client.get(url))


# ---------------------------------------------------------------------------- assignments


@pytest.fixture
def assignment(app, people, cohort) -> dict:
    with app.app_context():
        item = set_work(get(User, people.faculty.id), get(Cohort, cohort["id"]), days=3)
        db.session.commit()
        return {"id": item.id, "due": item.due_at, "cohort": cohort["id"]}


def test_an_assignment_is_kept_and_shows_marking_and_extensions_at_once(
        app, client, login, people, assignment, count_queries):
    url = f"/assignments/{assignment['id']}"
    login(people.learner)
    # One statement: the versions (the assignment's and its cohort's with the person's).
    page = kept_for(client, count_queries, url, 1)
    assert "Nothing submitted yet" in page and "Submit your work" in page
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    app.config["WTF_CSRF_ENABLED"] = True
    try:  # the kept form carries this session's token, which the POST is checked against
        assert client.post(url, data={"csrf_token": "not-the-token", "text": "x"}
                           ).status_code == 400
        assert client.post(url, data={"csrf_token": token, "text": "My plan"}
                           ).status_code == 302
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    assert "Outcome: Not marked yet" in text_of(client.get(url))
    with app.app_context():  # marked
        submission = db.session.query(Submission).filter_by(
            assignment_id=assignment["id"]).one()
        work.mark(get(User, people.faculty.id), [submission], "not_yet_met", "Say more",
                  (utcnow() + timedelta(days=10)).date())
        db.session.commit()
    assert "Outcome: Not yet met" in text_of(client.get(url))
    with app.app_context():  # the brief changed
        get(Assignment, assignment["id"]).title = "Project plan, revised"
        db.session.commit()
    assert "Project plan, revised" in text_of(client.get(url))
    login(people.dsu_same)  # not on the cohort
    assert client.get(url).status_code == 404
    assert client.get("/assignments/999999").status_code == 404


def test_an_extension_shows_at_once_and_the_deadline_closes_the_form(
        app, client, login, people, assignment):
    url = f"/assignments/{assignment['id']}"
    login(people.learner)
    assert "Submit your work" in text_of(client.get(url))
    with app.app_context():
        work.grant_extension(get(User, people.faculty.id), get(Assignment, assignment["id"]),
                             people.learner.id, to_london(assignment["due"]).date()
                             + timedelta(days=2))
        db.session.commit()
        extended = db.session.scalar(db.select(work.AssignmentExtension.due_at))
    assert "(your extended deadline)" in text_of(client.get(url))
    with_clock_at(assignment["due"] + timedelta(minutes=1))  # their own deadline is later
    login(people.learner)
    assert "Submit your work" in text_of(client.get(url))
    with_clock_at(extended + timedelta(minutes=1))
    login(people.learner)
    page = text_of(client.get(url))
    assert "Submit your work" not in page and "The deadline was" in page


def test_group_work_follows_an_extension_for_another_member(app, client, login, people,
                                                            cohort):
    with app.app_context():
        other = person("Gil Groupmate")
        db.session.add(Enrolment(offering_id=cohort["id"], user_id=other.id, state="enrolled"))
        faculty = get(User, people.faculty.id)
        offering = get(Cohort, cohort["id"])
        db.session.flush()
        groups.add_group(faculty, offering, "Group A", [people.learner.id, other.id])
        item = set_work(faculty, offering, days=3, for_groups=True)
        db.session.commit()
        ids = {"assignment": item.id, "other": other.id, "due": item.due_at}
    url = f"/assignments/{ids['assignment']}"
    login(people.learner)
    assert "(your extended deadline)" not in text_of(client.get(url))
    with app.app_context():  # the extension is the other member's: the group's deadline moves
        work.grant_extension(get(User, people.faculty.id), get(Assignment, ids["assignment"]),
                             ids["other"], to_london(ids["due"]).date() + timedelta(days=2))
        db.session.commit()
    assert "(your extended deadline)" in text_of(client.get(url))


def test_group_work_follows_a_new_group_and_its_members_work(app, client, login, people,
                                                             cohort):
    """Who is in a learner's group is kept with the page: a new group formed around them
    shows at once, and so does work a new member hands in for it."""
    with app.app_context():
        gil, hana = person("Gil Groupmate"), person("Hana Newmember")
        for other in (gil, hana):
            db.session.add(Enrolment(offering_id=cohort["id"], user_id=other.id,
                                     state="enrolled"))
        faculty = get(User, people.faculty.id)
        offering = get(Cohort, cohort["id"])
        db.session.flush()
        groups.add_group(faculty, offering, "Group A", [people.learner.id, gil.id])
        item = set_work(faculty, offering, days=3, for_groups=True)
        db.session.commit()
        ids = {"assignment": item.id, "hana": hana.id}
    url = f"/assignments/{ids['assignment']}"
    login(people.learner)
    assert "Nothing submitted yet" in text_of(client.get(url))
    with app.app_context():  # the learner moves to a new group, with Hana
        groups.add_group(get(User, people.faculty.id), get(Cohort, cohort["id"]), "Group B",
                         [people.learner.id, ids["hana"]])
        db.session.commit()
    assert "Nothing submitted yet" in text_of(client.get(url))
    with app.app_context():  # Hana hands in the group's work
        work.submit(get(User, ids["hana"]), get(Assignment, ids["assignment"]), "Our plan", [])
        db.session.commit()
    page = text_of(client.get(url))
    assert "Nothing submitted yet" not in page and "Outcome: Not marked yet" in page


def test_the_cpd_list_is_kept_and_shows_an_activity_recorded_at_once(app, client, login,
                                                                      people, count_queries):
    login(people.learner)
    assert "Data club talk" not in kept_for(client, count_queries, "/cpd", 1)
    with app.app_context():
        learner = db.session.get(User, people.learner.id)
        cpd.record_activity(learner, cpd.ActivityDetails(
            "Data club talk", to_london(utcnow()).date() - timedelta(days=2), "1.5"))
        db.session.commit()
    page = text_of(client.get("/cpd"))
    assert "Data club talk" in page and "1.5" in page
    with count_queries() as counted:
        assert "Data club talk" in text_of(client.get("/cpd"))
    assert counted.n == 1, counted.statements
