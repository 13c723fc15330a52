"""UK GDPR: a person's own data, and erasure by an admin."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """The own-data and erasure pages."""
    from sqlalchemy import event
    from sqlalchemy.orm import Session

    from lms.privacy import leftovers, views

    app.register_blueprint(views.bp)
    # Once an erasure commits, SQLite's log loses the pages it changed (see the function).
    if not event.contains(Session, "after_commit", leftovers.after_commit):
        event.listen(Session, "after_commit", leftovers.after_commit)
