"""The events list's filters (dates, kind, speaker or presenter, strand, online or in
person), the month view, and the
list's query count (no N+1: a network's two years of meetings are not loaded)."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import time, timedelta

import pytest
from sqlalchemy import select, update

from lms.errors import DomainError
from lms.events import festival as festivals
from lms.events import networks, pages
from lms.events import services as ev
from lms.events.models import NetworkOccurrence
from lms.extensions import db
from lms.offerings.models import Offering, Session
from tests.test_events_support import (
    add_session,
    faculty,
    london_day,
    make_festival,
    make_network,
    make_webinar,
)
from tests.test_events_views import detached


def titles(html: str) -> list[str]:
    return re.findall(r'class="nhsuk-card__link" href="[^"]+">([^<]+)</a>', html)


@pytest.fixture
def events(app):
    """A webinar in 5 days and one in 40, a fortnightly network from tomorrow, a festival
    in 30 days; the network's third meeting presented by Priya Patel."""
    with app.app_context():
        make_webinar(title="Soon webinar", days_ahead=5)
        make_webinar(title="Later webinar", days_ahead=40, speakers=[
            ev.SpeakerDetails("Dr Nadia Rahman", "Director", "NHS England", "")])
        network = make_network(count=6)
        third = network.sessions[2]
        third.title = "Queues and flow"
        db.session.get(NetworkOccurrence, third.id).presenter = "Priya Patel"
        festival = make_festival(days_ahead=30)
        add_session(festival, "Opening keynote")
        db.session.commit()
        return {"third": third.starts_at}


def test_the_date_range_keeps_events_with_a_session_in_it(client, events):
    start, end = london_day(30), london_day(45)
    html = client.get(f"/events?from={start.isoformat()}&to={end.strftime('%d/%m/%Y')}"
                      ).get_data(as_text=True)
    assert sorted(titles(html)) == ["INSIGHT festival", "Later webinar",
                                    "Midlands Analyst Network huddles"]
    assert f"from {start.day} " in html  # the heading says which days


def test_kind_and_person_filters(client, events):
    assert titles(client.get("/events?kind=webinar").get_data(as_text=True)) == [
        "Soon webinar", "Later webinar"]
    assert titles(client.get("/events?person=rahman").get_data(as_text=True)) == [
        "Later webinar"]
    html = client.get("/events?person=priya").get_data(as_text=True)
    assert titles(html) == ["Midlands Analyst Network huddles"]
    # The meeting shown is the one Priya presents, not simply the next one.
    assert "“Queues and flow”" in html


def test_bad_filter_values_give_a_message_not_an_error(client, events):
    for query, message in [
        ("from=31/2/2027", "Enter a real date for ‘from’, like 29 3 2027"),
        ("from=2027-05-20&to=2027-05-01",
         "The ‘to’ date must be the same as or after the ‘from’ date"),
        ("to=31/12/9999", "Enter a ‘to’ date between 2000 and 2100"),
        ("from=0001-01-01", "Enter a ‘from’ date between 2000 and 2100"),
        ("person=" + "x" * 101, "Enter 100 characters or fewer for the speaker or presenter"),
    ]:
        response = client.get(f"/events?{query}")
        html = response.get_data(as_text=True)
        assert response.status_code == 200, query
        assert message in html and "nhsuk-error-summary" in html, query
        assert "<title>Error: Events" in html
        assert "<details class=\"nhsuk-details lms-filter-fold\" data-lms-open-wide open>" in html
    # A kind that is not one is "all events"; odd characters are only text.
    assert len(titles(client.get("/events?kind=nonsense").get_data(as_text=True))) == 4
    assert client.get("/events?person=%25_%5C%00").status_code == 200


def test_filters_fold_behind_one_button(client, events):
    html = client.get("/events").get_data(as_text=True)
    assert '<details class="nhsuk-details lms-filter-fold" data-lms-open-wide>' in html
    assert "Filter events</span>" in html
    on = client.get("/events?kind=webinar&person=rahman").get_data(as_text=True)
    assert "Filter events (2 filters on)" in on


def test_past_events_on_request_keep_the_filters(client, app):
    with app.app_context():
        make_network(first_day=london_day(-60), allow_past=True, count=2, title="Old network")
        db.session.commit()
    assert "Old network" not in titles(client.get("/events").get_data(as_text=True))
    html = client.get("/events?past=1&kind=network").get_data(as_text=True)
    assert titles(html) == ["Old network"] and "Last met" in html
    assert 'href="/events?kind=network"' in html


def test_the_month_view_is_a_table_with_a_caption_and_links_between_months(client, events):
    day = london_day(5)
    html = client.get(f"/events/month/{day.year}/{day.month}").get_data(as_text=True)
    label = day.strftime("%B %Y")
    assert f'<caption class="nhsuk-table__caption">{label}</caption>' in html
    assert ('<th scope="col" class="nhsuk-table__header"><span aria-hidden="true">Mon</span>'
            '<span class="nhsuk-u-visually-hidden">Monday</span></th>') in html
    cell = re.search(rf'{day.day}<span class="nhsuk-u-visually-hidden"> '
                     rf'{day.strftime("%A")} {day.day} {day.strftime("%B %Y")}</span></span>'
                     r'(.*?)</td>', html, re.S)
    assert cell and "Soon webinar" in cell.group(1) and "12:30pm" in cell.group(1)
    previous = (day.replace(day=1) - timedelta(days=1))
    assert f'href="/events/month/{previous.year}/{previous.month}"' in html
    assert f'<span class="nhsuk-pagination__page">{previous.strftime("%B %Y")}</span>' in html
    # The phone's list says each day in full.
    assert f'{day.strftime("%A")} {day.day} {day.strftime("%B %Y")}</h2>' in html


def test_the_month_view_shows_a_festival_day_as_one_line(client, events, app):
    day = london_day(30)
    html = client.get(f"/events/month/{day.year}/{day.month}?kind=festival").get_data(
        as_text=True)
    assert html.count(">INSIGHT festival</a>") == 2  # the table and the phone's list
    assert "1 session<" in html and "Soon webinar" not in html
    assert f'#day-{day.isoformat()}"' in html


def test_month_view_choices_and_bad_months(client, events):
    today = london_day(0)
    response = client.get("/events?view=month&kind=webinar")
    assert response.status_code == 302
    assert response.location.endswith(f"/events/month/{today.year}/{today.month}?kind=webinar")
    assert client.get("/events/month/2027/13").status_code == 404
    assert client.get("/events/month/1066/10").status_code == 404
    assert client.get("/events/month/2027/0").status_code == 404


def _list_queries(client, count_queries, query: str = "") -> int:
    with count_queries() as counted:
        assert client.get(f"/events{query}").status_code == 200
    return counted.n


def test_the_list_costs_the_same_queries_for_3_and_30_events(app, client, count_queries):
    with app.app_context():
        make_network(count=40, title="Network 0")
        make_webinar(title="Webinar 0")
        festival = make_festival(title="Festival 0")
        add_session(festival, "Talk")
        db.session.execute(update(Offering).values(strand="decision_making"))
        db.session.commit()
    # Every event here is in that strand and online.
    filtered = "?strand=decision_making&attendance=online"
    three = _list_queries(client, count_queries)
    three_filtered = _list_queries(client, count_queries, filtered)
    with app.app_context():
        for n in range(1, 10):
            make_network(count=40, title=f"Network {n}")
            make_webinar(title=f"Webinar {n}", days_ahead=10 + n)
            festival = make_festival(title=f"Festival {n}", days_ahead=30 + n)
            add_session(festival, "Talk", start=time(9, 0), end=time(10, 0))
        db.session.execute(update(Offering).values(strand="decision_making"))
        db.session.commit()
    # Each first request after a change builds the list (the versions, then at most three);
    # the next is served from the page cache (the versions only).
    assert _list_queries(client, count_queries) == three <= 4
    assert len(titles(client.get("/events").get_data(as_text=True))) == 30
    assert _list_queries(client, count_queries, filtered) == three_filtered == three
    assert len(titles(client.get(f"/events{filtered}").get_data(as_text=True))) == 30
    assert _list_queries(client, count_queries) == 1


@pytest.fixture
def mixed(app, events):
    """On top of ``events``: the later webinar and the network in strands; the soon webinar
    hybrid (a room too); the festival's one in-person session (no link) a day after its
    online keynote."""
    with app.app_context():
        by_title = {o.title: o for o in db.session.scalars(select(Offering))}
        by_title["Later webinar"].strand = "decision_making"
        by_title["Midlands Analyst Network huddles"].strand = "analytical_capability"
        by_title["Soon webinar"].sessions[0].location = "Room 2, Birmingham"
        festival = by_title["INSIGHT festival"]
        workshop = add_session(festival, "Hands-on workshop", day=1, join_url="")
        workshop.location = "Room 5, Birmingham"
        db.session.commit()
    return events


def test_the_strand_filter_keeps_events_in_that_strand(client, mixed):
    html = client.get("/events?strand=decision_making").get_data(as_text=True)
    assert titles(html) == ["Later webinar"]
    assert "Improving decision-making practice" in html  # on the card
    assert "Filter events (1 filter on)" in html
    assert "1 event to come in the strand “Improving decision-making practice”</h2>" in html
    assert '<option value="decision_making" selected>' in html
    assert titles(client.get("/events?strand=analytical_capability&kind=webinar")
                  .get_data(as_text=True)) == []
    assert titles(client.get("/events?strand=beyond_numbers").get_data(as_text=True)) == []
    # "Any strand" is every event, with or without one.
    assert len(titles(client.get("/events?strand=").get_data(as_text=True))) == 4


def test_online_or_in_person_matches_the_session(client, mixed):
    in_person = client.get("/events?attendance=in_person").get_data(as_text=True)
    # The hybrid webinar matches both; the festival shows its in-person session.
    assert titles(in_person) == ["Soon webinar", "INSIGHT festival"]
    assert "“Hands-on workshop”" in in_person and "Opening keynote" not in in_person
    assert "Online and in person" in in_person
    assert "2 events to come, in person</h2>" in in_person
    online = client.get("/events?attendance=online").get_data(as_text=True)
    assert sorted(titles(online)) == ["INSIGHT festival", "Later webinar",
                                      "Midlands Analyst Network huddles", "Soon webinar"]
    assert "“Opening keynote”" in online
    both = client.get("/events?attendance=in_person&strand=decision_making")
    assert titles(both.get_data(as_text=True)) == []
    # The month view narrows the same way.
    day = london_day(31)
    month = client.get(f"/events/month/{day.year}/{day.month}?attendance=in_person"
                       "&kind=festival").get_data(as_text=True)
    assert "1 session<" in month
    assert "attendance=in_person" in client.get("/events?view=month&attendance=in_person"
                                                ).location


def test_the_one_definition_of_online_and_in_person(app):
    assert Session(join_url="https://x.example", location="").attendance_label == "Online"
    assert Session(join_url="", location="Room 1").attendance_label == "In person"
    hybrid = Session(join_url="https://x.example", location="Room 1")
    assert hybrid.online and hybrid.in_person
    assert hybrid.attendance_label == "Online and in person"
    assert Session(join_url="", location="").attendance_label == ""


def test_bad_strand_or_attendance_give_a_message(client, mixed):
    for query, message in [("strand=nonsense", "Select a strand from the list"),
                           ("attendance=teleport", "Select online, in person or any"),
                           ("strand=Decision_Making", "Select a strand from the list")]:
        response = client.get(f"/events?{query}")
        html = response.get_data(as_text=True)
        assert response.status_code == 200, query
        assert message in html and "nhsuk-error-summary" in html, query
        assert len(titles(html)) == 4, query  # the bad value narrows nothing
        day = london_day(0)
        month = client.get(f"/events/month/{day.year}/{day.month}?{query}")
        assert month.status_code == 200 and message in month.get_data(as_text=True)


def test_faculty_set_an_events_strand_or_none(app, client, login):
    with app.app_context():
        person = faculty()
        db.session.commit()
        with pytest.raises(DomainError):
            ev.create_webinar(person, ev.WebinarDetails(
                title="Bad", summary="s", status="open", strand="nonsense",
                session=ev.EventSessionDetails(london_day(3), time(9, 0), time(10, 0),
                                               join_url="https://teams.example.com/l/x")))
        db.session.rollback()
        person = detached(faculty())
        db.session.commit()
    login(person)
    day = london_day(20)
    form = {"title": "Strand webinar", "summary": "A guest talk", "status": "open",
            "day": day.isoformat(), "start": "12:30", "end": "13:30",
            "join_url": "https://teams.example.com/l/strand", "strand": "beyond_numbers",
            "speaker0_name": "Jo Guest"}
    assert client.post("/faculty/webinars/new", data=form).status_code == 302
    with app.app_context():
        webinar = db.session.scalar(select(Offering).where(Offering.title == "Strand webinar"))
        assert webinar.strand == "beyond_numbers"
        webinar_id = webinar.id
    page = client.get(f"/webinars/{webinar_id}").get_data(as_text=True)
    assert "Strand: Moving beyond the numbers" in page
    edit = client.get(f"/faculty/webinars/{webinar_id}").get_data(as_text=True)
    assert '<option value="beyond_numbers" selected>' in edit
    assert 'value="Strand webinar"' in edit  # the webinar's title, not its session's
    bad = client.post(f"/faculty/webinars/{webinar_id}", data={**form, "strand": "x"})
    assert "Select a strand from the list, or “None”" in bad.get_data(as_text=True)
    assert client.post(f"/faculty/webinars/{webinar_id}",
                       data={**form, "strand": ""}).status_code == 302
    with app.app_context():
        assert db.session.get(Offering, webinar_id).strand is None


def test_networks_and_festivals_take_a_strand_too(app, client):
    with app.app_context():
        series = make_network(title="Strand network")
        details = replace(pages.network_details(series), strand="analytical_leaders")
        networks.update_network(faculty(), series, details)
        festival = make_festival(title="Strand festival")
        add_session(festival, "Talk")
        festivals.update_festival(faculty(), festival, replace(
            pages.festival_details(festival), strand="beyond_numbers"))
        db.session.commit()
        ids = series.id, festival.id
    assert titles(client.get("/events?strand=analytical_leaders").get_data(as_text=True)) == [
        "Strand network"]
    assert titles(client.get("/events?strand=beyond_numbers").get_data(as_text=True)) == [
        "Strand festival"]
    assert "Strand: Developing analytical leaders" in client.get(
        f"/networks/{ids[0]}").get_data(as_text=True)
    assert "Strand: Moving beyond the numbers" in client.get(
        f"/festivals/{ids[1]}").get_data(as_text=True)
