"""Places through the pages: booking buttons, My learning, nominations, faculty's page."""

from __future__ import annotations

from sqlalchemy import select

from lms.accounts.models import Role
from lms.extensions import db
from lms.offerings.models import Enrolment


def state_of(app, user, cohort) -> str | None:
    with app.app_context():
        return db.session.scalar(select(Enrolment.state).where(
            Enrolment.user_id == user.id, Enrolment.offering_id == cohort.id))


def test_booking_from_the_button_and_seeing_it_in_my_learning(app, client, login, make_user,
                                                             make_cohort):
    learner = make_user(name="Bea Booker")
    cohort = make_cohort(capacity=1)
    login(learner)
    client.post(f"/offerings/{cohort.id}/book", data={"next": "/my-learning"})
    assert state_of(app, learner, cohort) == "enrolled"
    page = client.get("/my-learning").get_data(as_text=True)
    assert cohort.title in page and "Booked" in page and "Withdraw" in page
    again = client.post(f"/offerings/{cohort.id}/book", data={"next": "/my-learning"},
                        follow_redirects=True).get_data(as_text=True)
    assert "You already have a place for this" in again


def test_a_full_cohort_queues_and_my_learning_shows_the_position(app, client, login,
                                                                make_user, make_cohort):
    first, second = make_user(), make_user()
    cohort = make_cohort(capacity=1)
    for person in (first, second):
        login(person)
        client.post(f"/offerings/{cohort.id}/book", data={"next": "/my-learning"})
    page = client.get("/my-learning").get_data(as_text=True)
    assert "On the waiting list" in page and "Number 1 in the queue" in page
    with app.app_context():
        enrolment_id = db.session.scalar(select(Enrolment.id).where(
            Enrolment.user_id == second.id))
    client.post(f"/enrolments/{enrolment_id}/withdraw", data={"next": "/my-learning"})
    assert state_of(app, second, cohort) == "withdrawn"


def test_someone_elses_booking_is_404(app, client, login, make_user, make_cohort):
    owner, intruder = make_user(), make_user()
    cohort = make_cohort()
    login(owner)
    client.post(f"/offerings/{cohort.id}/book")
    with app.app_context():
        enrolment_id = db.session.scalar(select(Enrolment.id))
    login(intruder)
    assert client.post(f"/enrolments/{enrolment_id}/withdraw").status_code == 404
    assert state_of(app, owner, cohort) == "enrolled"


def test_dsu_lead_nominates_from_the_page_and_sees_quota_and_refusal(app, client, login,
                                                                    make_user, make_cohort):
    lead = make_user(Role.DSU_LEAD, org="BSOL")
    people = [make_user(org="BSOL", name=f"Nominee {i}") for i in range(3)]
    outsider = make_user(org="BC", name="Other Ics Person")
    cohort = make_cohort(mode="nomination", capacity=10, quotas={"BSOL": 2})
    login(lead)
    page = client.get(f"/nominations/{cohort.id}").get_data(as_text=True)
    assert "Nominee 0" in page and "Other Ics Person" not in page
    assert "0 of 2 places used" in page
    for person in people[:2]:
        client.post(f"/nominations/{cohort.id}", data={"person_id": person.id})
    refused = client.post(f"/nominations/{cohort.id}", data={"person_id": people[2].id},
                          follow_redirects=True).get_data(as_text=True)
    assert "used all 2 of its places" in refused
    assert "2 of 2 places used" in refused
    assert client.post(f"/nominations/{cohort.id}",
                       data={"person_id": outsider.id}).status_code == 403
    assert state_of(app, outsider, cohort) is None
    overview = client.get("/nominations").get_data(as_text=True)
    assert cohort.title in overview


def test_faculty_approve_and_decline_from_the_people_page(app, client, login, make_user,
                                                         make_cohort):
    faculty = make_user(Role.FACULTY, org="SU")
    asker, other = make_user(name="Asha Asker"), make_user(name="Otto Other")
    cohort = make_cohort(mode="approval", capacity=5)
    for person in (asker, other):
        login(person)
        client.post(f"/offerings/{cohort.id}/book")
    login(faculty)
    page = client.get(f"/faculty/offerings/{cohort.id}/people").get_data(as_text=True)
    assert "Waiting for a decision (2)" in page
    with app.app_context():
        ids = dict(db.session.execute(select(Enrolment.user_id, Enrolment.id)).all())
    client.post(f"/faculty/enrolments/{ids[asker.id]}/approve")
    no_reason = client.post(f"/faculty/enrolments/{ids[other.id]}/reject", data={"reason": ""},
                            follow_redirects=True).get_data(as_text=True)
    assert "Give a reason" in no_reason
    client.post(f"/faculty/enrolments/{ids[other.id]}/reject", data={"reason": "Full team"})
    assert state_of(app, asker, cohort) == "enrolled"
    assert state_of(app, other, cohort) == "rejected"


def test_message_waitlist_needs_a_subject_and_body(app, client, login, make_user, make_cohort):
    faculty = make_user(Role.FACULTY, org="SU")
    cohort = make_cohort(capacity=0)
    login(make_user())
    client.post(f"/offerings/{cohort.id}/book")
    login(faculty)
    page = client.post(f"/faculty/offerings/{cohort.id}/message-waitlist",
                       data={"subject": "", "body": ""}).get_data(as_text=True)
    assert "There is a problem" in page and 'href="#subject"' in page
    sent = client.post(f"/faculty/offerings/{cohort.id}/message-waitlist",
                       data={"subject": "News", "body": "An extra date"},
                       follow_redirects=True).get_data(as_text=True)
    assert "Your message was sent to 1 person" in sent
