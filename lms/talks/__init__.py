"""Calls for talks: how huddles and the INSIGHT festival get their speakers."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """The calls' pages, who presents which session (for their slides), and
    erasing what people wrote here."""
    from lms.learning.policy import add_presenter_check
    from lms.listeners import connect
    from lms.privacy.services import Erasing
    from lms.talks import erasure, slides, views

    app.register_blueprint(views.bp)
    add_presenter_check(app, slides.is_presenter)
    connect(app, Erasing, erasure.erase_person_talks)
