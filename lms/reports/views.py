"""Dashboards: a DSU lead's own ICS, the region (faculty and admins), and each cohort's
people against the competencies its course builds. Every table downloads as CSV and Excel
with the same filters as the page."""

from __future__ import annotations

from flask import Blueprint, Response, abort, redirect, render_template, request, url_for
from flask_login import current_user

from lms.accounts.models import Role
from lms.clock import to_london, utcnow
from lms.errors import InvalidInput
from lms.reports import exports, matrices, pages, regional, services
from lms.reports.charts import bar_chart, paired_bar_chart
from lms.reports.forms import ReportFilterForm
from lms.web import role_required, show_error

bp = Blueprint("reports", __name__)
FACULTY = (Role.FACULTY, Role.ADMIN)
faculty = role_required(*FACULTY)
ics_viewers = role_required(Role.DSU_LEAD, *FACULTY)



@bp.context_processor
def helpers() -> dict:
    """The chart drawers and the table cell writer for this blueprint's pages."""
    return {"bar_chart": bar_chart, "paired_bar_chart": paired_bar_chart,
            "cell_text": exports.cell_text, "table_rows": exports.table_rows}


def _filters(form: ReportFilterForm, max_months: int | None = None, fill=None
             ) -> services.ReportFilters | None:
    """The filters the form asks for, or None with the messages on the form. ``fill`` may
    supply dates left empty (and the form then shows them)."""
    form.validate()
    if form.starts.errors or form.ends.errors:
        return None
    starts, ends = form.dates
    if fill is not None:
        starts, ends = fill(starts, ends)
        form.starts.data, form.ends.data = starts, ends
    try:
        return services.check_filters(form.course.data, starts, ends, max_months=max_months)
    except InvalidInput as error:
        show_error(form, error)
        return None


def _download(table: exports.Table, fmt: str, name: str) -> Response:
    if fmt == "csv":
        body, mimetype = exports.to_csv(table), "text/csv"
    else:
        body, mimetype = exports.to_xlsx(table), exports.XLSX_MIMETYPE
    stamp = f"{to_london(utcnow()):%Y-%m-%d}"
    return Response(body, mimetype=mimetype, headers={
        "Content-Disposition": f'attachment; filename="{name}-{table.key}-{stamp}.{fmt}"',
        "Cache-Control": "no-store",
    })


def _table(names: tuple[str, ...], key: str) -> None:
    services.check_table(names, key)


def _query() -> dict:
    """The page's filters, to carry into its download links."""
    return {k: v for k, v in request.args.items() if k in ("course", "starts", "ends") and v}


# ---------------------------------------------------------------------------- DSU leads


@bp.route("/ics")
@role_required(Role.DSU_LEAD)
def my_ics():
    """A DSU lead's way to their own ICS's dashboard."""
    if not current_user.organisation.is_ics:
        abort(404)
    return redirect(url_for("reports.ics_dashboard", code=current_user.organisation.code))


def _ics(code: str):
    return services.get_ics_for(current_user, code)


@bp.route("/ics/<code>")
@ics_viewers
def ics_dashboard(code: str):
    """An ICS's people: places, attendance, completions, quotas and competency coverage."""
    organisation = _ics(code)
    form = ReportFilterForm(request.args)
    filters = _filters(form, fill=services.ics_dates)
    kept = pages.ics_figures(organisation, filters, _query()) if filters else None
    return render_template("reports/ics.html", organisation=organisation, form=form,
                           kept=kept, course_options=pages.course_options(form.course.data))


@bp.route("/ics/<code>/<key>.<any(csv, xlsx):fmt>")
@ics_viewers
def ics_table(code: str, key: str, fmt: str):
    """One table of an ICS's dashboard as CSV or Excel."""
    organisation = _ics(code)
    _table(services.ICS_TABLES, key)
    filters = _filters(ReportFilterForm(request.args), fill=services.ics_dates)
    if filters is None:
        # The dashboard says what is wrong with the filters.
        return redirect(url_for("reports.ics_dashboard", code=organisation.code, **_query()))
    board = services.ics_dashboard(organisation, filters)
    return _download(board.tables[key], fmt, organisation.code.lower())


# ---------------------------------------------------------------------------- the region


@bp.route("/reports")
@faculty
def region():
    """The region: participation by ICS and month, completions, feedback and quota uptake."""
    form = ReportFilterForm(request.args)
    filters = _filters(form, services.MAX_MONTHS, services.region_dates)
    kept = pages.region_figures(filters, _query()) if filters else None
    return render_template("reports/region.html", form=form, kept=kept,
                           course_options=pages.course_options(form.course.data))


@bp.route("/reports/<key>.<any(csv, xlsx):fmt>")
@faculty
def region_table(key: str, fmt: str):
    """One table of the region's dashboard as CSV or Excel."""
    _table(regional.REGION_TABLES, key)
    filters = _filters(ReportFilterForm(request.args), services.MAX_MONTHS,
                       services.region_dates)
    if filters is None:
        return redirect(url_for("reports.region", **_query()))
    board = regional.region_dashboard(filters)
    return _download(board.tables[key], fmt, "region")


# ---------------------------------------------------------------------------- cohorts


@bp.route("/reports/cohorts")
@faculty
def cohorts():
    """Cohorts with people, to open their competency matrix."""
    return render_template("reports/cohorts.html", cohorts=matrices.cohorts_for_reports())


def _cohort(id: int):
    return matrices.get_cohort(id)


@bp.route("/reports/cohorts/<int:id>")
@faculty
def cohort_matrix(id: int):
    """A cohort's people against the competencies its course builds."""
    matrix = matrices.cohort_matrix(_cohort(id))
    return render_template("reports/cohort_matrix.html", matrix=matrix, table=matrix.table)


@bp.route("/reports/cohorts/<int:id>/matrix.<any(csv, xlsx):fmt>")
@faculty
def cohort_matrix_table(id: int, fmt: str):
    """A cohort's competency matrix as CSV or Excel."""
    matrix = matrices.cohort_matrix(_cohort(id))
    return _download(matrix.table, fmt, f"cohort-{id}")
