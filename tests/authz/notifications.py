"""Routes of email preferences: each person's own, from their profile."""

from __future__ import annotations

from tests.authz import SIGNED_IN_OK, Route

ROUTES = [
    Route("notifications.email_preferences", lambda p, w: "/profile/email-preferences",
          SIGNED_IN_OK),
]


def world(app, people) -> dict:
    return {}
