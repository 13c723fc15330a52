"""Learning between sessions (issue 18): materials, recordings, network resources,
registration questions, and project work, reflection and CPD.

Each part registers itself from its own ``init_app``; this package's ``init_app`` calls them."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register every part of learning between sessions on ``app``."""
