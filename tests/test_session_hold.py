"""Issue 19: what a request's session loads stays alive until the request ends.

On CPython 3.11 an ORM object that is garbage (a cycle, such as an offering and its sessions,
that nothing else holds) while still in the session's weak identity map can crash the
process: SQLAlchemy sets attributes on its state (closing the session, a commit), a garbage
collection starts inside that store, and the object's weakref callback changes the same
state half-way through (docs/known-issues.md). ``lms.extensions.hold_loaded`` keeps such
objects alive while their session is open, so none is garbage then.
"""

from __future__ import annotations

import gc
import weakref

from lms.extensions import db
from lms.offerings.models import Offering


def _loaded_cycle(offering_id: int) -> weakref.ref:
    """Load an offering and its sessions (each session points back: a cycle), keep nothing."""
    offering = db.session.get(Offering, offering_id)
    assert offering.sessions and offering.sessions[0].offering is offering
    return weakref.ref(offering)


def test_a_request_keeps_what_it_loaded_until_it_ends(app, make_cohort):
    cohort_id = make_cohort().id
    with app.test_request_context():
        ref = _loaded_cycle(cohort_id)
        gc.collect()
        # Garbage it would be (nothing but the session's weak map holds it): it lives on.
        assert ref() is not None
        assert ref() in db.session.identity_map.values()
        db.session.commit()  # a commit expires every state: the object is still held
        gc.collect()
        assert ref() is not None
    # The request is over and its session closed: the objects go with it (nothing leaks
    # from one request into the next).
    gc.collect()
    assert ref() is None


def test_the_request_session_closes_cleanly_with_many_loaded(app, make_cohort, client):
    """Many cyclic objects loaded, then the session closed at the end of the request (the
    path that crashed): the page answers and nothing is left held afterwards."""
    ids = [make_cohort().id for _ in range(5)]
    with app.test_request_context():
        refs = [_loaded_cycle(i) for i in ids]
        assert all(r() is not None for r in refs)
        assert {id(r()) for r in refs} <= {id(o) for o in db.session.info["lms_held"]}
    gc.collect()
    assert all(r() is None for r in refs)
    assert client.get(f"/cohorts/{ids[0]}").status_code == 200


def test_outside_a_request_nothing_is_held(app, make_cohort):
    """Jobs and commands keep SQLAlchemy's usual weak map: a long job's memory does not grow
    with everything it ever read."""
    cohort_id = make_cohort().id
    with app.app_context():
        ref = _loaded_cycle(cohort_id)
        gc.collect()
        assert ref() is None
        assert "lms_held" not in db.session.info
        db.session.rollback()
