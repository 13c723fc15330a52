"""The events list's filters (dates, kind, speaker or presenter), the month view, and the
list's query count (no N+1: a network's two years of meetings are not loaded)."""

from __future__ import annotations

import re
from datetime import time, timedelta

import pytest

from lms.events import services as ev
from lms.events.models import NetworkOccurrence
from lms.extensions import db
from tests.test_events_support import (
    add_session,
    london_day,
    make_festival,
    make_network,
    make_webinar,
)


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


def _list_queries(client, count_queries) -> int:
    with count_queries() as counted:
        assert client.get("/events").status_code == 200
    return counted.n


def test_the_list_costs_the_same_queries_for_3_and_30_events(app, client, count_queries):
    with app.app_context():
        make_network(count=40, title="Network 0")
        make_webinar(title="Webinar 0")
        festival = make_festival(title="Festival 0")
        add_session(festival, "Talk")
        db.session.commit()
    three = _list_queries(client, count_queries)
    with app.app_context():
        for n in range(1, 10):
            make_network(count=40, title=f"Network {n}")
            make_webinar(title=f"Webinar {n}", days_ahead=10 + n)
            festival = make_festival(title=f"Festival {n}", days_ahead=30 + n)
            add_session(festival, "Talk", start=time(9, 0), end=time(10, 0))
        db.session.commit()
    assert len(titles(client.get("/events").get_data(as_text=True))) == 30
    assert _list_queries(client, count_queries) == three <= 3
