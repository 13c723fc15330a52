"""Learning between sessions: materials, assignments and feedback, the reflective log and
CPD done elsewhere."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Each part of the feature registers its pages and listeners."""
    from lms.learning import work

    work.init_app(app)
