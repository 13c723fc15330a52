"""The JSON API (v1) for analysts' tools and other systems, with its OpenAPI document, and
the personal API tokens people manage from their profile. The API is the top floor: it calls
every feature's services and nothing imports it."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """The API and the token pages of people's profiles."""
    from lms.accounts.events import PasswordChanged
    from lms.api import pages, services, views
    from lms.extensions import csrf
    from lms.listeners import connect

    app.register_blueprint(views.bp)
    # Token calls need no CSRF token; browser sessions are checked by
    # ``auth.check_may_change``, which answers with problem details rather than the site's
    # HTML error page. (Flask-WTF keeps exemptions on its one ``csrf``, for every app.)
    csrf.exempt(views.bp)
    app.register_blueprint(pages.bp)
    # A password change (with its box ticked) revokes the person's tokens.
    connect(app, PasswordChanged, services.revoke_all_on_password_change)
