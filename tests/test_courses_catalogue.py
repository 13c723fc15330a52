"""The catalogue: each filter includes what it should and excludes what it should, the next
run and places left are right, and course pages list the right cohorts."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine

from lms.courses import catalogue, pages, services
from lms.courses.catalogue import CatalogueFilters
from tests import catalogue_builders as build

NOW = datetime(2027, 6, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def days(n: float) -> datetime:
    return NOW + timedelta(days=n)


def titles(**filters) -> list[str]:
    return [entry.course.title for entry in catalogue.catalogue(CatalogueFilters(**filters))]


@pytest.fixture
def shelf(ctx, frozen) -> dict:
    """Four published courses that differ in every filtered way, and an unpublished one."""
    forecasting = build.course("Time-series forecasting with R", kind="short_course",
                               strand="analytical_capability", format="online",
                               summary="ARIMA and friends",
                               description="Bring a laptop with R installed.")
    leadership = build.course("Leadership for Analysts", kind="programme",
                              strand="analytical_leaders", format="blended",
                              summary="Lead analytical teams")
    numbers = build.course("Communicating with numbers", kind="short_course",
                           strand="beyond_numbers", format="in_person",
                           summary="Charts that decision-makers READ")
    build.course("Introduction to Decision Quality", kind="short_course",
                      strand="decision_making", format="online", summary="Good decisions")
    hidden = build.course("Systems thinking", published=False)
    build.cohort(forecasting, "Soon", starts=[days(10)], capacity=2)
    build.cohort(leadership, "Autumn", starts=[days(100)], capacity=24, mode="nomination")
    full = build.cohort(numbers, "Full one", starts=[days(20)], capacity=1)
    build.enrol(full)
    build.cohort(hidden, "Pilot", starts=[days(5)])
    return {"full": full}


def test_everything_published_by_title_and_nothing_unpublished(shelf):
    assert titles() == ["Communicating with numbers", "Introduction to Decision Quality",
                        "Leadership for Analysts", "Time-series forecasting with R"]


@pytest.mark.parametrize(("filters", "expected"), [
    ({"kind": "programme"}, ["Leadership for Analysts"]),
    ({"kind": "short_course"}, ["Communicating with numbers", "Introduction to Decision Quality",
                                "Time-series forecasting with R"]),
    ({"strand": "beyond_numbers"}, ["Communicating with numbers"]),
    ({"strand": "decision_making"}, ["Introduction to Decision Quality"]),
    ({"format": "online"}, ["Introduction to Decision Quality",
                            "Time-series forecasting with R"]),
    ({"format": "in_person"}, ["Communicating with numbers"]),
    ({"text": "FORECASTING"}, ["Time-series forecasting with R"]),  # title, any case
    ({"text": "read"}, ["Communicating with numbers"]),  # summary
    ({"text": "laptop r"}, ["Time-series forecasting with R"]),  # description, every word
    ({"text": "laptop leadership"}, []),
    ({"text": "_"}, []),  # LIKE wildcards are literal
    ({"text": "%"}, []),
    ({"has_places": True}, ["Leadership for Analysts", "Time-series forecasting with R"]),
    ({"starts_after": date(2027, 6, 15)}, ["Communicating with numbers",
                                           "Leadership for Analysts"]),
    ({"starts_after": date(2027, 9, 10)}, []),
    ({"kind": "short_course", "format": "online", "has_places": True},
     ["Time-series forecasting with R"]),
    ({"kind": "webinar"}, ["Communicating with numbers", "Introduction to Decision Quality",
                           "Leadership for Analysts", "Time-series forecasting with R"]),
])
def test_each_filter_includes_and_excludes(shelf, filters, expected):
    assert titles(**filters) == expected


def test_entries_show_next_run_and_places(shelf):
    entries = {e.course.title: e for e in catalogue.catalogue(CatalogueFilters())}
    soon = entries["Time-series forecasting with R"]
    assert (soon.next_cohort_name, soon.next_starts_at, soon.places_left) == ("Soon", days(10), 2)
    full = entries["Communicating with numbers"]
    assert full.places_left == 0 and full.is_full
    none = entries["Introduction to Decision Quality"]
    assert not none.has_next_run and not none.is_full and none.next_starts_at is None
    assert entries["Leadership for Analysts"].next_booking_mode == "nomination"


def test_the_next_run_is_the_earliest_open_cohort_whose_first_live_session_is_to_come(
    ctx, frozen
):
    course = build.course("Forecasting")
    build.cohort(course, "Draft", status="draft", starts=[days(2)])
    build.cohort(course, "Closed", status="closed", starts=[days(3)])
    build.cohort(course, "Cancelled", status="cancelled", starts=[days(4)])
    build.cohort(course, "Started", starts=[days(-1), days(6)])
    build.cohort(course, "Moved", starts=[days(5), days(40)], cancelled=(0,))
    build.cohort(course, "Later", starts=[days(30)])
    [entry] = catalogue.catalogue(CatalogueFilters())
    assert (entry.next_cohort_name, entry.next_starts_at) == ("Later", days(30))
    # "Starts after" moves the horizon, so the run shown is the first on or after the date.
    [entry] = catalogue.catalogue(CatalogueFilters(starts_after=date(2027, 7, 5)))
    assert (entry.next_cohort_name, entry.next_starts_at) == ("Moved", days(40))


def test_places_left_counts_every_state_that_holds_a_place_and_unlimited_is_none(ctx, frozen):
    course = build.course("Forecasting")
    cohort = build.cohort(course, capacity=10)
    for state in ("enrolled", "nominated", "approved", "offered", "completed"):
        build.enrol(cohort, state=state)
    for state in ("waitlisted", "requested", "withdrawn", "declined"):
        build.enrol(cohort, state=state)
    [entry] = catalogue.catalogue(CatalogueFilters())
    assert entry.places_left == 5
    other = build.course("Unlimited")
    build.cohort(other, capacity=None)
    entries = {e.course.title: e for e in catalogue.catalogue(CatalogueFilters())}
    assert entries["Unlimited"].places_left is None and not entries["Unlimited"].is_full
    assert [e.course.title for e in catalogue.catalogue(CatalogueFilters(has_places=True))] == \
        ["Forecasting", "Unlimited"]


def test_course_page_lists_cohorts_with_places_and_hides_drafts_from_learners(
    ctx, frozen, people
):
    course = build.course("Forecasting")
    late = build.cohort(course, "Late", starts=[days(60), days(67)], capacity=10)
    build.enrol(late)
    build.cohort(course, "Early", starts=[days(7)], capacity=None)
    build.cohort(course, "Draft", status="draft", starts=[days(90)])
    build.cohort(course, "Past", status="finished", starts=[days(-60)])
    build.cohort(build.course("Another"), "Elsewhere")

    page = pages.course_page(course.id, people.learner)
    assert [c.name for c in page.cohorts] == ["Past", "Early", "Late"]
    assert [c.name for c in page.upcoming] == ["Early", "Late"]
    assert [c.name for c in page.past] == ["Past"]
    late_row = page.cohorts[2]
    assert (late_row.starts_at, late_row.ends_at, late_row.sessions, late_row.places_left) == \
        (days(60), days(67) + timedelta(hours=2), 2, 9)
    assert page.cohorts[1].places_left is None

    managed = pages.course_page(course.id, people.faculty)
    assert "Draft" in [c.name for c in managed.cohorts]


def test_unpublished_courses_and_draft_cohorts_are_not_found_except_by_managers(
    ctx, frozen, people
):
    hidden = build.course("Hidden", published=False)
    open_cohort = build.cohort(hidden)
    draft = build.cohort(build.course("Shown"), status="draft")
    for user in (people.learner, people.dsu_same):
        with pytest.raises(services.NotFound):
            pages.course_page(hidden.id, user)
        with pytest.raises(services.NotFound):
            services.get_cohort(open_cohort.id, user)
        with pytest.raises(services.NotFound):
            services.get_cohort(draft.id, user)
    for user in (people.faculty, people.admin):
        assert pages.course_page(hidden.id, user).course is hidden
        assert services.get_cohort(draft.id, user) is draft
