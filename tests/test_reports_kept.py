"""The dashboards kept in the page cache (``lms.reports.pages``): the ICS and region figures
are served for a few queries while nothing changed, and a register saved, a completion
recorded or a place cancelled (through the services, or committed by another process) shows
at the next request, the same as the figures built afresh. They also move on when a session
ends, with no change at all."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import delete, select

from lms.accounts.models import Role, User
from lms.attendance import services as registers
from lms.attendance.models import Attendance, Completion
from lms.cache import fragment_cache
from lms.cache.models import CacheVersion
from lms.clock import utcnow
from lms.extensions import db
from lms.offerings import services as engine
from lms.offerings.models import Enrolment, Session
from tests import catalogue_builders as build
from tests.test_cache_pages import with_clock_at

ROOT = Path(__file__).resolve().parents[1]
ICS, REGION = "/ics/BSOL", "/reports"


@pytest.fixture
def region(app, make_user) -> dict:
    """A finished cohort (two sessions held) and a running one (one of two held, the other
    ends in five minutes). BSOL:
    Asha came to both and completed, Ben to the first (the second not yet marked), Dee to
    the running cohort's first; BC: Cal came to neither. The course needs every session
    and no feedback."""
    with app.app_context():
        now = utcnow()
        course = build.course("Forecasting in practice", min_attendance_percent=100,
                              requires_feedback=False)
        done = build.cohort(course, "Spring", status="finished",
                            starts=[now - timedelta(days=20), now - timedelta(days=13)])
        running = build.cohort(course, "Summer", status="running",
                               starts=[now - timedelta(days=6),
                                       now - timedelta(hours=2) + timedelta(minutes=5)])
        asha, ben = build.person("BSOL"), build.person("BSOL")
        cal, dee = build.person("BC"), build.person("BSOL")
        places = {who: build.enrol(done, who) for who in (asha, ben, cal)}
        places[asha].state = "completed"
        late = build.enrol(running, dee)
        for who, sessions in ((asha, done.sessions), (ben, done.sessions[:1]),
                              (dee, running.sessions[:1])):
            for s in sessions:
                db.session.add(Attendance(session_id=s.id, user_id=who.id, status="present",
                                          source="register"))
        for s in done.sessions:
            db.session.add(Attendance(session_id=s.id, user_id=cal.id, status="absent",
                                      source="register"))
        db.session.add(Completion(enrolment_id=places[asha].id, attendance_percent=100))
        db.session.commit()
        found = {"ben": ben.id, "dee": dee.id, "dee_place": late.id,
                 "second": done.sessions[1].id, "next": running.sessions[1].id}
    found["faculty"] = make_user(Role.FACULTY, org="SU")
    found["lead"] = make_user(Role.DSU_LEAD, org="BSOL")
    return found


def main_of(response) -> str:
    assert response.status_code == 200, response.status_code
    return re.search(r"<main.*?</main>", response.get_data(as_text=True), re.S).group(0)


def afresh(app, client, url: str) -> str:
    """The page with nothing kept: the figures as the dashboards compute them."""
    with app.app_context():
        for name in ("ics_dashboard", "region_dashboard"):
            fragment_cache(name).clear()
    return main_of(client.get(url))


def summary(page: str, label: str) -> str:
    """A row of the ICS dashboard's summary list."""
    return re.search(rf"<dt[^>]*>{label}</dt><dd[^>]*>(.*?)</dd>", page, re.S).group(1)


def test_a_dashboard_is_kept_for_a_few_queries_and_is_what_a_fresh_build_shows(
        app, client, login, region, count_queries):
    login(region["lead"])
    first = main_of(client.get(ICS))
    with count_queries() as counted:
        again = main_of(client.get(ICS))
    # The viewer, the ICS, the versions: nothing summed (the filter's courses are kept).
    assert counted.n == 3, counted.statements
    assert again == first == afresh(app, client, ICS)
    assert "83% in Birmingham and Solihull; 62% across the region" in again
    # Each set of filters is kept apart.
    other = main_of(client.get(ICS + "?starts=2020-01-01&ends=2020-01-02"))
    assert "Not yet known in Birmingham and Solihull" in other
    login(region["faculty"])
    first = main_of(client.get(REGION))
    with count_queries() as counted:
        assert main_of(client.get(REGION)) == first
    assert counted.n == 2, counted.statements
    assert first == afresh(app, client, REGION)


def test_the_course_filter_is_kept_shows_a_new_title_at_once_and_marks_the_choice(
        app, client, login, region):
    from lms.courses.models import Course

    login(region["faculty"])
    assert ">Forecasting in practice</option>" in main_of(client.get(REGION))
    with app.app_context():
        course = db.session.scalar(select(Course).where(Course.title == "Forecasting in practice"))
        course.title = "Forecasting & planning"
        db.session.commit()
        course_id = course.id
    page = main_of(client.get(REGION))
    assert ">Forecasting &amp; planning</option>" in page and "in practice</option>" not in page
    assert " selected>" not in page
    chosen = main_of(client.get(f"{REGION}?course={course_id}"))
    assert f'<option value="{course_id}" selected>Forecasting &amp; planning</option>' in chosen
    assert chosen.count(" selected>") == 1
    login(region["lead"])
    assert f'<option value="{course_id}" selected>' in main_of(
        client.get(f"{ICS}?course={course_id}"))


def test_a_register_saved_and_the_completion_it_records_show_at_the_next_request(
        app, client, login, region):
    login(region["faculty"])
    before_region = main_of(client.get(REGION))
    login(region["lead"])
    before = main_of(client.get(ICS))
    assert summary(before, "Completions") == "1"
    with app.app_context():  # Ben came to the second session: his place is completed
        actor = db.session.get(User, region["faculty"].id)
        registers.record_register(actor, db.session.get(Session, region["second"]),
                                  {region["ben"]: ("present", "")})
        db.session.commit()
        assert db.session.scalar(select(Enrolment.state).where(
            Enrolment.user_id == region["ben"])) == "completed"
    page = main_of(client.get(ICS))
    assert "100% in Birmingham and Solihull; 75% across the region" in summary(
        page, "Attendance against the region")
    assert "100% in Birmingham and Solihull; 67% across the region" in summary(
        page, "Completion against the region")
    assert summary(page, "Completions") == "2"
    assert summary(page, "Attendances at sessions") == str(
        int(summary(before, "Attendances at sessions")) + 1)
    assert page == afresh(app, client, ICS)
    login(region["faculty"])
    after_region = main_of(client.get(REGION))
    assert after_region != before_region
    assert after_region == afresh(app, client, REGION)


def test_a_place_cancelled_shows_at_the_next_request(app, client, login, region):
    login(region["lead"])
    before = main_of(client.get(ICS))
    assert summary(before, "Places held or completed") == "3"
    with app.app_context():
        dee = db.session.get(User, region["dee"])
        engine.withdraw(dee, db.session.get(Enrolment, region["dee_place"]), "Moved jobs")
        db.session.commit()
    page = main_of(client.get(ICS))
    assert summary(page, "Places held or completed") == "2"
    # Dee's place no longer counts: Asha 100% and Ben 50% in BSOL; Cal 0% with them.
    assert "75% in Birmingham and Solihull; 50% across the region" in page
    assert page == afresh(app, client, ICS)


def test_a_change_committed_by_another_process_shows_at_the_next_request(
        app, client, login, region):
    """gunicorn's other worker: a separate Python process with its own app and caches."""
    login(region["lead"])
    assert "83% in Birmingham and Solihull" in main_of(client.get(ICS))
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    script = textwrap.dedent(f"""
        from lms import create_app
        from lms.extensions import db
        from lms.attendance.models import Attendance
        app = create_app("testing", SQLALCHEMY_DATABASE_URI={url!r})
        with app.app_context():
            db.session.add(Attendance(session_id={region["second"]}, user_id={region["ben"]},
                                      status="late", source="register"))
            db.session.commit()
    """)
    subprocess.run([sys.executable, "-c", script], cwd=ROOT, check=True, timeout=120,
                   env={**os.environ, "PYTHONPATH": str(ROOT)})
    page = main_of(client.get(ICS))
    assert "100% in Birmingham and Solihull; 75% across the region" in page
    assert page == afresh(app, client, ICS)


def test_the_figures_move_on_when_a_session_ends_with_no_change(app, client, login, region):
    login(region["lead"])
    assert "83% in Birmingham and Solihull" in main_of(client.get(ICS))
    with app.app_context():
        ends = db.session.get(Session, region["next"]).ends_at
    with_clock_at(ends + timedelta(minutes=1))  # the same day: the same filters
    # Dee missed the running cohort's second session: 1 of 2 (50%) beside Asha and Ben.
    page = main_of(client.get(ICS))
    assert "83% in Birmingham and Solihull" not in page
    assert "67% in Birmingham and Solihull; 50% across the region" in page
    assert page == afresh(app, client, ICS)


def test_what_the_dashboards_sum_renews_their_version_and_nothing_else(app, region):
    def versions() -> dict[str, str]:
        with app.app_context():
            return dict(db.session.execute(select(CacheVersion.scope,
                                                  CacheVersion.version)).tuples().all())

    with app.app_context():  # a mark changed: the dashboards, not the listings
        before = versions()
        mark = db.session.scalar(select(Attendance).where(Attendance.user_id == region["ben"]))
        mark.status = "late"
        db.session.commit()
        after = versions()
        assert after["reports"] != before.get("reports")
        assert after["offer"] == before["offer"] and after["*"] == before["*"]
        # Two-step sign-in turned on is not something the dashboards show.
        db.session.get(User, region["ben"]).totp_enabled_at = utcnow()
        db.session.commit()
        settled = versions()
        assert settled["reports"] == after["reports"]
        # (It is a change to Ben's account, which his kept sign-in follows.)
        account = f"account:{region['ben']}"
        assert settled[account] != after[account]
        # Rolled back: nothing renewed.
        mark.status = "absent"
        db.session.flush()
        db.session.rollback()
        assert versions() == settled
        # A bulk statement: which rows, nobody knows, so everything.
        db.session.execute(delete(Attendance).where(Attendance.user_id == region["ben"]))
        db.session.commit()
        assert versions()["*"] != after["*"]
