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
# The browser journeys' pages with what people choose or type in them (every other page of
# the journeys is in the table as it stands).
JOURNEY_QUERIES = {
    "events.index": ("?kind=webinar", "?kind=network&past=1", "?person=a&attendance=online",
                     "?from=31/02/2027", "?view=month"),
    "attendance.register": ("?q=person",),
    "offerings.nominate": ("?q=a",),
}
# Features with no page rendered from templates.
NO_PAGES = {"tests.authz.observability"}


def _crawl(app, client, login, people, world, module, loads: dict) -> dict[str, int]:
    """Each page's statements; the lazy loads of each page that had any go into ``loads``."""
    counts: dict[str, int] = {}
    with watching(app) as watch:
        for url, role in crawl(login, people, world, module, variants=JOURNEY_QUERIES):
            watch.reset()
            response = client.get(url)
            response.get_data()  # a streamed download runs as it is read
            response.close()
            if response.status_code != OK:
                continue
            counts[f"{url} as {role}"] = sum(BOOKKEEPING not in sql for sql in watch.sql)
            if watch.loads:
                loads.setdefault(f"{url} as {role}", set()).update(watch.loads)
    return counts


def _three_crawls(app, client, login, people, world, module=None) -> tuple[dict, dict, dict]:
    """The lazy loads of each page, and its statements at two sizes. The first crawl reads
    the data as the feature made it, and does what a page does once (a certificate's PDF is
    drawn and kept, a check-in code is made). Then ``grow`` adds one more of everything (so
    every list of the personas has something in it), and three more: each measured crawl
    follows a change, so no page is served from the offer cache."""
    loads: dict[str, set[str]] = {}
    _crawl(app, client, login, people, world, module, loads)
    sizes = []
    for more in (1, 3):
        with app.app_context():
            grow(people, more)
            db.session.commit()
        sizes.append(_crawl(app, client, login, people, world, module, loads))
    return loads, sizes[0], sizes[1]


def _report(loads: dict[str, set[str]]) -> str:
    return "\n".join(f"{page}: {load}" for page, found in loads.items()
                     for load in sorted(found))


def _differences(before: dict, after: dict) -> str:
    return "\n".join(f"{page}: {before[page]} → {after.get(page)} statements"
                     for page in before if after.get(page) != before[page])


@pytest.mark.parametrize("module", [m for m in MODULES if m.__name__ not in NO_PAGES],
                         ids=lambda m: m.__name__.rsplit(".", 1)[-1])
def test_no_page_of_a_feature_loads_while_rendering_or_for_each_row(
        app, client, login, people, module):
    """Each feature's pages (a cohort, its register, an event, a festival's programme…),
    and again with people on every offering, their marks and bookings."""
    world = module.world(app, people)
    loads, before, after = _three_crawls(app, client, login, people, world, module)
    assert before
    assert loads == {}, _report(loads)
    assert _differences(before, after) == ""


def test_no_page_of_the_demo_region_loads_while_rendering_or_for_each_row(
        app, client, login, people):
    """The lists, homes and dashboards of the demo region, and again with people holding
    places, marks, bookings and requests, and more of the learner's own places."""
    with app.app_context():
        seed_demo()
    loads, before, after = _three_crawls(app, client, login, people, None)
    assert len(before) > 40
    assert loads == {}, _report(loads)
    assert _differences(before, after) == ""
