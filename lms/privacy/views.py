"""Your data (a copy to download) and, for admins, erasing a person."""

from __future__ import annotations

from flask import Blueprint, Response, flash, redirect, render_template, url_for
from flask_login import current_user, login_required

from lms.accounts.models import Role
from lms.accounts.services import get_user
from lms.errors import DomainError
from lms.extensions import db
from lms.privacy import services
from lms.privacy.forms import EraseForm
from lms.security import second_step_required
from lms.web import attempt, role_required, show_error

bp = Blueprint("privacy", __name__)


@bp.route("/profile/your-data")
@login_required
def your_data():
    """What we hold and the two ways to download it."""
    return render_template("privacy/your_data.html")


@bp.route("/profile/your-data.<any(json, zip):fmt>")
@login_required
def download(fmt: str):
    """Everything held about the signed-in person, as JSON or as a zip of CSV files."""
    data = services.personal_data(current_user)
    db.session.rollback()
    if fmt == "json":
        body, mimetype = services.as_json(data), "application/json"
    else:
        body, mimetype = services.as_zip(data), "application/zip"
    filename = services.export_filename(current_user, fmt)
    return Response(body, mimetype=mimetype, headers={
        "Content-Disposition": f'attachment; filename="{filename}"',
        "Cache-Control": "no-store"})


@bp.route("/admin/users/<int:user_id>/erase", methods=["GET", "POST"])
@role_required(Role.ADMIN)
@second_step_required
def erase(user_id: int):
    """Confirm, then erase a person's personal data."""
    person = get_user(user_id)
    form = EraseForm()
    if form.validate_on_submit():
        if not form.understood.data:
            form.understood.errors = ["Confirm that you understand this cannot be undone"]
        else:
            outcome = attempt(services.erase_person, current_user, person)
            if isinstance(outcome, DomainError):
                show_error(form, outcome)
            else:
                flash("The person's personal data has been erased. Their records are kept, "
                      "unnamed, so reports still count them.", "success")
                return redirect(url_for("admin.user", user_id=user_id))
    return render_template("privacy/erase.html", form=form, person=person,
                           erased=services.is_erased(person),
                           preview=services.preview_erasure(person))
