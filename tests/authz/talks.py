"""Routes of the calls for talks: calls and proposing are for everyone signed in; a
proposal, its co-presenting page and its slides only for its own people (others get 404);
reviewing and deciding for faculty (invited reviewers are tested in tests/test_talks_views.py)."""

from __future__ import annotations

from lms.accounts.models import User
from lms.extensions import db
from lms.talks import schedule
from tests.authz import FACULTY_ONLY, FORBIDDEN, MISSING, OK, REDIRECT, SIGNED_IN_OK, Route
from tests.talks_builders import huddle_call, proposal
from tests.test_events_support import faculty, person

OWNER_ONLY = {"anonymous": REDIRECT, "learner": OK, "dsu_same": MISSING, "dsu_other": MISSING,
              "faculty": MISSING, "admin": MISSING}
FACULTY_POST = {"anonymous": REDIRECT, "learner": FORBIDDEN, "dsu_same": FORBIDDEN,
                "dsu_other": FORBIDDEN, "faculty": REDIRECT, "admin": REDIRECT}


def world(app, people) -> dict:
    """A huddle call; the learner's proposal (undecided), an accepted one of theirs, a
    co-presenter invitation to the learner, and someone else's proposal to decide."""
    with app.test_request_context():
        learner = db.session.get(User, people.learner.id)
        call = huddle_call()
        mine = proposal(call, learner, title="Mine")
        accepted = proposal(call, learner, title="Accepted")
        schedule.accept_into_meeting(faculty(), accepted, call.free_sessions[0].session_id)
        theirs = proposal(call, person("other"), co=learner.email, title="Theirs")
        pending = proposal(call, person("pending"), title="Pending")
        db.session.commit()
        return {"call": call.id, "network": call.offering_id, "mine": mine.id,
                "accepted": accepted.id, "co": theirs.co_presenters[0].id,
                "pending": pending.id}


ROUTES: list[Route] = [
    Route("talks.calls", lambda p, w: "/calls", SIGNED_IN_OK),
    Route("talks.new_call", lambda p, w: f"/faculty/events/{w['network']}/calls/new",
          FACULTY_ONLY),
    Route("talks.edit_call", lambda p, w: f"/faculty/calls/{w['call']}", FACULTY_ONLY),
    Route("talks.close_call", lambda p, w: f"/faculty/calls/{w['call']}/close", FACULTY_ONLY),
    Route("talks.reviewers", lambda p, w: f"/faculty/calls/{w['call']}/reviewers",
          FACULTY_ONLY),
    Route("talks.call", lambda p, w: f"/calls/{w['call']}", SIGNED_IN_OK),
    Route("talks.propose", lambda p, w: f"/calls/{w['call']}/propose", SIGNED_IN_OK),
    Route("talks.my_proposals", lambda p, w: "/my-proposals", SIGNED_IN_OK),
    Route("talks.proposal", lambda p, w: f"/proposals/{w['mine']}", OWNER_ONLY),
    Route("talks.edit_proposal", lambda p, w: f"/proposals/{w['mine']}/edit", OWNER_ONLY),
    Route("talks.withdraw", lambda p, w: f"/proposals/{w['mine']}/withdraw", OWNER_ONLY),
    Route("talks.co_presenting", lambda p, w: f"/co-presenting/{w['co']}", OWNER_ONLY),
    Route("talks.slides_upload", lambda p, w: f"/proposals/{w['accepted']}/slides",
          OWNER_ONLY),
    Route("talks.review_list", lambda p, w: f"/calls/{w['call']}/review", FACULTY_ONLY),
    Route("talks.review_proposal", lambda p, w: f"/review/proposals/{w['mine']}",
          FACULTY_ONLY),
    Route("talks.accept", lambda p, w: f"/faculty/proposals/{w['pending']}/accept",
          FACULTY_ONLY),
    Route("talks.decline", lambda p, w: f"/faculty/proposals/{w['pending']}/decline",
          FACULTY_ONLY),
    Route("talks.presenter_certificates",
          lambda p, w: f"/faculty/proposals/{w['accepted']}/certificates", FACULTY_POST,
          method="POST"),
    Route("talks.reserve", lambda p, w: f"/faculty/proposals/{w['pending']}/reserve",
          FACULTY_POST, method="POST"),
]

