"""Routes of observability: /metrics answers nobody unless addresses or a token are set
(tests/test_observability.py covers those)."""

from tests.authz import MISSING, Route
from tests.conftest import ROLES


def world(app, people) -> dict:
    """Nothing beyond the people is needed."""
    return {}


ROUTES: list[Route] = [
    Route("observability.prometheus_metrics", lambda p, w: "/metrics",
          dict.fromkeys(ROLES, MISSING)),
]
