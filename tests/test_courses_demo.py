"""The demo catalogue: the programmes and courses DESIGN.md names, with past, current and
future cohorts, and seeding twice adds nothing."""

from __future__ import annotations

from sqlalchemy import func, select

from lms.accounts import demo as accounts_demo
from lms.clock import to_london, utcnow
from lms.courses import catalogue, demo
from lms.courses.models import Cohort, Course
from lms.extensions import db


def test_demo_catalogue_is_complete_and_idempotent(ctx):
    accounts_demo.seed()
    first = demo.seed()
    assert first["courses"] >= 8 and first["cohorts"] >= 15
    assert demo.seed() == {"courses": 0, "cohorts": 0}
    assert db.session.scalar(select(func.count(Course.id))) == first["courses"]

    titles = set(db.session.scalars(select(Course.title)))
    assert {"Leadership for Analysts", "Decision Quality for system leaders",
            "Time-series forecasting with R", "Introduction to Decision Quality",
            "Communicating with numbers", "Population health analytics",
            "Open-source coding in Python for analysts", "Evaluation design"} <= titles
    assert set(db.session.scalars(select(Course.strand))) == {
        "decision_making", "analytical_leaders", "analytical_capability", "beyond_numbers"}
    assert set(db.session.scalars(select(Course.format))) == {"online", "in_person", "blended"}

    cohorts = db.session.scalars(select(Cohort)).all()
    assert {"finished", "running", "open", "draft"} <= {c.status for c in cohorts}
    now = utcnow()
    for cohort in cohorts:
        if cohort.status == "finished":
            assert cohort.ends_at < now
        if cohort.status == "open":
            assert cohort.starts_at > now
        if cohort.status == "running":
            assert cohort.starts_at < now < cohort.ends_at
    programmes = [c for c in cohorts if c.course.kind == "programme"]
    assert programmes and all(c.booking_mode == "nomination" for c in programmes)
    for cohort in cohorts:
        for session in cohort.sessions:
            start, end = to_london(session.starts_at), to_london(session.ends_at)
            assert start.weekday() < 5 and start.hour >= 9 and end.hour <= 17, session
    for cohort in programmes:
        if cohort.status == "open":  # DSU leads can nominate today
            assert cohort.nomination_opens_at <= now < cohort.nomination_closes_at
        assert len(cohort.quotas) == 11 and {q.places for q in cohort.quotas} == {2}
        assert cohort.capacity >= 22
        assert cohort.leads
    # Every published course with an open cohort shows a next run in the catalogue.
    entries = catalogue.catalogue(catalogue.CatalogueFilters())
    assert sum(e.has_next_run for e in entries) == 8
