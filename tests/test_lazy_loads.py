"""No page loads from the database while it renders, and no page's statements grow with the
data (no N+1 anywhere).

The crawl walks every GET page of the authorisation table as each person who may see it, on
each feature's data and on the demo region, watching (``tests/lazy_loads.py``) for ORM loads
made while a template renders: each is named with its page, person, template and attribute.
"""

from __future__ import annotations

import pytest

from lms.demo import seed_demo
from tests.authz import OK
from tests.crawl import crawl
from tests.lazy_loads import watching
from tests.test_authorisation import MODULES

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
            if response.status_code != OK:
                continue
            pages += 1
            counts[f"{url} as {role}"] = watch.statements
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
