"""A learner's home as kept in the page cache (``lms.cache``), in two parts, each per roles
and organisation and until time changes it:

- what their places alone decide (places to confirm or accept, sessions to check in to,
  their next sessions; ``pages.learner_places``), under their version (their places) and
  the offer's (what those offerings and sessions show);
- what their learning decides (feedback asked, work due, progress, materials;
  ``pages.learner_learning``), under the same versions: surveys, work and materials renew
  the offer, and what a person gives, hands in or attends renews theirs (the ``watch``
  lines of the features owning those tables).

The buttons are the policy's answers when it was built; its forms' CSRF token is filled in
per request.
"""

from __future__ import annotations

from flask import render_template
from markupsafe import Markup

from lms.cache import OFFER, cached, person
from lms.cache.kept import SLOT_FORM, with_csrf
from lms.clock import utcnow
from lms.home import pages


def _key(user) -> tuple:
    return (user.id, tuple(sorted(user.roles)), user.organisation_id)


def kept_places(user) -> tuple[Markup, Markup]:
    """(the action cards of the person's places, their "Next sessions" section), kept."""
    actions, sessions = cached("home_places", _key(user), depends_on=person(user.id) + OFFER,
                               build=lambda: _build_places(user), size=2048)
    return with_csrf(actions), Markup(sessions)  # noqa: S704 - a kept page


def kept_learning(user) -> tuple[Markup, Markup]:
    """(the action cards of the person's learning, their "In progress" and "Materials"
    sections), kept."""
    actions, learning = cached("home_learning", _key(user),
                               depends_on=person(user.id) + OFFER,
                               build=lambda: _build_learning(user), size=2048)
    return with_csrf(actions), Markup(learning)  # noqa: S704 - a kept page


def _build_places(user) -> tuple[tuple[str, str], object]:
    places = pages.learner_places(user, utcnow())
    actions = render_template("home/_learner_actions.html", actions=places.actions,
                              form=SLOT_FORM).strip()
    sessions = render_template("home/_learner_next.html",
                               next_sessions=places.next_sessions).strip()
    return (actions, sessions), places.valid_until


def _build_learning(user) -> tuple[tuple[str, str], object]:
    learning = pages.learner_learning(user, utcnow())
    actions = render_template("home/_learner_actions.html", actions=learning.actions,
                              form=SLOT_FORM).strip()
    body = render_template("home/_learner_learning.html", learning=learning).strip()
    return (actions, body), learning.valid_until
