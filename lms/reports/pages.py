"""The dashboards' figures as kept in the page cache (``lms.cache``).

An ICS's or the region's figures sum every place, attendance and completion of the region:
tens of milliseconds of SQL and rendering that grow with the data. So each dashboard's
figures are rendered once per organisation and filters and kept in each process under the
``reports`` version, which a change to any row they are built from renews
(``init_app`` names the tables: a register saved, a completion recorded, a place cancelled, a
person joining or leaving an ICS, a feedback answer, competency evidence...), whichever
process commits it, so every worker shows it at its next request. The figures also move on
by themselves: "attended" counts sessions that have ended, and quota places are released at
a moment, so a kept dashboard holds only until the next of those moments (or midnight).

The filter form, its errors and the page around the figures are rendered per request.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from flask import Flask, render_template
from markupsafe import Markup, escape
from sqlalchemy import func, select

from lms import cache
from lms.accounts.models import Organisation
from lms.cache.kept import earliest_after, next_midnight
from lms.clock import utcnow
from lms.extensions import db
from lms.offerings.models import Offering, Session, SessionStatus
from lms.reports import comparison, regional, services
from lms.reports.services import ReportFilters

SCOPE = "reports"
REPORTS = cache.named(SCOPE)

# What the dashboards are built from: a change to a row of one of these renews them. People
# count by organisation and whether their account is active; they are listed by name and job.
_TABLES: dict[str, set[str] | None] = {
    "organisation": None, "user_account": {"organisation_id", "is_active_account",
                                           "full_name", "job_title"},
    "offering": None, "offering_session": None, "offering_quota": None, "enrolment": None,
    "attendance": None, "completion": None, "course": None, "cohort": None,
    "competency": None, "course_competency": None, "competency_evidence": None,
    "survey": None, "survey_question": None, "survey_response": None, "survey_answer": None,
}


def watch_tables(app: Flask) -> None:
    """Renew the dashboards' version when anything they are built from changes."""
    for table_name, columns in _TABLES.items():
        cache.also_renews(app, table_name, SCOPE, columns=columns)


def _query_key(query: Mapping[str, str]) -> tuple:
    return tuple(sorted(query.items()))


def _filters_key(filters: ReportFilters) -> tuple:
    return (filters.course_id, filters.starts, filters.ends)


def _next_change(now: datetime) -> datetime | None:
    """When the figures change by themselves: the next session to end (its attendances then
    count), the next quota release, or midnight. One query."""
    ends = (select(func.min(Session.ends_at))
            .where(Session.status != SessionStatus.CANCELLED, Session.ends_at > now)
            .scalar_subquery())
    release = (select(func.min(Offering.quota_release_at))
               .where(Offering.quota_release_at > now).scalar_subquery())
    found = db.session.execute(select(ends, release)).one()
    return earliest_after([*found, next_midnight(now)], now)


@dataclass(frozen=True)
class IcsFigures:
    """An ICS dashboard's kept parts: the summary beside the filters, the tables below."""

    summary: Markup
    tables: Markup


def ics_figures(organisation: Organisation, filters: ReportFilters,
                query: Mapping[str, str]) -> IcsFigures:
    """An ICS's dashboard figures for ``filters`` (``query``: the page's filters as asked, for
    its links), kept: one query (the versions) when nothing has changed."""
    key = (organisation.id, _filters_key(filters), _query_key(query))
    summary, tables = cached_build("ics_dashboard", key,
                                   lambda: _ics(organisation, filters, dict(query)))
    return IcsFigures(Markup(summary), Markup(tables))  # noqa: S704 - autoescaped templates


def _ics(organisation: Organisation, filters: ReportFilters, query: dict
         ) -> tuple[tuple[str, str], datetime | None]:
    now = utcnow()
    board = services.ics_dashboard(organisation, filters)
    against = comparison.ics_against_region(organisation, filters)
    context = {"organisation": organisation, "board": board, "against": against,
               "query": query}
    return ((render_template("reports/_ics_summary.html", **context),
             render_template("reports/_ics_tables.html", **context)), _next_change(now))


def course_options(chosen: str | None) -> Markup:
    """The course filter's options (every course and programme by title: 300 at national
    scale), rendered once and kept under the offer's version (a course added or renamed
    renews it); the one ``chosen`` is marked per request."""
    body = cache.cached("report_course_options", (), depends_on=cache.OFFER, build=lambda: (
        render_template("reports/_course_options.html", choices=services.course_choices()),
        None))
    if chosen is not None:
        option = f'<option value="{escape(chosen)}">'
        body = body.replace(option, option[:-1] + " selected>", 1)
    return Markup(body)  # noqa: S704 - autoescaped template output


def region_figures(filters: ReportFilters, query: Mapping[str, str]) -> Markup:
    """The region's dashboard figures for ``filters``, kept: one query (the versions) when
    nothing has changed."""
    key = (_filters_key(filters), _query_key(query))
    body = cached_build("region_dashboard", key, lambda: _region(filters, dict(query)))
    return Markup(body)  # noqa: S704 - autoescaped template output


def _region(filters: ReportFilters, query: dict) -> tuple[str, datetime | None]:
    now = utcnow()
    board = regional.region_dashboard(filters)
    return (render_template("reports/_region_board.html", board=board, query=query),
            _next_change(now))


# Kept dashboards per process: a large ICS's page is a few hundred kilobytes, and every set of
# filters asked for is kept apart, so the oldest go first beyond this many.
KEPT = 64


def cached_build(name: str, key: tuple, build):
    """``cache.cached`` under the dashboards' version."""
    return cache.cached(name, key, depends_on=REPORTS, build=build, size=KEPT)
