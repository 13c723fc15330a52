"""Routes of UK GDPR: your own data, and erasure by an admin."""

from tests.authz import ADMIN_ONLY, SIGNED_IN_OK, Route


def world(app, people) -> dict:
    """Nothing beyond the people is needed."""
    return {}


ROUTES: list[Route] = [
    Route("privacy.your_data", lambda p, w: "/profile/your-data", SIGNED_IN_OK),
    Route("privacy.download", lambda p, w: "/profile/your-data.json", SIGNED_IN_OK),
    Route("privacy.erase", lambda p, w: f"/admin/users/{p.learner.id}/erase", ADMIN_ONLY),
]
