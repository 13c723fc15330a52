"""The crawl of every page of the authorisation table, as each person who may see it: one
home for the tests that read every page (dates in one style, no lazy loads while rendering,
query counts that do not grow with the data)."""

from __future__ import annotations

from collections.abc import Iterator

from tests.authz import OK
from tests.conftest import ROLES
from tests.test_authorisation import ROUTES


def crawl(login, people, world: dict | None, module=None,
          skip: frozenset[str] | set[str] = frozenset(),
          variants: dict[str, tuple[str, ...]] | None = None) -> Iterator[tuple[str, str]]:
    """Every GET page of the table (of ``module``, or every page whose address needs no
    data when ``world`` is None), signed in as each role it answers: ``(url, role)``, for
    the caller to fetch with the signed-in client. Endpoints in ``skip`` are left out;
    ``variants`` adds, for an endpoint, the same page with each of these query strings."""
    for owner, route in ROUTES:
        if route.method != "GET" or route.endpoint in skip or (
                module is not None and owner is not module):
            continue
        try:
            url = route.url(people, world or {})
        except KeyError:  # the page of some feature's data: crawled with that feature
            continue
        for role in ROLES:
            if route.expect[role] != OK:
                continue
            login(people.by_role(role))
            yield url, role
            for query in (variants or {}).get(route.endpoint, ()):
                yield url + query, role
