"""The enrolment engine: places, waiting lists, approvals, nominations and quotas."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import select

from lms import jobs
from lms.accounts.models import Role
from lms.clock import date_text, utcnow
from lms.errors import DomainError, NotAllowed, NotFound
from lms.extensions import db
from lms.messages import services as messages
from lms.notifications.models import OutboxMessage
from lms.offerings import pages, policy
from lms.offerings import places as offering_places
from lms.offerings import services as svc
from lms.offerings.models import Enrolment, EnrolmentEvent


def states(offering) -> dict[str, str]:
    rows = db.session.scalars(select(Enrolment).where(Enrolment.offering_id == offering.id))
    return {e.user.full_name: e.state for e in rows}


def positions(offering) -> list[tuple[str, int]]:
    rows = db.session.scalars(
        select(Enrolment).where(Enrolment.offering_id == offering.id,
                                Enrolment.state == "waitlisted")
        .order_by(Enrolment.waitlist_position))
    return [(e.user.full_name, e.waitlist_position) for e in rows]


def emails_to(user) -> list[str]:
    return list(db.session.scalars(
        select(OutboxMessage.subject).where(OutboxMessage.to_address == user.email)
        .order_by(OutboxMessage.id)))


@pytest.fixture
def learners(ctx, make_user):
    return [make_user(name=f"Learner {i}", org="BSOL") for i in range(1, 7)]


def test_open_booking_fills_then_queues_with_positions(ctx, make_cohort, learners):
    cohort = make_cohort(capacity=2)
    got = [svc.book(p, cohort).state for p in learners[:4]]
    assert got == ["enrolled", "enrolled", "waitlisted", "waitlisted"]
    assert positions(cohort) == [("Learner 3", 1), ("Learner 4", 2)]
    assert offering_places.places_left(cohort) == 0
    assert emails_to(learners[0]) == [f"Your place is booked: {cohort.title}"]
    assert emails_to(learners[2]) == [f"You are on the waiting list: {cohort.title}"]


def test_booking_twice_is_refused_and_changes_nothing(ctx, make_cohort, learners):
    cohort = make_cohort(capacity=5)
    svc.book(learners[0], cohort)
    with pytest.raises(policy.AlreadyBooked, match="already have a place"):
        svc.book(learners[0], cohort)
    assert len(states(cohort)) == 1
    history = db.session.scalars(select(EnrolmentEvent)).all()
    assert len(history) == 1


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"status": "closed"}, "Booking is not open"),
        ({"status": "draft"}, "Booking is not open"),
        ({"status": "cancelled"}, "cancelled"),
        ({"starts_in": timedelta(days=-1)}, "already started"),
    ],
)
def test_closed_past_and_cancelled_offerings_cannot_be_booked(ctx, make_cohort, learners,
                                                              fields, message):
    cohort = make_cohort(**fields)
    with pytest.raises(policy.BookingClosed, match=message):
        svc.book(learners[0], cohort)
    assert states(cohort) == {}


def test_withdrawing_offers_the_place_to_the_first_in_the_queue_with_a_deadline(
    ctx, make_cohort, learners
):
    cohort = make_cohort(capacity=1, offer_hours=24)
    first, second, third = (svc.book(p, cohort) for p in learners[:3])
    svc.withdraw(learners[0], first)
    assert states(cohort) == {"Learner 1": "withdrawn", "Learner 2": "offered",
                              "Learner 3": "waitlisted"}
    assert positions(cohort) == [("Learner 3", 1)]
    assert abs(second.offer_expires_at - (utcnow() + timedelta(hours=24))) < timedelta(seconds=5)
    assert emails_to(learners[1])[-1] == f"A place is available for you: {cohort.title}"
    svc.accept_offer(learners[1], second)
    assert second.state == "enrolled"


def test_an_unanswered_offer_lapses_to_the_next_person(ctx, make_cohort, learners):
    cohort = make_cohort(capacity=1, offer_hours=48)
    first, second, third = (svc.book(p, cohort) for p in learners[:3])
    svc.withdraw(learners[0], first)
    db.session.commit()
    start = utcnow()
    with time_machine.travel(start + timedelta(hours=47)):
        assert jobs.lapse_offers_job() == 0
    with time_machine.travel(start + timedelta(hours=49)):
        assert jobs.lapse_offers_job() == 1
        assert jobs.lapse_offers_job() == 0  # a second run (or a second scheduler) does nothing
        db.session.expire_all()
        assert states(cohort)["Learner 2"] == "lapsed"
        assert states(cohort)["Learner 3"] == "offered"
        assert emails_to(learners[1])[-1] == f"Your offer of a place has lapsed: {cohort.title}"
        with pytest.raises(DomainError):
            svc.accept_offer(learners[1], db.session.get(Enrolment, second.id))


def test_an_expired_offer_cannot_be_accepted_even_before_the_job_runs(ctx, make_cohort,
                                                                     learners):
    cohort = make_cohort(capacity=1, offer_hours=1)
    first, second = (svc.book(p, cohort) for p in learners[:2])
    svc.withdraw(learners[0], first)
    with time_machine.travel(utcnow() + timedelta(hours=2)), \
            pytest.raises(DomainError, match="expired"):
        svc.accept_offer(learners[1], second)


def test_leaving_the_queue_closes_the_gap(ctx, make_cohort, learners):
    cohort = make_cohort(capacity=1)
    enrolments = [svc.book(p, cohort) for p in learners[:5]]
    svc.withdraw(learners[2], enrolments[2])
    assert positions(cohort) == [("Learner 2", 1), ("Learner 4", 2), ("Learner 5", 3)]


def test_faculty_reorder_the_queue_with_a_reason(ctx, make_cohort, make_user, learners):
    faculty = make_user(Role.FACULTY, org="SU")
    cohort = make_cohort(capacity=1)
    enrolments = [svc.book(p, cohort) for p in learners[:5]]
    with pytest.raises(DomainError, match="reason"):
        svc.move_in_waitlist(faculty, enrolments[4], 1, "  ")
    svc.move_in_waitlist(faculty, enrolments[4], 1, "Presenting at the session")
    assert positions(cohort) == [("Learner 5", 1), ("Learner 2", 2), ("Learner 3", 3),
                                 ("Learner 4", 4)]
    svc.move_in_waitlist(faculty, enrolments[4], 3, "Changed plans")
    assert positions(cohort) == [("Learner 2", 1), ("Learner 3", 2), ("Learner 5", 3),
                                 ("Learner 4", 4)]
    with pytest.raises(DomainError, match="from 1 to 4"):
        svc.move_in_waitlist(faculty, enrolments[4], 9, "x")
    with pytest.raises(NotAllowed):
        svc.move_in_waitlist(learners[0], enrolments[4], 1, "me first")
    last = db.session.scalars(select(EnrolmentEvent).order_by(EnrolmentEvent.id.desc())).first()
    assert last.reason == "Moved from 1 to 3: Changed plans" and last.actor_id == faculty.id


def test_message_the_waiting_list(ctx, make_cohort, make_user, learners):
    faculty = make_user(Role.FACULTY, org="SU")
    cohort = make_cohort(capacity=1)
    for p in learners[:3]:
        svc.book(p, cohort)
    sent = messages.send(faculty, cohort, "waitlist", None, "Extra date",
                         "We may add a session.")
    assert sent.recipient_count == 2
    assert emails_to(learners[1])[-1] == "Extra date"
    assert emails_to(learners[0])[-1] != "Extra date"


def test_approval_booking(ctx, make_cohort, make_user, learners):
    faculty = make_user(Role.FACULTY, org="SU")
    cohort = make_cohort(capacity=1, mode="approval")
    a, b, c = (svc.book(p, cohort) for p in learners[:3])
    assert {a.state, b.state, c.state} == {"requested"}
    assert offering_places.places_left(cohort) == 1  # requests hold no place
    svc.approve(faculty, a)
    svc.approve(faculty, b)  # full: goes to the queue
    with pytest.raises(DomainError, match="reason"):
        svc.reject(faculty, c, "")
    svc.reject(faculty, c, "This course is for team leaders")
    assert states(cohort) == {"Learner 1": "enrolled", "Learner 2": "waitlisted",
                              "Learner 3": "rejected"}
    assert "team leaders" in db.session.scalars(
        select(OutboxMessage.body_text).where(OutboxMessage.to_address == learners[2].email)
        .order_by(OutboxMessage.id.desc())).first()
    with pytest.raises(NotAllowed):
        svc.approve(learners[0], c)


def test_learners_cannot_book_a_nomination_cohort(ctx, make_cohort, learners):
    cohort = make_cohort(mode="nomination")
    with pytest.raises(NotAllowed, match="nomination"):
        svc.book(learners[0], cohort)


@pytest.fixture
def programme(ctx, make_cohort):
    return make_cohort(capacity=6, mode="nomination", quotas={"BSOL": 2, "BC": 2})


def test_a_dsu_lead_nominates_within_quota(ctx, programme, make_user, learners):
    lead = make_user(Role.DSU_LEAD, org="BSOL")
    svc.nominate(lead, programme, learners[0])
    svc.nominate(lead, programme, learners[1])
    with pytest.raises(policy.QuotaExceeded, match="all 2 of its places"):
        svc.nominate(lead, programme, learners[2])
    view = pages.quota_view(lead, programme)
    assert (view.quota, view.used, view.remaining) == (2, 2, 0)
    assert emails_to(learners[0]) == [f"You have been nominated: {programme.title}"]


def test_a_dsu_lead_cannot_nominate_another_ics(ctx, programme, make_user, learners):
    other_lead = make_user(Role.DSU_LEAD, org="BC")
    with pytest.raises(NotAllowed, match="own ICS"):
        svc.nominate(other_lead, programme, learners[0])
    with pytest.raises(NotAllowed):
        svc.nominate(learners[1], programme, learners[0])  # not a lead at all
    assert states(programme) == {}


def test_nomination_window(ctx, make_cohort, make_user, learners):
    lead = make_user(Role.DSU_LEAD, org="BSOL")
    now = utcnow()
    later = make_cohort(mode="nomination", nomination_opens_at=now + timedelta(days=1))
    closed = make_cohort(mode="nomination", nomination_opens_at=now - timedelta(days=5),
                         nomination_closes_at=now - timedelta(days=1))
    opens = date_text(later.nomination_opens_at)
    with pytest.raises(policy.BookingClosed, match=f"Nominations open on {opens}"):
        svc.nominate(lead, later, learners[0])
    closes = date_text(closed.nomination_closes_at)
    with pytest.raises(policy.BookingClosed, match=f"Nominations closed on {closes}"):
        svc.nominate(lead, closed, learners[0])


def test_nomination_approval_confirmation_and_decline_returns_quota(ctx, programme, make_user,
                                                                    learners):
    lead = make_user(Role.DSU_LEAD, org="BSOL")
    faculty = make_user(Role.FACULTY, org="SU")
    one = svc.nominate(lead, programme, learners[0])
    two = svc.nominate(lead, programme, learners[1])
    svc.approve(faculty, one)
    svc.approve(faculty, two)
    svc.confirm_nomination(learners[0], one)
    svc.decline(learners[1], two)
    assert states(programme) == {"Learner 1": "enrolled", "Learner 2": "declined"}
    assert pages.quota_view(lead, programme).remaining == 1
    svc.nominate(lead, programme, learners[2])  # the returned place is usable again
    with pytest.raises(NotFound):
        svc.confirm_nomination(learners[3], one)  # someone else's
    subjects = emails_to(lead)
    assert "Nomination approved: Learner 1" in subjects
    assert "Learner 1 confirmed their place" in subjects
    assert "Learner 2 declined their nomination" in subjects


def test_faculty_decline_a_nomination_with_a_reason_and_the_lead_hears(ctx, programme,
                                                                     make_user, learners):
    lead = make_user(Role.DSU_LEAD, org="BSOL")
    faculty = make_user(Role.FACULTY, org="SU")
    one = svc.nominate(lead, programme, learners[0])
    svc.reject(faculty, one, "Needs two years' experience")
    assert one.state == "rejected"
    assert "Nomination not approved: Learner 1" in emails_to(lead)
    assert pages.quota_view(lead, programme).remaining == 2


def test_lead_withdraws_a_nomination_but_not_another_icss(ctx, programme, make_user,
                                                          learners):
    lead = make_user(Role.DSU_LEAD, org="BSOL")
    other = make_user(Role.DSU_LEAD, org="BC")
    one = svc.nominate(lead, programme, learners[0])
    with pytest.raises(NotFound):
        svc.withdraw(other, one)
    svc.withdraw(lead, one)
    assert one.state == "withdrawn"
    history = [(h.from_state, h.to_state, h.actor_id) for h in one.history]
    assert history == [(None, "nominated", lead.id), ("nominated", "withdrawn", lead.id)]


def test_open_pool_excludes_reserved_quota_until_release(ctx, make_cohort, make_user,
                                                         learners):
    release = utcnow() + timedelta(days=3)
    cohort = make_cohort(capacity=5, quotas={"BSOL": 2, "BC": 2}, quota_release_at=release)
    assert offering_places.places_left(cohort) == 1
    svc.book(learners[0], cohort)
    waiting = svc.book(learners[1], cohort)
    assert waiting.state == "waitlisted"
    db.session.commit()
    assert jobs.release_quotas_job(release - timedelta(minutes=1)) == 0
    assert jobs.release_quotas_job(release + timedelta(minutes=1)) == 1
    assert jobs.release_quotas_job(release + timedelta(minutes=2)) == 0  # once only
    db.session.expire_all()
    assert db.session.get(Enrolment, waiting.id).state == "offered"


def test_capacity_cannot_drop_below_places_taken_and_more_places_go_to_the_queue(
    ctx, make_cohort, learners
):
    cohort = make_cohort(capacity=2)
    for p in learners[:4]:
        svc.book(p, cohort)
    with pytest.raises(DomainError, match="lower than the 2 places already taken"):
        svc.change_capacity(cohort, 1)
    assert cohort.capacity == 2
    svc.change_capacity(cohort, 3)
    assert states(cohort)["Learner 3"] == "offered"
    assert positions(cohort) == [("Learner 4", 1)]


def test_cancelling_an_offering_cancels_and_tells_everyone(ctx, make_cohort, make_user,
                                                           learners):
    faculty = make_user(Role.FACULTY, org="SU")
    cohort = make_cohort(capacity=1)
    for p in learners[:3]:
        svc.book(p, cohort)
    with pytest.raises(DomainError, match="reason"):
        svc.cancel_offering(cohort, faculty, "")
    assert svc.cancel_offering(cohort, faculty, "Speaker unwell") == 3
    assert set(states(cohort).values()) == {"cancelled"}
    assert cohort.status == "cancelled"
    assert emails_to(learners[2])[-1] == f"Cancelled: {cohort.title}"


def test_rebooking_after_withdrawing_reuses_the_row_and_keeps_history(ctx, make_cohort,
                                                                     learners):
    cohort = make_cohort(capacity=3)
    first = svc.book(learners[0], cohort)
    svc.withdraw(learners[0], first)
    again = svc.book(learners[0], cohort)
    assert again.id == first.id and again.state == "enrolled"
    assert [h.to_state for h in again.history] == ["enrolled", "withdrawn", "enrolled"]


def test_booking_panel_tells_each_person_where_they_stand(ctx, make_cohort, learners):
    from flask_login import AnonymousUserMixin

    cohort = make_cohort(capacity=1)
    assert pages.booking_panel(AnonymousUserMixin(), cohort).action == "book"
    svc.book(learners[0], cohort)
    svc.book(learners[1], cohort)
    assert pages.booking_panel(learners[0], cohort).actions == ["withdraw"]
    waiting = pages.booking_panel(learners[1], cohort)
    assert waiting.message == "You are number 1 on the waiting list."
    assert pages.booking_panel(learners[2], cohort).action == "waitlist"
