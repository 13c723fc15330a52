"""A learner's home as kept in the page cache (``lms.cache``): what their places alone
decide (places to confirm or accept, sessions to check in to, their next sessions), under
their version (their places) and the offer's (what those offerings and sessions show), per
roles and organisation, until time changes it (``pages.learner_places``). The buttons are
the policy's answers when it was built; its forms' CSRF token is filled in per request.
Work due, feedback asked, progress and materials are built per request (``pages``).
"""

from __future__ import annotations

from flask import render_template
from markupsafe import Markup

from lms.cache import OFFER, cached, person
from lms.cache.kept import SLOT_FORM, with_csrf
from lms.clock import utcnow
from lms.home import pages


def kept_places(user) -> tuple[Markup, Markup]:
    """(the action cards of the person's places, their "Next sessions" section), kept."""
    key = (user.id, tuple(sorted(user.roles)), user.organisation_id)
    actions, sessions = cached("home_places", key, depends_on=person(user.id) + OFFER,
                               build=lambda: _build(user), size=2048)
    return with_csrf(actions), Markup(sessions)  # noqa: S704 - a kept page


def _build(user) -> tuple[tuple[str, str], object]:
    places = pages.learner_places(user, utcnow())
    actions = render_template("home/_learner_actions.html", actions=places.actions,
                              form=SLOT_FORM).strip()
    sessions = render_template("home/_learner_next.html",
                               next_sessions=places.next_sessions).strip()
    return (actions, sessions), places.valid_until
