"""Dashboards and the learning record on PostgreSQL, what production runs on: the same
figures as on SQLite (PostgreSQL is strict about GROUP BY and counts months on London
clocks), the same fixed number of queries, and course evidence written once."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from lms.competencies import records
from lms.competencies.models import CompetencyEvidence
from lms.extensions import db
from lms.reports import matrices, regional
from lms.reports import services as reports
from lms.reports.services import ReportFilters
from tests.test_reports_services import build_region, org

pytestmark = pytest.mark.postgres


def test_dashboards_give_the_same_figures_on_postgres(pg_app):
    with pg_app.test_request_context():
        region = build_region()
        ics = reports.ics_dashboard(org("BSOL"), ReportFilters())
        assert {row[0]: row[1:] for row in ics.offerings.rows}[
            "Forecasting in practice: Spring"] == ["Course", 1, 0, 2, 1, 4, 2]
        assert ics.quotas.rows == [["Forecasting in practice: Spring", 5, 3, 1, 2, "Reserved"]]
        coverage = {row[0]: row[2:] for row in ics.coverage.rows}
        assert coverage["Open-source coding"] == [2, 50, 50, 1, 25, 25]
        board = regional.region_dashboard(ReportFilters())
        assert board.participation.rows[-1][1:] == [13, 12, 92, 36, 24, 3]
        assert sum(board.over_time.rows[-1][1:]) == 36
        assert [row[4] for row in board.feedback.rows] == [4.0]
        assert {row[0]: row[1:] for row in board.quota_uptake.rows}[
            "Birmingham and Solihull"] == [5, 3, 60]
        assert len(matrices.cohort_matrix(region.cohort).rows) == 9
        assert matrices.cohorts_for_reports()[0].people == 9
        record = records.learning_record(region.people["BSOL"][0])
        assert [c.course_title for c in record.courses] == ["Forecasting in practice"]
        assert record.events[0].sessions == 2
        assert db.session.scalar(select(func.count()).select_from(CompetencyEvidence)) == 9
        db.session.rollback()


def test_dashboards_cost_the_same_queries_on_postgres(pg_app):
    from sqlalchemy import event

    counts = []
    with pg_app.test_request_context():
        for scale in (1, 10):
            build_region(scale)
            db.session.expire_all()
            seen: list[str] = []

            def count(conn, cursor, statement, *args, seen=seen):
                seen.append(statement)

            event.listen(db.engine, "before_cursor_execute", count)
            try:
                reports.ics_dashboard(org("BSOL"), ReportFilters())
                regional.region_dashboard(ReportFilters())
            finally:
                event.remove(db.engine, "before_cursor_execute", count)
            counts.append(len(seen))
            db.session.rollback()
    assert counts[0] == counts[1], counts
