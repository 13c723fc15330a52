"""The API's endpoints: the catalogue and places left, booking and withdrawing by the web
pages' rules, my bookings and calendar, registers and completions, ICS and region figures;
pages of lists, ETags and problem details."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import select

from lms.accounts.models import User
from lms.api import services as api
from lms.attendance.models import Attendance, Completion
from lms.clock import to_london, utcnow
from lms.events import session_bookings
from lms.extensions import db
from lms.offerings import services as engine
from lms.offerings.models import Enrolment, EnrolmentState, Session
from tests.authz.api import cohort
from tests.test_events_support import add_session, make_festival

PROBLEM_KEYS = {"type", "title", "status", "detail", "instance"}


def bearer(app, user: User, scope: str = "read_write") -> dict[str, str]:
    """Headers carrying a new token of ``user``'s."""
    with app.test_request_context():
        new = api.create_token(db.session.get(User, user.id), f"t{utcnow().timestamp()}",
                               scope)
        db.session.commit()
        return {"Authorization": f"Bearer {new.secret}"}


def build(app, fn):
    """Run ``fn`` in an app context, commit, and return what it returns (ids, not objects)."""
    with app.test_request_context():
        result = fn()
        db.session.commit()
        return result


def assert_problem(response, status: int, slug: str) -> dict:
    assert response.status_code == status
    assert response.mimetype == "application/problem+json"
    body = response.get_json(force=True)
    assert set(body) >= PROBLEM_KEYS
    assert body["status"] == status
    assert body["type"].endswith(f"/api/v1/docs#problem-{slug}")
    assert body["instance"] == response.request.path
    assert body["detail"]
    return body


# ---------------------------------------------------------------------------- the catalogue


def test_catalogue_is_public_with_places_left_and_hides_drafts(app, client, people):
    def world():
        open_one = cohort("Forecasting", capacity=3)
        full_one = cohort("Time series", capacity=1)
        engine.book(db.session.get(User, people.learner.id), open_one)
        engine.book(db.session.get(User, people.learner.id), full_one)
        draft = cohort("Secret plans", status="draft")
        hidden = cohort("Unpublished", published=False)
        return open_one.id, full_one.id, draft.id, hidden.id

    open_id, full_id, draft_id, hidden_id = build(app, world)
    body = client.get("/api/v1/offerings").get_json()
    by_id = {o["id"]: o for o in body["data"]}
    assert set(by_id) == {open_id, full_id}
    assert by_id[open_id]["places_left"] == 2 and by_id[open_id]["capacity"] == 3
    assert by_id[full_id]["places_left"] == 0
    assert by_id[open_id]["kind"] == "cohort" and by_id[open_id]["session_count"] == 1
    assert by_id[open_id]["links"]["page"].endswith(f"/cohorts/{open_id}")
    titles = [c["title"] for c in client.get("/api/v1/courses").get_json()["data"]]
    assert titles == ["Forecasting", "Secret plans", "Time series"]
    assert client.get(f"/api/v1/offerings/{draft_id}").status_code == 404
    assert client.get(f"/api/v1/offerings/{hidden_id}").status_code == 404

    faculty = bearer(app, people.faculty, "read")
    every = client.get("/api/v1/offerings", headers=faculty).get_json()
    assert {o["id"] for o in every["data"]} == {open_id, full_id, draft_id, hidden_id}
    assert client.get(f"/api/v1/offerings/{draft_id}", headers=faculty).status_code == 200


def test_an_offering_comes_with_its_sessions_and_no_joining_link(app, client):
    offering_id = build(app, lambda: cohort("Evaluation", sessions=3).id)
    body = client.get(f"/api/v1/offerings/{offering_id}").get_json()
    assert [s["title"] for s in body["sessions"]] == ["Session 1", "Session 2", "Session 3"]
    assert body["session_count"] == 3
    assert body["starts_at"] == body["sessions"][0]["starts_at"]
    assert "join_url" not in body["sessions"][0]
    assert "meet.example" not in client.get(f"/api/v1/offerings/{offering_id}").get_data(
        as_text=True)


def test_sessions_filter_by_london_dates_and_offering(app, client):
    def world():
        a = cohort("A", sessions=4, starts_in=timedelta(days=10))
        b = cohort("B", sessions=1, starts_in=timedelta(days=10))
        return a.id, b.id, [to_london(s.starts_at).date() for s in a.sessions]

    a_id, b_id, days = build(app, world)
    body = client.get(f"/api/v1/sessions?from={days[1]}&to={days[2]}").get_json()
    assert [s["offering"]["id"] for s in body["data"]] == [a_id, a_id]
    assert body["meta"]["total"] == 2
    only_b = client.get(f"/api/v1/sessions?offering={b_id}").get_json()["data"]
    assert [s["offering"]["id"] for s in only_b] == [b_id]
    offerings = client.get(f"/api/v1/offerings?from={days[3]}").get_json()["data"]
    assert [o["id"] for o in offerings] == [a_id]


def test_festival_sessions_show_their_own_places_left(app, client, people):
    def world():
        festival = make_festival()
        session = add_session(festival, "Causal inference", capacity=2)
        learner = db.session.get(User, people.learner.id)
        engine.book(learner, festival)
        session_bookings.book_session(learner, session)
        return session.id

    session_id = build(app, world)
    [found] = [s for s in client.get("/api/v1/sessions").get_json()["data"]
               if s["id"] == session_id]
    assert found["capacity"] == 2 and found["places_left"] == 1
    assert found["offering"]["kind"] == "festival"


@pytest.mark.parametrize(("query", "field"), [
    ("from=2027-13-01", "from"), ("from=1/3/2027", "from"), ("to=1999-12-31", "to"),
    ("from=2027-03-02&to=2027-03-01", "to"), ("page=0", "page"), ("per_page=201", "per_page"),
    ("page=abc", "page"), ("kind=course", "kind"), ("status=open&status=draft", "status"),
    ("course=-1", "course"),
])
def test_bad_filters_are_400_problems_naming_the_parameter(client, query, field):
    body = assert_problem(client.get(f"/api/v1/offerings?{query}"), 400, "bad-request")
    assert [e["field"] for e in body["errors"]] == [field]
    assert field in body["detail"]


def test_an_unknown_ics_is_a_400_listing_the_codes(app, client, people):
    offering_id = build(app, lambda: cohort("Registers").id)
    body = assert_problem(client.get(f"/api/v1/offerings/{offering_id}/attendance?ics=XYZ",
                                     headers=bearer(app, people.faculty)), 400, "bad-request")
    assert "BSOL" in body["detail"] and "NOTTS" in body["detail"]


# ---------------------------------------------------------------------------- booking


def test_booking_twice_is_409_with_the_same_message_as_the_web_page(app, client, login,
                                                                     people):
    web_id, api_id = build(app, lambda: (cohort("Web").id, cohort("Api").id))
    login(people.learner)
    client.post(f"/offerings/{web_id}/book")
    page = client.post(f"/offerings/{web_id}/book", follow_redirects=True).get_data(
        as_text=True)
    login(None)

    headers = bearer(app, people.learner)
    first = client.post(f"/api/v1/offerings/{api_id}/bookings", headers=headers)
    assert first.status_code == 201
    booking = first.get_json()
    assert booking["state"] == "enrolled" and booking["offering"]["id"] == api_id
    assert first.headers["Location"] == booking["links"]["self"]
    again = assert_problem(client.post(f"/api/v1/offerings/{api_id}/bookings",
                                       headers=headers), 409, "already-booked")
    assert again["detail"] == "You already have a place for this"
    assert again["detail"] in page
    with app.app_context():
        assert db.session.scalar(select(Enrolment.state).where(
            Enrolment.offering_id == api_id)) == "enrolled"


def test_booking_rules_come_from_the_engine(app, client, people):
    def world():
        return (cohort("Full", capacity=1).id, cohort("By nomination", mode="nomination").id,
                cohort("Closed", status="closed").id, cohort("Ask first", mode="approval").id)

    full, nominated, closed, approval = build(app, world)
    first, second = bearer(app, people.dsu_same), bearer(app, people.learner)
    assert client.post(f"/api/v1/offerings/{full}/bookings", headers=first).status_code == 201
    queued = client.post(f"/api/v1/offerings/{full}/bookings", headers=second).get_json()
    assert queued["state"] == "waitlisted" and queued["waitlist_position"] == 1
    refused = assert_problem(client.post(f"/api/v1/offerings/{nominated}/bookings",
                                         headers=second), 403, "forbidden")
    assert refused["detail"] == "Places are by nomination: ask the DSU lead of your ICS"
    closed_body = assert_problem(client.post(f"/api/v1/offerings/{closed}/bookings",
                                             headers=second), 409, "booking-closed")
    assert closed_body["detail"] == "Booking is not open"
    asked = client.post(f"/api/v1/offerings/{approval}/bookings", headers=second).get_json()
    assert asked["state"] == "requested"
    assert_problem(client.post("/api/v1/offerings/999999/bookings", headers=second), 404,
                   "not-found")


def test_withdrawing_frees_the_place_for_the_first_person_waiting(app, client, people):
    full = build(app, lambda: cohort("Full", capacity=1).id)
    holder, waiting = bearer(app, people.learner), bearer(app, people.dsu_same)
    place = client.post(f"/api/v1/offerings/{full}/bookings", headers=holder).get_json()
    client.post(f"/api/v1/offerings/{full}/bookings", headers=waiting)

    assert client.delete(f"/api/v1/me/bookings/{place['id']}",
                         headers=waiting).status_code == 404
    done = client.delete(f"/api/v1/me/bookings/{place['id']}", headers=holder)
    assert done.status_code == 200 and done.get_json()["state"] == "withdrawn"
    [theirs] = client.get("/api/v1/me/bookings", headers=waiting).get_json()["data"]
    assert theirs["state"] == "offered" and theirs["offer_expires_at"]
    again = assert_problem(client.delete(f"/api/v1/me/bookings/{place['id']}",
                                         headers=holder), 422, "rule-not-met")
    assert again["detail"] == "There is nothing to withdraw from"


# ---------------------------------------------------------------------------- you


def test_my_bookings_are_mine_only(app, client, people):
    def world():
        learner = db.session.get(User, people.learner.id)
        other = db.session.get(User, people.dsu_other.id)
        mine = engine.book(learner, cohort("Mine"))
        theirs = engine.book(other, cohort("Theirs"))
        return mine.id, theirs.id

    mine, theirs = build(app, world)
    headers = bearer(app, people.learner, "read")
    body = client.get("/api/v1/me/bookings", headers=headers).get_json()
    assert [b["id"] for b in body["data"]] == [mine]
    assert body["data"][0]["state_label"] == "Booked"
    assert client.get(f"/api/v1/me/bookings/{mine}", headers=headers).status_code == 200
    assert_problem(client.get(f"/api/v1/me/bookings/{theirs}", headers=headers), 404,
                   "not-found")


def test_my_calendar_has_every_session_i_have_a_place_at(app, client, people):
    def world():
        learner = db.session.get(User, people.learner.id)
        course = cohort("Course", sessions=2, starts_in=timedelta(days=3))
        engine.book(learner, course)
        asked = cohort("Asked", mode="approval", starts_in=timedelta(days=4))
        engine.book(learner, asked)
        festival = make_festival(days_ahead=40)
        booked = add_session(festival, "Booked talk")
        add_session(festival, "Other talk", track=1)
        engine.book(learner, festival)
        session_bookings.book_session(learner, booked)
        cohort("Not mine")
        return course.id, asked.id, festival.id, booked.id

    course_id, asked_id, festival_id, talk_id = build(app, world)
    body = client.get("/api/v1/me/calendar", headers=bearer(app, people.learner)).get_json()
    entries = body["data"]
    assert [e["offering"]["id"] for e in entries] == [course_id, course_id, festival_id]
    assert entries[0]["join_url"] == "https://meet.example/x" and entries[0]["confirmed"]
    assert entries[2]["session_id"] == talk_id and entries[2]["title"] == "Booked talk"
    # A request is not a place: the approval course is not in the calendar at all.
    assert asked_id not in {e["offering"]["id"] for e in entries}
    day = to_london(utcnow() + timedelta(days=12)).date()
    later = client.get(f"/api/v1/me/calendar?from={day}",
                       headers=bearer(app, people.learner)).get_json()["data"]
    assert [e["title"] for e in later] == ["Booked talk"]


def test_a_place_not_yet_confirmed_shows_no_joining_link(app, client, people):
    def world():
        lead = db.session.get(User, people.dsu_same.id)
        learner = db.session.get(User, people.learner.id)
        programme = cohort("Programme", mode="nomination")
        engine.nominate(lead, programme, learner)
        return programme.id

    programme_id = build(app, world)
    [entry] = client.get("/api/v1/me/calendar",
                         headers=bearer(app, people.learner)).get_json()["data"]
    assert entry["offering"]["id"] == programme_id
    assert entry["place"] == "nominated" and not entry["confirmed"]
    assert entry["join_url"] is None


def test_me_says_who_and_how(app, client, login, people):
    body = client.get("/api/v1/me", headers=bearer(app, people.dsu_same, "read")).get_json()
    assert body["name"] == "Sam Samelead" and body["organisation"]["code"] == "BSOL"
    assert body["roles"] == ["dsu_lead", "learner"]
    assert body["authenticated_by"] == "token" and body["token"]["scope"] == "read"
    assert body["csrf_token"] is None
    login(people.learner)
    by_session = client.get("/api/v1/me").get_json()
    assert by_session["authenticated_by"] == "session" and by_session["csrf_token"]


# ---------------------------------------------------------------------------- faculty


def _register_world(app, people):
    def world():
        learner = db.session.get(User, people.learner.id)
        other = db.session.get(User, people.dsu_other.id)
        faculty = db.session.get(User, people.faculty.id)
        running = cohort("Running", status="running", starts_in=-timedelta(days=20),
                         sessions=2)
        for person in (learner, other):
            db.session.add(Enrolment(offering_id=running.id, user_id=person.id,
                                     state="enrolled"))
        db.session.flush()
        for session in running.sessions:
            db.session.add(Attendance(session_id=session.id, user_id=learner.id,
                                      status="present", source="register",
                                      recorded_by_id=faculty.id))
        db.session.add(Attendance(session_id=running.sessions[0].id, user_id=other.id,
                                  status="absent", source="register"))
        return running.id

    return build(app, world)


def test_faculty_read_registers_filtered_by_ics(app, client, people):
    running = _register_world(app, people)
    headers = bearer(app, people.faculty, "read")
    body = client.get(f"/api/v1/offerings/{running}/attendance", headers=headers).get_json()
    assert body["meta"]["total"] == 3
    assert [(a["person"]["organisation"], a["status"]) for a in body["data"]] == [
        ("BSOL", "present"), ("BC", "absent"), ("BSOL", "present")]
    bsol = client.get(f"/api/v1/offerings/{running}/attendance?ics=bsol",
                      headers=headers).get_json()
    assert {a["person"]["name"] for a in bsol["data"]} == {"Lena Learner"}
    refused = assert_problem(client.get(f"/api/v1/offerings/{running}/attendance",
                                        headers=bearer(app, people.dsu_same)), 403,
                             "forbidden")
    assert "faculty" in refused["detail"]


def test_faculty_read_completions_through_the_completion_rule(app, client, people):
    running = _register_world(app, people)
    with app.app_context():
        enrolment = db.session.scalar(select(Enrolment).where(
            Enrolment.offering_id == running, Enrolment.user_id == people.learner.id))
        db.session.add(Completion(enrolment_id=enrolment.id, attendance_percent=100))
        db.session.commit()
    body = client.get(f"/api/v1/offerings/{running}/completions",
                      headers=bearer(app, people.admin)).get_json()
    rows = {c["person"]["name"]: c for c in body["data"]}
    assert rows["Lena Learner"]["attendance_percent"] == 100
    assert rows["Lena Learner"]["complete"] and rows["Lena Learner"]["completed_at"]
    assert rows["Olu Otherlead"]["attendance_percent"] == 0
    assert not rows["Olu Otherlead"]["complete"]
    assert rows["Olu Otherlead"]["sessions_held"] == 2
    only_bc = client.get(f"/api/v1/offerings/{running}/completions?ics=BC",
                         headers=bearer(app, people.admin)).get_json()["data"]
    assert [c["person"]["name"] for c in only_bc] == ["Olu Otherlead"]


# ---------------------------------------------------------------------------- figures


def test_a_dsu_lead_sees_their_own_ics_figures_and_no_other(app, client, people):
    _register_world(app, people)
    lead = bearer(app, people.dsu_same, "read")
    body = client.get("/api/v1/ics/bsol/figures", headers=lead).get_json()
    assert body["organisation"] == {"code": "BSOL", "name": "Birmingham and Solihull"}
    assert body["attendances"] == 2
    tables = {t["key"]: t for t in body["tables"]}
    assert {"offerings", "people"} <= set(tables)
    people_rows = tables["people"]["rows"]
    assert people_rows and set(people_rows[0]) == set(tables["people"]["columns"])
    other = assert_problem(client.get("/api/v1/ics/BC/figures", headers=lead), 404,
                           "not-found")
    assert other["detail"] == "No such ICS"
    assert_problem(client.get("/api/v1/ics/NOPE/figures", headers=lead), 404, "not-found")
    assert client.get("/api/v1/ics/BC/figures",
                      headers=bearer(app, people.faculty)).status_code == 200
    assert_problem(client.get("/api/v1/ics/BSOL/figures",
                              headers=bearer(app, people.learner)), 403, "forbidden")
    assert_problem(client.get("/api/v1/ics/BSOL/figures?from=2027-02-30", headers=lead), 400,
                   "bad-request")


def test_region_figures_for_faculty_with_a_date_range(app, client, people):
    _register_world(app, people)
    headers = bearer(app, people.faculty)
    body = client.get("/api/v1/region/figures?from=2026-01-01&to=2026-06-30",
                      headers=headers).get_json()
    assert (body["from"], body["to"]) == ("2026-01-01", "2026-06-30")
    over_time = next(t for t in body["tables"] if t["key"] == "over-time")
    assert over_time["columns"][1:] == ["January 2026", "February 2026", "March 2026",
                                        "April 2026", "May 2026", "June 2026"]
    assert "BSOL" in next(t for t in body["tables"] if t["key"] == "participation")["row_keys"]
    too_long = assert_problem(client.get("/api/v1/region/figures?from=2020-01-01&to=2026-01-01",
                                         headers=headers), 400, "bad-request")
    assert too_long["errors"][0]["field"] == "to"
    assert_problem(client.get("/api/v1/region/figures", headers=bearer(app, people.dsu_same)),
                   403, "forbidden")


# ---------------------------------------------------------------------------- pages of lists


def test_following_next_walks_every_item_once_in_a_stable_order(app, client):
    def world():
        # Many sessions start at the same moment: the id must break the ties.
        start = utcnow() + timedelta(days=5)
        made = cohort("Ties", sessions=0)
        for n in range(23):
            made.sessions.append(Session(starts_at=start + timedelta(hours=n % 3),
                                         ends_at=start + timedelta(hours=4), title=f"S{n}"))
        db.session.flush()
        return sorted((s.starts_at, s.id) for s in made.sessions)

    expected = [session_id for _, session_id in build(app, world)]
    seen, url, pages = [], "/api/v1/sessions?per_page=5&from=2000-01-01", 0
    while url:
        response = client.get(url)
        body = response.get_json()
        seen += [s["id"] for s in body["data"]]
        assert body["meta"]["total"] == 23 and body["meta"]["pages"] == 5
        if body["links"]["next"]:
            assert f'<{body["links"]["next"]}>; rel="next"' in response.headers["Link"]
            assert "from=2000-01-01" in body["links"]["next"]
        url, pages = body["links"]["next"], pages + 1
    assert pages == 5 and seen == expected
    back, url = [], body["links"]["last"]
    while url:
        body = client.get(url).get_json()
        back = [s["id"] for s in body["data"]] + back
        url = body["links"]["prev"]
    assert back == expected
    assert body["links"]["prev"] is None and body["meta"]["page"] == 1


def test_a_page_past_the_end_is_empty_with_a_link_back(app, client):
    build(app, lambda: cohort("One"))
    body = client.get("/api/v1/offerings?page=9").get_json()
    assert body["data"] == [] and body["links"]["next"] is None
    assert "page=1" in body["links"]["prev"]


def test_list_pages_cost_the_same_queries_however_many_offerings(app, client, count_queries):
    build(app, lambda: [cohort(f"C{n}", sessions=2) for n in range(3)])
    # Frozen, so both calls count in one rate-limit window (its first call tidies old ones).
    with time_machine.travel(utcnow(), tick=False):
        client.get("/api/v1/offerings")
        with count_queries() as few:
            client.get("/api/v1/offerings")
        build(app, lambda: [cohort(f"D{n}", sessions=3) for n in range(30)])
        with count_queries() as many:
            assert len(client.get("/api/v1/offerings").get_json()["data"]) == 33
    assert many.n == few.n


# ---------------------------------------------------------------------------- ETags


def test_reads_carry_an_etag_and_if_none_match_answers_304(app, client):
    build(app, lambda: cohort("Cached"))
    first = client.get("/api/v1/courses")
    tag = first.headers["ETag"]
    assert tag.startswith('"') and first.headers["Cache-Control"] == "private, no-cache"
    same = client.get("/api/v1/courses", headers={"If-None-Match": tag})
    assert same.status_code == 304 and same.data == b""
    assert same.headers["ETag"] == tag
    weak = client.get("/api/v1/courses", headers={"If-None-Match": f"W/{tag}, \"other\""})
    assert weak.status_code == 304
    build(app, lambda: cohort("Changed"))
    changed = client.get("/api/v1/courses", headers={"If-None-Match": tag})
    assert changed.status_code == 200 and changed.headers["ETag"] != tag


def test_changes_carry_no_etag(app, client, people):
    offering_id = build(app, lambda: cohort("Book me").id)
    booked = client.post(f"/api/v1/offerings/{offering_id}/bookings",
                         headers=bearer(app, people.learner))
    assert booked.status_code == 201 and "ETag" not in booked.headers


# ---------------------------------------------------------------------------- problems


def test_every_error_under_the_api_is_a_problem(app, client):
    body = assert_problem(client.get("/api/v1/no-such-thing"), 404, "not-found")
    assert "/api/v1/docs" in body["detail"]
    assert_problem(client.get("/api/v1/offerings/2147483648"), 404, "not-found")
    assert_problem(client.get("/api/v1/courses/0"), 404, "not-found")
    wrong = assert_problem(client.put("/api/v1/courses"), 405, "method-not-allowed")
    assert "PUT" in wrong["detail"]
    assert set(client.put("/api/v1/courses").headers["Allow"].split(", ")) >= {"GET"}
    assert_problem(client.post("/api/v1/me/bookings/1"), 405, "method-not-allowed")
    assert_problem(client.get("/api/v1/me"), 401, "unauthorised")
    # Outside the API, errors are still the site's pages.
    page = client.get("/no-such-page")
    assert page.status_code == 404 and page.mimetype == "text/html"


def test_a_post_to_an_unknown_api_address_is_a_problem_even_with_csrf_on(app, client):
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        assert_problem(client.post("/api/v1/nowhere"), 404, "not-found")
        assert_problem(client.post("/api/v1/courses"), 405, "method-not-allowed")
    finally:
        app.config["WTF_CSRF_ENABLED"] = False


def test_a_server_error_is_a_problem_without_a_trace(app, client, monkeypatch):
    from lms.api import queries

    def broken(*_args, **_kwargs):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(queries, "courses_list", broken)
    body = assert_problem(client.get("/api/v1/courses"), 500, "server-error")
    assert "secret" not in body["detail"]


def test_problem_types_link_to_their_entry_on_the_docs_page(client):
    docs = client.get("/api/v1/docs").get_data(as_text=True)
    body = client.get("/api/v1/courses/999").get_json()
    anchor = body["type"].split("#", 1)[1]
    assert f'id="{anchor}"' in docs


def test_enrolment_states_in_the_document_match_the_model():
    from lms.api.openapi_components import SCHEMAS

    assert SCHEMAS["Booking"]["properties"]["state"]["enum"] == [s.value for s in
                                                                 EnrolmentState]


def test_roles_are_named_in_refusals(app, client, people):
    running = _register_world(app, people)
    learner = bearer(app, people.learner)
    body = client.get(f"/api/v1/offerings/{running}/completions", headers=learner).get_json()
    assert body["status"] == 403 and "faculty and admins" in body["detail"]
