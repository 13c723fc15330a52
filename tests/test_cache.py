"""The page cache (``lms.cache``) and the pages kept in it (catalogue, cohort page, feed
validators): a change to a course, a cohort, a session or a place shows at once, in this
process and in another one (gunicorn runs two workers), a page nobody changed costs one
query, and a booking on one cohort leaves the versions of every other cohort alone."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import time_machine
from sqlalchemy import select, update

from lms import cache
from lms.accounts.models import User
from lms.cache import versions
from lms.courses.models import Cohort, Course
from lms.extensions import db
from lms.offerings import services as engine
from lms.offerings.models import Enrolment
from tests import catalogue_builders as build

NOW = datetime(2027, 3, 1, 12, 0, tzinfo=UTC)
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def commit(app, make):
    """Run ``make`` in its own context and commit; return what it returns."""
    with app.app_context():
        result = make()
        db.session.commit()
        return result


def text_of(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


@pytest.fixture
def shelf(app, frozen) -> dict:
    def make():
        course = build.course("Forecasting with R")
        cohort = build.cohort(course, "Spring", starts=[NOW + timedelta(days=10)], capacity=3)
        build.enrol(cohort)
        later = build.cohort(course, "Autumn", starts=[NOW + timedelta(days=100)],
                             capacity=9)
        return {"course": course.id, "cohort": cohort.id, "later": later.id}

    return commit(app, make)


def stamp_now(app, scope: str = "offer") -> str | None:
    """The version of ``scope`` now (the listings' by default)."""
    with app.app_context():
        return versions.read([scope])[scope]


# ---------------------------------------------------------------------------- the versions


def test_changes_to_the_offer_write_a_new_version_and_others_and_rollbacks_do_not(app, shelf):
    first = stamp_now(app)
    assert first is not None
    with app.app_context():  # a change nobody keeps
        db.session.get(Course, shelf["course"]).title = "Not kept"
        db.session.flush()
        db.session.rollback()
    assert stamp_now(app) == first
    with app.app_context():  # a column no offer page shows
        user = db.session.scalar(select(User).limit(1))
        user.email_verified_at = NOW
        db.session.commit()
    assert stamp_now(app) == first
    with app.app_context():  # a name, which offering pages show for their leads
        db.session.scalar(select(User).limit(1)).full_name = "A new name"
        db.session.commit()
    second = stamp_now(app)
    assert second != first
    with app.app_context():  # an UPDATE statement counts as much as a flushed object
        db.session.execute(update(Enrolment).values(state="withdrawn"))
        db.session.commit()
    assert stamp_now(app) not in (first, second)


# ---------------------------------------------------------------------------- catalogue


def test_the_catalogue_is_kept_and_shows_every_change_at_once(app, client, shelf,
                                                             count_queries):
    page = text_of(client.get("/courses"))
    assert "2 places left" in page and "Forecasting with R" in page
    with count_queries() as counted:
        again = text_of(client.get("/courses"))
    assert again == page.replace(_nonce(page), _nonce(again))
    assert counted.n == 1  # the versions: nothing else is read

    # A booking changes the places left.
    commit(app, lambda: engine.book(build.person(), db.session.get(Cohort, shelf["cohort"])))
    assert "1 place left" in text_of(client.get("/courses"))

    # A new published course appears; a course unpublished disappears.
    def publish():
        build.course("Bayesian methods", summary="Priors")
    commit(app, publish)
    assert "Bayesian methods" in text_of(client.get("/courses"))
    commit(app, lambda: setattr(db.session.get(Course, shelf["course"]), "published", False))
    assert "Forecasting with R" not in text_of(client.get("/courses"))
    commit(app, lambda: setattr(db.session.get(Course, shelf["course"]), "published", True))

    # Cancelling the next run makes the later one the next run.
    def cancel():
        faculty = build.person(role="faculty")
        engine.cancel_offering(db.session.get(Cohort, shelf["cohort"]), faculty, "No room")
    commit(app, cancel)
    page = text_of(client.get("/courses"))
    assert "(Autumn)" in page and "(Spring)" not in page


def test_each_filter_is_kept_apart(app, client, shelf):
    assert "1 course found" in text_of(client.get("/courses?q=forecasting"))
    assert "0 courses found" in text_of(client.get("/courses?q=juggling"))
    assert "1 course found" in text_of(client.get("/courses"))


def test_the_next_run_moves_on_when_it_starts_without_any_change(app, client, shelf, frozen):
    assert "(Spring)" in text_of(client.get("/courses"))
    frozen.move_to(NOW + timedelta(days=11))
    page = text_of(client.get("/courses"))
    assert "(Autumn)" in page and "(Spring)" not in page


def test_a_change_made_by_another_process_shows_at_once(app, client, shelf):
    """gunicorn's other worker: a separate Python process with its own app and caches."""
    assert "2 places left" in text_of(client.get("/courses"))
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    script = textwrap.dedent(f"""
        from lms import create_app
        from lms.extensions import db
        from lms.courses.models import Cohort, Course
        app = create_app("testing", SQLALCHEMY_DATABASE_URI={url!r})
        with app.app_context():
            db.session.get(Cohort, {shelf["cohort"]}).capacity = 7
            db.session.get(Course, {shelf["course"]}).title = "Forecasting in Python"
            db.session.commit()
    """)
    subprocess.run([sys.executable, "-c", script], cwd=ROOT, check=True, timeout=120,
                   env={**os.environ, "PYTHONPATH": str(ROOT)})
    page = text_of(client.get("/courses"))
    assert "Forecasting in Python" in page and "6 places left" in page


# ---------------------------------------------------------------------------- cohort page


def test_the_cohort_page_is_kept_for_everyone_but_the_panel_is_each_viewers(
        app, client, login, shelf, count_queries):
    def people():
        holder = build.person()
        cohort = db.session.get(Cohort, shelf["cohort"])
        cohort.sessions[0].join_url = "https://teams.example.com/l/spring"
        engine.book(holder, cohort)
        return holder.id, build.person().id
    holder_id, other_id = commit(app, people)
    with app.app_context():
        holder, other = db.session.get(User, holder_id), db.session.get(User, other_id)
        _ = (holder.role_rows, other.role_rows)
        db.session.expunge_all()
    url = f"/cohorts/{shelf['cohort']}"

    login(holder)
    page = text_of(client.get(url))
    assert "You have a place." in page and "teams.example.com/l/spring" in page
    assert "1 place left" in page

    login(other)
    with count_queries() as counted:
        page = text_of(client.get(url))
    assert "teams.example.com/l/spring" not in page and "You have a place." not in page
    assert "Book a place" in page
    # The versions (the viewer's account and places, the offer, and the cohort's, which its
    # address names: ``cache.page_reads``), the viewer's row (not yet kept), their place.
    assert counted.n == 3, counted.statements

    login(None)
    page = text_of(client.get(url))
    assert "Sign in to book" in page and "teams.example.com" not in page

    # The other person books the last place: every view changes at once.
    commit(app, lambda: engine.book(db.session.get(User, other_id),
                                    db.session.get(Cohort, shelf["cohort"])))
    page = text_of(client.get(url))
    assert "Full – join the waiting list" in page and "This is full." in page


def test_the_viewers_place_changed_by_another_process_shows_at_their_next_request(
        app, client, login, shelf):
    """The viewer's own place is kept under their version: the scheduler or another worker
    changing it (here, cancelling it) shows at their next request."""
    def holder():
        person = build.person()
        engine.book(person, db.session.get(Cohort, shelf["cohort"]))
        return person.id
    holder_id = commit(app, holder)
    with app.app_context():
        person = db.session.get(User, holder_id)
        _ = person.role_rows
        db.session.expunge_all()
    login(person)
    url = f"/cohorts/{shelf['cohort']}"
    for _ in range(2):  # the second from what was kept
        assert "You have a place." in text_of(client.get(url))
    with app.app_context():
        place_id = db.session.scalar(select(Enrolment.id).where(Enrolment.user_id == holder_id))
    url_db = app.config["SQLALCHEMY_DATABASE_URI"]
    script = textwrap.dedent(f"""
        from lms import create_app
        from lms.extensions import db
        from lms.offerings.models import Enrolment
        app = create_app("testing", SQLALCHEMY_DATABASE_URI={url_db!r})
        with app.app_context():
            db.session.get(Enrolment, {place_id}).state = "cancelled"
            db.session.commit()
    """)
    subprocess.run([sys.executable, "-c", script], cwd=ROOT, check=True, timeout=120,
                   env={**os.environ, "PYTHONPATH": str(ROOT)})
    page = text_of(client.get(url))
    assert "You have a place." not in page and "Book a place" in page


def test_a_cohort_made_a_draft_is_404_for_learners_at_once(app, client, login, shelf):
    url = f"/cohorts/{shelf['cohort']}"
    assert client.get(url).status_code == 200
    commit(app, lambda: setattr(db.session.get(Cohort, shelf["cohort"]), "status", "draft"))
    assert client.get(url).status_code == 404
    faculty_id = commit(app, lambda: build.person(role="faculty").id)
    with app.app_context():
        faculty = db.session.get(User, faculty_id)
        _ = faculty.role_rows
        db.session.expunge_all()
    login(faculty)
    assert "Manage this cohort" in text_of(client.get(url))
    login(None)
    assert client.get(url).status_code == 404
    assert client.get("/cohorts/999999").status_code == 404


def test_booking_closes_when_the_cohort_starts_without_any_change(app, client, shelf, frozen):
    url = f"/cohorts/{shelf['cohort']}"
    assert "Sign in to book" in text_of(client.get(url))
    frozen.move_to(NOW + timedelta(days=10, hours=1))
    page = text_of(client.get(url))
    assert "already started" in page and "Sign in to book" not in page


# ---------------------------------------------------------------------------- feed 304


def test_a_feed_304_is_one_query_and_sets_no_cookie(app, client, shelf, count_queries):
    from lms.events import calendars

    def member():
        person = build.person()
        engine.book(person, db.session.get(Cohort, shelf["later"]))
        return calendars.new_token(person)
    token = commit(app, member)
    url = f"/calendar/feed/{token}.ics"
    first = client.get(url)
    etag = first.headers["ETag"]
    with count_queries() as counted:
        response = client.get(url, headers={"If-None-Match": etag})
    assert response.status_code == 304 and response.data == b""
    assert counted.n == 1, counted.statements
    assert "Set-Cookie" not in response.headers and "Set-Cookie" not in first.headers
    # A change to a session they have a place at: a new ETag and the new feed, at once.
    def move():
        session = db.session.get(Cohort, shelf["later"]).sessions[0]
        session.starts_at += timedelta(hours=1)
        session.ends_at += timedelta(hours=1)
        session.sequence = (session.sequence or 0) + 1
    commit(app, move)
    changed = client.get(url, headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag


# ---------------------------------------------------------------------------- declaring fragments


def test_a_declared_fragment_is_built_once_per_version_and_kept_apart_by_what_it_depends_on(
        app, shelf):
    built = []

    def fragment(label, depends_on, until=None):
        def build():
            built.append(label)
            return label, until
        with app.app_context():
            return cache.cached("test", "same key", depends_on=depends_on, build=build)

    assert fragment("offer", cache.OFFER) == "offer"
    assert fragment("offer again", cache.OFFER) == "offer"  # kept
    assert fragment("one", cache.offering(shelf["cohort"])) == "one"
    assert fragment("other", cache.offering(shelf["later"])) == "other"
    assert fragment("one again", cache.offering(shelf["cohort"])) == "one"
    assert built == ["offer", "one", "other"]

    def rename():  # a change to a course renews everything: every fragment is built again
        db.session.get(Course, shelf["course"]).title = "Forecasting with Python"
    commit(app, rename)
    assert fragment("offer renewed", cache.OFFER) == "offer renewed"
    assert fragment("one renewed", cache.offering(shelf["cohort"])) == "one renewed"


def test_a_declared_fragment_valid_until_a_moment_is_built_again_after_it(app, shelf, frozen):
    built = []

    def fragment():
        def build():
            built.append(len(built))
            return len(built), NOW + timedelta(hours=1)
        with app.app_context():
            return cache.cached("test", "key", depends_on=cache.OFFER, build=build)

    assert fragment() == fragment() == 1
    frozen.shift(timedelta(hours=1))
    assert fragment() == 2


def _nonce(page: str) -> str:
    import re

    return re.search(r'nonce="([^"]+)"', page).group(1)


@pytest.mark.postgres
def test_the_versions_and_the_kept_catalogue_on_postgresql(pg_app):
    client = pg_app.test_client()
    with pg_app.app_context():
        course = build.course("Forecasting with R")
        cohort = build.cohort(course, "Spring", capacity=3)
        db.session.commit()
        first = versions.read(["offer"])["offer"]
        assert first is not None
        assert "3 places left" in text_of(client.get("/courses"))
        engine.book(build.person(), db.session.get(Cohort, cohort.id))
        db.session.commit()
        assert versions.read(["offer"])["offer"] != first
        assert "2 places left" in text_of(client.get("/courses"))
        db.session.remove()


def test_a_booking_on_one_cohort_leaves_the_other_cohorts_page_kept(app, client, shelf,
                                                                     count_queries):
    """Per-offering versions: a place on Spring renews Spring's page and the listings, not
    Autumn's, which is still served from what was kept (the versions read, nothing built)."""
    spring, autumn = f"/cohorts/{shelf['cohort']}", f"/cohorts/{shelf['later']}"
    text_of(client.get(spring))
    text_of(client.get(autumn))
    with count_queries() as kept:
        text_of(client.get(autumn))
    commit(app, lambda: engine.book(build.person(), db.session.get(Cohort, shelf["cohort"])))
    with count_queries() as after_booking:
        page = text_of(client.get(autumn))
    assert "9 places left" in page
    assert after_booking.n == kept.n == 1, after_booking.statements
    with count_queries() as rebuilt:
        assert "1 place left" in text_of(client.get(spring))
    assert rebuilt.n > 1


def test_the_versions_a_page_needs_are_read_in_one_statement_once_per_request(app, shelf,
                                                                               count_queries):
    with app.test_request_context("/"), count_queries() as counted:
        cache.prefetch(cache.OFFER, cache.offering(shelf["cohort"]), cache.person(1))
        one = cache.cached("test", 1, depends_on=cache.OFFER, build=lambda: ("a", None))
        two = cache.cached("test", 2, depends_on=cache.offering(shelf["cohort"]) + cache.OFFER,
                           build=lambda: ("b", None))
    assert (one, two) == ("a", "b")
    assert counted.n == 1, counted.statements


def test_a_database_refilled_never_serves_what_was_kept_from_before(app, shelf):
    """Random versions: emptied and refilled, the database holds new ones."""
    with app.app_context():
        kept = cache.cached("test", "k", depends_on=cache.OFFER, build=lambda: ("old", None))
    assert kept == "old"
    with app.app_context():
        from tests.conftest import reset_database

        reset_database()
        build.cohort(build.course("Refilled"), "Again")
        db.session.commit()
        again = cache.cached("test", "k", depends_on=cache.OFFER, build=lambda: ("new", None))
    assert again == "new"
