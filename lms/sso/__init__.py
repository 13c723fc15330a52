"""Sign in with an NHS account: OpenID Connect with the configured identity providers
(``LMS_OIDC_ISSUERS``), linked identities, and the admin's SSO-only email domains. Depends on
accounts (its services and its sign-in's second step), never the reverse."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """The sign-in-with pages, the buttons on the sign-in page, the admin's domains page."""
    from lms.accounts.models import Role
    from lms.sso import issuers, views
    from lms.web import add_nav_item, holds

    issuers.init_issuers(app)
    app.register_blueprint(views.bp)
    app.jinja_env.globals["sso_issuers"] = issuers.configured
    add_nav_item(app, "NHS sign-in", "sso.domains", holds(Role.ADMIN), order=92)
