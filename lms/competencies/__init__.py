"""Competencies: the framework, what each course builds, evidence, and the learning record."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import Flask

if TYPE_CHECKING:
    from lms.attendance.completion import Completed


def init_app(app: Flask) -> None:
    """The competency pages, and evidence for the competencies a completed course builds."""
    from lms import cache
    from lms.attendance.completion import Completed
    from lms.competencies import views
    from lms.listeners import connect

    app.register_blueprint(views.bp)
    connect(app, Completed, record_course_evidence)
    # The learning record is kept per person (``lms.cache``): their evidence renews it; a
    # competency (its name, retired or not) shows on every record and assignment.
    cache.watch(app, "competency_evidence", person="user_id", listings=False)
    cache.watch(app, "competency", listings=False)


def record_course_evidence(event: Completed) -> None:
    """Completing a course adds competency evidence, in the completion's transaction."""
    from lms.competencies import services

    services.record_course_evidence(event.completion)
