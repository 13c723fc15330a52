"""Configuration: classes chosen by LMS_CONFIG, overridden by LMS_* variables."""

import secrets
import string

import pytest

import config
from lms import create_app


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
    overrides = {} if key is None else {"SECRET_KEY": key}
    with pytest.raises(SystemExit) as exit_info:
        create_app("production", SQLALCHEMY_DATABASE_URI="sqlite://", **overrides)
    assert exit_info.value.code == 2
    assert "LMS_SECRET_KEY" in capsys.readouterr().err


def test_production_starts_with_a_real_secret_key(monkeypatch):
    monkeypatch.setenv("LMS_SECRET_KEY", secrets.token_hex(32))
    app = create_app("production", SQLALCHEMY_DATABASE_URI="sqlite://")
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
        create_app("production", SQLALCHEMY_DATABASE_URI="sqlite://", SECRET_KEY=key)
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
    app = create_app("production", SQLALCHEMY_DATABASE_URI="sqlite://",
                     SECRET_KEY=make_key())
    assert app.config["SESSION_COOKIE_SECURE"] is True
