"""No page loads from the database while it renders, and no page's statements grow with the
data (no N+1 anywhere).

The crawl walks every GET page of the authorisation table as each person who may see it, on
each feature's data and on the demo region, watching (``tests/lazy_loads.py``) for ORM loads
made while a template renders: each is named with its page, person, template and attribute.
"""

from __future__ import annotations

import pytest

from lms.demo import seed_demo
from lms.extensions import db
from tests.authz import OK
from tests.crawl import crawl
from tests.growth_builders import grow
from tests.lazy_loads import watching
from tests.test_authorisation import MODULES

# The API's rate limit tidies old windows away at the first call of each minute: not a page's.
BOOKKEEPING = "api_rate_window"
# Features with no page rendered from templates.
NO_PAGES = {"tests.authz.observability"}


def _lazy_loads(app, client, login, people, world, module=None) -> tuple[int, dict, dict]:
    """Pages crawled, the lazy loads of each page that had any, and each page's statements."""
    found: dict[str, list[str]] = {}
    counts: dict[str, int] = {}
    pages = 0
    with watching(app) as watch:
        for url, role in crawl(login, people, world, module):
            watch.reset()
            response = client.get(url)
            response.get_data()  # a streamed download runs as it is read
            response.close()
            if response.status_code != OK:
                continue
            pages += 1
            counts[f"{url} as {role}"] = sum(BOOKKEEPING not in sql for sql in watch.sql)
            if watch.loads:
                found[f"{url} as {role}"] = sorted(set(watch.loads))
    return pages, found, counts


def _report(found: dict[str, list[str]]) -> str:
    return "\n".join(f"{page}: {load}" for page, loads in found.items() for load in loads)


@pytest.mark.parametrize("module", [m for m in MODULES if m.__name__ not in NO_PAGES],
                         ids=lambda m: m.__name__.rsplit(".", 1)[-1])
def test_no_page_of_a_feature_loads_while_rendering(app, client, login, people, module):
    world = module.world(app, people)
    pages, found, _ = _lazy_loads(app, client, login, people, world, module)
    assert pages > 0
    assert found == {}, _report(found)


def test_no_page_of_the_demo_region_loads_while_rendering(app, client, login, people):
    with app.app_context():
        seed_demo()
    pages, found, _ = _lazy_loads(app, client, login, people, None)
    assert pages > 40
    assert found == {}, _report(found)


def _counts_at_two_sizes(app, client, login, people, world, module=None) -> tuple[dict, dict]:
    """Each page's statements with two more of everything (``grow``: so every list of the
    personas has something in it), and again with five more. A first crawl does what a
    page does once (a certificate's PDF is drawn and kept, a check-in code is made); each
    measured crawl follows a change, so no page is served from the offer cache."""
    sizes = []
    for more, measured in ((1, False), (1, True), (3, True)):
        with app.app_context():
            grow(people, more)
            db.session.commit()
        counts = _lazy_loads(app, client, login, people, world, module)[2]
        if measured:
            sizes.append(counts)
    return sizes[0], sizes[1]


def _differences(before: dict, after: dict) -> str:
    return "\n".join(f"{page}: {before[page]} → {after.get(page)} statements"
                     for page in before if after.get(page) != before[page])


def test_no_page_of_the_demo_region_runs_more_statements_for_more_data(
        app, client, login, people):
    """The lists, homes and dashboards of the demo region, with people holding places,
    marks, bookings and requests, and the learner's own places: the same statements with
    more of each."""
    with app.app_context():
        seed_demo()
    before, after = _counts_at_two_sizes(app, client, login, people, None)
    assert len(before) > 40
    assert _differences(before, after) == ""


@pytest.mark.parametrize("module", [m for m in MODULES if m.__name__ not in NO_PAGES],
                         ids=lambda m: m.__name__.rsplit(".", 1)[-1])
def test_no_page_of_a_feature_runs_more_statements_for_more_data(app, client, login, people,
                                                                  module):
    """Each feature's pages (a cohort, its register, an event, a festival's programme…) with
    the people on every offering, their marks and bookings: the same statements with four
    times as many."""
    world = module.world(app, people)
    before, after = _counts_at_two_sizes(app, client, login, people, world, module)
    assert before
    assert _differences(before, after) == ""
