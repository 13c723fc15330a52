"""Home page and ``/healthz``."""

from __future__ import annotations

import logging

from flask import Blueprint, jsonify, render_template
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from lms.extensions import db

log = logging.getLogger(__name__)
bp = Blueprint("home", __name__)



@bp.route("/")
def index():
    """What the service is and where to start."""
    return render_template("home/index.html")


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
