"""Every route, for every kind of person: who gets in, who is sent to sign in, who is refused.

A route missing from ROUTES fails the build, so a new page cannot ship without deciding who
may see it. Statuses are the first response, without following redirects.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest

from tests.conftest import ROLES, People

OK, REDIRECT, BAD, FORBIDDEN, MISSING = 200, 302, 400, 403, 404

EVERYONE_OK = dict.fromkeys(ROLES, OK)
SIGNED_IN_OK = {"anonymous": REDIRECT, **dict.fromkeys(ROLES[1:], OK)}
ANONYMOUS_ONLY = {"anonymous": OK, **dict.fromkeys(ROLES[1:], REDIRECT)}
ADMIN_ONLY = {"anonymous": REDIRECT, "learner": FORBIDDEN, "dsu_same": FORBIDDEN,
              "dsu_other": FORBIDDEN, "faculty": FORBIDDEN, "admin": OK}


@dataclass(frozen=True)
class Route:
    endpoint: str
    url: Callable[[People], str]
    expect: dict[str, int]
    method: str = "GET"
    data: dict | None = None


ROUTES: list[Route] = [
    Route("home.index", lambda p: "/", EVERYONE_OK),
    Route("home.healthz", lambda p: "/healthz", EVERYONE_OK),
    Route("accounts.sign_up", lambda p: "/sign-up", ANONYMOUS_ONLY),
    Route("accounts.check_email", lambda p: "/sign-up/check-your-email", EVERYONE_OK),
    Route("accounts.verify_email", lambda p: "/confirm-email/not-a-token",
          dict.fromkeys(ROLES, BAD)),
    Route("accounts.resend_verification", lambda p: "/confirm-email/resend", EVERYONE_OK),
    Route("accounts.sign_in", lambda p: "/sign-in", ANONYMOUS_ONLY),
    Route("accounts.sign_out", lambda p: "/sign-out", dict.fromkeys(ROLES, REDIRECT),
          method="POST"),
    Route("accounts.forgot_password", lambda p: "/forgot-password", EVERYONE_OK),
    Route("accounts.reset_password", lambda p: "/reset-password/not-a-token",
          dict.fromkeys(ROLES, BAD)),
    Route("accounts.profile", lambda p: "/profile", SIGNED_IN_OK),
    Route("accounts.change_password", lambda p: "/profile/password", SIGNED_IN_OK),
    Route("admin.users", lambda p: "/admin/users", ADMIN_ONLY),
    Route("admin.user", lambda p: f"/admin/users/{p.learner.id}", ADMIN_ONLY),
]

# Routes served by Flask itself, not by the service.
NOT_PAGES = {"static"}


def test_every_route_is_in_the_table(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()} - NOT_PAGES
    in_table = {route.endpoint for route in ROUTES}
    assert endpoints - in_table == set(), "routes with no entry in the authorisation table"
    assert in_table - endpoints == set(), "table entries for routes that do not exist"


@pytest.mark.parametrize("route", ROUTES, ids=lambda r: r.endpoint)
@pytest.mark.parametrize("role", ROLES)
def test_route_answers_each_role_as_the_table_says(client, login, people, route, role):
    login(people.by_role(role))
    response = client.open(route.url(people), method=route.method, data=route.data)
    assert response.status_code == route.expect[role], (route.endpoint, role)
    if response.status_code == REDIRECT and role == "anonymous" and route.expect[
        "learner"
    ] in (OK, FORBIDDEN):
        assert "/sign-in" in response.location


def test_a_missing_person_is_404_for_an_admin(client, login, people):
    login(people.admin)
    assert client.get("/admin/users/999999").status_code == MISSING
