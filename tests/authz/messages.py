"""Routes of faculty messages: only faculty and admins write to an offering's people."""

from __future__ import annotations

from tests.authz import FACULTY_ONLY, Route
from tests.authz.offerings import world as offerings_world

ROUTES = [
    Route("messages.messages", lambda p, w: f"/faculty/offerings/{w['full']}/messages",
          FACULTY_ONLY),
    Route("messages.messages", lambda p, w: f"/faculty/offerings/{w['full']}/messages",
          FACULTY_ONLY, method="POST", data={"action": "preview", "audience": "waitlist",
                                             "subject": "S", "body": "B"}),
]


def world(app, people) -> dict:
    return offerings_world(app, people)
