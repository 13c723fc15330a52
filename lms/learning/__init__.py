"""Learning between sessions (issue 18): materials, recordings, network resources,
registration questions, and project work, reflection and CPD.

Each part's views add their routes to the one blueprint (``lms.learning.blueprint``); this
package's ``init_app`` imports them, registers the blueprint and wires the rest."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register every part of learning between sessions on ``app``."""
    from lms import cache
    from lms.learning import (  # noqa: F401 - each adds its routes to the blueprint
        assignments_kept,
        materials_views,
        questions_views,
        resources_views,
        work,
    )
    from lms.learning.blueprint import bp
    from lms.learning.marking_kept import watch_tables as watch_marking
    from lms.learning.questions import questions_page, require_answers
    from lms.learning.storage import init_storage
    from lms.offerings.booking_steps import BookingStep, add_booking_step

    init_storage(app)
    work.init_app(app)
    add_booking_step(app, BookingStep(page=questions_page, check=require_answers))
    app.register_blueprint(bp)
    # An offering's page shows its public materials, and a learner's home the newest of
    # their places' (kept in the page cache under the offer): a material renews both.
    cache.watch(app, "learning_material", offering="offering_id")
    cache.page_reads(app, "learning.offering_materials", cache.offering, arg="offering_id")
    # Kept per person (``lms.cache``): a learner's home (work due), the learning record (CPD
    # done elsewhere), the assignment pages (the work, its marking, extensions, groups). Work
    # set or a group formed renews its offering and the offer; work handed in, or a group
    # place, the person. Group work names no person, nor does an assignment's competency,
    # and an extension moves the deadline of the person's whole group: those renew all.
    cache.watch(app, "cpd_activity", person="user_id", listings=False)
    cache.watch(app, "reflection_entry", person="user_id", listings=False)
    cache.watch(app, "assignment", offering="offering_id")
    cache.also_renews(app, "assignment", assignments_kept.SCOPE + ":{id}")
    cache.page_reads(app, "assignments.assignment", assignments_kept.address_reads)
    cache.watch(app, "assignment_competency", listings=False)
    cache.watch(app, "project_group", offering="offering_id", cascades=True)
    cache.watch(app, "submission", person="user_id", listings=False)
    # A group place is part of its person and of the cohort: a member joining or leaving
    # changes who the others' group is (kept per cohort and person).
    cache.watch(app, "project_group_member", person="user_id", offering="offering_id",
                listings=False)
    cache.watch(app, "assignment_extension", listings=False)
    watch_marking(app)
