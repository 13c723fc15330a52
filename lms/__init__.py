"""MDSN Learning & Events: the application factory."""

from __future__ import annotations

import logging
import os
import sys

from flask import Flask, Request
from werkzeug.datastructures import ImmutableMultiDict, iter_multi_items
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter

from lms import config as config_module
from lms.extensions import (
    configure_postgresql,
    configure_sqlite,
    csrf,
    db,
    login_manager,
    migrate,
    track_writes,
)


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
        configure_postgresql(db.engine)  # replaces dead connections at checkout, no ping

    _import_models()
    app.request_class = TextRequest
    app.url_map.converters["int"] = DatabaseIdConverter
    track_writes(app)
    _register_cli(app)
    _init_features(app)
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
    """Stop a production start-up with unsafe settings (a weak secret key, no database or a
    SQLite one, no https:// base URL, no mail server): every reason printed, exit status 2.
    See ``lms.config.production_problems``."""
    if app.config["LMS_CONFIG_NAME"] != "production":
        return
    problems = config_module.production_problems(app.config)
    if problems:
        print("Refusing to start: the production configuration is not safe yet.\n"
              + "\n".join(f"  - {problem}" for problem in problems), file=sys.stderr)
        raise SystemExit(2)


def _import_models() -> None:
    """Every feature's models, so the metadata (and Alembic) sees the whole schema."""
    import lms.accounts.models
    import lms.api.models
    import lms.attendance.models
    import lms.audit.models
    import lms.cache.models
    import lms.certificates.models
    import lms.competencies.models
    import lms.courses.models
    import lms.events.models
    import lms.feedback.models
    import lms.learning.assignments_models
    import lms.learning.materials_models
    import lms.learning.questions_models
    import lms.learning.reflection_models
    import lms.learning.resources_models
    import lms.messages.models
    import lms.notifications.models
    import lms.observability.models
    import lms.offerings.models
    import lms.sso.models
    import lms.talks.models  # noqa: F401


def _init_features(app: Flask) -> None:
    """Each feature registers its pages, links, commands and listeners on ``app``, in the
    order the data flows (so a listener's order is that of the features)."""
    import lms.accounts
    import lms.api
    import lms.attendance
    import lms.audit
    import lms.cache
    import lms.certificates
    import lms.competencies
    import lms.courses
    import lms.events
    import lms.feedback
    import lms.home
    import lms.learning
    import lms.messages
    import lms.notifications
    import lms.observability
    import lms.offerings
    import lms.privacy
    import lms.reports
    import lms.search
    import lms.site
    import lms.sso
    import lms.talks

    for feature in (lms.cache, lms.accounts, lms.notifications, lms.offerings, lms.courses,
                    lms.events, lms.attendance, lms.feedback, lms.certificates, lms.competencies,
                    lms.reports, lms.api, lms.audit, lms.privacy, lms.sso, lms.home,
                    lms.search, lms.site, lms.messages, lms.learning, lms.observability, lms.talks):
        feature.init_app(app)


def _register_cli(app: Flask) -> None:
    """``flask lms ...``: this app's own group (features add theirs in ``init_app``)."""
    from lms.bench_cli import seed_bench_command
    from lms.cli import commands_of

    commands_of(app).add_command(seed_bench_command)
