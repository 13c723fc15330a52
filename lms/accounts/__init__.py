"""Accounts: organisations, people, roles, sign-up, sign-in and profiles."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Sign-up, sign-in, profiles, organisation changes and the admin's user pages, and their
    links; ``flask lms throttles`` and ``flask lms create-admin``."""
    from lms.accounts import kept, organisation_change_views, services, views
    from lms.accounts.cli import create_admin_command, throttles_cli
    from lms.accounts.models import Role
    from lms.cli import commands_of
    from lms.extensions import login_manager
    from lms.web import add_nav_item, holds, signed_out

    app.register_blueprint(views.bp)
    app.register_blueprint(views.admin_bp)
    app.register_blueprint(organisation_change_views.bp)
    commands_of(app).add_command(throttles_cli)
    commands_of(app).add_command(create_admin_command)
    # Flask-Login keeps these on its one manager, the same for every app.
    login_manager.login_view = "accounts.sign_in"
    login_manager.login_message = "Sign in to see this page"
    login_manager.login_message_category = "info"
    login_manager.user_loader(services.load_user_from_session)
    kept.watch_accounts(app)  # the signed-in person kept between requests
    add_nav_item(app, "Users", "admin.users", holds(Role.ADMIN), order=90)
    add_nav_item(app, "Moves", "organisation_changes.requests",
                 lambda user: holds(Role.DSU_LEAD)(user) or holds(Role.ADMIN)(user), order=91)
    add_nav_item(app, "Sign in", "accounts.sign_in", signed_out, order=95)
    add_nav_item(app, "Create an account", "accounts.sign_up", signed_out, order=96)
