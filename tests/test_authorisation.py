"""Every route, for every kind of person: who gets in, who is sent to sign in, who is refused.

A route missing from the table fails the build, so a new page cannot ship without deciding who
may see it. Statuses are the first response, without following redirects. Each feature keeps
its part of the table in ``tests/authz/<feature>.py``: a ``ROUTES`` list and a ``world(app,
people)`` function that creates the data its URLs point at.
"""

from __future__ import annotations

import importlib
import pkgutil

import pytest

import tests.authz
from tests.authz import FORBIDDEN, MISSING, OK, REDIRECT, Route
from tests.conftest import ROLES

MODULES = [
    importlib.import_module(f"tests.authz.{info.name}")
    for info in pkgutil.iter_modules(tests.authz.__path__)
]
ROUTES: list[tuple[object, Route]] = [(m, r) for m in MODULES for r in m.ROUTES]

# Routes served by Flask itself, not by the service.
NOT_PAGES = {"static"}


def test_every_route_is_in_the_table(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()} - NOT_PAGES
    in_table = {route.endpoint for _, route in ROUTES}
    assert endpoints - in_table == set(), "routes with no entry in the authorisation table"
    assert in_table - endpoints == set(), "table entries for routes that do not exist"


@pytest.mark.parametrize(("module", "route"), ROUTES, ids=lambda x: getattr(x, "endpoint", ""))
@pytest.mark.parametrize("role", ROLES)
def test_route_answers_each_role_as_the_table_says(app, client, login, people, module, route,
                                                    role):
    world = module.world(app, people)
    login(people.by_role(role))
    response = client.open(route.url(people, world), method=route.method, data=route.data)
    assert response.status_code == route.expect[role], (route.endpoint, role)
    if response.status_code == REDIRECT and role == "anonymous" and route.expect[
        "learner"
    ] in (OK, FORBIDDEN):
        assert "/sign-in" in response.location

def test_a_missing_person_is_404_for_an_admin(client, login, people):
    login(people.admin)
    assert client.get("/admin/users/999999").status_code == MISSING
