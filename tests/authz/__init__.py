"""The authorisation table's vocabulary: who, and what they must get."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from tests.conftest import ROLES, People

OK, REDIRECT, BAD, FORBIDDEN, MISSING = 200, 302, 400, 403, 404

EVERYONE_OK = dict.fromkeys(ROLES, OK)
SIGNED_IN_OK = {"anonymous": REDIRECT, **dict.fromkeys(ROLES[1:], OK)}
ANONYMOUS_ONLY = {"anonymous": OK, **dict.fromkeys(ROLES[1:], REDIRECT)}
ADMIN_ONLY = {"anonymous": REDIRECT, "learner": FORBIDDEN, "dsu_same": FORBIDDEN,
              "dsu_other": FORBIDDEN, "faculty": FORBIDDEN, "admin": OK}
FACULTY_ONLY = {"anonymous": REDIRECT, "learner": FORBIDDEN, "dsu_same": FORBIDDEN,
                "dsu_other": FORBIDDEN, "faculty": OK, "admin": OK}
DSU_LEAD_ONLY = {"anonymous": REDIRECT, "learner": FORBIDDEN, "dsu_same": OK,
                 "dsu_other": OK, "faculty": FORBIDDEN, "admin": FORBIDDEN}


@dataclass(frozen=True)
class Route:
    """One route: how to build its URL from the people (and ``world``, the data a feature's
    table sets up), and the status each role must get. ``data`` is the form for a POST."""

    endpoint: str
    url: Callable[[People, dict], str]
    expect: dict[str, int]
    method: str = "GET"
    data: dict | None = None
