"""Learning between sessions (issue 18): materials, recordings, network resources,
registration questions, and project work, reflection and CPD.

Each part's views add their routes to the one blueprint (``lms.learning.blueprint``); this
package's ``init_app`` imports them, registers the blueprint and wires the rest."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register every part of learning between sessions on ``app``."""
    from lms.learning import materials_views  # noqa: F401 - adds its routes to the blueprint
    from lms.learning.blueprint import bp
    from lms.learning.storage import init_storage

    init_storage(app)
    app.register_blueprint(bp)
