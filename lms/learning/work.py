"""Project work and reflection: assignments, groups, the reflective log and CPD done
elsewhere (helper "work" of ``lms.learning``)."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """The pages, their links in the header, erasure of what people wrote here, and the
    completion rule's question about work."""
    from lms.attendance.completion import set_work_requirement
    from lms.learning import assignments_views, reflection_views
    from lms.learning.assignments import met_everything
    from lms.listeners import connect
    from lms.privacy.services import Erasing
    from lms.web import add_nav_item, signed_in

    app.register_blueprint(assignments_views.bp)
    app.register_blueprint(reflection_views.bp)
    add_nav_item(app, "Reflective log", "reflection.log", signed_in, order=60)
    connect(app, Erasing, erase_work)
    set_work_requirement(app, met_everything)


def erase_work(event) -> None:
    """On erasure: the person's own submissions with their files, their reflections and
    comments, their CPD and its evidence, their extensions and group places. Work handed in
    for a group stays with the group (it is the others' work too), without their name."""
    from lms.learning.erasure import erase_person_work

    erase_person_work(event.person_id)
