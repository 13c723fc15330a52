"""Courses: the catalogue (programmes and short courses) and their cohorts."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """The catalogue and cohort pages, their links, and the tables the page cache watches
    for them."""
    from lms import cache
    from lms.courses import services, views
    from lms.web import add_nav_item, add_offering_page, everyone

    app.register_blueprint(views.bp)
    add_nav_item(app, "Courses", "courses.catalogue", everyone, order=10)
    add_nav_item(app, "Manage courses", "courses.manage_courses", services.can_manage_courses,
                 order=60)
    add_offering_page(app, "cohort", "courses.cohort")
    # A cohort's page is kept under its offering's version (``pages.cohort_page``).
    cache.page_reads(app, "courses.cohort", cache.offering)
    # A course is shown by every page of its cohorts: a change to one renews everything.
    cache.watch(app, "course", cascades=True)
    cache.watch(app, "cohort", offering="id", cascades=True)
