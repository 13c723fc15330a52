"""National scale in the benchmark's generator (``bench.generate``): above scale 1 the other
31 ICSs of England join and the history lengthens to five years (all of it at scale 5).
Built here at a tiny scale with the national shape asked for (``national=1``), so the
shape is checked in seconds; the regional shape at scale 1 and below is unchanged."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import func, select, text

from bench.generate import (
    ICS_WEIGHTS,
    NATIONAL_ICS,
    Generator,
    generate,
    national_share,
)
from bench.pages import find_pages, time_page
from lms import create_app
from lms.accounts.models import Organisation, User, UserRole
from lms.clock import utcnow
from lms.events.models import Festival
from lms.extensions import db
from lms.feedback.models import Survey
from lms.offerings.models import Session

TINY = 0.04


def _app(url: str = "sqlite://") -> Flask:
    return create_app("testing", SQLALCHEMY_DATABASE_URI=url)


@pytest.fixture(scope="module")
def national(tmp_path_factory: pytest.TempPathFactory) -> tuple[Flask, dict]:
    folder = tmp_path_factory.mktemp("bench-national")
    app = _app(f"sqlite:///{folder / 'n.sqlite3'}")
    with app.app_context():
        db.create_all()
        counts = generate(TINY, national=1)
        db.session.remove()
    return app, counts


def test_the_nation_grows_from_scale_1_to_5():
    assert [national_share(s) for s in (0.1, 1, 2, 3, 5, 8)] == [0, 0, 0.25, 0.5, 1, 1]
    regional, half, whole = Generator(1, 1), Generator(3, 1), Generator(5, 1)
    assert (len(regional.other_ics), regional.extra_days) == (0, 0)
    assert (len(half.other_ics), round(half.extra_days / 365, 1)) == (16, 1.5)
    assert (len(whole.other_ics), whole.extra_years) == (31, 3)
    assert len(ICS_WEIGHTS) + len(NATIONAL_ICS) == 42
    codes = [code for code, _ in NATIONAL_ICS] + list(ICS_WEIGHTS)
    assert len(set(codes)) == len(codes)


def test_the_national_shape_has_42_icss_each_with_people_and_a_dsu_lead(national):
    app, counts = national
    with app.app_context():
        ics = db.session.scalars(select(Organisation).where(Organisation.kind == "ics")).all()
        assert len(ics) == 42
        assert counts["organisation"] == 45  # and the region's team, the SU and "other"
        people = dict(db.session.execute(
            select(User.organisation_id, func.count()).group_by(User.organisation_id)).all())
        leads = set(db.session.scalars(
            select(User.organisation_id).join(UserRole, UserRole.user_id == User.id)
            .where(UserRole.role == "dsu_lead")))
        assert all(people.get(o.id, 0) >= 1 for o in ics)
        assert {o.id for o in ics} <= leads
        assert counts["user_account"] == round(3000 * TINY)


def test_the_national_shape_has_five_years_of_history(national):
    app, _ = national
    with app.app_context():
        now = utcnow()
        earliest = db.session.scalar(select(func.min(Session.starts_at)))
        assert now - earliest > timedelta(days=round(4.9 * 365))
        # Cohorts, network meetings and webinars all reach back past three years.
        for kind in ("cohort", "network", "webinar"):
            first = db.session.scalar(text(
                "SELECT MIN(s.starts_at) FROM offering_session s JOIN offering o "
                "ON o.id = s.offering_id WHERE o.kind = :kind"), {"kind": kind})
            assert str(first) < str((now - timedelta(days=3 * 365)).replace(tzinfo=None)), kind
        festivals = db.session.scalars(select(Festival.title).where(
            Festival.status == "finished")).all()
        assert len(festivals) == 4  # one a year before this year's, which is still open
        surveyed = db.session.scalar(select(func.count(func.distinct(Survey.offering_id)))
                                     .join(Festival, Festival.id == Survey.offering_id))
        assert surveyed == 4


def test_more_history_means_more_of_everything_it_holds(national):
    """The national shape at the same scale holds more places, marks, completions and
    certificates than the regional one: the extra years are filled, not just dated."""
    _, nation = national
    app = _app()
    with app.app_context():
        db.create_all()
        region = generate(TINY)
        db.session.remove()
    assert region["organisation"] == 14
    for table in ("cohort", "offering_session", "network_occurrence", "webinar", "enrolment",
                  "attendance", "completion", "survey_response", "certificate"):
        assert nation[table] > 1.5 * region[table], (table, region[table], nation[table])


def _digest(**kwargs) -> str:
    app = _app()
    digest = hashlib.sha256()
    with app.app_context():
        db.create_all()
        generate(TINY, **kwargs)
        for statement in ("SELECT code, kind FROM organisation ORDER BY id",
                          "SELECT offering_id, user_id, state FROM enrolment ORDER BY id",
                          "SELECT session_id, user_id, status FROM attendance ORDER BY id"):
            for row in db.session.execute(text(statement)):
                digest.update(repr(tuple(row)).encode())
        db.session.remove()
    return digest.hexdigest()


def test_the_national_shape_is_deterministic():
    assert _digest(national=1) == _digest(national=1)
    assert _digest(national=1) != _digest(national=1, seed=7)


def test_the_staff_pages_answer_on_the_national_shape(national):
    """Every page the benchmark times answers as it should on the national data, with the
    same number of queries each time it is asked."""
    app, _ = national
    for page in find_pages(app):
        if page.key == "bare":
            continue
        timing = time_page(app, page, runs=2, warm=1)
        assert timing.status == page.expect, (page.key, timing.status)
        assert not timing.queries_vary, page.key
