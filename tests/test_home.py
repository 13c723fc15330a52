"""Each person's home: what needs their action first, with the buttons the policies allow."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from lms.accounts.models import Role, User
from lms.accounts.organisation_changes import request_move
from lms.clock import utcnow
from lms.extensions import db
from lms.notifications.models import OutboxMessage, OutboxStatus
from lms.offerings import services as engine
from lms.offerings.models import Enrolment, EnrolmentState, OfferingLead, Session
from tests.conftest import organisation


def _text(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)))


def _in_app(app, build):
    """Run ``build`` in an app context of its own and commit: the client's requests then
    see committed data, each in its own context."""
    with app.app_context():
        value = build()
        db.session.commit()
        return value


def _user(person):
    return db.session.get(User, person.id)


def _section(page: str, heading: str, following: str) -> str:
    start = page.index(heading)
    return page[start:page.index(following, start)]


def test_signed_out_home_shows_what_is_coming_up_and_no_drafts(client, make_cohort):
    make_cohort(starts_in=timedelta(days=10))
    make_cohort(starts_in=timedelta(days=12), status="draft")
    page = _text(client.get("/"))
    coming = _section(page, "Coming up", "All courses and programmes")
    assert "Course 1: Cohort 1" not in coming  # the catalogue names the course and run
    assert "(Cohort" in coming
    assert coming.count("(Cohort") == 1  # the draft is not shown
    assert "Create an account" in page
    assert "Needs your action" not in page


def test_learner_sees_an_approved_nomination_first_and_confirms_it_there(
        app, client, login, people, make_cohort):
    cohort = make_cohort(mode="nomination", quotas={"BSOL": 3},
                         nomination_closes_at=utcnow() + timedelta(days=5))

    def nominate_and_approve():
        offering = db.session.get(type(cohort), cohort.id)
        enrolment = engine.nominate(_user(people.dsu_same), offering, _user(people.learner))
        engine.approve(_user(people.faculty), enrolment)
        return enrolment.id

    enrolment_id = _in_app(app, nominate_and_approve)
    login(people.learner)
    page = _text(client.get("/"))
    action = _section(page, "Needs your action", "Next sessions")
    assert f"Confirm your place: {cohort.title}" in action
    assert "Confirm before it starts on" in action
    assert "Confirm my place" in action and "Decline" in action
    response = client.post(f"/enrolments/{enrolment_id}/confirm", data={"next": "/"})
    assert response.status_code == 302 and response.location.endswith("/")
    with app.app_context():
        assert db.session.get(Enrolment, enrolment_id).state == EnrolmentState.ENROLLED
    page = _text(client.get("/"))
    assert "Nothing needs your action just now" in page
    assert cohort.title in _section(page, "Next sessions", "In progress")


def _offer_to_learner(app, people, cohort) -> int:
    """Fill a one-place cohort, queue the learner, free the place: the learner is offered it."""

    def build():
        offering = db.session.get(type(cohort), cohort.id)
        first = engine.book(_user(people.dsu_other), offering)
        waiting = engine.book(_user(people.learner), offering)
        engine.withdraw(_user(people.dsu_other), first)
        db.session.flush()
        assert waiting.state == EnrolmentState.OFFERED
        return waiting.id

    return _in_app(app, build)


def test_an_expired_offer_shows_why_and_no_accept_button(app, client, login, people,
                                                         make_cohort):
    offer_id = _offer_to_learner(app, people, make_cohort(capacity=1))
    login(people.learner)
    action = _section(_text(client.get("/")), "Needs your action", "Next sessions")
    assert "A place is offered to you" in action and "Accept the place" in action

    def expire():
        db.session.get(Enrolment, offer_id).offer_expires_at = utcnow() - timedelta(minutes=1)

    _in_app(app, expire)
    action = _section(_text(client.get("/")), "Needs your action", "Next sessions")
    assert "A place is offered to you" in action
    assert "Accept the place" not in action
    assert "This offer has expired." in action


def test_check_in_open_now_is_an_action_and_faculty_get_their_tools(
        app, client, login, people, make_cohort):
    cohort = make_cohort(starts_in=timedelta(days=1))

    def build():
        offering = db.session.get(type(cohort), cohort.id)
        engine.book(_user(people.learner), offering)
        first = offering.sessions[0]  # it has started since the learner booked
        first.starts_at, first.ends_at = (utcnow() - timedelta(minutes=30),
                                          utcnow() + timedelta(minutes=90))
        db.session.add(OfferingLead(offering_id=cohort.id, user_id=people.faculty.id))
        later = Session(offering_id=cohort.id, title="Session 2",
                        starts_at=utcnow() + timedelta(days=2),
                        ends_at=utcnow() + timedelta(days=2, hours=2))
        db.session.add(later)
        db.session.flush()
        return later.id

    later_id = _in_app(app, build)
    first_id = cohort.sessions[0].id
    login(people.learner)
    action = _section(_text(client.get("/")), "Needs your action", "Next sessions")
    assert "Check in now" in action
    login(people.faculty)
    page = client.get("/").get_data(as_text=True)
    assert f"/faculty/sessions/{first_id}/register" in page
    assert f"/faculty/sessions/{first_id}/import" in page
    assert f"/faculty/sessions/{later_id}/check-in" in page  # the screen can go up early
    # The register of a session still to come is refused, and the page says why.
    assert f"/faculty/sessions/{later_id}/register" not in page
    assert "You can take the register once the session has started at" in page


def test_faculty_see_offerings_needing_attention(app, client, login, people, make_cohort):
    cohort = make_cohort(capacity=1)
    _offer_to_learner(app, people, cohort)
    login(people.faculty)
    attention = _section(_text(client.get("/")), "Offerings needing attention", "Coming up")
    assert cohort.title in attention
    assert "1 waiting-list offer not answered yet" in attention


def test_dsu_lead_sees_open_windows_with_places_left_and_the_region(
        app, client, login, people, make_cohort, make_user):
    cohort = make_cohort(mode="nomination", quotas={"BSOL": 3},
                         nomination_closes_at=utcnow() + timedelta(days=5))
    full = make_cohort(mode="nomination", quotas={"BSOL": 1},
                       nomination_closes_at=utcnow() + timedelta(days=6))
    colleague = make_user(org="BSOL", name="Colin Colleague")
    mover = make_user(org="BC", name="Mo Mover")

    def build():
        lead = _user(people.dsu_same)
        engine.nominate(lead, db.session.get(type(cohort), cohort.id), _user(people.learner))
        engine.nominate(lead, db.session.get(type(full), full.id), _user(colleague))
        request_move(_user(mover), organisation("BSOL"))

    _in_app(app, build)
    login(people.dsu_same)
    page = _text(client.get("/"))
    windows = _section(page, "Nomination windows open", "People in your ICS")
    assert "Your ICS has 2 of its 3 places left." in windows
    assert "Your ICS has 0 of its 1 place left." in windows
    assert "Your ICS has used all 1 of its places on this cohort." in windows
    raw = client.get("/").get_data(as_text=True)
    assert f'href="/nominations/{cohort.id}"' in raw
    assert "Mo Mover" in _section(page, "People in your ICS", "Coming up")
    assert "Your ICS against the region:" in page
    # Another ICS's lead does not see this ICS's request.
    login(people.dsu_other)
    assert "Mo Mover" not in _text(client.get("/"))


def test_admin_sees_decisions_audit_failed_emails_and_a_late_scheduler(
        app, client, login, people, make_user):
    mover = make_user(org="BC", name="Mo Mover")

    def build():
        change = request_move(_user(mover), organisation("BSOL"))
        db.session.add(OutboxMessage(to_address="x@example.nhs.uk", subject="Lost email",
                                     body_text="x", message_id="<lost@test>",
                                     status=OutboxStatus.FAILED, last_error="550 no user"))
        db.session.add(OutboxMessage(to_address="y@example.nhs.uk", subject="Stuck",
                                     body_text="y", message_id="<stuck@test>",
                                     next_attempt_at=utcnow() - timedelta(hours=1)))
        return change.id

    change_id = _in_app(app, build)
    login(people.admin)
    page = _text(client.get("/"))
    assert "Mo Mover" in _section(page, "Organisation changes awaiting", "Recent changes")
    assert "1 email could not be sent" in page and "Lost email" in page
    assert "The scheduler is not sending emails" in page
    response = client.post(f"/organisation-changes/{change_id}/approve")
    assert response.status_code == 302
    with app.app_context():
        assert _user(mover).organisation_id == organisation("BSOL").id


@pytest.mark.parametrize("persona", ["learner", "dsu_same", "faculty", "admin"])
def test_a_person_with_one_role_sees_only_their_sections(client, login, people, persona):
    login(people.by_role(persona))
    page = _text(client.get("/"))
    assert ("Nomination windows open" in page) == (persona == "dsu_same")
    assert ("Your sessions today and this week" in page) == (persona == "faculty")
    assert ("Organisation changes awaiting a decision" in page) == (persona == "admin")
    assert "Needs your action" in page  # everyone is a learner too
    assert "Coming up" in page


def test_learner_home_queries_do_not_grow_with_places(app, client, login, make_user,
                                                      make_cohort, count_queries):
    faculty = make_user(Role.FACULTY)

    def queries_for(places: int) -> int:
        person = make_user()
        cohorts = [make_cohort(starts_in=timedelta(days=3)) for _ in range(places)]
        _in_app(app, lambda: [engine.book(_user(person), db.session.get(type(c), c.id))
                              for c in cohorts])
        _in_app(app, lambda: [_share_work(_user(faculty), db.session.get(type(c), c.id))
                              for c in cohorts])  # each place has materials and work due
        login(person)
        client.get("/")  # warm caches (the catalogue, the menu)
        with count_queries() as counted:
            response = client.get("/")
        assert response.status_code == 200
        return counted.n

    one = queries_for(1)
    assert queries_for(10) == one


def _share_work(faculty, cohort, due_in: timedelta = timedelta(days=7)):
    from lms.learning import materials
    from tests.learning_work_builders import set_work

    materials.add_material(faculty, cohort, materials.MaterialDetails(
        kind="link", title=f"Pre-reading for {cohort.title}", url="https://example.org/read"))
    return set_work(faculty, cohort, title=f"Plan for {cohort.title}",
                    days=due_in.days)


def test_a_learner_sees_new_materials_and_work_due_soon_on_their_home(
        app, client, login, make_user, make_cohort):
    from lms.learning import assignments as work

    faculty, person = make_user(Role.FACULTY), make_user()
    mine, other = make_cohort(starts_in=timedelta(days=3)), make_cohort(starts_in=timedelta(days=3))

    def set_up():
        cohort = db.session.get(type(mine), mine.id)
        engine.book(_user(person), cohort)
        _share_work(_user(faculty), cohort)
        set_work_later = _share_work(_user(faculty), db.session.get(type(other), other.id))
        from tests.learning_work_builders import set_work

        set_work(_user(faculty), cohort, title="Far-off essay", days=40)
        handed_in = set_work(_user(faculty), cohort, title="Done already", days=5)
        work.submit(_user(person), handed_in, "My work", [])
        return set_work_later

    _in_app(app, set_up)
    login(person)
    page = _text(client.get("/"))
    action = _section(page, "Needs your action", "Next sessions")
    assert f"Hand in your work: Plan for {mine.title}" in action
    assert "Due by" in action
    assert "Far-off essay" not in action and "Done already" not in action
    assert other.title not in action
    shared = _section(page, "Materials", "My learning")
    assert f"Pre-reading for {mine.title}" in shared
    assert f"Pre-reading for {other.title}" not in shared


def test_several_roles_see_each_section(client, login, make_user):
    person = make_user(Role.FACULTY, Role.DSU_LEAD, Role.ADMIN, org="BSOL")
    login(person)
    page = _text(client.get("/"))
    for heading in ("Needs your action", "Your sessions today and this week",
                    "Nomination windows open", "Organisation changes awaiting a decision",
                    "Coming up"):
        assert heading in page


# ---------------------------------------------------------------------------- My learning


def test_my_learning_groups_places_and_a_network_shows_its_next_meeting(
        app, client, login, people, make_cohort):
    from datetime import time

    from lms.events.models import NetworkSeries

    soon = make_cohort(starts_in=timedelta(days=3))
    later = make_cohort(starts_in=timedelta(days=20))
    finished = make_cohort(starts_in=timedelta(days=1))
    offered = make_cohort(capacity=1)

    def build():
        learner = _user(people.learner)
        series = NetworkSeries(title="Analyst huddles", status="open", booking_mode="open",
                               rrule="FREQ=WEEKLY;COUNT=3", first_day=utcnow().date(),
                               local_start=time(12, 30), duration_minutes=60)
        for weeks in (-40, -2, 2):
            start = utcnow() + timedelta(weeks=weeks)
            series.sessions.append(Session(starts_at=start, ends_at=start + timedelta(hours=1)))
        db.session.add(series)
        db.session.flush()
        member = engine.book(learner, series)
        for cohort in (later, soon, finished):  # booked in the wrong order on purpose
            engine.book(learner, db.session.get(type(cohort), cohort.id))
        engine.withdraw(learner, db.session.scalar(db.select(Enrolment).where(
            Enrolment.user_id == learner.id, Enrolment.offering_id == finished.id)))
        return series.sessions[2].starts_at, member.id

    next_meeting, _ = _in_app(app, build)
    _offer_to_learner(app, people, offered)
    login(people.learner)
    page = _text(client.get("/my-learning"))
    action = _section(page, "Action needed", "Upcoming")
    upcoming = _section(page, "Upcoming", "In progress")
    progress = _section(page, "In progress", "Finished")
    done = page[page.index("Finished"):]
    assert offered.title in action and "Accept by" in action
    assert upcoming.index(soon.title) < upcoming.index(later.title)
    assert "Analyst huddles" in progress
    from lms.clock import when_text
    assert f"Next meeting: {when_text(next_meeting)}" in progress
    assert finished.title in done and "Withdrawn" in done


def test_faculty_reach_register_check_in_and_import_from_the_cohort_page(
        app, client, login, people, make_cohort):
    cohort = make_cohort(starts_in=timedelta(days=1))

    def build():
        held = Session(offering_id=cohort.id, title="Held", starts_at=utcnow() - timedelta(
            hours=3), ends_at=utcnow() - timedelta(hours=1))
        db.session.add(held)
        db.session.flush()
        return held.id

    held_id = _in_app(app, build)
    coming_id = cohort.sessions[0].id
    login(people.faculty)
    page = client.get(f"/faculty/cohorts/{cohort.id}").get_data(as_text=True)
    assert f"/faculty/sessions/{held_id}/register" in page
    assert f"/faculty/sessions/{held_id}/import" in page
    assert f"/faculty/sessions/{held_id}/check-in" not in page  # check-in has closed
    assert f"/faculty/sessions/{coming_id}/check-in" in page
    assert f"/faculty/sessions/{coming_id}/register" not in page
    assert "You can take the register once the session has started at" in page
