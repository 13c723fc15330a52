"""The public-sector pages: public, for everyone."""

from tests.authz import EVERYONE_OK, Route


def world(app, people) -> dict:
    """Nothing beyond the people is needed."""
    return {}


ROUTES: list[Route] = [
    Route("site.privacy", lambda p, w: "/privacy", EVERYONE_OK),
    Route("site.accessibility", lambda p, w: "/accessibility", EVERYONE_OK),
    Route("site.cookies", lambda p, w: "/cookies", EVERYONE_OK),
    Route("site.help", lambda p, w: "/help", EVERYONE_OK),
    Route("site.contact", lambda p, w: "/contact", EVERYONE_OK),
]
