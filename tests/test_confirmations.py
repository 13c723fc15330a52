"""Destructive actions ask first, on the one confirmation page: it says what will follow
(worked out from the place, the waiting list, the quota and the calendar), asks for a reason
where faculty or the DSU lead will want one, keeps that reason and passes it on; the POST
does the action (and still works on its own, with its CSRF token)."""

from __future__ import annotations

import html
import re

from sqlalchemy import select

from lms.accounts.models import Role, User
from lms.extensions import db
from lms.notifications.models import OutboxMessage
from lms.offerings import services as svc
from lms.offerings.models import Enrolment, EnrolmentEvent, Offering
from tests.test_events_support import make_festival, make_network


def consequences(page: str) -> list[str]:
    block = page.split('id="consequences"', 1)[1].split("</ul>", 1)[0]
    return [html.unescape(re.sub(r"\s+", " ", item).strip())
            for item in re.findall(r"<li>(.*?)</li>", block)]


def enrolment_of(app, user, offering) -> Enrolment:
    with app.app_context():
        found = db.session.scalar(select(Enrolment).where(
            Enrolment.user_id == user.id, Enrolment.offering_id == offering.id))
        db.session.expunge(found)
        return found


def body_to(app, user, subject_start: str) -> str:
    with app.app_context():
        return db.session.scalars(select(OutboxMessage.body_text).where(
            OutboxMessage.to_address == user.email,
            OutboxMessage.subject.startswith(subject_start))).one()


def test_withdrawing_says_the_place_goes_to_the_next_person_and_the_calendar_is_told(
        app, client, login, make_user, make_cohort):
    cohort = make_cohort(capacity=1)
    holder, waiting = make_user(name="Hana Holder"), make_user(name="Wes Waiting")
    for person in (holder, waiting):
        login(person)
        client.post(f"/offerings/{cohort.id}/book")
    place = enrolment_of(app, holder, cohort)
    login(holder)
    learning = client.get("/my-learning").get_data(as_text=True)
    link = f"/enrolments/{place.id}/withdraw?next=/my-learning"
    assert f'href="{link}"' in learning  # a link to the page, not a button that does it
    page = client.get(link).get_data(as_text=True)
    assert f"Withdraw from {cohort.title}?" in page
    assert consequences(page) == [
        "Your place is offered to the next person on the waiting list (1 person waiting).",
        "We send your calendar a cancellation for 1 session still to come.",
        "We email you to confirm. To withdraw and come back later, you would need to book "
        "again, if places are left.",
    ]
    assert 'name="reason"' not in page  # not a nomination: no one to explain to
    assert 'href="/my-learning">No, go back' in page
    assert enrolment_of(app, holder, cohort).state == "enrolled"  # GET changed nothing
    done = client.post(link)
    assert done.status_code == 302 and done.headers["Location"].endswith("/my-learning")
    assert enrolment_of(app, holder, cohort).state == "withdrawn"
    assert enrolment_of(app, waiting, cohort).state == "offered"


def test_a_waiting_list_position_and_a_request_say_what_they_are(app, client, login,
                                                                  make_user, make_cohort):
    cohort = make_cohort(capacity=1)
    people = [make_user() for _ in range(3)]
    for person in people:
        login(person)
        client.post(f"/offerings/{cohort.id}/book")
    second = enrolment_of(app, people[1], cohort)
    login(people[1])
    page = client.get(f"/enrolments/{second.id}/withdraw").get_data(as_text=True)
    assert f"Leave the waiting list for {cohort.title}?" in page
    assert consequences(page)[0] == ("You lose your place in the queue (number 1); the 1 "
                                     "person behind you move up one.")
    assert ">Leave the waiting list</button>" in page


def _nominated(app, make_user, make_cohort):
    cohort = make_cohort(capacity=6, mode="nomination", quotas={"BSOL": 2})
    lead = make_user(Role.DSU_LEAD, org="BSOL", name="Dana Lead")
    nominee = make_user(org="BSOL", name="Nia Nominee")
    with app.app_context():
        svc.nominate(db.session.get(User, lead.id), db.session.get(Offering, cohort.id),
                     db.session.get(User, nominee.id))
        db.session.commit()
    return cohort, lead, nominee, enrolment_of(app, nominee, cohort)


def test_declining_a_nomination_asks_why_and_the_lead_and_faculty_read_it(
        app, client, login, make_user, make_cohort):
    cohort, lead, nominee, nomination = _nominated(app, make_user, make_cohort)
    login(nominee)
    page = client.get(f"/enrolments/{nomination.id}/decline").get_data(as_text=True)
    assert f"Decline your nomination for {cohort.title}?" in page
    assert consequences(page)[:2] == [
        "Your place goes back to Birmingham and Solihull's quota, so the DSU lead can "
        "nominate someone else.",
        "Dana Lead, the DSU lead who nominated you, is told by email, with your reason if you "
        "give one.",
    ]
    assert 'name="reason"' in page and "Why? (optional)" in page
    too_long = client.post(f"/enrolments/{nomination.id}/decline", data={"reason": "x" * 1001})
    assert too_long.status_code == 200
    assert "The reason must be 1,000 characters or fewer" in too_long.get_data(as_text=True)
    assert enrolment_of(app, nominee, cohort).state == "nominated"
    client.post(f"/enrolments/{nomination.id}/decline",
                data={"reason": "  On leave   that month "})
    assert enrolment_of(app, nominee, cohort).state == "declined"
    with app.app_context():
        assert db.session.scalars(select(EnrolmentEvent.reason).where(
            EnrolmentEvent.enrolment_id == nomination.id,
            EnrolmentEvent.to_state == "declined")).one() == "On leave that month"
    assert "The reason they gave: On leave that month" in body_to(
        app, lead, "Nia Nominee declined")
    login(lead)
    assert "Reason: On leave that month" in client.get(
        f"/nominations/{cohort.id}").get_data(as_text=True)
    login(make_user(Role.FACULTY, org="SU"))
    assert "Reason: On leave that month" in client.get(
        f"/faculty/offerings/{cohort.id}/people").get_data(as_text=True)


def test_a_dsu_lead_withdraws_a_nomination_saying_why_and_the_nominee_is_told(
        app, client, login, make_user, make_cohort):
    cohort, lead, nominee, nomination = _nominated(app, make_user, make_cohort)
    login(lead)
    nominate_page = client.get(f"/nominations/{cohort.id}").get_data(as_text=True)
    link = f"/nominations/enrolments/{nomination.id}/withdraw"
    assert f'href="{link}"' in nominate_page
    page = client.get(link).get_data(as_text=True)
    assert "Withdraw the nomination of Nia Nominee?" in page
    assert "Nia Nominee is told by email, with your reason." in consequences(page)
    assert "Why are you withdrawing the nomination?" in page
    done = client.post(link, data={"reason": "Needed on the ward"})
    assert done.headers["Location"].endswith(f"/nominations/{cohort.id}")
    assert enrolment_of(app, nominee, cohort).state == "withdrawn"
    told = body_to(app, nominee, "You have withdrawn")
    assert "Dana Lead, your DSU lead, has withdrawn your nomination" in told
    assert "The reason given: Needed on the ward" in told


def test_a_nominee_who_withdraws_from_their_place_tells_the_lead_why(
        app, client, login, make_user, make_cohort):
    cohort, lead, nominee, nomination = _nominated(app, make_user, make_cohort)
    login(make_user(Role.FACULTY, org="SU"))
    client.post(f"/faculty/enrolments/{nomination.id}/approve")
    login(nominee)
    client.post(f"/enrolments/{nomination.id}/confirm")
    assert enrolment_of(app, nominee, cohort).state == "enrolled"
    page = client.get(f"/enrolments/{nomination.id}/withdraw").get_data(as_text=True)
    assert 'name="reason"' in page
    client.post(f"/enrolments/{nomination.id}/withdraw", data={"reason": "Changed role"})
    told = body_to(app, lead, "Nia Nominee has withdrawn")
    assert "The reason they gave: Changed role" in told


def test_leaving_a_network_and_cancelling_a_festival_registration_use_their_own_words(
        app, client, login, make_user):
    member, visitor = make_user(), make_user()
    with app.app_context():
        network, festival = make_network(), make_festival()
        svc.book(db.session.get(User, member.id), network)
        svc.book(db.session.get(User, visitor.id), festival)
        db.session.commit()
        network_id, festival_id = network.id, festival.id
        network_title, festival_title = network.title, festival.title
    with app.app_context():
        joined = db.session.scalar(select(Enrolment.id).where(
            Enrolment.offering_id == network_id))
        registered = db.session.scalar(select(Enrolment.id).where(
            Enrolment.offering_id == festival_id))
    login(member)
    page = client.get(f"/enrolments/{joined}/withdraw").get_data(as_text=True)
    assert f"Leave {network_title}?" in page and ">Leave the network</button>" in page
    assert any("cancellation for" in line for line in consequences(page))
    login(visitor)
    page = client.get(f"/enrolments/{registered}/withdraw").get_data(as_text=True)
    assert f"Cancel your registration for {festival_title}?" in page
    assert ">Cancel my registration</button>" in page


def test_cancelling_a_cohort_counts_who_is_affected_and_needs_a_reason(
        app, client, login, make_user, make_cohort):
    cohort = make_cohort(capacity=1)
    for person in (make_user(), make_user()):
        login(person)
        client.post(f"/offerings/{cohort.id}/book")
    login(make_user(Role.FACULTY, org="SU"))
    page = client.get(f"/faculty/cohorts/{cohort.id}/cancel").get_data(as_text=True)
    assert consequences(page) == [
        "1 place, 1 waiting-list position are cancelled, and each person is emailed your "
        "reason.",
        "People with a place are sent a cancellation for each session in their calendar.",
        "The cohort stops taking bookings. This cannot be undone.",
    ]
    refused = client.post(f"/faculty/cohorts/{cohort.id}/cancel", data={"reason": ""})
    assert refused.status_code == 200 and "Give a reason for cancelling" in \
        refused.get_data(as_text=True)
    client.post(f"/faculty/cohorts/{cohort.id}/cancel", data={"reason": "Trainer unwell"})
    with app.app_context():
        assert db.session.get(Offering, cohort.id).status == "cancelled"
