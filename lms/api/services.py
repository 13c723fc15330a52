"""The rules for personal API tokens and for API rate limits.

A token is ``mdsn_<prefix>_<secret>``: the prefix (public, shown in lists) finds the row and
the SHA-256 of the whole token is what is stored, so the secret is never kept anywhere. A
secret of 256 random bits needs no slow hash: nobody can guess it, and a leaked table holds
nothing that signs in. Services validate, raise domain errors and flush; views commit.

Rate limits count calls in fixed windows, in the database (``api_rate_window``) so a limit
holds across every worker and host. Counting runs in a transaction of its own, committed at
once, so a call that fails later still counts.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, func, select, update

from lms.accounts.events import PasswordChanged
from lms.accounts.models import User
from lms.api.models import ApiRateWindow, ApiToken, TokenScope
from lms.clock import date_text, utcnow
from lms.errors import DomainError, ErrorCollector, NotFound
from lms.extensions import db

DEFAULT_DAYS = 90
MAX_DAYS = 365
LIFETIME_CHOICES = (7, 30, 90, 180, 365)
MAX_LIVE_TOKENS = 20
NAME_LIMIT = 80
_TOKEN = re.compile(r"mdsn_([0-9a-f]{10})_([A-Za-z0-9_-]{43})")
# A token is marked as used at most this often, so a busy script does not write every call.
LAST_USED_EVERY = timedelta(minutes=1)


class TokenRejected(DomainError):
    """The token in a call is unknown, revoked or expired (the API answers 401)."""


# ---------------------------------------------------------------------------- tokens


@dataclass(frozen=True)
class NewToken:
    """A token just created, and the whole token: shown to its owner once, never stored."""

    token: ApiToken
    secret: str


def token_hash(raw: str) -> str:
    """What is stored for a token: the SHA-256 of all of it."""
    return hashlib.sha256(raw.encode()).hexdigest()


def _name(raw: str | None, user: User) -> str:
    name = " ".join((raw or "").split())
    if not name:
        raise DomainError("Enter a name for the token, like “Power BI at work”", "name")
    if len(name) > NAME_LIMIT:
        raise DomainError(f"The name must be {NAME_LIMIT} characters or fewer", "name")
    taken = db.session.scalar(
        select(func.count(ApiToken.id)).where(
            ApiToken.user_id == user.id, func.lower(ApiToken.name) == name.lower(),
            ApiToken.revoked_at.is_(None), ApiToken.expires_at > utcnow())
    )
    if taken:
        raise DomainError("You already have a token with this name. Choose another name",
                          "name")
    return name


def _scope(raw: str | None) -> TokenScope:
    if raw not in {s.value for s in TokenScope}:
        raise DomainError("Choose what the token may do", "scope")
    return TokenScope(raw)


def _days(raw: int | str | None) -> int:
    try:
        days = int(str(raw))
    except ValueError:
        raise DomainError("Choose when the token expires", "days") from None
    if not 1 <= days <= MAX_DAYS:
        raise DomainError(f"A token can last at most {MAX_DAYS} days", "days")
    return days


def live_tokens(user: User) -> int:
    """How many of the person's tokens still work."""
    return db.session.scalar(
        select(func.count(ApiToken.id)).where(
            ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None),
            ApiToken.expires_at > utcnow())
    ) or 0


def create_token(user: User, name: str | None, scope: str | None,
                 days: int | str | None = DEFAULT_DAYS) -> NewToken:
    """A new named token for ``user``, read-only or read-write, lasting ``days`` (at most a
    year). Returns the token with its secret, which is shown once and never stored."""
    errors = ErrorCollector()
    clean_name = errors.check(_name, name, user)
    clean_scope = errors.check(_scope, scope)
    clean_days = errors.check(_days, days)
    errors.raise_any()
    if live_tokens(user) >= MAX_LIVE_TOKENS:
        raise DomainError(f"You can have at most {MAX_LIVE_TOKENS} tokens that work. Revoke "
                          "one you no longer use first")
    prefix = secrets.token_hex(5)
    while db.session.scalar(select(ApiToken.id).where(ApiToken.prefix == prefix)) is not None:
        prefix = secrets.token_hex(5)  # pragma: no cover - one chance in a trillion
    secret = f"mdsn_{prefix}_{secrets.token_urlsafe(32)}"
    now = utcnow()
    token = ApiToken(user_id=user.id, name=clean_name, prefix=prefix,
                     token_hash=token_hash(secret), scope=clean_scope, created_at=now,
                     expires_at=now + timedelta(days=clean_days))
    db.session.add(token)
    db.session.flush()
    return NewToken(token, secret)


def tokens_of(user: User) -> list[ApiToken]:
    """A person's tokens, newest first, revoked and expired ones too."""
    return list(db.session.scalars(
        select(ApiToken).where(ApiToken.user_id == user.id)
        .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
    ))


def get_own_token(user: User, token_id: int) -> ApiToken:
    """One of the person's own tokens; anyone else's is ``NotFound``, as if it did not exist."""
    token = db.session.get(ApiToken, token_id)
    if token is None or token.user_id != user.id:
        raise NotFound("No such token")
    return token


def revoke_token(user: User, token: ApiToken) -> ApiToken:
    """Stop a token working, at once. Revoking a revoked token changes nothing."""
    if token.user_id != user.id:
        raise NotFound("No such token")
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        db.session.flush()
    return token


def revoke_all_on_password_change(event: PasswordChanged) -> None:
    """Listener: a password change with its box ticked revokes every live token."""
    if event.revoke_tokens:
        db.session.execute(update(ApiToken).where(
            ApiToken.user_id == event.user_id, ApiToken.revoked_at.is_(None))
            .values(revoked_at=utcnow()).execution_options(synchronize_session=False))
        db.session.flush()


def authenticate(raw: str, now: datetime | None = None) -> ApiToken:
    """The live token ``raw`` is, or ``TokenRejected`` saying why not."""
    now = now or utcnow()
    match = _TOKEN.fullmatch((raw or "").strip())
    token = None
    if match:
        token = db.session.scalar(select(ApiToken).where(ApiToken.prefix == match.group(1)))
    if token is None or not hmac.compare_digest(token.token_hash, token_hash(raw.strip())):
        raise TokenRejected("This token is not valid. Check that you copied all of it, or "
                            "create a new one from your profile")
    if token.revoked_at is not None:
        raise TokenRejected("This token has been revoked. Create a new one from your profile")
    if token.expires_at <= now:
        raise TokenRejected(f"This token expired on {date_text(token.expires_at)}. "
                            "Create a new one from your profile")
    if not token.user.is_active_account:
        raise TokenRejected("The account this token belongs to has been closed")
    return token


# ---------------------------------------------------------------------------- rate limits


@dataclass(frozen=True)
class RateCount:
    """One call counted against a limit."""

    limit: int
    hits: int
    resets_in: int  # seconds until the window ends

    @property
    def allowed(self) -> bool:
        return self.hits <= self.limit

    @property
    def remaining(self) -> int:
        return max(0, self.limit - self.hits)


def window_start(now: datetime, seconds: int) -> datetime:
    """The start of the fixed window ``now`` falls in."""
    epoch = int(now.timestamp())
    return datetime.fromtimestamp(epoch - epoch % seconds, UTC)


def _upsert(table, now_window: datetime, bucket: str):
    """Add one to the bucket's count for the window, creating the row if needed; returns the
    new count. One atomic statement on SQLite and on PostgreSQL."""
    if db.engine.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    statement = insert(table).values(bucket=bucket, window_start=now_window, hits=1)
    return statement.on_conflict_do_update(
        index_elements=[table.c.bucket, table.c.window_start],
        set_={"hits": table.c.hits + 1},
    ).returning(table.c.hits)


def count_call(bucket: str, limit: int, seconds: int = 60, token_id: int | None = None,
               now: datetime | None = None) -> RateCount:
    """Count a call in ``bucket``'s current window and say whether it is within ``limit``.
    Marks the token used too. Runs and commits in its own transaction."""
    now = now or utcnow()
    start = window_start(now, seconds)
    table = ApiRateWindow.__table__
    with db.engine.begin() as connection:
        hits = connection.execute(_upsert(table, start, bucket)).scalar_one()
        if hits == 1:
            # The first call of a window tidies away windows long over, for every caller.
            connection.execute(delete(table).where(
                table.c.window_start < start - timedelta(seconds=seconds * 10)))
        if token_id is not None:
            tokens = ApiToken.__table__
            connection.execute(
                update(tokens)
                .where(tokens.c.id == token_id,
                       (tokens.c.last_used_at.is_(None))
                       | (tokens.c.last_used_at < now - LAST_USED_EVERY))
                .values(last_used_at=now)
            )
    resets_in = int((start + timedelta(seconds=seconds) - now).total_seconds() + 0.999)
    return RateCount(limit, hits, max(1, resets_in))
