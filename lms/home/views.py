"""Home page and ``/healthz``."""

from __future__ import annotations

import logging

from flask import Blueprint, jsonify, render_template
from flask_login import current_user
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from lms.extensions import db
from lms.home import pages, staff
from lms.web import EmptyForm

log = logging.getLogger(__name__)
bp = Blueprint("home", __name__)


@bp.route("/")
def index():
    """Each person's home: a section for each of their roles (what needs their action
    first), then what is coming up; signed out, what the service is and what is coming up."""
    user = current_user
    signed_in = user.is_authenticated
    sections = {
        "faculty": staff.faculty_home(user) if signed_in and user.is_faculty else None,
        "lead": staff.lead_home(user) if signed_in and user.is_dsu_lead else None,
        "admin": staff.admin_home(user) if signed_in and user.is_admin else None}
    # The staff sections' forms take this one; a learner's kept cards carry their own token.
    form = EmptyForm() if any(sections.values()) else None
    return render_template(
        "home/index.html", form=form,
        learner=pages.learner_home(user) if pages.is_learner(user) else None,
        coming_up=pages.coming_up_if_reachable(user), **sections)


@bp.route("/healthz")
def healthz():
    """200 when the database answers, 503 when it does not."""
    try:
        db.session.execute(text("SELECT 1"))
    except SQLAlchemyError as error:
        log.error("health check: database unreachable: %s", error)
        db.session.rollback()
        return jsonify(status="unavailable", database="unreachable"), 503
    db.session.rollback()
    return jsonify(status="ok", database="ok")
