"""MDSN Learning & Events: the application factory."""

from __future__ import annotations

import logging
import os
import sys

from flask import Flask

import config as config_module
from lms.extensions import configure_sqlite, csrf, db, login_manager, migrate


def create_app(config_name: str | None = None, **overrides) -> Flask:
    """Build the app: config from ``config.py``, then ``LMS_*`` variables, then ``overrides``.

    No database work happens here; the schema is Alembic's job and data is the CLI's.
    """
    config_name = config_name or os.environ.get("LMS_CONFIG", "development")
    try:
        config_class = config_module.CONFIGS[config_name]
    except KeyError:
        raise SystemExit(
            f"LMS_CONFIG={config_name!r} is not one of {', '.join(config_module.CONFIGS)}"
        ) from None

    app = Flask(
        __name__,
        instance_path=str(config_module.INSTANCE_DIR),
        template_folder=str(config_module.BASE_DIR / "templates"),
    )
    app.config.from_object(config_class)
    app.config["LMS_CONFIG_NAME"] = config_name
    app.config.update(config_module.env_overrides(config_class))
    app.config.update(overrides)
    _refuse_insecure_production(app)
    os.makedirs(app.instance_path, exist_ok=True)

    db.init_app(app)
    migrate.init_app(app, db, directory=str(config_module.BASE_DIR / "migrations"))
    login_manager.init_app(app)
    csrf.init_app(app)
    with app.app_context():
        configure_sqlite(db.engine)

    _import_models()
    _register_blueprints(app)
    _register_cli(app)
    from lms.errors import register_error_handlers
    from lms.security import register_security
    from lms.web import register_template_helpers

    register_security(app)
    register_error_handlers(app)
    register_template_helpers(app)
    if not app.debug and not app.testing:
        logging.basicConfig(level=logging.INFO)
    return app


def _refuse_insecure_production(app: Flask) -> None:
    """Stop a production start-up that would sign sessions with a known or empty key."""
    if app.config["LMS_CONFIG_NAME"] != "production":
        return
    key = app.config.get("SECRET_KEY") or ""
    if key == config_module.INSECURE_SECRET or len(key) < 32:
        print(
            "Refusing to start: ProductionConfig needs a real secret key.\n"
            "Set LMS_SECRET_KEY to at least 32 random characters, e.g.\n"
            "  export LMS_SECRET_KEY=$(python -c 'import secrets; print(secrets.token_hex(32))')",
            file=sys.stderr,
        )
        raise SystemExit(2)


def _import_models() -> None:
    """Every feature's models, so the metadata (and Alembic) sees the whole schema."""
    import lms.accounts.models
    import lms.attendance.models
    import lms.courses.models
    import lms.events.models
    import lms.feedback.models
    import lms.notifications.models
    import lms.offerings.models  # noqa: F401


def _register_blueprints(app: Flask) -> None:
    from lms.accounts.views import admin_bp
    from lms.accounts.views import bp as accounts_bp
    from lms.attendance.views import bp as attendance_bp
    from lms.courses.views import bp as courses_bp
    from lms.events.views import bp as events_bp
    from lms.feedback.views import bp as feedback_bp
    from lms.home.views import bp as home_bp
    from lms.offerings.views import bp as offerings_bp

    app.register_blueprint(home_bp)
    app.register_blueprint(accounts_bp)
    app.register_blueprint(admin_bp)
    app.register_blueprint(courses_bp)
    app.register_blueprint(offerings_bp)
    app.register_blueprint(feedback_bp)
    app.register_blueprint(events_bp)
    app.register_blueprint(attendance_bp)


def _register_cli(app: Flask) -> None:
    from lms.cli import lms_cli
    from lms.feedback.cli import feedback_cli

    lms_cli.add_command(feedback_cli)
    app.cli.add_command(lms_cli)
