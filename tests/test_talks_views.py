"""Calls for talks through the pages: the whole path from opening a call to the record,
buttons shown only when allowed (with the reason when not), refusals saying why and storing
nothing, and the presenter never seeing who reviewed their talk."""

from __future__ import annotations

import html
import re
from datetime import timedelta

import time_machine
from sqlalchemy import func, select

from lms.accounts.models import Role, User
from lms.clock import to_london, utcnow
from lms.events.models import NetworkOccurrence
from lms.extensions import db
from lms.offerings.models import Session
from lms.talks.models import Call, CoPresenter, Proposal, Review
from tests.talks_builders import huddle_call, proposal
from tests.test_events_support import faculty, make_network, person


def _date_fields(name: str, day) -> dict:
    return {f"{name}-day": str(day.day), f"{name}-month": str(day.month),
            f"{name}-year": str(day.year)}


def _text(response) -> str:
    return re.sub(r"\s+", " ", html.unescape(response.get_data(as_text=True)))


def test_the_whole_path_from_call_to_record(app, client, login, make_user, mailbox):
    with app.app_context():
        network = make_network(count=6)
        meetings = [s.id for s in network.sessions[:3]]
        network_id = network.id
        db.session.commit()
    lead = make_user(Role.FACULTY, name="Fiona Faculty")
    analyst = make_user(org="BC", name="Ana Analyst")
    co = make_user(org="CW", name="Cole Copresenter")
    reviewer = make_user(org="SU", name="Rita Reviewer")

    login(lead)
    closes = to_london(utcnow()).date() + timedelta(days=10)
    page = client.post(f"/faculty/events/{network_id}/calls/new", data={
        "title": "Spring huddle talks", "wanted": "Local **projects**",
        "lengths": ["20", "30"], "hide_scores": "y",
        "session_ids": [str(m) for m in meetings], **_date_fields("closes_on", closes)})
    assert page.status_code == 302, _text(page)
    with app.app_context():
        call_id = db.session.scalar(select(Call.id))
    client.post(f"/faculty/calls/{call_id}/reviewers", data={"email": reviewer.email})

    login(analyst)
    page = client.post(f"/calls/{call_id}/propose", data={
        "title": "Forecasting A&E demand", "abstract": "We *forecast*.",
        "strand": "analytical_capability", "length": "30", "co_presenters": co.email,
        "preferred_dates": "Wednesdays", "slides_shareable": "y"})
    assert page.status_code == 302, _text(page)
    with app.app_context():
        proposal_id = db.session.scalar(select(Proposal.id))

    # The co-presenter confirms through the link they were emailed.
    login(co)
    confirm = mailbox.last_link(co.email, "/co-presenting/")
    assert "Are you presenting" in _text(client.get(confirm))
    client.post(confirm, data={"answer": "yes"})

    login(reviewer)
    listing = _text(client.get(f"/calls/{call_id}/review"))
    assert "Forecasting A&E demand" in listing and "The Black Country" in listing
    client.post(f"/review/proposals/{proposal_id}", data={"score": "4",
                                                          "comment": "Clear and useful"})

    login(lead)
    review = _text(client.get(f"/review/proposals/{proposal_id}"))
    assert "Other reviewers' scores are shown once you have given yours" in review
    client.post(f"/review/proposals/{proposal_id}", data={"score": "5", "comment": ""})
    review = _text(client.get(f"/review/proposals/{proposal_id}"))
    assert "4 out of 5" in review and "Rita Reviewer" in review
    page = client.post(f"/faculty/proposals/{proposal_id}/accept",
                       data={"session_id": str(meetings[1]), "message": "Welcome"})
    assert page.status_code == 302, _text(page)

    huddle = _text(client.get(f"/networks/{network_id}"))
    assert "Forecasting A&E demand" in huddle and "Ana Analyst" in huddle
    accepted = [m for m in mailbox.to(analyst.email) if "accepted" in m["Subject"]]
    assert accepted and any(part.get_content_type() == "text/calendar"
                            for part in accepted[0].iter_attachments())

    # The presenter never sees who reviewed: on every page and email they can reach.
    login(analyst)
    for url in (f"/proposals/{proposal_id}", "/my-proposals", f"/calls/{call_id}", "/calls",
                f"/networks/{network_id}", "/learning-record", "/events",
                f"/proposals/{proposal_id}/slides", f"/calls/{call_id}/propose"):
        text = _text(client.get(url))
        assert "Rita Reviewer" not in text and "Fiona Faculty" not in text, url
        assert "Clear and useful" not in text, url
    for message in mailbox.to(analyst.email):
        body = message.get_body(("plain",)).get_content()
        assert "Rita Reviewer" not in body and "Clear and useful" not in body
    assert client.get(f"/calls/{call_id}/review").status_code == 403
    assert client.get(f"/review/proposals/{proposal_id}").status_code == 403

    # After the huddle, the talk is on the presenter's record with its length as CPD hours.
    with app.app_context():
        ends = db.session.get(Session, meetings[1]).ends_at
    with time_machine.travel(ends + timedelta(hours=1)):
        login(analyst)
        record = _text(client.get("/learning-record"))
        assert "Talks presented" in record
        assert "Forecasting A&E demand" in record
        assert "Presented at Midlands Analyst Network huddles" in record
        login(co)
        assert "Presented at Midlands Analyst Network huddles" in _text(
            client.get("/learning-record"))


def test_a_closed_call_says_why_there_is_no_button_and_refuses_a_proposal(app, client, login,
                                                                          make_user):
    with app.app_context():
        call_id = huddle_call(closes_in=1).id
        db.session.commit()
    learner = make_user()
    with time_machine.travel(utcnow() + timedelta(days=3)):
        login(learner)
        page = _text(client.get(f"/calls/{call_id}"))
        assert "This call closed on" in page and "Propose a talk</a>" not in page
        response = client.post(f"/calls/{call_id}/propose", data={
            "title": "Late", "abstract": "x", "strand": "beyond_numbers", "length": "20"})
        assert response.status_code == 303
        assert "This call closed on" in _text(client.get(response.location))
    with app.app_context():
        assert db.session.scalar(select(func.count(Proposal.id))) == 0


def test_bad_input_shows_every_problem_and_stores_nothing(app, client, login, make_user):
    with app.app_context():
        call_id = huddle_call().id
        db.session.commit()
    login(make_user())
    page = _text(client.post(f"/calls/{call_id}/propose", data={
        "title": "", "abstract": "", "co_presenters": "not-an-address"}))
    for message in ("Enter your talk's title", "Enter the abstract",
                    "Choose the strand your talk fits", "Choose how long your talk is",
                    "is not an email address"):
        assert message in page
    with app.app_context():
        assert db.session.scalar(select(func.count(Proposal.id))) == 0


def test_accept_is_not_offered_until_co_presenters_confirm(app, client, login, make_user):
    with app.app_context():
        call = huddle_call()
        co = person("co")
        made = proposal(call, person("p"), co=co.email)
        ids = (made.id, call.free_sessions[0].session_id)
        db.session.commit()
    login(make_user(Role.FACULTY))
    page = _text(client.get(f"/review/proposals/{ids[0]}"))
    assert "Person co has not yet confirmed they are presenting" in page
    assert "Accept and schedule" not in page
    response = client.post(f"/faculty/proposals/{ids[0]}/accept",
                           data={"session_id": str(ids[1])})
    assert response.status_code == 303
    with app.app_context():
        assert db.session.get(Session, ids[1]).title == ""
        assert db.session.get(NetworkOccurrence, ids[1]).presenter == ""


def test_two_talks_for_one_huddle_are_refused_on_the_page(app, client, login, make_user):
    with app.app_context():
        call = huddle_call()
        first, second = proposal(call, person("a")), proposal(call, person("b"), title="B")
        from lms.talks import schedule

        meeting = call.free_sessions[0].session_id
        schedule.accept_into_meeting(faculty(), first, meeting)
        ids = second.id
        db.session.commit()
    login(make_user(Role.FACULTY))
    page = client.post(f"/faculty/proposals/{ids}/accept", data={"session_id": str(meeting)})
    assert page.status_code == 200
    assert "has already been accepted for the meeting" in _text(page)
    with app.app_context():
        assert db.session.get(Proposal, ids).state == "submitted"


def test_a_presenter_adds_slides_to_their_session_and_only_they_can(app, client, login,
                                                                    make_user):
    learner = make_user()
    with app.app_context():
        call = huddle_call()
        made = proposal(call, db.session.get(User, learner.id))
        from lms.talks import schedule

        schedule.accept_into_meeting(faculty(), made, call.free_sessions[0].session_id)
        ids = (made.id, call.offering_id)
        db.session.commit()
    login(learner)
    import io

    page = client.post(f"/proposals/{ids[0]}/slides", data={
        "title": "My slides", "file": (io.BytesIO(b"%PDF-1.4\n%%EOF\n"), "slides.pdf")},
        content_type="multipart/form-data")
    assert page.status_code == 302, _text(page)
    from lms.learning.materials_models import Material

    with app.app_context():
        material = db.session.scalar(select(Material))
        assert material.session_id is not None and material.title == "My slides"
        assert material.public  # the proposer said the slides may be shared
    login(make_user())
    assert client.get(f"/proposals/{ids[0]}/slides").status_code == 404


def test_a_co_presenter_may_say_no_and_the_proposer_is_told(app, client, login, make_user,
                                                             mailbox):
    co = make_user(name="Nia No")
    with app.app_context():
        call = huddle_call()
        made = proposal(call, person("p"), co=co.email)
        row_id = made.co_presenters[0].id
        db.session.commit()
    login(co)
    client.post(f"/co-presenting/{row_id}", data={"answer": "no"})
    with app.app_context():
        assert db.session.scalar(select(func.count(CoPresenter.id))) == 0
        assert db.session.scalar(select(func.count(Review.id))) == 0
    assert any("Nia No is not presenting" in m["Subject"]
               for m in mailbox.to("pp@example.nhs.uk"))


def test_faculty_accept_into_a_festival_track_and_time(app, client, login, make_user,
                                                       mailbox):
    from lms.events.models import Festival
    from lms.talks import services
    from tests.test_events_support import london_day as day
    from tests.test_events_support import make_festival

    with app.app_context():
        festival = make_festival()
        call = services.open_call(faculty(), festival, services.CallDetails(
            title="INSIGHT talks", wanted="Talks", lengths=["30"], closes_on=day(5)))
        made = proposal(call, person("p"), length="30")
        ids = (made.id, festival.id, festival.tracks[1].id, festival.first_day)
        db.session.commit()
    login(make_user(Role.FACULTY))
    page = _text(client.get(f"/faculty/proposals/{ids[0]}/accept"))
    assert "Choose a track" in page and "Leadership" in page
    response = client.post(f"/faculty/proposals/{ids[0]}/accept", data={
        "track_id": str(ids[2]), **_date_fields("day", ids[3]), "start": "2:30pm"})
    assert response.status_code == 302, _text(response)
    with app.app_context():
        session = db.session.get(Proposal, ids[0]).session
        assert session.offering_id == ids[1] and session.title == "Forecasting A&E demand"
        assert to_london(session.starts_at).hour == 14
        assert (session.ends_at - session.starts_at) == timedelta(minutes=30)
        assert db.session.get(Festival, ids[1]) is not None
    programme = _text(client.get(f"/festivals/{ids[1]}"))
    assert "Forecasting A&E demand" in programme and "Person p" in programme
    assert any("accepted" in m["Subject"] for m in mailbox.to("pp@example.nhs.uk"))


def test_faculty_change_and_close_a_call(app, client, login, make_user):
    with app.app_context():
        call_id = huddle_call().id
        db.session.commit()
    login(make_user(Role.FACULTY))
    form = _text(client.get(f"/faculty/calls/{call_id}"))
    assert 'value="Huddle talks for spring"' in form
    assert "Close the call" in _text(client.get(f"/faculty/calls/{call_id}/close"))
    client.post(f"/faculty/calls/{call_id}/close", data={})
    with app.app_context():
        assert db.session.get(Call, call_id).closed_at is not None
    page = _text(client.get(f"/calls/{call_id}"))
    assert "Closed on" in page and "Propose a talk</a>" not in page


def test_presenter_certificates_are_issued_from_the_events_template_after_the_talk(
        app, client, login, make_user, mailbox):
    from lms.certificates.models import Certificate
    from lms.talks import schedule

    with app.app_context():
        call = huddle_call()
        co = person("co")
        made = proposal(call, person("p"), co=co.email)
        from lms.talks import services

        services.confirm_co_presenting(co, made.co_presenters[0])
        session = schedule.accept_into_meeting(faculty(), made,
                                               call.free_sessions[0].session_id)
        ids, ends = made.id, session.ends_at
        db.session.commit()
    lead = make_user(Role.FACULTY)
    login(lead)
    page = _text(client.get(f"/review/proposals/{ids}"))
    assert "can be issued once the talk has been given" in page
    with time_machine.travel(ends + timedelta(hours=1)):
        login(lead)
        assert "Issue presenter certificates" in _text(client.get(f"/review/proposals/{ids}"))
        client.post(f"/faculty/proposals/{ids}/certificates")
        again = client.post(f"/faculty/proposals/{ids}/certificates", follow_redirects=True)
        assert "Every presenter already has a certificate for this talk" in _text(again)
    with app.app_context():
        issued = list(db.session.scalars(select(Certificate).order_by(Certificate.id)))
        assert [c.holder_name for c in issued] == ["Person p", "Person co"]
        assert all(c.completion_id is None and c.cpd_hours == 0.5 for c in issued)
        assert issued[0].achievement == "Presented “Forecasting A&E demand”"
        assert issued[0].template == "webinar"  # the network's own certificate template
        code = issued[0].code
    assert "Presented “Forecasting A&E demand”" in _text(client.get(f"/verify/{code}"))
    with app.app_context():
        from tests.test_events_support import subjects_to

        assert "Your certificate: Midlands Analyst Network huddles" in subjects_to(person("p"))


def test_a_meeting_number_too_big_for_a_row_is_a_form_error(app, client, login, make_user):
    with app.app_context():
        made = proposal(huddle_call(), person("p"))
        ids = made.id
        db.session.commit()
    login(make_user(Role.FACULTY))
    page = client.post(f"/faculty/proposals/{ids}/accept",
                       data={"session_id": "9" * 30, "message": ""})
    assert page.status_code == 200
    assert "Choose one of the network's meetings" in _text(page)
