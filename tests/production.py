"""Settings under which the production configuration agrees to start, for tests that build a
production app (``lms.config.production_problems`` refuses it without them)."""

from __future__ import annotations

import secrets


def production_settings(**changes) -> dict:
    """Every setting production needs, as ``create_app`` overrides; ``changes`` replace some
    (a value of ``None`` leaves that setting to the configuration class)."""
    settings = {
        "SECRET_KEY": secrets.token_hex(32),
        "SQLALCHEMY_DATABASE_URI": "sqlite://",
        "ALLOW_SQLITE": True,
        "BASE_URL": "https://learning.mdsn.example.nhs.uk",
        "SMTP_HOST": "smtp.example.nhs.uk",
        "MAIL_SENDER": "MDSN Learning & Events <learning@mdsn.example.nhs.uk>",
    }
    settings.update(changes)
    return {name: value for name, value in settings.items() if value is not None}


def production_environment(**changes) -> dict[str, str]:
    """The same as ``LMS_*`` variables, for a production process started by a test."""
    names = {"SQLALCHEMY_DATABASE_URI": "DATABASE_URL"}
    return {f"LMS_{names.get(name, name)}": "1" if value is True else str(value)
            for name, value in production_settings(**changes).items()}
