"""Every action offered is allowed, and every action allowed is offered.

For each offering state (draft, open, full, by approval, closed for booking, running,
finished, cancelled; before, during and after a session; an offer of a place open and
lapsed; by nomination with the ICS quota free and used, nominations open and closed; a
webinar full and cancelled) and
each persona (anonymous, learner, learner with a place, DSU lead of the same ICS and of
another, faculty, admin), the test reads the buttons the pages show, presses with the
page's CSRF token every one not shown (it must be refused, nothing changes, and the reason
is on the page where the person could expect the button), then one that is shown (it must
succeed). The API pass presses the API's booking endpoints instead and expects the page's
answer. The world is built once per state and channel; the persona answers are read fresh
from the pages, so an earlier persona's press cannot make a later check wrong."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import select

from lms.accounts.models import Role, User
from lms.clock import date_text
from lms.courses.models import Cohort, Course
from lms.extensions import db
from lms.offerings import policy
from lms.offerings import services as engine
from lms.offerings.models import Enrolment, EnrolmentState, Offering, OfferingQuota, Session
from tests.conftest import TOTP_SECRET, organisation
from tests.test_api_views import bearer
from tests.test_events_support import make_webinar

NOW = datetime(2027, 3, 10, 11, 0, tzinfo=UTC)
S = EnrolmentState
PERSONAS = ("anonymous", "learner", "with_place", "dsu_same", "dsu_other", "faculty", "admin")
ANSWERS = ("confirm", "accept", "decline", "withdraw")


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def csrf_on(app):
    app.config["WTF_CSRF_ENABLED"] = True
    yield
    app.config["WTF_CSRF_ENABLED"] = False


# ---------------------------------------------------------------------------- the world


@dataclass
class World:
    offering_id: int
    who: dict[str, int | None]  # persona -> user id
    page: str  # the offering's page, where its booking box is


def _user(name: str, org: str, *roles: Role) -> User:
    from lms.accounts.models import UserRole

    user = User(email=f"{name.lower().replace(' ', '.')}@example.nhs.uk", full_name=name,
                job_title="Analyst", organisation=organisation(org),
                email_verified_at=NOW - timedelta(days=30))
    user.role_rows.extend(UserRole(role=r) for r in {Role.LEARNER, *roles})
    if Role.ADMIN in roles:  # admins must have two-step verification on
        user.totp_secret, user.totp_enabled_at = TOTP_SECRET, NOW
    db.session.add(user)
    return user


def _cohort(capacity: int | None = 10, mode: str = "open", status: str = "open",
            starts: timedelta = timedelta(days=20), hours: int = 2, **fields) -> Cohort:
    course = Course(title="Forecasting with R", summary="Forecasts", kind="short_course",
                    strand="analytical_capability", format="online")
    made = Cohort(course=course, name="Spring", title="Forecasting with R: Spring",
                  capacity=capacity, booking_mode=mode, status=status, **fields)
    made.sessions.append(Session(starts_at=NOW + starts,
                                 ends_at=NOW + starts + timedelta(hours=hours),
                                 title="Session 1", join_url="https://meet.example/x"))
    db.session.add(made)
    db.session.flush()
    return made


def _set(offering_id: int, **fields) -> None:
    offering = db.session.get(Cohort, offering_id)
    for name, value in fields.items():
        setattr(offering, name, value)
    db.session.flush()


def _build(state: str) -> World:
    """The offering in ``state``, and its people; ``with_place`` holds (or held) a place, or
    an approved nomination on nomination offerings."""
    lead = _user("Sam Samelead", "BSOL", Role.DSU_LEAD)
    people = {
        "learner": _user("Lena Learner", "BSOL"),
        "with_place": _user("Pat Placeholder", "BSOL"),
        "dsu_same": lead,
        "dsu_other": _user("Olu Otherlead", "BC", Role.DSU_LEAD),
        "faculty": _user("Fay Faculty", "SU", Role.FACULTY),
        "admin": _user("Ada Admin", "SU", Role.ADMIN),
    }
    others = [_user(f"Colleague {n}", "BSOL") for n in range(3)] + [_user("Bea Black", "BC")]
    db.session.flush()
    holder = people["with_place"]
    fac = people["faculty"]
    if state.startswith("webinar"):
        # An event's booking box is the same panel: a full webinar, the holder waiting.
        made = make_webinar(capacity=1, status="open", days_ahead=20)
        engine.book(others[0], made)
        engine.book(holder, made)
        if state == "webinar_cancelled":
            engine.cancel_offering(made, fac, "The speaker is ill")
    elif state.startswith("nomination"):
        window = {"nomination_opens_at": NOW - timedelta(days=30),
                  "nomination_closes_at": NOW + timedelta(days=10)}
        if state == "nomination_closed":
            window["nomination_closes_at"] = NOW - timedelta(days=20)
        made = _cohort(capacity=10, mode="nomination", **window)
        made.quotas.append(OfferingQuota(organisation_id=organisation("BSOL").id, places=2))
        db.session.flush()
        if state == "nomination_closed":
            _set(made.id, nomination_closes_at=NOW + timedelta(days=1))
        nominated = engine.nominate(lead, made, holder)
        engine.approve(fac, nominated)
        if state == "nomination_used":
            engine.nominate(lead, made, others[0])
        if state == "nomination_closed":
            _set(made.id, nomination_closes_at=NOW - timedelta(days=20))
    elif state in ("full", "offered", "offer_lapsed"):
        made = _cohort(capacity=1)
        engine.book(others[0], made)
        engine.book(holder, made)  # the waiting list
        if state != "full":
            engine.withdraw(others[0], db.session.scalar(select(Enrolment).where(
                Enrolment.user_id == others[0].id)))  # the place is offered to the holder
        if state == "offer_lapsed":
            place = db.session.scalar(select(Enrolment).where(Enrolment.user_id == holder.id))
            place.offer_expires_at = NOW - timedelta(minutes=5)
    else:
        made = _cohort(mode="approval" if state == "approval" else "open")
        engine.book(holder, made)
        if state == "approval":
            engine.approve(fac, db.session.scalar(select(Enrolment).where(
                Enrolment.user_id == holder.id)))
        moves = {
            "draft": {"status": "draft"},
            "closed": {"status": "closed"},
            "before": {},
            "during": {"status": "running"},
            "open_during": {},
            "after": {"status": "finished"},
        }
        if state == "cancelled":
            engine.cancel_offering(made, fac, "The speaker is ill")
        elif state in moves:
            _set(made.id, **moves[state])
        if state in ("during", "open_during"):
            made.sessions[0].starts_at = NOW - timedelta(hours=1)
            made.sessions[0].ends_at = NOW + timedelta(hours=1)
        elif state == "after":
            made.sessions[0].starts_at = NOW - timedelta(days=2)
            made.sessions[0].ends_at = NOW - timedelta(days=2) + timedelta(hours=2)
    db.session.flush()
    who = {"anonymous": None, **{name: user.id for name, user in people.items()}}
    kind = "webinars" if state.startswith("webinar") else "cohorts"
    return World(made.id, who, f"/{kind}/{made.id}")


STATES = ("open", "full", "approval", "draft", "closed", "before", "during", "open_during",
          "after", "cancelled", "offered", "offer_lapsed", "nomination_free", "nomination_used",
          "nomination_closed", "webinar_full", "webinar_cancelled")

# Who sees "Book" (or "Ask for a place", "Join the waiting list") in each state: the table
# the pages must agree with (besides agreeing with what the engine allows).
BOOKERS = {"learner", "dsu_same", "dsu_other", "faculty", "admin"}
EXPECTED_BOOKERS = {"open": BOOKERS, "full": BOOKERS, "approval": BOOKERS,
                    "before": BOOKERS, "offered": BOOKERS, "offer_lapsed": BOOKERS,
                    "webinar_full": BOOKERS}
# Who sees Nominate buttons.
EXPECTED_NOMINATORS = {"nomination_free": {"dsu_same", "dsu_other"},
                       "nomination_used": {"dsu_other"}}


# ---------------------------------------------------------------------------- reading pages


def _csrf(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    return found.group(1) if found else ""


def _actions(page: str) -> set[str]:
    """Where the page's buttons post: its forms, and its links to a confirmation page
    (withdraw, decline), whose form posts back to the same address."""
    forms = {html.unescape(a) for a in re.findall(r'<form method="post" action="([^"]+)"', page)}
    confirms = {html.unescape(a) for a in re.findall(
        r'href="(/enrolments/\d+/(?:withdraw|decline))(?:\?[^"]*)?"', page)}
    return forms | confirms


# Requests are made outside any app context (one kept open would share ``g``, and so the
# signed-in person, across requests); the database is read in a context of its own.
def _read(app, fn):
    with app.app_context():
        return fn()


def _user_of(app, user_id: int | None) -> User | None:
    return _read(app, lambda: db.session.get(User, user_id)) if user_id else None


def _place(app, offering_id: int, user_id: int | None) -> str | None:
    if user_id is None:
        return None
    return _read(app, lambda: db.session.scalar(select(Enrolment.state).where(
        Enrolment.offering_id == offering_id, Enrolment.user_id == user_id)))


def _enrolment_id(app, offering_id: int, user_id: int | None) -> int | None:
    if user_id is None:
        return None
    return _read(app, lambda: db.session.scalar(select(Enrolment.id).where(
        Enrolment.offering_id == offering_id, Enrolment.user_id == user_id)))


def _active(state: str | None) -> bool:
    return state is not None and state in (s.value for s in engine.ACTIVE)


# ---------------------------------------------------------------------------- the walk


def _walk_booking_page(app, client, login, world: World, persona: str,
                       channel: str) -> bool:
    """The offering page's booking box for one persona. Returns whether "Book" was shown."""
    user_id = world.who[persona]
    oid = world.offering_id
    login(_user_of(app, user_id))
    response = client.get(world.page)
    assert response.status_code in (200, 404)
    page = response.get_data(as_text=True) if response.status_code == 200 else ""
    token = _csrf(page) or _csrf(client.get("/").get_data(as_text=True))
    # A person's answers about their place are offered on the offering's page and on My
    # learning (the only one for an offering they may no longer see).
    shown = _actions(page)
    if user_id is not None:
        shown |= _actions(client.get("/my-learning").get_data(as_text=True))
    book_url = f"/offerings/{oid}/book"
    eid = _enrolment_id(app, oid, user_id)
    answers = {a: f"/enrolments/{eid}/{a}" for a in ANSWERS} if eid else {}
    before = _place(app, oid, user_id)
    headers = bearer(app, _user_of(app, user_id)) if user_id else {}

    # The policy's own answer agrees with the page (so the reason shown is the policy's).
    if user_id is not None and response.status_code == 200 and not _active(before):
        decision = _read(app, lambda: policy.may_book(db.session.get(User, user_id),
                                                      db.session.get(Offering, oid)))
        assert (book_url in shown) == decision.allowed, (persona, decision)
        if not decision.allowed:
            assert html.escape(decision.reason) in page, (persona, decision.reason)
    if response.status_code == 404:
        assert persona not in ("faculty", "admin")

    # Refusals first: everything not shown, by the page's form and by the API.
    hidden_answers = [a for a, url in answers.items() if url not in shown]
    for action in hidden_answers:
        client.post(answers[action], data={"csrf_token": token})
        assert _place(app, oid, user_id) == before, (persona, action, "was not offered")
        if channel == "api" and action in ("withdraw", "decline") and not any(
                answers[a] in shown for a in ("withdraw", "decline")):
            refused = client.delete(f"/api/v1/me/bookings/{eid}", headers=headers)
            assert refused.status_code >= 400, (persona, action)
            assert _place(app, oid, user_id) == before
    if book_url not in shown:
        if channel == "page":
            client.post(book_url, data={"csrf_token": token})
        else:
            refused = client.post(f"/api/v1/offerings/{oid}/bookings", headers=headers)
            assert refused.status_code in (401, 403, 404, 409), (persona, refused.status_code)
        assert _place(app, oid, user_id) == before, (persona, "book was not offered")

    # Then one shown action is pressed, and it must work.
    shown_answers = [a for a, url in answers.items() if url in shown]
    if book_url in shown:
        if channel == "page":
            done = client.post(book_url, data={"csrf_token": token})
            assert done.status_code == 302
        else:
            done = client.post(f"/api/v1/offerings/{oid}/bookings", headers=headers)
            assert done.status_code == 201, (persona, done.get_json())
        assert _active(_place(app, oid, user_id)), (persona, "book was offered")
        return True
    if shown_answers:
        action = shown_answers[0]
        if channel == "api" and action in ("withdraw", "decline"):
            done = client.delete(f"/api/v1/me/bookings/{eid}", headers=headers)
            assert done.status_code == 200, (persona, action, done.get_json())
        else:
            client.post(answers[action], data={"csrf_token": token})
        after = _place(app, oid, user_id)
        assert after != before, (persona, action, "was offered but did nothing")
    return False


def _walk_nominations(app, client, login, world: World, persona: str, state: str) -> bool:
    """The nomination page for one persona. Returns whether Nominate buttons were shown."""
    user_id = world.who[persona]
    oid = world.offering_id
    login(_user_of(app, user_id))
    response = client.get(f"/nominations/{oid}")
    is_lead = persona in ("dsu_same", "dsu_other")
    if not is_lead:
        assert response.status_code in (302, 403, 404), persona
        return False
    page = response.get_data(as_text=True)
    if not state.startswith("nomination"):
        assert response.status_code == 404  # not by nomination
        return False
    assert response.status_code == 200
    token = _csrf(page)
    people = [int(p) for p in re.findall(r'name="person_id" value="(\d+)"', page)]

    def facts():
        lead = db.session.get(User, user_id)
        decision = policy.may_nominate(lead, db.session.get(Cohort, oid))
        own = [u.id for u in db.session.scalars(select(User).where(
            User.organisation_id == lead.organisation_id, User.id.not_in(
                select(Enrolment.user_id).where(Enrolment.offering_id == oid))))
            if not u.is_dsu_lead]
        nominations = [(e.id, e.user_id, e.state) for e in db.session.scalars(
            select(Enrolment).where(Enrolment.offering_id == oid,
                                    Enrolment.quota_organisation_id == lead.organisation_id))]
        return decision, own, nominations

    decision, own, nominations = _read(app, facts)
    assert bool(people) == decision.allowed, (persona, decision)
    withdrawable = {int(e) for e in re.findall(r'/nominations/enrolments/(\d+)/withdraw', page)}
    for eid, nominee, before in nominations:
        if eid not in withdrawable:
            client.post(f"/nominations/enrolments/{eid}/withdraw", data={"csrf_token": token})
            assert _place(app, oid, nominee) == before, (persona, "withdraw not offered")
    if not people:
        # The reason is where the buttons would be, and pressing anyway is refused.
        assert html.escape(decision.reason) in page, (persona, decision.reason)
        client.post(f"/nominations/{oid}", data={"csrf_token": token, "person_id": own[0]})
        assert _place(app, oid, own[0]) is None, (persona, "nominate was not offered")
    else:
        client.post(f"/nominations/{oid}", data={"csrf_token": token, "person_id": people[0]})
        assert _place(app, oid, people[0]) == S.NOMINATED, (persona, "nominate was offered")
    for eid in withdrawable:
        before = _read(app, lambda: db.session.get(Enrolment, eid).state)  # noqa: B023
        client.post(f"/nominations/enrolments/{eid}/withdraw", data={"csrf_token": token})
        after = _read(app, lambda: db.session.get(Enrolment, eid).state)  # noqa: B023
        assert after != before, (persona, "withdraw was offered")
    return bool(people)


@pytest.mark.parametrize("channel", ["page", "api"])
@pytest.mark.parametrize("state", STATES)
def test_what_is_offered_is_what_is_allowed(app, client, login, csrf_on, state, channel):
    with app.test_request_context():
        world = _build(state)
        db.session.commit()
    bookers, nominators = set(), set()
    for persona in PERSONAS:
        if _walk_booking_page(app, client, login, world, persona, channel):
            bookers.add(persona)
        if channel == "page" and _walk_nominations(app, client, login, world, persona, state):
            nominators.add(persona)
    assert bookers == EXPECTED_BOOKERS.get(state, set())
    if channel == "page":
        assert nominators == EXPECTED_NOMINATORS.get(state, set())


def test_the_nominations_list_says_when_nominations_closed(app, client, login):
    """A cohort whose nominations closed is listed with the date they closed, not as open."""
    with app.test_request_context():
        world = _build("nomination_closed")
        db.session.commit()
        closes = db.session.get(Cohort, world.offering_id).nomination_closes_at
    login(_user_of(app, world.who["dsu_same"]))
    page = client.get("/nominations").get_data(as_text=True)
    assert f"Nominations closed on {date_text(closes)}" in page
    assert ">Open" not in page
