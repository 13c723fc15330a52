"""Calls for talks: how huddles and the INSIGHT festival get their speakers."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """The calls' pages, who presents which session (for their slides), and
    erasing what people wrote here."""
    from lms import cache
    from lms.learning.policy import add_presenter_check
    from lms.listeners import connect
    from lms.privacy.services import Erasing
    from lms.talks import erasure, slides, views

    app.register_blueprint(views.bp)
    add_presenter_check(app, slides.is_presenter)
    connect(app, Erasing, erasure.erase_person_talks)
    # Talks given show on the learning record (kept per person, ``lms.cache``): a change
    # to what it shows renews the proposer's version and the offer's (which every record
    # is kept under too, so a co-presenter's record follows); a co-presenter confirming
    # renews theirs.
    cache.watch(app, "talk_proposal", person="proposer_id",
                columns={"title", "state", "session_id", "length_minutes", "proposer_id"})
    cache.watch(app, "talk_co_presenter", person="user_id", listings=False)
