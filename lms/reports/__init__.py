"""Dashboards for DSU leads, faculty and the region, and their spreadsheet downloads."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """The dashboards and their links."""
    from lms.accounts.models import Role
    from lms.reports import pages, services, views
    from lms.web import add_nav_item, holds

    app.register_blueprint(views.bp)
    pages.watch_tables(app)
    add_nav_item(app, "My ICS", "reports.my_ics", holds(Role.DSU_LEAD), order=45)
    add_nav_item(app, "Reports", "reports.region", services.can_see_region, order=65)
