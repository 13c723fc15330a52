"""``standing.tallied`` counts places' attendance shares and completions in the database, for
the dashboards; it must give exactly what ``standing.shares`` and ``standing.completions``
give place by place (the one home of "attended" and "completed"), in every case the rule
has: marks at sessions not yet held, cancelled sessions, excused marks (and excused from
every session), offerings with no session held, and completions."""

from __future__ import annotations

import random
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import select

from lms.attendance import standing
from lms.attendance.models import Attendance, Completion
from lms.clock import utcnow
from lms.extensions import db
from lms.offerings.models import Enrolment
from tests import catalogue_builders as build

MARKS = ["present", "late", "absent", "excused", None]


def _world(seed: int) -> None:
    rng = random.Random(seed)
    now = utcnow()
    course = build.course(f"Tallied {seed}")
    people = [build.person(rng.choice(["BSOL", "BC"])) for _ in range(12)]
    shapes = [
        [-20, -13, -6],  # all held
        [-6, 1, 8],  # one held (marks at the later ones recorded early)
        [3, 10],  # none held yet
        [-30, -23, -16, -9],  # held, the second cancelled
    ]
    for index, days in enumerate(shapes):
        cohort = build.cohort(course, f"Shape {index}", starts=[now + timedelta(days=d)
                                                                for d in days],
                              cancelled=(1,) if index == 3 else (), capacity=None)
        for who in rng.sample(people, 9):
            place = build.enrol(cohort, who)
            for session in cohort.sessions:
                mark = rng.choice(MARKS)
                if mark:
                    db.session.add(Attendance(session_id=session.id, user_id=who.id,
                                              status=mark, source="register"))
            if rng.random() < 0.4:
                db.session.add(Completion(enrolment_id=place.id, attendance_percent=100))
    # One person excused from every session of a finished cohort.
    last = build.cohort(course, "Excused", starts=[now - timedelta(days=9)], capacity=None)
    build.enrol(last, people[0])
    db.session.add(Attendance(session_id=last.sessions[0].id, user_id=people[0].id,
                              status="excused", source="register"))
    db.session.flush()


def test_the_tally_is_the_sum_of_the_places_shares_and_completions(app):
    _check(app)


@pytest.mark.postgres
def test_the_tally_is_the_same_on_postgresql(pg_app):
    """What production runs on: the same figures (a boolean group, sums of CASE, a CTE)."""
    _check(pg_app)


def _check(app) -> None:
    with app.app_context():
        for seed in (1, 2, 3):
            _world(seed)
        db.session.commit()
        rows = db.session.execute(
            select(Enrolment.id, Enrolment.user_id, Enrolment.offering_id)).all()
        shares = standing.shares(rows)
        completed = standing.completions(r.id for r in rows)
        expected = Counter(
            (r.offering_id % 2 == 0, shares[r.id].held, shares[r.id].total,
             shares[r.id].attended, shares[r.id].excused, r.id in completed) for r in rows)
        places = select(Enrolment.id.label("id"), Enrolment.user_id.label("user_id"),
                        Enrolment.offering_id.label("offering_id"),
                        (Enrolment.offering_id % 2 == 0).label("group")).cte()
        tallies = standing.tallied(places)
        got = Counter()
        for t in tallies:
            got[(bool(t.group), t.share.held, t.share.total, t.share.attended,
                 t.share.excused, t.completed)] += t.places
        assert got == expected
        # The cases the rule has are all there: nothing held yet, excused from everything.
        assert any(t.share.percent is None for t in tallies)
        assert any(t.share.percent == 100 and t.share.attended == 0 for t in tallies)
        assert any(t.completed for t in tallies)
