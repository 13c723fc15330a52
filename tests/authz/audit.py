"""Routes of the audit log."""

from tests.authz import ADMIN_ONLY, Route


def world(app, people) -> dict:
    """The log may be empty; the page must still answer."""
    return {}


ROUTES: list[Route] = [
    Route("audit.log", lambda p, w: "/admin/audit", ADMIN_ONLY),
]
