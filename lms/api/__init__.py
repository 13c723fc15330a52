"""The JSON API (v1) for analysts' tools and other systems, with its OpenAPI document, and
the personal API tokens people manage from their profile. The API is the top floor: it calls
every feature's services and nothing imports it."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """The API and the token pages of people's profiles."""
    from lms.api import pages, views

    app.register_blueprint(views.bp)
    app.register_blueprint(pages.bp)
