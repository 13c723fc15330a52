"""The admins' audit log page."""

from __future__ import annotations

from flask import Blueprint, render_template, request

from lms.accounts.models import Role
from lms.audit import sentences, services
from lms.audit.forms import AuditFilterForm
from lms.security import second_step_required
from lms.web import role_required

bp = Blueprint("audit", __name__, url_prefix="/admin")



@bp.route("/audit")
@role_required(Role.ADMIN)
@second_step_required
def log():
    """Every faculty and admin change, newest first, filtered by person, record, change and
    dates."""
    form = AuditFilterForm(request.args, models=services.models_in_log())
    form.validate()
    page = min(max(form.page.data or 1, 1), 100_000) if not form.page.errors else 1
    filters = services.AuditFilters(
        person=form.person.data or "", subject_user_id=form.subject_id,
        model=form.model.data or "", action=form.action.data or "",
        starts=form.date_value(form.starts), ends=form.date_value(form.ends))
    entries, total = services.find_entries(filters, page=page)
    return render_template("audit/log.html", form=form, lines=sentences.describe(entries),
                           total=total,
                           page=page, per_page=services.PER_PAGE, filters=filters)
