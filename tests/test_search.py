"""One search across the offer (``/search``): what it finds, for whom, in what order."""

from __future__ import annotations

import re
from datetime import time

from flask_login import AnonymousUserMixin

from lms.accounts import demo as accounts_demo
from lms.courses import demo as courses_demo
from lms.events import demo as events_demo
from lms.events import festival as festivals
from lms.events import services as ev
from lms.extensions import db
from lms.offerings.models import Offering
from lms.search import services as search
from tests.test_events_support import (
    add_session,
    faculty,
    london_day,
    make_festival,
    make_network,
    make_webinar,
    person,
)

ANON = AnonymousUserMixin()


def found(results: search.SearchResults) -> dict[str, list[str]]:
    return {g.kind.key: [h.title for h in g.hits] for g in results.groups}


def test_forecasting_finds_the_course_the_festival_workshop_and_the_huddle_talk(app, client):
    with app.app_context():
        accounts_demo.seed()
        courses_demo.seed()
        events_demo.seed()
        db.session.commit()
    page = client.get("/search?q=forecasting").get_data(as_text=True)
    assert "Time-series forecasting with R" in page
    assert "Hands-on: forecasting with R and fable" in page
    assert "Forecasting A&amp;E attendances with Prophet" in page
    for heading in ("Courses and programmes", "Festival sessions", "Network meetings"):
        assert f">{heading} <" in page
    # The huddle talk still to come is listed before the one last year's series held.
    with app.app_context():
        meetings = next(g for g in search.search(ANON, "forecasting").groups
                        if g.kind.key == "meeting")
        assert meetings.hits[0].upcoming


def test_only_what_the_person_may_see_is_found_and_never_a_draft(app, client, login, people):
    with app.app_context():
        make_webinar(title="Forecasting in public", days_ahead=5)
        make_webinar(title="Forecasting draft", status="draft", days_ahead=6)
        hidden = make_webinar(title="Forecasting unpublished", days_ahead=7)
        db.session.get(Offering, hidden.id).published = False
        db.session.commit()
    for who in (None, people.learner, people.faculty):
        login(who)
        page = client.get("/search?q=forecasting").get_data(as_text=True)
        assert "Forecasting in public" in page
        assert "Forecasting draft" not in page and "Forecasting unpublished" not in page


def test_speakers_presenters_and_tracks_are_searched(ctx):
    make_webinar(title="Decision quality in practice", speakers=[
        ev.SpeakerDetails("Dr Amara Okafor", "Director", "NHS England", "")])
    series = make_network()
    meeting = series.sessions[0]
    from lms.events.models import NetworkOccurrence
    db.session.get(NetworkOccurrence, meeting.id).presenter = "Priya Patel, Coventry ICB"
    meeting.title = "Queues and flow"
    festival = make_festival(tracks=("Data science", "Leadership"))
    add_session(festival, "Leading analysts", track=1)
    db.session.flush()
    assert found(search.search(ANON, "okafor")) == {"webinar": ["Decision quality in practice"]}
    assert found(search.search(ANON, "priya patel")) == {"meeting": ["Queues and flow"]}
    # "Sam Speaker" speaks at the festival session; "leadership" is its track (its topic).
    assert found(search.search(ANON, "sam leadership")) == {
        "festival-session": ["Leading analysts"]}


def test_a_strand_is_found_by_the_words_of_its_name(ctx):
    """People know the network's four strands by name: "leaders" finds what belongs to the
    "Developing analytical leaders" strand, though the word is in no title."""
    coaching = make_webinar(title="Coaching new analysts", days_ahead=5)
    make_webinar(title="SQL window functions", days_ahead=6)
    db.session.get(Offering, coaching.id).strand = "analytical_leaders"
    db.session.flush()
    assert found(search.search(ANON, "leaders")) == {"webinar": ["Coaching new analysts"]}
    # Every word must still appear: in the strand's name or in the columns searched.
    assert found(search.search(ANON, "developing coaching")) == {
        "webinar": ["Coaching new analysts"]}
    assert found(search.search(ANON, "leaders sql")) == {}


def test_percent_and_underscore_match_only_themselves(ctx):
    make_webinar(title="100% uptake of SPC charts")
    make_webinar(title="Snake_case in SQL", days_ahead=11)
    make_webinar(title="Plain title", days_ahead=12)
    assert found(search.search(ANON, "%")) == {"webinar": ["100% uptake of SPC charts"]}
    assert found(search.search(ANON, "_")) == {"webinar": ["Snake_case in SQL"]}
    assert found(search.search(ANON, "100%")) == {"webinar": ["100% uptake of SPC charts"]}


def test_every_word_must_appear(ctx):
    make_webinar(title="Forecasting with R", days_ahead=5)
    make_webinar(title="Forecasting with Python", days_ahead=6)
    assert found(search.search(ANON, "FORECASTING python")) == {
        "webinar": ["Forecasting with Python"]}


def test_one_kind_is_paged_through_and_the_overview_links_to_it(app, client):
    with app.app_context():
        series = make_network(title="Huddles", count=25, first_day=london_day(1))
        for n, meeting in enumerate(series.sessions):
            meeting.title = f"Huddle talk {n}"
        db.session.commit()
    overview = client.get("/search?q=huddle").get_data(as_text=True)
    assert "Show all 25 network meetings" in overview
    assert ">Networks <" in overview  # the series itself, by its title
    first = client.get("/search?q=huddle&kind=meeting").get_data(as_text=True)
    second = client.get("/search?q=huddle&kind=meeting&page=2").get_data(as_text=True)
    assert "Page 2 of 2" in first and "Page 1 of 2" in second
    assert first.count('class="lms-search-result"') == 20
    assert second.count('class="lms-search-result"') == 5
    # Soonest first across pages.
    with app.app_context():
        one = search.search(ANON, "huddle", "meeting", 1).groups[0].hits
        two = search.search(ANON, "huddle", "meeting", 2).groups[0].hits
        starts = [h.starts_at for h in one + two]
        assert starts == sorted(starts)


def test_bad_values_give_a_message_not_an_error(client):
    assert client.get("/search?q=x&page=abc").status_code == 200
    assert client.get("/search?q=x&page=99999999999").status_code == 200
    assert client.get("/search?q=x&kind=nonsense").status_code == 200
    too_long = client.get("/search?q=" + "a" * 101)
    assert too_long.status_code == 200
    assert "Enter 100 characters or fewer" in too_long.get_data(as_text=True)
    past_the_end = client.get("/search?q=x&kind=webinar&page=50")
    assert past_the_end.status_code == 200


def test_no_results_says_so_and_suggests_the_catalogue_and_events(client):
    page = client.get("/search?q=zebrafish").get_data(as_text=True)
    assert "No results found for “zebrafish”" in page
    assert 'href="/courses"' in page and 'href="/events"' in page
    assert "<title>Search results for “zebrafish” – MDSN" in page


def test_the_header_of_every_page_has_the_search_box(client):
    for path in ("/", "/courses", "/events", "/privacy"):
        page = client.get(path).get_data(as_text=True)
        assert re.search(r'<form class="nhsuk-header__search-form" id="search" '
                         r'action="/search" method="get"', page), path


def test_search_works_on_postgresql(pg_app):
    with pg_app.app_context():
        make_webinar(title="Forecasting 100% of demand", days_ahead=5)
        festival = make_festival()
        add_session(festival, "Hands-on: FORECASTING with fable")
        festivals.add_festival_session(faculty(), festival, festivals.FestivalSessionDetails(
            track_id=festival.tracks[0].id, title="Other session", day=festival.first_day,
            start=time(14, 0), end=time(15, 0), speakers=[]))
        person(1)
        db.session.commit()
        assert found(search.search(ANON, "forecasting")) == {
            "webinar": ["Forecasting 100% of demand"],
            "festival-session": ["Hands-on: FORECASTING with fable"]}
        assert found(search.search(ANON, "0%")) == {"webinar": ["Forecasting 100% of demand"]}
        assert found(search.search(ANON, "fest")) == {"festival": ["INSIGHT festival"]}
