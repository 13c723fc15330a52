"""Who may see an offering has one answer, the offerings' policy, wherever an offering can be
seen: its page, a session's and the offering's calendar download, the personal feed, the
API's list and record. Each state (draft, a cohort of an unpublished course, cancelled, and
open as the control) is walked for an anonymous visitor, a learner with a place and faculty,
and every place must give the same answer."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from flask_login import AnonymousUserMixin

from lms.accounts.models import User
from lms.courses.models import Cohort
from lms.events import calendars
from lms.extensions import db
from lms.offerings import calendar, policy
from lms.offerings import services as engine
from lms.offerings.models import Offering
from tests.authz.api import cohort
from tests.test_api_views import bearer
from tests.test_events_support import faculty, make_webinar

NOW = datetime(2027, 3, 10, 11, 0, tzinfo=UTC)

# Which offering states everyone may see; faculty see every one.
PUBLIC = {"open": True, "cancelled": True, "draft": False, "unpublished": False}


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@dataclass(frozen=True)
class World:
    offering_id: int
    session_id: int
    page: str
    feed_token: str
    uid: str


def _world(app, people, kind: str, state: str) -> World:
    """An offering of ``kind`` the learner booked while it was open, then put in ``state``."""
    with app.test_request_context():
        learner = db.session.get(User, people.learner.id)
        if kind == "cohort":
            made = cohort("Forecasting with R", starts_in=timedelta(days=20))
            page = f"/cohorts/{made.id}"
        else:
            made = make_webinar(status="open", days_ahead=20)
            page = f"/webinars/{made.id}"
        engine.book(learner, made)
        if state == "draft":
            made.status = "draft"
        elif state == "unpublished":
            made.course.published = False
        elif state == "cancelled":
            engine.cancel_offering(made, faculty(), "The speaker is ill")
        token = calendars.new_token(learner)
        session_id = made.sessions[0].id
        db.session.commit()
        return World(made.id, session_id, page, token, calendar.session_uid(session_id))


def _seen(app, client, login, world: World, who: User | None) -> dict[str, bool]:
    """Whether each place shows the offering to ``who``."""
    login(who)
    headers = bearer(app, who) if who is not None else {}
    seen = {
        "page": client.get(world.page).status_code,
        "session .ics": client.get(f"/sessions/{world.session_id}/calendar.ics").status_code,
        "offering .ics": client.get(f"/offerings/{world.offering_id}/calendar.ics").status_code,
        "API record": client.get(f"/api/v1/offerings/{world.offering_id}",
                                 headers=headers).status_code,
    }
    for name, status in seen.items():
        assert status in (200, 404), (name, status)
    found = {name: status == 200 for name, status in seen.items()}
    listed = client.get("/api/v1/offerings?per_page=100", headers=headers).get_json()
    found["API list"] = world.offering_id in {o["id"] for o in listed["data"]}
    sessions = client.get(f"/api/v1/sessions?offering_id={world.offering_id}",
                          headers=headers).get_json()
    found["API sessions"] = world.session_id in {s["id"] for s in sessions["data"]}
    login(None)
    return found


@pytest.mark.parametrize(("kind", "state"), [
    ("cohort", "open"), ("cohort", "draft"), ("cohort", "unpublished"), ("cohort", "cancelled"),
    ("webinar", "open"), ("webinar", "draft"), ("webinar", "cancelled"),
])
def test_every_place_gives_the_policys_answer(app, client, login, people, kind, state):
    world = _world(app, people, kind, state)
    for persona in ("anonymous", "learner", "faculty"):
        who = people.by_role(persona)
        expected = PUBLIC[state] or persona == "faculty"
        with app.test_request_context():
            offering = db.session.get(Offering, world.offering_id)
            viewer = db.session.get(User, who.id) if who else AnonymousUserMixin()
            assert policy.can_see(viewer, offering) is expected, persona
        found = _seen(app, client, login, world, who)
        assert found == dict.fromkeys(found, expected), (persona, found)
    # The learner's own feed: the sessions of a place on what they may see, and nothing of a
    # draft or a withheld cohort (a cancelled place is the calendar's business, not this).
    feed = client.get(f"/calendar/feed/{world.feed_token}.ics").get_data(as_text=True)
    if state == "open":
        assert world.uid in feed
    elif not PUBLIC[state]:
        assert world.uid not in feed


def test_a_cohort_follows_its_course_when_published_or_withheld(app, people):
    """The fact the policy reads (``Offering.published``) is kept by the courses model: a
    cohort made for an unpublished course, and every cohort when its course changes."""
    with app.test_request_context():
        made = cohort("Systems thinking", published=False)
        assert made.published is False
        made.course.published = True
        assert made.published is True
        db.session.commit()
        assert db.session.get(Cohort, made.id).published is True
        made.course.published = False
        db.session.commit()
        assert db.session.get(Cohort, made.id).published is False


def test_reminders_are_sent_only_about_what_people_may_see(app, people):
    """Emails ask the same policy: a reminder for a session tomorrow goes out while the
    cohort is public, and not once its course is withheld."""
    from lms.events import reminders

    with app.test_request_context():
        learner = db.session.get(User, people.learner.id)
        made = cohort("Forecasting with R", starts_in=timedelta(hours=20))
        engine.book(learner, made)
        db.session.flush()
        due = reminders.due_before(NOW)
        assert {(d.session_id, d.user_id) for d in due} == {(made.sessions[0].id, learner.id)}
        made.course.published = False
        db.session.flush()
        assert reminders.due_before(NOW) == []
