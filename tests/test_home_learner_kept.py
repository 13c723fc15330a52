"""A learner's home as kept in the page cache (``lms.home.kept``): asked again unchanged it
costs the person and the versions' read only; each kind of change that would alter it
(feedback given, work handed in, a register saved, a survey opened, a material added, a
grant of more time) shows at the next request, and so does time passing a survey's opening,
work coming due or its deadline, and a session ending."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from lms.accounts.models import Role, User
from lms.attendance import services as attendance
from lms.clock import utcnow
from lms.extensions import db
from lms.feedback import services as feedback
from lms.feedback.models import Survey
from lms.learning import assignments as work
from lms.learning import materials
from lms.offerings.models import Session
from tests.learning_work_builders import cohort_with, set_work
from tests.test_cache_pages import with_clock_at
from tests.test_events_views import detached
from tests.test_feedback_services import full_answers, open_survey


def _page(client) -> str:
    response = client.get("/")
    assert response.status_code == 200, response.status_code
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)))


def _section(page: str, heading: str, following: str) -> str:
    start = page.index(heading)
    return page[start:page.index(following, start)]


def _actions(client) -> str:
    return _section(_page(client), "Needs your action", "Next sessions")


def _progress(client) -> str:
    return _section(_page(client), "In progress", "Materials")


def _materials(client) -> str:
    return _section(_page(client), "Materials", "My learning")


@pytest.fixture
def home(app, make_user) -> dict:
    """A learner on a cohort whose first session was held ten days ago (the next is in
    twenty days), with work due in a week; faculty to change things."""
    with app.app_context():
        staff = make_user(Role.FACULTY)
        learner = make_user()
        other = make_user()
        cohort = cohort_with([db.session.get(User, learner.id),
                              db.session.get(User, other.id)], title="Leading with data")
        later = utcnow() + timedelta(days=20)
        cohort.sessions.append(Session(starts_at=later, ends_at=later + timedelta(hours=2),
                                       title="Day 2"))
        db.session.flush()
        plan = set_work(db.session.get(User, staff.id), cohort, title="Data plan", days=7)
        db.session.commit()
        return {"faculty": detached(db.session.get(User, staff.id)),
                "learner": detached(db.session.get(User, learner.id)),
                "cohort": cohort.id, "held": cohort.sessions[0].id, "plan": plan.id}


def _later(moment, login, person) -> None:
    """Move the clock to ``moment`` and sign in again (a session that old has timed out)."""
    with_clock_at(moment)
    login(person)


def _change(app, change) -> None:
    """Make a change in a context of its own and commit it, as another request would."""
    with app.app_context():
        change()
        db.session.commit()


def _user(person) -> User:
    return db.session.get(User, person.id)


def _cohort(home):
    from lms.courses.models import Cohort

    return db.session.get(Cohort, home["cohort"])


def test_an_unchanged_home_costs_the_person_and_one_read_of_the_versions(
        client, login, home, count_queries):
    login(home["learner"])
    first = _page(client)
    with count_queries() as counted:
        again = _page(client)
    assert counted.n <= 3, counted.statements
    assert sum("cache_version" in s for s in counted.statements) == 1, counted.statements
    assert again == first
    assert "Hand in your work: Data plan (Leading with data: Spring)" in again
    assert "You attended 0 of the 1 session held so far" in again


def test_work_handed_in_leaves_the_home_at_once(app, client, login, home):
    login(home["learner"])
    assert "Hand in your work: Data plan" in _actions(client)
    _change(app, lambda: work.submit(_user(home["learner"]),
                                     db.session.get(work.Assignment, home["plan"]),
                                     "My plan", []))
    assert "Data plan" not in _actions(client)


def test_a_survey_opened_asks_for_feedback_and_feedback_given_clears_it(
        app, client, login, home):
    login(home["learner"])
    assert "Give feedback" not in _actions(client)

    def open_one():
        return open_survey(_user(home["faculty"]), _cohort(home)).id

    with app.app_context():
        survey_id = open_one()
        db.session.commit()
    actions = _actions(client)
    assert "Give feedback: Leading with data: Spring" in actions
    assert "The survey closes on" in actions

    def save_some():
        survey = db.session.get(Survey, survey_id)
        feedback.save_draft(_user(home["learner"]), survey, full_answers(survey))

    _change(app, save_some)
    assert "Finish your feedback" in _actions(client)

    def answer():
        survey = db.session.get(Survey, survey_id)
        feedback.submit(_user(home["learner"]), survey, full_answers(survey))

    _change(app, answer)
    assert "Give feedback" not in _actions(client)


def test_a_saved_register_shows_in_the_progress_at_once(app, client, login, home):
    login(home["learner"])
    assert "You attended 0 of the 1 session held so far" in _progress(client)
    _change(app, lambda: attendance.record_register(
        _user(home["faculty"]), db.session.get(Session, home["held"]),
        {home["learner"].id: ("present", "")}))
    assert "You attended 1 of the 1 session held so far (100%" in _progress(client)


def test_a_sign_off_shows_in_the_progress_at_once(app, client, login, home):
    from lms.attendance import completion
    from lms.offerings.models import Enrolment

    def needs_signoff():
        _cohort(home).course.requires_signoff = True

    _change(app, needs_signoff)
    login(home["learner"])
    assert "Faculty sign off the course at the end" in _progress(client)

    def sign():
        place = db.session.scalar(db.select(Enrolment).filter_by(
            offering_id=home["cohort"], user_id=home["learner"].id))
        completion.sign_off(_user(home["faculty"]), place)

    _change(app, sign)
    assert "Faculty sign off" not in _progress(client)


def test_a_material_added_shows_at_once(app, client, login, home):
    login(home["learner"])
    assert "No materials have been shared with you yet" in _materials(client)
    _change(app, lambda: materials.add_material(
        _user(home["faculty"]), _cohort(home), materials.MaterialDetails(
            kind="link", title="Reading list", url="https://example.org/reading")))
    assert "Reading list" in _materials(client)


def test_more_time_granted_moves_the_deadline_at_once(app, client, login, home):
    login(home["learner"])
    assert "Data plan" in _actions(client)
    _change(app, lambda: db.session.add(work.AssignmentExtension(
        assignment_id=home["plan"], user_id=home["learner"].id,
        due_at=utcnow() + timedelta(days=30), granted_by_id=home["faculty"].id)))
    assert "Data plan" not in _actions(client)  # due in a month now, not soon


def test_group_work_handed_in_or_given_more_time_shows_on_every_members_home(
        app, client, login, home, make_user):
    from lms.learning import groups

    with app.app_context():
        mate = make_user()
        cohort = _cohort(home)
        from lms.offerings.models import Enrolment

        db.session.add(Enrolment(offering_id=cohort.id, user_id=mate.id, state="enrolled"))
        db.session.flush()
        team = set_work(_user(home["faculty"]), cohort, title="Team report", days=5,
                        for_groups=True)
        groups.add_group(_user(home["faculty"]), cohort, "Blue",
                         [home["learner"].id, mate.id])
        db.session.commit()
        team_id, mate = team.id, detached(db.session.get(User, mate.id))
    login(home["learner"])
    assert "Hand in your work: Team report" in _actions(client)
    _change(app, lambda: work.grant_extension(  # to the mate: the whole group has longer
        _user(home["faculty"]), db.session.get(work.Assignment, team_id), mate.id,
        (utcnow() + timedelta(days=40)).date()))
    assert "Team report" not in _actions(client)
    _change(app, lambda: db.session.execute(
        work.AssignmentExtension.__table__.delete()))  # (a bulk statement renews all)
    assert "Team report" in _actions(client)
    _change(app, lambda: work.submit(_user(mate), db.session.get(work.Assignment, team_id),
                                     "Our report", []))
    assert "Team report" not in _actions(client)


def test_time_brings_work_due_then_takes_it_away_when_the_deadline_passes(
        app, client, login, home):
    """Minutes apart (the same day), so only the kept home's own "valid until" renews it."""
    def soon_due():
        essay = set_work(_user(home["faculty"]), _cohort(home), title="Long essay", days=20)
        essay.due_at = utcnow() + timedelta(days=14, minutes=10)
        short = set_work(_user(home["faculty"]), _cohort(home), title="Short note", days=2)
        short.due_at = utcnow() + timedelta(minutes=20)
        return essay.due_at, short.due_at

    with app.app_context():
        essay_due, short_due = soon_due()
        db.session.commit()
    login(home["learner"])
    actions = _actions(client)
    assert "Long essay" not in actions and "Hand in your work: Short note" in actions
    _later(essay_due - timedelta(days=14) + timedelta(seconds=30), login, home["learner"])
    actions = _actions(client)
    assert "Hand in your work: Long essay" in actions and "Short note" in actions
    _later(short_due + timedelta(seconds=30), login, home["learner"])
    actions = _actions(client)
    assert "Long essay" in actions and "Short note" not in actions


def test_time_opens_a_survey_and_closes_it(app, client, login, home):
    def later_survey():
        survey = open_survey(_user(home["faculty"]), _cohort(home))
        survey.opens_at = utcnow() + timedelta(minutes=10)
        survey.closes_at = survey.opens_at + timedelta(minutes=20)
        return survey.opens_at, survey.closes_at

    with app.app_context():
        opens, closes = later_survey()
        db.session.commit()
    login(home["learner"])
    assert "Give feedback" not in _actions(client)
    _later(opens + timedelta(seconds=30), login, home["learner"])
    assert "Give feedback: Leading with data: Spring" in _actions(client)
    _later(closes + timedelta(seconds=30), login, home["learner"])
    assert "Give feedback" not in _actions(client)


def test_a_place_is_in_progress_once_its_first_session_has_ended(
        app, client, login, make_user, make_cohort):
    from lms.offerings.models import Enrolment

    learner = make_user()
    cohort = make_cohort(starts_in=timedelta(minutes=-100))  # under way: ends in 20 minutes
    _change(app, lambda: db.session.add(Enrolment(offering_id=cohort.id, user_id=learner.id,
                                                  state="enrolled")))
    login(learner)
    assert "You have nothing in progress" in _progress(client)
    with app.app_context():
        ends = db.session.get(type(cohort), cohort.id).sessions[0].ends_at
    _later(ends + timedelta(seconds=30), login, learner)
    assert "You attended 0 of the 1 session held so far" in _progress(client)
