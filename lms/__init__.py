"""MDSN Learning & Events: the application factory."""

from __future__ import annotations

import logging
import os
import sys

from flask import Flask, Request
from werkzeug.datastructures import ImmutableMultiDict, iter_multi_items
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter

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
    if str(app.config["SQLALCHEMY_DATABASE_URI"]).startswith("sqlite"):
        # A SQLite file never drops a connection: pinging it at every checkout is pure cost
        # (PostgreSQL keeps the ping, which replaces connections a restart killed).
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {
            **app.config.get("SQLALCHEMY_ENGINE_OPTIONS", {}), "pool_pre_ping": False}
    os.makedirs(app.instance_path, exist_ok=True)

    db.init_app(app)
    migrate.init_app(app, db, directory=str(config_module.BASE_DIR / "migrations"))
    login_manager.init_app(app)
    csrf.init_app(app)
    with app.app_context():
        configure_sqlite(db.engine)

    _import_models()
    app.request_class = TextRequest
    app.url_map.converters["int"] = DatabaseIdConverter
    _register_blueprints(app)
    _connect_listeners(app)
    _register_cli(app)
    from lms.errors import register_error_handlers
    from lms.security import register_security
    from lms.web import register_template_helpers

    register_security(app)
    register_error_handlers(app)
    register_template_helpers(app)
    proxies = int(app.config.get("TRUSTED_PROXIES") or 0)
    if proxies > 0:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=0)
    if not app.debug and not app.testing:
        logging.basicConfig(level=logging.INFO)
    return app


class _WithoutNul(ImmutableMultiDict):
    """Form and query values with NUL characters taken out: nobody types one, and PostgreSQL
    refuses them in text, so one sent on purpose would otherwise fail the query (a 500).
    Uploaded files are left as they are."""

    def __init__(self, mapping=None):
        if mapping is not None:
            mapping = [(key.replace("\x00", "") if isinstance(key, str) else key,
                        value.replace("\x00", "") if isinstance(value, str) else value)
                       for key, value in iter_multi_items(mapping)]
        super().__init__(mapping)


class TextRequest(Request):
    parameter_storage_class = _WithoutNul


class DatabaseIdConverter(IntegerConverter):
    """``<int:...>`` in a URL: at most what an ``INTEGER`` column holds. A bigger number is
    no page (404), rather than an overflow in the database driver (500)."""

    def __init__(self, map, fixed_digits=0, min=None, max=None, signed=False):  # noqa: A002
        super().__init__(map, fixed_digits, min, 2**31 - 1 if max is None else max, signed)


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
    import lms.api.models
    import lms.attendance.models
    import lms.audit.models
    import lms.certificates.models
    import lms.competencies.models
    import lms.courses.models
    import lms.events.models
    import lms.feedback.models
    import lms.notifications.models
    import lms.offerings.models  # noqa: F401


def _register_blueprints(app: Flask) -> None:
    from lms.accounts.views import admin_bp
    from lms.accounts.views import bp as accounts_bp
    from lms.api.pages import bp as api_tokens_bp
    from lms.api.views import bp as api_bp
    from lms.attendance.views import bp as attendance_bp
    from lms.audit.services import install as install_audit
    from lms.audit.views import bp as audit_bp
    from lms.certificates import connect_completion
    from lms.certificates.views import bp as certificates_bp
    from lms.competencies.services import register_completion_hook
    from lms.competencies.views import bp as competencies_bp
    from lms.courses.views import bp as courses_bp
    from lms.events.views import bp as events_bp
    from lms.feedback.after_session import install as install_feedback_requests
    from lms.feedback.views import bp as feedback_bp
    from lms.home.views import bp as home_bp
    from lms.offerings.stamp import install as install_offer_stamp
    from lms.offerings.views import bp as offerings_bp
    from lms.privacy.views import bp as privacy_bp
    from lms.reports.views import bp as reports_bp

    app.register_blueprint(home_bp)
    app.register_blueprint(accounts_bp)
    app.register_blueprint(admin_bp)
    app.register_blueprint(courses_bp)
    app.register_blueprint(offerings_bp)
    app.register_blueprint(feedback_bp)
    app.register_blueprint(events_bp)
    app.register_blueprint(attendance_bp)
    app.register_blueprint(competencies_bp)
    app.register_blueprint(certificates_bp)
    app.register_blueprint(reports_bp)
    app.register_blueprint(api_bp)
    app.register_blueprint(api_tokens_bp)
    app.register_blueprint(audit_bp)
    app.register_blueprint(privacy_bp)
    # Every faculty and admin change is written to the audit log, in its own transaction.
    install_audit()
    # Pages kept per process are kept under the offer stamp; changes write a new one.
    install_offer_stamp()
    # Completing a course adds competency evidence, in the completion's transaction.
    register_completion_hook()
    # Completing anything issues its certificate, in the completion's transaction too.
    connect_completion()
    # The reminder sweep asks for feedback after sessions that have an open survey.
    install_feedback_requests()


def _connect_listeners(app: Flask) -> None:
    """Each feature connects its listeners (``lms.listeners``); the order here is the order
    they run."""
    import lms.events
    import lms.offerings

    # Calendars follow every change to a place (REQUEST / CANCEL, a growing SEQUENCE).
    lms.offerings.init_app(app)
    # Leaving the festival gives back its session bookings, in the same transaction.
    lms.events.init_app(app)


def _register_cli(app: Flask) -> None:
    from lms.bench_cli import seed_bench_command
    from lms.certificates.cli import certificates_cli
    from lms.cli import lms_cli
    from lms.feedback.cli import feedback_cli

    lms_cli.add_command(feedback_cli)
    lms_cli.add_command(certificates_cli)
    lms_cli.add_command(seed_bench_command)
    app.cli.add_command(lms_cli)
