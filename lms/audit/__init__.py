"""The audit log: who changed what, when, with the values before and after."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """The audit log page and its link, and the watch on every change made in ``app``."""
    from lms.accounts.models import Role
    from lms.audit import services, views
    from lms.web import add_nav_item, holds

    app.register_blueprint(views.bp)
    add_nav_item(app, "Audit log", "audit.log", holds(Role.ADMIN), order=92)
    # Every faculty and admin change is written to the audit log, in its own transaction.
    services.install(app)
