"""Faculty's pages kept in the page cache (``lms.cache``): their home, a session's register,
a survey's results, the marking board and the messages page. Each is served again for the
signed-in person and the versions' read (the register and the results also ask which
offering they are on) when nothing changed, is the page built afresh, shows each kind of
change at the next request (a mark saved, a response arriving, work handed in or marked, a
message sent, a certificate issued), whichever process commits it, moves on by itself
when time changes what it shows, and shows no one another person's view."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from lms.accounts.models import Role, User
from lms.attendance.models import Attendance
from lms.cache import fragment_cache
from lms.cache.kept import CSRF_SLOT
from lms.cache.models import CacheVersion
from lms.clock import utcnow
from lms.extensions import db
from lms.feedback import services as feedback
from lms.feedback.models import Survey
from lms.learning import assignments as work
from lms.learning.assignments_models import Assignment, Submission
from lms.messages import services as messages
from lms.offerings.models import Enrolment, Offering, OfferingLead, Session
from tests.learning_work_builders import cohort_with, person, set_work
from tests.test_cache_pages import with_clock_at
from tests.test_feedback_services import full_answers, open_survey, place, release_all

ROOT = Path(__file__).resolve().parents[1]
KEPT = ("home_faculty_sessions", "home_faculty_attention", "register_page", "survey_results",
        "marking_board", "messages_page")


def main_of(response) -> str:
    assert response.status_code == 200, response.status_code
    return re.search(r"<main.*?</main>", response.get_data(as_text=True), re.S).group(0)


def afresh(app, client, url: str) -> str:
    """The page with nothing kept."""
    with app.app_context():
        for name in KEPT:
            fragment_cache(name).clear()
    return main_of(client.get(url))


def kept(client, count_queries, url: str, statements: int) -> str:
    """The page, asked twice: the second time costs ``statements`` (the signed-in person, the
    versions, and for some which offering)."""
    first = main_of(client.get(url))
    with count_queries() as counted:
        again = main_of(client.get(url))
    assert counted.n == statements, counted.statements
    assert again == first and CSRF_SLOT not in again
    return again


def in_another_process(app, statements: str) -> None:
    """Run ``statements`` (with ``app`` and ``db``) in a separate Python process with its
    own app and caches, committing at the end: gunicorn's other worker."""
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    script = textwrap.dedent("""
        from lms import create_app
        from lms.extensions import db
        app = create_app("testing", SQLALCHEMY_DATABASE_URI={url!r})
        with app.app_context():
    """).format(url=url) + textwrap.indent(textwrap.dedent(statements), "    ") + \
        "\n    db.session.commit()\n"
    subprocess.run([sys.executable, "-c", script], cwd=ROOT, check=True, timeout=120,
                   env={**os.environ, "PYTHONPATH": str(ROOT)})


# ---------------------------------------------------------------------------- the register


@pytest.fixture
def huddle(app, make_user) -> dict:
    """A cohort whose session started an hour ago, Alma and Bo with places on it."""
    with app.app_context():
        alma, bo = person("Alma Ames"), person("Bo Bright")
        cohort = cohort_with([alma, bo], session_days=0)
        session = cohort.sessions[0]
        session.starts_at = utcnow() - timedelta(hours=1)
        session.ends_at = utcnow() + timedelta(hours=1)
        db.session.commit()
        found = {"session": session.id, "cohort": cohort.id, "alma": alma.id, "bo": bo.id}
    found["faculty"] = make_user(Role.FACULTY, org="SU", name="Fay Faculty")
    return found


def mark_of(page: str, user_id: int) -> str | None:
    """The mark chosen for a person on the register's form (None: "Not marked")."""
    row = re.search(rf'name="status-{user_id}".*?</select>', page, re.S)
    chosen = re.search(r'<option value="(\w*)" selected', row.group(0))
    return chosen.group(1) or None if chosen else None


def test_the_register_is_kept_and_a_mark_saved_shows_at_the_next_request(
        app, client, login, huddle, count_queries):
    login(huddle["faculty"])
    url = f"/faculty/sessions/{huddle['session']}/register"
    # The person, which offering the session is on, the versions.
    page = kept(client, count_queries, url, 3)
    assert mark_of(page, huddle["alma"]) is None and "Alma Ames" in page
    assert page == afresh(app, client, url)
    # The kept page's forms carry this request's CSRF token, not the slot.
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    assert token != CSRF_SLOT
    response = client.post(url, data={f"status-{huddle['alma']}": "late",
                                      f"note-{huddle['alma']}": "Train delayed"})
    assert response.status_code == 302
    assert "The register is saved (1 marked)" in main_of(client.get(url))  # the flash, once
    page = main_of(client.get(url))
    assert mark_of(page, huddle["alma"]) == "late" and "Train delayed" in page
    assert page == afresh(app, client, url)
    # A person renamed (the "people" version): the register shows the new name.
    with app.app_context():
        db.session.get(User, huddle["bo"]).full_name = "Bo Brightwell"
        db.session.commit()
    assert "Bo Brightwell" in main_of(client.get(url))


def test_a_mark_committed_by_another_process_shows_at_the_next_request(
        app, client, login, huddle):
    login(huddle["faculty"])
    url = f"/faculty/sessions/{huddle['session']}/register"
    assert mark_of(main_of(client.get(url)), huddle["bo"]) is None
    in_another_process(app, f"""
        from lms.attendance.models import Attendance
        db.session.add(Attendance(session_id={huddle["session"]}, user_id={huddle["bo"]},
                                  status="absent", source="register"))
    """)
    page = main_of(client.get(url))
    assert mark_of(page, huddle["bo"]) == "absent"
    assert page == afresh(app, client, url)


def test_a_failed_add_shows_its_error_and_the_register_opens_when_the_session_starts(
        app, client, login, huddle):
    login(huddle["faculty"])
    url = f"/faculty/sessions/{huddle['session']}/register"
    client.get(url)  # kept
    failed = client.post(url + "/add", data={"email": "nobody@example.nhs.uk"})
    text = failed.get_data(as_text=True)
    assert failed.status_code == 200 and "<title>Error: Register:" in text
    assert 'value="nobody@example.nhs.uk"' in text and "nhsuk-error-summary" in text
    # The next request is the kept page again, with no error.
    assert "nhsuk-error-summary" not in main_of(client.get(url))
    # A session not started yet: no marks until it starts, then the form, with no change.
    with app.app_context():
        session = db.session.get(Session, huddle["session"])
        session.starts_at = utcnow() + timedelta(hours=2)
        session.ends_at = utcnow() + timedelta(hours=3)
        db.session.commit()
        starts = session.starts_at
    page = main_of(client.get(url))
    assert "You can take the register once the session has started" in page
    assert 'name="status-' not in page
    with_clock_at(starts + timedelta(minutes=1))
    login(huddle["faculty"])
    assert f'name="status-{huddle["alma"]}"' in main_of(client.get(url))


def test_a_register_filtered_by_name_is_kept_apart(app, client, login, huddle):
    login(huddle["faculty"])
    url = f"/faculty/sessions/{huddle['session']}/register"
    everyone = main_of(client.get(url))
    filtered = main_of(client.get(url + "?q=alma"))
    assert "Bo Bright" in everyone and "Bo Bright" not in filtered
    assert "Showing 1 of 2 people" in filtered
    assert main_of(client.get(url)) == everyone


# ---------------------------------------------------------------------------- survey results


@pytest.fixture
def surveyed(app, make_user, make_cohort) -> dict:
    faculty = make_user(Role.FACULTY, org="SU", name="Fay Faculty")
    cohort = make_cohort(status="running")
    with app.test_request_context():
        offering = db.session.get(Offering, cohort.id)
        named = open_survey(db.session.get(User, faculty.id), offering, anonymous=False)
        anonymous = open_survey(db.session.get(User, faculty.id), offering, anonymous=True)
        db.session.commit()
        return {"faculty": faculty, "cohort": cohort.id, "named": named.id,
                "anonymous": anonymous.id}


def answer(app, survey_id: int, n: int = 1, between=None) -> None:
    """``n`` new people are given places on the survey's offering, then (after
    ``between()``, if given: the page kept with their places) they answer it."""
    with app.test_request_context():
        survey = db.session.get(Survey, survey_id)
        people = []
        for _ in range(n):
            people.append(person(f"Answerer {os.urandom(4).hex()}"))
            place(survey.offering, people[-1])
        db.session.commit()
        ids = [p.id for p in people]
    if between is not None:
        between()
    with app.test_request_context():
        survey = db.session.get(Survey, survey_id)
        for user_id in ids:
            feedback.submit(db.session.get(User, user_id), survey, full_answers(survey))
        db.session.commit()


def answered(page: str) -> str:
    return re.search(r"(\d+) of \d+ (?:person|people) with a place", page).group(1)


def test_survey_results_are_kept_and_a_response_shows_at_once(
        app, client, login, surveyed, count_queries):
    login(surveyed["faculty"])
    url = f"/faculty/surveys/{surveyed['named']}/results"
    page = kept(client, count_queries, url, 3)  # the person, which offering, the versions
    assert answered(page) == "0"
    # Only the response renews the page: the place was taken, and the page kept, before.
    answer(app, surveyed["named"],
           between=lambda: kept(client, count_queries, url, 3))
    page = main_of(client.get(url))
    assert answered(page) == "1" and "Plot first" in page
    assert page == afresh(app, client, url)
    # Another survey's results are kept apart, and not renewed by this one's answers.
    other = f"/faculty/surveys/{surveyed['anonymous']}/results"
    assert answered(main_of(client.get(other))) == "0"


def test_anonymous_results_stay_hidden_under_the_threshold_when_kept(
        app, client, login, surveyed):
    login(surveyed["faculty"])
    url = f"/faculty/surveys/{surveyed['anonymous']}/results"
    assert "Results hidden" in main_of(client.get(url))
    answer(app, surveyed["anonymous"], 4)  # waiting in the pool: not in the results yet
    page = main_of(client.get(url))
    assert "Results hidden" in page and answered(page) == "0"
    with app.test_request_context():
        release_all(db.session.get(Survey, surveyed["anonymous"]))
        db.session.commit()
    page = main_of(client.get(url))
    assert answered(page) == "4" and "Results hidden" in page  # still under five
    answer(app, surveyed["anonymous"], 1)
    with app.test_request_context():
        release_all(db.session.get(Survey, surveyed["anonymous"]))
        db.session.commit()
    page = main_of(client.get(url))
    assert answered(page) == "5" and "Results hidden" not in page
    assert page == afresh(app, client, url)


def test_kept_results_move_on_when_the_survey_closes(app, client, login, surveyed):
    login(surveyed["faculty"])
    url = f"/faculty/surveys/{surveyed['named']}/results"
    assert ">Open<" in main_of(client.get(url))
    with app.app_context():
        closes = db.session.get(Survey, surveyed["named"]).closes_at
    with_clock_at(closes + timedelta(minutes=1))
    login(surveyed["faculty"])
    page = main_of(client.get(url))
    assert ">Open<" not in page and ">Closed<" in page


# ---------------------------------------------------------------------------- marking


@pytest.fixture
def marking(app, make_user) -> dict:
    faculty = make_user(Role.FACULTY, org="SU", name="Fay Faculty")
    with app.test_request_context():
        alma, bo = person("Alma Ames"), person("Bo Bright")
        cohort = cohort_with([alma, bo])
        other = cohort_with([person("Cy Other")], title="Another course")
        assignment = set_work(db.session.get(User, faculty.id), cohort)
        set_work(db.session.get(User, faculty.id), other, title="Other work")
        db.session.commit()
        return {"faculty": faculty, "cohort": cohort.id, "other": other.id,
                "assignment": assignment.id, "alma": alma.id}


def test_the_marking_board_is_kept_and_shows_work_handed_in_and_marked(
        app, client, login, marking, count_queries):
    login(marking["faculty"])
    url = f"/faculty/offerings/{marking['cohort']}/marking"
    page = kept(client, count_queries, url, 2)  # the person, the versions
    assert "0 of 2 submitted, 0 to mark" in page and "Other work" not in page
    with app.test_request_context():
        work.submit(db.session.get(User, marking["alma"]),
                    db.session.get(Assignment, marking["assignment"]), "My plan")
        db.session.commit()
    page = main_of(client.get(url))
    assert "1 of 2 submitted, 1 to mark" in page
    assert page == afresh(app, client, url)
    with app.test_request_context():
        submission = db.session.scalar(select(Submission))
        work.mark(db.session.get(User, marking["faculty"].id), [submission], "met",
                  "Well planned", None)
        db.session.commit()
    page = main_of(client.get(url))
    assert "1 of 2 submitted, 0 to mark" in page and "Met" in page
    assert page == afresh(app, client, url)
    # Another cohort's board is its own.
    other = main_of(client.get(f"/faculty/offerings/{marking['other']}/marking"))
    assert "Other work" in other and "Alma Ames" not in other


# ---------------------------------------------------------------------------- messages


def test_the_messages_page_is_kept_and_a_message_sent_shows_at_once(
        app, client, login, marking, count_queries):
    login(marking["faculty"])
    url = f"/faculty/offerings/{marking['cohort']}/messages"
    page = kept(client, count_queries, url, 2)  # the person, the versions
    assert "No messages have been sent yet" in page
    with app.test_request_context():
        messages.send(db.session.get(User, marking["faculty"].id),
                      db.session.get(Offering, marking["cohort"]), "everyone", None,
                      "Room change", "We meet in **room 4**.")
        db.session.commit()
    page = main_of(client.get(url))
    assert "Room change" in page and "by Fay Faculty" in page
    assert page == afresh(app, client, url)
    # The form is the request's own: a preview shows what was typed, the list stays kept.
    preview = client.post(url, data={"audience": "everyone", "subject": "Reading",
                                     "body": "Chapter 2", "action": "preview"})
    text = main_of(preview)
    assert 'value="Reading"' in text and "This will be sent to" in text
    assert "Room change" in text
    assert "No messages have been sent yet" in main_of(
        client.get(f"/faculty/offerings/{marking['other']}/messages"))


# ---------------------------------------------------------------------------- faculty's home


def needing_attention(page: str) -> str:
    return page.split('id="needs-attention"', 1)[1]


def test_faculty_home_is_kept_per_person_and_shows_changes_at_once(
        app, client, login, make_user, count_queries):
    fay = make_user(Role.FACULTY, org="SU", name="Fay Faculty")
    gus = make_user(Role.FACULTY, org="SU", name="Gus Faculty")
    with app.app_context():
        learner = person("Alma Ames")
        mine = cohort_with([learner], title="Forecasting")
        theirs = cohort_with([], title="Leadership")
        db.session.add_all([OfferingLead(offering_id=mine.id, user_id=fay.id),
                            OfferingLead(offering_id=theirs.id, user_id=gus.id)])
        db.session.add(Enrolment(offering_id=theirs.id, user_id=person("Bo Bright").id,
                                 state="offered", offer_expires_at=utcnow() + timedelta(days=2)))
        db.session.commit()
        mine_id = mine.id
    login(fay)
    page = kept(client, count_queries, "/", 2)  # the person, the versions
    assert "Forecasting" in needing_attention(page) and "Leadership" not in page
    assert page == afresh(app, client, "/")
    login(gus)  # another person: their own offerings, not the first person's kept page
    other = main_of(client.get("/"))
    assert "waiting-list offer not answered yet" in other and "Forecasting" not in other
    # Alma completes Fay's cohort: a certificate to issue shows at once.
    login(fay)
    assert "certificate" not in needing_attention(main_of(client.get("/")))
    in_another_process(app, f"""
        from lms.attendance.models import Completion
        from lms.offerings.models import Enrolment
        from sqlalchemy import select
        place = db.session.scalar(select(Enrolment).where(Enrolment.offering_id == {mine_id}))
        place.state = "completed"
        db.session.add(Completion(enrolment_id=place.id, attendance_percent=100))
    """)
    page = main_of(client.get("/"))
    assert "1 certificate to issue" in needing_attention(page)
    assert page == afresh(app, client, "/")


# ---------------------------------------------------------------------------- versions


def test_a_scope_naming_a_rows_attribute_renews_that_things_version_only(
        app, surveyed):
    def versions() -> dict[str, str]:
        with app.app_context():
            return dict(db.session.execute(
                select(CacheVersion.scope, CacheVersion.version)).tuples().all())

    before = versions()
    answer(app, surveyed["named"])
    after = versions()
    named, anonymous = f"survey:{surveyed['named']}", f"survey:{surveyed['anonymous']}"
    assert after[named] != before.get(named)
    assert after.get(anonymous) == before.get(anonymous)
    with app.app_context():  # a mark renews its session's register, not another's
        session_id = db.session.scalar(select(Session.id).where(
            Session.offering_id == surveyed["cohort"]))
        someone = db.session.scalar(select(User.id).where(User.full_name.like("Answerer%")))
        db.session.add(Attendance(session_id=session_id, user_id=someone, status="present",
                                  source="register"))
        db.session.commit()
    later = versions()
    assert later[f"register:{session_id}"] != after.get(f"register:{session_id}")
    assert later["*"] == after["*"] and later.get(named) == after.get(named)
