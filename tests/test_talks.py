"""Calls for talks, through the services: opening a call, proposing, co-presenters, reviews,
deciding and scheduling (huddles and the festival), and every refusal leaving nothing
stored."""

from __future__ import annotations

from datetime import time, timedelta

import pytest
import time_machine
from sqlalchemy import func, select

from lms.clock import utcnow
from lms.errors import DomainError, InvalidInput, NotAllowed
from lms.events import session_bookings
from lms.events.models import NetworkOccurrence, Speaker
from lms.extensions import db
from lms.offerings import services as engine
from lms.offerings.models import Session
from lms.talks import pages, policy, schedule, services
from lms.talks.models import CallReviewer, CoPresenter, Proposal, ProposalState, Review
from tests.talks_builders import huddle_call, proposal
from tests.test_events_support import (
    add_session,
    faculty,
    london_day,
    make_festival,
    messages_to,
    person,
    subjects_to,
)


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_a_call_offers_only_meetings_to_come_and_checks_every_field(ctx):
    call = huddle_call(meetings=2)
    assert len(call.free_sessions) == 2
    with pytest.raises(InvalidInput) as caught:
        services.open_call(faculty(), call.offering, services.CallDetails(
            title="", wanted="", lengths=[], closes_on=london_day(-1), session_ids=["999"]))
    fields = {f for f, _ in caught.value.errors}
    assert fields == {"title", "wanted", "lengths", "closes_on", "session_ids"}
    with pytest.raises(NotAllowed):
        services.open_call(person(1), call.offering, services.CallDetails())


def test_a_proposal_after_the_call_closes_is_refused_and_nothing_is_stored(ctx):
    call = huddle_call(closes_in=2)
    db.session.commit()
    with time_machine.travel(utcnow() + timedelta(days=4)):
        assert not policy.may_propose(person(1), call, utcnow())
        with pytest.raises(policy.CallClosed, match="This call closed on"):
            proposal(call, person(1))
    db.session.rollback()
    assert _count(Proposal) == 0


def test_proposing_emails_a_receipt_and_asks_co_presenters_to_confirm(ctx):
    call = huddle_call()
    co = person("co", org="BC")
    made = proposal(call, person("p"), co=co.email)
    assert made.state == ProposalState.SUBMITTED
    assert [c.user_id for c in made.co_presenters] == [co.id]
    assert subjects_to(person("p")) == [f"Your talk proposal: {made.title}"]
    body = messages_to(co)[0].body_text
    assert f"/co-presenting/{made.co_presenters[0].id}" in body


def test_a_co_presenter_must_have_an_account(ctx):
    call = huddle_call()
    with pytest.raises(InvalidInput, match="Nobody has an account"):
        proposal(call, co="nobody@example.nhs.uk")


def test_a_proposal_is_changed_or_withdrawn_only_until_decided(ctx):
    call = huddle_call()
    mine = proposal(call, person("p"))
    services.update_proposal(person("p"), mine, services.ProposalDetails(
        title="New title", abstract="x", strand="beyond_numbers", length="20"))
    assert (mine.title, mine.length_minutes) == ("New title", 20)
    with pytest.raises(NotAllowed):
        services.withdraw(person("other"), mine)
    schedule.decline(faculty(), mine, "Not this time")
    with pytest.raises(policy.AlreadyDecided):
        services.withdraw(person("p"), mine)


def test_an_unconfirmed_co_presenter_blocks_acceptance_and_nothing_changes(ctx):
    call = huddle_call()
    co = person("co")
    mine = proposal(call, person("p"), co=co.email)
    meeting = call.free_sessions[0].session_id
    db.session.commit()
    decision = policy.may_accept(faculty(), mine)
    assert not decision and "has not yet confirmed" in decision.reason
    with pytest.raises(policy.NotConfirmed):
        schedule.accept_into_meeting(faculty(), mine, meeting)
    db.session.rollback()
    assert db.session.get(Proposal, mine.id).state == ProposalState.SUBMITTED
    assert db.session.get(Session, meeting).title == ""


def _confirmed(call, who="p", co="co"):
    co_person = person(co)
    mine = proposal(call, person(who), co=co_person.email)
    services.confirm_co_presenting(co_person, mine.co_presenters[0])
    return mine


def test_accepting_fills_the_meeting_lists_speakers_and_sends_invitations(ctx):
    call = huddle_call()
    mine = _confirmed(call)
    meeting = db.session.get(Session, call.free_sessions[1].session_id)
    before = meeting.sequence
    schedule.accept_into_meeting(faculty(), mine, meeting.id, "See you there")
    assert mine.state == ProposalState.ACCEPTED and mine.session_id == meeting.id
    assert meeting.title == "Forecasting A&E demand"
    presenter = db.session.get(NetworkOccurrence, meeting.id).presenter
    assert "Person p" in presenter and "Person co" in presenter
    assert meeting.sequence > before
    names = [s.name for s in db.session.scalars(select(Speaker).where(
        Speaker.session_id == meeting.id).order_by(Speaker.position))]
    assert names == ["Person p", "Person co"]
    for who in ("p", "co"):
        message = [m for m in messages_to(person(who)) if "accepted" in m.subject][0]
        invitation = message.attachments[0]
        assert "method=REQUEST" in invitation.mimetype
        assert b"SUMMARY:Midlands Analyst Network huddles: Forecasting A&E demand" \
            in invitation.content.replace(b"\r\n ", b"")


def test_two_talks_in_one_meeting_past_and_cancelled_meetings_are_refused(ctx):
    call = huddle_call()
    first, second = _confirmed(call, "a", "ca"), _confirmed(call, "b", "cb")
    meeting = call.free_sessions[0].session_id
    schedule.accept_into_meeting(faculty(), first, meeting)
    db.session.commit()
    with pytest.raises(InvalidInput, match="has already been accepted"):
        schedule.accept_into_meeting(faculty(), second, meeting)
    db.session.rollback()
    assert db.session.get(Proposal, second.id).state == ProposalState.SUBMITTED
    other = db.session.get(Session, call.free_sessions[1].session_id)
    other.status = "cancelled"
    db.session.commit()
    with pytest.raises(InvalidInput, match="has been cancelled"):
        schedule.accept_into_meeting(faculty(), second, other.id)
    db.session.rollback()
    later = db.session.get(Session, call.free_sessions[2].session_id)
    with time_machine.travel(later.ends_at + timedelta(hours=1)), \
            pytest.raises(InvalidInput, match="has already taken place"):
        schedule.accept_into_meeting(faculty(), second, later.id)


def test_scores_are_hidden_until_the_reviewer_has_scored(ctx):
    call = huddle_call(hide_scores=True)
    mine = proposal(call, person("p"))
    services.review(faculty(), mine, "5", "Strong")
    reviewer = person("r")
    services.invite_reviewer(faculty(), call, reviewer.email)
    assert db.session.scalar(select(CallReviewer.user_id)) == reviewer.id
    listing = pages.review_list(call, reviewer, pages.Filters())
    assert listing.rows[0].scores_hidden and listing.rows[0].average is None
    assert pages.proposal_review(mine, reviewer).others == []
    services.review(reviewer, mine, "3", "")
    listing = pages.review_list(call, reviewer, pages.Filters())
    assert listing.rows[0].average == 4.0
    assert [r.score for r in pages.proposal_review(mine, reviewer).others] == [5]


def test_a_presenter_cannot_review_their_own_talk_and_scores_are_one_to_five(ctx):
    call = huddle_call()
    mine = proposal(call, faculty())
    with pytest.raises(NotAllowed):
        services.review(faculty(), mine, "4", "")
    other = proposal(call, person("p"))
    db.session.commit()
    with pytest.raises(InvalidInput, match="score from 1 to 5"):
        services.review(faculty(), other, "9", "")
    db.session.rollback()
    assert _count(Review) == 0


def test_the_review_list_filters_by_strand_ics_and_score_and_sorts(ctx):
    call = huddle_call(hide_scores=False)
    a = proposal(call, person("a", org="BSOL"), title="A talk", strand="beyond_numbers")
    b = proposal(call, person("b", org="BC"), title="B talk")
    services.review(faculty(), a, "2", "")
    services.review(faculty(), b, "5", "")
    rows = pages.review_list(call, faculty(), pages.Filters()).rows
    assert [r.proposal.title for r in rows] == ["B talk", "A talk"]
    rows = pages.review_list(call, faculty(), pages.Filters(strand="beyond_numbers")).rows
    assert [r.proposal.title for r in rows] == ["A talk"]
    bc = person("b", org="BC").organisation_id
    rows = pages.review_list(call, faculty(), pages.Filters(ics=str(bc))).rows
    assert [r.proposal.title for r in rows] == ["B talk"]
    rows = pages.review_list(call, faculty(), pages.Filters(min_score="4")).rows
    assert [r.proposal.title for r in rows] == ["B talk"]


def test_the_balance_panel_lists_every_ics_and_strand_with_zeros(ctx):
    call = huddle_call()
    mine = proposal(call, person("p", org="BC"), strand="beyond_numbers")
    schedule.accept_into_meeting(faculty(), mine, call.free_sessions[0].session_id)
    panel = pages.balance()
    by_ics = dict(panel.by_ics)
    assert len([n for n in by_ics if n not in (pages.OTHER, pages.UNKNOWN)]) == 11
    assert by_ics["The Black Country"] == 1
    assert by_ics["Birmingham and Solihull"] == 0
    by_strand = dict(panel.by_strand)
    assert by_strand["Moving beyond the numbers"] == 1
    assert by_strand["Developing analytical leaders"] == 0


def test_decline_needs_a_message_and_reserve_keeps_it_open(ctx):
    call = huddle_call()
    mine = proposal(call, person("p"))
    with pytest.raises(DomainError, match="Enter a message"):
        schedule.decline(faculty(), mine, "  ")
    schedule.keep_in_reserve(faculty(), mine, "")
    assert mine.state == ProposalState.RESERVE and policy.may_change_proposal(person("p"), mine)
    schedule.decline(faculty(), mine, "The programme is full")
    assert mine.state == ProposalState.DECLINED
    assert "The programme is full" in messages_to(person("p"))[-1].body_text


def _festival_call():
    festival = make_festival()
    return services.open_call(faculty(), festival, services.CallDetails(
        title="INSIGHT talks", wanted="Talks", lengths=["30"], closes_on=london_day(5)))


def test_accepting_into_a_festival_slot_makes_the_session_and_refuses_clashes(ctx):
    call = _festival_call()
    festival = db.session.get(type(call.offering), call.offering_id)
    mine = proposal(call, person("p"))
    track = festival.tracks[0]
    session = schedule.accept_into_festival(faculty(), mine, schedule.FestivalSlot(
        track.id, festival.first_day, time(14, 0)))
    assert session.title == mine.title
    assert (session.ends_at - session.starts_at) == timedelta(minutes=30)
    # Two talks in one slot of a track.
    other = proposal(call, person("q"), title="Another")
    db.session.commit()
    with pytest.raises(policy.SlotTaken, match="already in that track"):
        schedule.accept_into_festival(faculty(), other, schedule.FestivalSlot(
            track.id, festival.first_day, time(14, 15)))
    db.session.rollback()
    # The presenter has booked a session at that time: the festival's clash rule refuses.
    booked = add_session(festival, "Workshop", start=time(16, 0), end=time(17, 0), track=1)
    engine.book(person("q"), festival)
    session_bookings.book_session(person("q"), booked)
    db.session.commit()
    count_before = _count(Session)
    with pytest.raises(DomainError, match="This clashes with Workshop"):
        schedule.accept_into_festival(faculty(), db.session.get(Proposal, other.id),
                                      schedule.FestivalSlot(track.id, festival.first_day,
                                                            time(16, 15)))
    db.session.rollback()
    assert _count(Session) == count_before


def test_members_calendar_feed_shows_the_new_topic_and_presenter(ctx):
    from lms.offerings import feed

    call = huddle_call()
    member = person("member")
    engine.book(member, call.offering)
    mine = proposal(call, person("p"))
    meeting = call.free_sessions[0].session_id
    schedule.accept_into_meeting(faculty(), mine, meeting)
    text = feed.personal_feed(member).decode().replace("\r\n ", "")
    assert "Midlands Analyst Network huddles: Forecasting A&E demand" in text
    assert "Presenter: Person p (Birmingham and Solihull)" in text


def test_erasure_removes_what_the_person_wrote_and_keeps_a_talk_given(ctx, make_user):
    from lms.accounts.models import Role
    from lms.privacy.services import erase_person

    call = huddle_call()
    writer = person("writer")
    given = proposal(call, writer, title="Given talk")
    pending = proposal(call, writer, title="Pending talk")
    proposal(call, person("other"), co=writer.email, title="Other talk")
    third = proposal(call, person("third"), title="Third talk")
    schedule.accept_into_meeting(faculty(), given, call.free_sessions[0].session_id)
    services.invite_reviewer(faculty(), call, writer.email)
    services.review(writer, third, "4", "Words of the writer")
    erase_person(make_user(Role.ADMIN), writer)
    assert db.session.get(Proposal, pending.id) is None
    kept = db.session.get(Proposal, given.id)
    assert kept.abstract == "" and kept.preferred_dates == ""
    assert _count(Review) == 0
    assert db.session.scalar(select(func.count()).select_from(CallReviewer)) == 0
    assert db.session.scalar(select(func.count()).select_from(CoPresenter)) == 0


def test_the_proposers_own_data_copy_names_no_reviewer(ctx):
    from lms.privacy.services import as_json, personal_data

    call = huddle_call()
    mine = proposal(call, person("p"))
    services.invite_reviewer(faculty(), call, person("rita").email)
    services.review(person("rita"), mine, "2", "Secret words of the reviewer")
    copy = personal_data(person("p"))
    text = as_json(copy).decode()
    assert "Person rita" not in text and "Secret words of the reviewer" not in text
    # Their proposal is in their copy (it was only counted before); the review is not.
    assert [row["title"] for row in copy["records"]["talk_proposal"]["rows"]] == [mine.title]
    assert "talk_review" not in copy["records"]
    # The reviewer's copy counts their review of someone else's talk, without copying it.
    theirs = personal_data(person("rita"))
    assert theirs["records_you_made_about_others"]["talk_review.reviewer_id"]["rows"] == 1
