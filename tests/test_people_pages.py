"""Faculty's people page of an offering shows the long lists a page at a time: a festival
or a national network has thousands of people, and the page costs the same whatever the
number (``lms.offerings.pages.people_on``)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from lms.accounts.models import Role
from lms.clock import utcnow
from lms.extensions import db
from lms.offerings.models import Offering
from lms.offerings.pages import PEOPLE_PER_PAGE, RECENT_SESSIONS, people_on
from tests import catalogue_builders as build


def _offering(app, places: int, gone: int = 0, waiting: int = 0) -> int:
    """A cohort with ``places`` people holding a place, ``gone`` who withdrew and
    ``waiting`` on the waiting list."""
    with app.app_context():
        cohort = build.cohort(build.course(f"Forecasting for {places} people"), capacity=None)
        for _ in range(places):
            build.enrol(cohort, build.person())
        for _ in range(gone):
            build.enrol(cohort, build.person(), state="withdrawn")
        for position in range(1, waiting + 1):
            build.enrol(cohort, build.person(), state="waitlisted",
                        waitlist_position=position)
        db.session.commit()
        return cohort.id


def _names(page: str, caption: str) -> list[str]:
    """The names in the table whose caption starts with ``caption``."""
    start = page.index(f'<caption class="nhsuk-table__caption">{caption}')
    table = page[start:page.index("</table>", start)]
    return re.findall(r'aria-hidden="true">Name </span>([^<]+)</td>', table)


def test_the_places_are_shown_a_page_at_a_time_with_their_total(app, client, login,
                                                                  make_user):
    offering = _offering(app, places=PEOPLE_PER_PAGE * 2 + 30, gone=3, waiting=2)
    login(make_user(Role.FACULTY))
    first = client.get(f"/faculty/offerings/{offering}/people").get_data(as_text=True)
    assert "People with a place (230), page 1 of 3" in first
    assert len(_names(first, "People with a place")) == PEOPLE_PER_PAGE
    # Every page has its own people, in name order, and the last has the rest.
    seen = []
    for number in (1, 2, 3):
        page = client.get(f"/faculty/offerings/{offering}/people?page={number}"
                          ).get_data(as_text=True)
        seen += _names(page, "People with a place")
        # The waiting list and the history are on every page, whole.
        assert len(_names(page, "People waiting, in order")) == 2
        assert len(_names(page, "Withdrawn, declined, lapsed or cancelled")) == 3
    assert len(seen) == len(set(seen)) == 230
    assert seen == sorted(seen, key=str)
    assert f'href="/faculty/offerings/{offering}/people?page=2&amp;history=1"' in first
    assert "Page 2 of 3" in first and "Previous" not in first.split('id="maincontent"')[-1]


def test_a_page_out_of_range_or_not_a_number_shows_the_nearest_page(app, client, login,
                                                                    make_user):
    offering = _offering(app, places=PEOPLE_PER_PAGE + 5)
    login(make_user(Role.FACULTY))
    for asked, shown in (("99", 2), ("0", 1), ("-3", 1), ("abc", 1), ("9" * 40, 1)):
        response = client.get(f"/faculty/offerings/{offering}/people?page={asked}")
        assert response.status_code == 200, asked
        assert f"People with a place (105), page {shown} of 2" in response.get_data(
            as_text=True), asked


def test_the_history_has_pages_of_its_own(app, client, login, make_user):
    offering = _offering(app, places=3, gone=PEOPLE_PER_PAGE + 1)
    login(make_user(Role.FACULTY))
    page = client.get(f"/faculty/offerings/{offering}/people?history=2").get_data(
        as_text=True)
    assert "Withdrawn, declined, lapsed or cancelled (101), page 2 of 2" in page
    assert len(_names(page, "Withdrawn, declined, lapsed or cancelled")) == 1
    assert len(_names(page, "People with a place")) == 3
    assert f'href="/faculty/offerings/{offering}/people?history=1&amp;page=1"' in page


def test_the_page_costs_the_same_queries_for_a_hundred_people_or_three_hundred(
        app, client, login, make_user, count_queries):
    login(make_user(Role.FACULTY))
    counts = []
    for places in (PEOPLE_PER_PAGE + 1, PEOPLE_PER_PAGE * 3):
        offering = _offering(app, places=places, gone=places)
        client.get(f"/faculty/offerings/{offering}/people")
        with count_queries() as counted:
            response = client.get(f"/faculty/offerings/{offering}/people")
        assert response.status_code == 200
        counts.append(counted.n)
    assert counts[0] == counts[1], counts


def test_a_long_running_network_lists_its_latest_sessions_and_all_on_request(
        app, client, login, make_user):
    """A network's years of meetings: the page lists the latest held and those to come,
    with a link to every one (each with its register link)."""
    with app.app_context():
        now = utcnow()
        starts = [now - timedelta(days=14 * n) for n in range(40, 0, -1)]
        starts += [now + timedelta(days=14 * n) for n in range(1, 4)]
        cohort = build.cohort(build.course("Forty meetings"), starts=starts, capacity=None)
        build.enrol(cohort, build.person())
        db.session.commit()
        offering, sessions = cohort.id, [s.id for s in cohort.sessions]
    login(make_user(Role.FACULTY))
    page = client.get(f"/faculty/offerings/{offering}/people").get_data(as_text=True)
    registers = re.findall(r'href="/faculty/sessions/(\d+)/register"', page)
    assert [int(s) for s in registers] == sessions[40 - RECENT_SESSIONS:]
    assert "Show all 43 sessions" in page
    every = client.get(f"/faculty/offerings/{offering}/people?sessions=all").get_data(
        as_text=True)
    assert [int(s) for s in re.findall(r'href="/faculty/sessions/(\d+)/register"', every)
            ] == sessions
    assert "Show all" not in every


@pytest.mark.postgres
def test_the_pages_of_people_are_the_same_on_postgresql(pg_app):
    """What production runs on: a page is a sub-select with its own order, limit and offset."""
    offering = _offering(pg_app, places=PEOPLE_PER_PAGE + 5, gone=2, waiting=1)
    with pg_app.app_context():
        on = db.session.get(Offering, offering)
        first, second = people_on(on, 1), people_on(on, 2)
        assert (len(first.places), len(second.places)) == (PEOPLE_PER_PAGE, 5)
        assert (first.places_total, first.pages, first.others_total) == (105, 2, 2)
        names = [e.user.full_name for e in first.places + second.places]
        assert len(set(names)) == 105
        assert [len(first.waiting), len(first.others)] == [1, 2]
