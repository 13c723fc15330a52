"""The search page: public, the same door for everyone (what it finds depends on who asks)."""

from tests.authz import EVERYONE_OK, Route


def world(app, people) -> dict:
    """Nothing beyond the people is needed."""
    return {}


ROUTES: list[Route] = [
    Route("search.index", lambda p, w: "/search?q=forecasting", EVERYONE_OK),
]
