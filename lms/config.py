"""Configuration classes, chosen by ``LMS_CONFIG`` and overridden by ``LMS_*`` variables."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

# The repository (or installed tree) holding templates/, migrations/ and instance/.
BASE_DIR = Path(__file__).resolve().parent.parent
INSTANCE_DIR = BASE_DIR / "instance"
INSECURE_SECRET = "dev-only-not-secret"  # noqa: S105 - refused by ProductionConfig
SECRET_MIN_LENGTH = 32
SECRET_MIN_BITS = 128
# Values people paste from examples and tutorials: refused whatever their length.
KNOWN_WEAK_SECRETS = frozenset({
    INSECURE_SECRET, "changeme", "change-me", "secret", "secret-key", "secretkey", "password",
    "your-secret-key", "supersecret", "super-secret-key", "development", "dev", "test",
})
_CHARACTER_CLASSES = ((r"[a-z]", 26), (r"[A-Z]", 26), (r"[0-9]", 10), (r"[^a-zA-Z0-9]", 33))


def weak_secret_reason(key: str) -> str | None:
    """Why ``key`` is not fit to sign production sessions, or ``None`` if it is.

    Strength, not only length: a known example value, a short key, a key made of a few repeated
    characters or of a run (``abcd...``, ``1234...``, ``aaaa...``), or one whose estimated
    randomness is under ``SECRET_MIN_BITS``. The estimate is generous to the key: each character
    counts for no more than the alphabet of the character classes it uses allows, nor more than
    its distinct characters allow (``"ab" * 32`` is two symbols, not 64)."""
    import math
    import re

    if not key:
        return "it is empty"
    folded = key.strip().lower()
    if folded in KNOWN_WEAK_SECRETS or re.sub(r"[^a-z0-9]", "", folded) in {
            re.sub(r"[^a-z0-9]", "", weak) for weak in KNOWN_WEAK_SECRETS}:
        return "it is a well-known example value"
    if len(key) < SECRET_MIN_LENGTH:
        return f"it is shorter than {SECRET_MIN_LENGTH} characters"
    for period in range(1, len(key) // 2 + 1):
        if len(key) % period == 0 and key == key[:period] * (len(key) // period):
            return "it repeats the same few characters"
    steps = [ord(b) - ord(a) for a, b in zip(key, key[1:], strict=False)]
    if sum(abs(step) <= 1 for step in steps) * 2 > len(steps) or len(set(steps)) <= 2:
        # Random text rarely has a neighbour one apart; runs such as abcd, 1234 or aaaa do.
        return "it is a sequence or run of characters (such as abcd..., 1234... or aaaa...)"
    alphabet = sum(size for pattern, size in _CHARACTER_CLASSES if re.search(pattern, key))
    distinct = len(set(key))
    bits = len(key) * math.log2(min(alphabet, distinct))
    if bits < SECRET_MIN_BITS or distinct < 10:
        return "it is not random enough (too few different characters)"
    return None


class Config:
    """Settings shared by every environment."""

    SECRET_KEY = INSECURE_SECRET
    SQLALCHEMY_DATABASE_URI = f"sqlite:///{INSTANCE_DIR / 'lms.sqlite3'}"
    # No ``pool_pre_ping``: a SQLite file never drops a connection, and PostgreSQL's dead
    # connections are found at checkout without a round trip (``configure_postgresql``).
    SQLALCHEMY_ENGINE_OPTIONS: dict = {}
    BASE_URL = "http://127.0.0.1:5000"
    TIMEZONE = "Europe/London"

    MAIL_BACKEND = "file"  # file | smtp | memory
    MAIL_OUTBOX_DIR = str(INSTANCE_DIR / "outbox")
    MAIL_SENDER = "MDSN Learning & Events <no-reply@mdsn.example.nhs.uk>"
    SMTP_HOST = "localhost"
    SMTP_PORT = 25
    SMTP_USERNAME = ""
    SMTP_PASSWORD = ""
    SMTP_STARTTLS = False
    SMTP_TIMEOUT = 10
    OUTBOX_MAX_ATTEMPTS = 8
    # A sender's claim on a row it is sending, renewed while it sends: a crashed sender's row
    # is sent by another within this long (see lms/notifications/delivery.py).
    OUTBOX_LEASE_SECONDS = 60
    OUTBOX_BATCH = 200

    PASSWORD_HASH_METHOD = "scrypt"  # noqa: S105 - a hashing method, not a password
    SIGN_IN_WINDOW_MINUTES = 15
    SIGN_IN_MAX_PER_ACCOUNT = 5
    SIGN_IN_MAX_PER_ADDRESS = 30
    # The other throttled doors (lms/accounts/throttle.py), in the same window. Addresses
    # get room for a trust's staff behind one shared address (a webinar's sign-ups).
    FORGOT_PASSWORD_MAX_PER_ACCOUNT = 3
    FORGOT_PASSWORD_MAX_PER_ADDRESS = 100
    SIGN_UP_MAX_PER_ACCOUNT = 3
    SIGN_UP_MAX_PER_ADDRESS = 100
    RESEND_CONFIRMATION_MAX_PER_ACCOUNT = 3
    RESEND_CONFIRMATION_MAX_PER_ADDRESS = 100
    CHECK_IN_MAX_PER_ACCOUNT = 10
    CHECK_IN_MAX_PER_ADDRESS = 300
    VERIFY_TOKEN_HOURS = 48
    RESET_TOKEN_MINUTES = 60

    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    PERMANENT_SESSION_LIFETIME = timedelta(hours=12)
    SESSION_IDLE_SECONDS = 30 * 60
    SESSION_MAX_SECONDS = 12 * 3600
    WTF_CSRF_TIME_LIMIT = 12 * 3600
    MAX_CONTENT_LENGTH = 10 * 1024 * 1024

    # Uploaded files (lms/learning/storage.py): "local" keeps them under UPLOAD_DIR (default
    # instance/uploads, outside the web root); "s3" in an S3-compatible object store.
    STORAGE = "local"
    UPLOAD_DIR = ""
    UPLOAD_MAX_BYTES = 20 * 1024 * 1024
    S3_BUCKET = ""
    S3_ENDPOINT_URL = ""
    S3_REGION = ""
    S3_ACCESS_KEY = ""
    S3_SECRET_KEY = ""

    SCHEDULER_IN_PROCESS = False
    # Log lines: "text" (with the request id) or "json" (one object per line; production).
    LOG_FORMAT = "text"
    # Who may read /metrics: addresses or networks (e.g. "127.0.0.1,10.0.0.0/8"), and/or
    # callers sending "Authorization: Bearer <METRICS_TOKEN>". Neither set: nobody (404).
    METRICS_ALLOW = ""
    METRICS_TOKEN = ""
    # Sign in with an NHS account (lms/sso; README, "Sign in with an NHS account"): the identity
    # providers as a JSON list of {"name", "label", "issuer", "client_id", "client_secret"}.
    OIDC_ISSUERS = ""
    OIDC_TIMEOUT_SECONDS = 5
    OIDC_JWKS_MAX_AGE_SECONDS = 24 * 3600
    OIDC_CLOCK_LEEWAY_SECONDS = 60
    # How many reverse proxies (e.g. nginx) stand in front of gunicorn and set X-Forwarded-For
    # and X-Forwarded-Proto. 0 trusts none of those headers; set LMS_TRUSTED_PROXIES=1 behind
    # one proxy, so throttles see each person's address rather than the proxy's.
    TRUSTED_PROXIES = 0
    DEMO_PASSWORD = "mdsn-demo-2026"  # noqa: S105 - demo accounts only; seed refuses in production
    # The demo admin's authenticator secret (two-step verification is required for admins):
    # add it to an authenticator app by hand, or print a code with
    # ``python -c 'import pyotp; print(pyotp.TOTP("MDSNDEMOADMINTOTPSECRET234567ABC").now())'``.
    DEMO_TOTP_SECRET = "MDSNDEMOADMINTOTPSECRET234567ABC"  # noqa: S105 - demo only


def production_problems(settings) -> list[str]:
    """Everything that makes ``settings`` (an app's config) unsafe to run in production, each
    as a sentence naming the variable that fixes it; empty when it is safe. The one place
    ``create_app`` asks, so every reason is printed at once."""
    problems = []
    reason = weak_secret_reason(str(settings.get("SECRET_KEY") or ""))
    if reason is not None:
        problems.append(
            f"the secret key is weak: {reason}. Set LMS_SECRET_KEY to at least 32 random "
            "characters, e.g.\n"
            "    export LMS_SECRET_KEY=$(python -c 'import secrets; print(secrets.token_hex(32))')")
    database = str(settings.get("SQLALCHEMY_DATABASE_URI") or "")
    if not database:
        problems.append("no database is set. Set LMS_DATABASE_URL, e.g. "
                        "postgresql+psycopg://lms@localhost/lms")
    elif database.startswith("sqlite") and not settings.get("ALLOW_SQLITE"):
        problems.append("the database is a SQLite file, which one server process at a time "
                        "can write safely. Use PostgreSQL (LMS_DATABASE_URL=postgresql+psycopg:"
                        "//...), or set LMS_ALLOW_SQLITE=1 for a trial")
    base_url = str(settings.get("BASE_URL") or "")
    if not base_url.startswith("https://") or len(base_url) <= len("https://"):
        problems.append(
            f"LMS_BASE_URL must be the service's https:// address (links in emails use it, "
            f"and production cookies are sent over HTTPS only); it is {base_url or 'not set'!r}")
    if settings.get("MAIL_BACKEND") != "smtp":
        problems.append(f"MAIL_BACKEND is {settings.get('MAIL_BACKEND')!r}: in production "
                        "emails leave through SMTP (LMS_MAIL_BACKEND=smtp)")
    if not settings.get("SMTP_HOST"):
        problems.append("no mail server is set. Set LMS_SMTP_HOST (and LMS_SMTP_PORT, "
                        "LMS_SMTP_STARTTLS, LMS_SMTP_USERNAME, LMS_SMTP_PASSWORD as your relay "
                        "needs)")
    if "@" not in str(settings.get("MAIL_SENDER") or ""):
        problems.append("no sender address is set. Set LMS_MAIL_SENDER, e.g. "
                        "'MDSN Learning & Events <learning@your-trust.nhs.uk>'")
    return problems


class DevelopmentConfig(Config):
    """``make run``: SQLite in instance/, emails as .eml files, scheduler in the dev server."""

    DEBUG = False
    SCHEDULER_IN_PROCESS = True


class TestingConfig(Config):
    """pytest: in-memory mail, CSRF checks on unless a test turns them off."""

    TESTING = True
    SQLALCHEMY_DATABASE_URI = "sqlite://"
    MAIL_BACKEND = "memory"
    # Still scrypt, at a cost that lets the suite create hundreds of users quickly.
    PASSWORD_HASH_METHOD = "scrypt:1024:8:1"  # noqa: S105 - a hashing method
    WTF_CSRF_ENABLED = False
    SERVER_NAME = None


class ProductionConfig(Config):
    """PostgreSQL, SMTP, gunicorn workers and one separate scheduler process. The settings
    left empty here must be given (``production_problems`` refuses to start without them)."""

    SECRET_KEY = ""
    SQLALCHEMY_DATABASE_URI = ""
    # A SQLite file is for a trial on one machine: only with LMS_ALLOW_SQLITE=1.
    ALLOW_SQLITE = False
    BASE_URL = ""
    MAIL_BACKEND = "smtp"
    MAIL_SENDER = ""
    SMTP_HOST = ""
    # Templates compiled once per worker, never checked for changes on disk.
    TEMPLATES_AUTO_RELOAD = False
    LOG_FORMAT = "json"
    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_SECURE = True


CONFIGS: dict[str, type[Config]] = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}

_BOOL = {"1": True, "true": True, "yes": True, "on": True, "0": False, "false": False, "no": False,
         "off": False, "": False}


def env_overrides(defaults: type[Config], environ: os._Environ | dict | None = None) -> dict:
    """Read ``LMS_<NAME>`` variables, converted to the type of the default they replace."""
    environ = os.environ if environ is None else environ
    overrides: dict = {}
    for key, raw in environ.items():
        if not key.startswith("LMS_") or key == "LMS_CONFIG":
            continue
        name = key[4:]
        if name == "DATABASE_URL":
            name = "SQLALCHEMY_DATABASE_URI"
        current = getattr(defaults, name, None)
        if isinstance(current, bool):
            value: object = _BOOL.get(raw.strip().lower(), False)
        elif isinstance(current, int):
            value = int(raw)
        else:
            value = raw
        overrides[name] = value
    return overrides
