"""Configuration: classes chosen by LMS_CONFIG, overridden by LMS_* variables."""

import secrets
import string

import pytest

from lms import config, create_app
from tests.production import production_settings


def test_env_overrides_convert_to_the_type_of_the_default():
    overrides = config.env_overrides(
        config.Config,
        {
            "LMS_DATABASE_URL": "postgresql+psycopg://db/lms",
            "LMS_SMTP_PORT": "2525",
            "LMS_SMTP_STARTTLS": "true",
            "LMS_BASE_URL": "https://learning.mdsn.example",
            "LMS_CONFIG": "production",
            "OTHER": "ignored",
        },
    )
    assert overrides == {
        "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://db/lms",
        "SMTP_PORT": 2525,
        "SMTP_STARTTLS": True,
        "BASE_URL": "https://learning.mdsn.example",
    }


def test_lms_config_chooses_the_class(monkeypatch, tmp_path):
    monkeypatch.setenv("LMS_CONFIG", "testing")
    monkeypatch.setenv("LMS_DATABASE_URL", f"sqlite:///{tmp_path / 'x.sqlite3'}")
    app = create_app()
    assert app.testing
    assert app.config["MAIL_BACKEND"] == "memory"
    assert app.config["SQLALCHEMY_DATABASE_URI"].endswith("x.sqlite3")


def test_unknown_config_name_is_refused():
    with pytest.raises(SystemExit, match="not one of"):
        create_app("staging")


@pytest.mark.parametrize("key", [None, "", config.INSECURE_SECRET, "short"])
def test_production_refuses_to_start_without_a_real_secret_key(monkeypatch, capsys, key):
    monkeypatch.delenv("LMS_SECRET_KEY", raising=False)
    with pytest.raises(SystemExit) as exit_info:
        create_app("production", **production_settings(SECRET_KEY=key))
    assert exit_info.value.code == 2
    assert "LMS_SECRET_KEY" in capsys.readouterr().err


def test_production_starts_with_a_real_secret_key(monkeypatch):
    monkeypatch.setenv("LMS_SECRET_KEY", secrets.token_hex(32))
    app = create_app("production", **production_settings(SECRET_KEY=None))
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["MAIL_BACKEND"] == "smtp"


WEAK_BUT_LONG = {
    "one character repeated": "x" * 64,
    "a short pattern repeated": "ab12" * 16,
    "the alphabet and digits in order": string.ascii_lowercase + string.digits,
    "a descending run": "".join(chr(c) for c in range(ord("z"), ord("z") - 40, -1)),
    "digits counting up": "".join(str(n % 10) for n in range(64)),
    "a long key of few characters": "aabbabbbaabababbbaababaababbabaabbbababaaab",
    "a word padded out": "password" + "1" * 40,
    "a known example value": "your-secret-key",
}


@pytest.mark.parametrize("key", WEAK_BUT_LONG.values(), ids=WEAK_BUT_LONG.keys())
def test_production_refuses_a_long_but_guessable_secret_key(monkeypatch, capsys, key):
    """Length alone passed ``"x" * 64``: the check now estimates how random the key is."""
    monkeypatch.delenv("LMS_SECRET_KEY", raising=False)
    with pytest.raises(SystemExit) as exit_info:
        create_app("production", **production_settings(SECRET_KEY=key))
    assert exit_info.value.code == 2
    message = capsys.readouterr().err
    assert "Refusing to start" in message and "weak:" in message
    assert "secrets.token_hex(32)" in message


@pytest.mark.parametrize("make_key", [lambda: secrets.token_hex(32),
                                      lambda: secrets.token_urlsafe(32),
                                      lambda: secrets.token_urlsafe(48)])
def test_production_accepts_every_properly_random_secret_key(monkeypatch, make_key):
    """Hundreds of fresh keys from ``secrets``: none is wrongly refused."""
    monkeypatch.delenv("LMS_SECRET_KEY", raising=False)
    for _ in range(300):
        assert config.weak_secret_reason(make_key()) is None
    app = create_app("production", **production_settings(SECRET_KEY=make_key()))
    assert app.config["SESSION_COOKIE_SECURE"] is True


UNSAFE_PRODUCTION = {
    "no database": ({"SQLALCHEMY_DATABASE_URI": None}, "LMS_DATABASE_URL"),
    "a SQLite file not allowed": ({"ALLOW_SQLITE": None}, "LMS_ALLOW_SQLITE=1"),
    "no base URL": ({"BASE_URL": None}, "LMS_BASE_URL must be the service's https://"),
    "a plain http base URL": ({"BASE_URL": "http://learning.example.nhs.uk"},
                              "'http://learning.example.nhs.uk'"),
    "no mail server": ({"SMTP_HOST": None}, "LMS_SMTP_HOST"),
    "no sender": ({"MAIL_SENDER": None}, "LMS_MAIL_SENDER"),
    "emails kept on disk": ({"MAIL_BACKEND": "file"}, "LMS_MAIL_BACKEND=smtp"),
}


@pytest.mark.parametrize(("change", "named"), UNSAFE_PRODUCTION.values(),
                         ids=UNSAFE_PRODUCTION.keys())
def test_production_refuses_each_unsafe_default(monkeypatch, capsys, change, named):
    for variable in ("LMS_DATABASE_URL", "LMS_BASE_URL", "LMS_SMTP_HOST", "LMS_MAIL_SENDER",
                     "LMS_ALLOW_SQLITE", "LMS_MAIL_BACKEND", "LMS_SECRET_KEY"):
        monkeypatch.delenv(variable, raising=False)
    with pytest.raises(SystemExit) as exit_info:
        create_app("production", **production_settings(**change))
    assert exit_info.value.code == 2
    message = capsys.readouterr().err
    assert message.startswith("Refusing to start")
    assert named in message
    assert message.count("\n  - ") == 1, "only the one unsafe setting is reported"


def test_production_lists_every_reason_at_once(monkeypatch, capsys):
    """A bare ``LMS_CONFIG=production`` names everything missing in one go, not one per try."""
    for variable in ("LMS_DATABASE_URL", "LMS_BASE_URL", "LMS_SMTP_HOST", "LMS_MAIL_SENDER",
                     "LMS_SECRET_KEY"):
        monkeypatch.delenv(variable, raising=False)
    with pytest.raises(SystemExit):
        create_app("production")
    message = capsys.readouterr().err
    for named in ("LMS_SECRET_KEY", "LMS_DATABASE_URL", "LMS_BASE_URL", "LMS_SMTP_HOST",
                  "LMS_MAIL_SENDER"):
        assert named in message
    assert message.count("\n  - ") == 5


def test_production_starts_on_postgresql_with_https_and_a_mail_relay(monkeypatch):
    monkeypatch.delenv("LMS_ALLOW_SQLITE", raising=False)
    app = create_app("production", **production_settings(
        ALLOW_SQLITE=None, SQLALCHEMY_DATABASE_URI="postgresql+psycopg://lms@db.invalid/lms"))
    assert app.config["BASE_URL"].startswith("https://")
    assert app.config["SMTP_HOST"] == "smtp.example.nhs.uk"
