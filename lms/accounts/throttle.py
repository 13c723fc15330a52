"""One limiter for every door that can be knocked on again and again: sign-in, forgot
password, sign-up, resend confirmation and session check-in codes.

Each door is a named bucket. A hit is a row (bucket, account, address, time) in the database,
so the limit holds across every worker and host. A bucket refuses when, within the window
(``SIGN_IN_WINDOW_MINUTES``), its account or its client address has reached the limit set in
config as ``<BUCKET>_MAX_PER_ACCOUNT`` and ``<BUCKET>_MAX_PER_ADDRESS``. The account is the
canonical email (``lms.accounts.emails``), so every spelling of an address counts together.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import delete, func, select

from lms.accounts.emails import email_key
from lms.accounts.models import SignInAttempt
from lms.clock import utcnow
from lms.errors import DomainError
from lms.extensions import db

SIGN_IN = "sign_in"
FORGOT_PASSWORD = "forgot_password"  # noqa: S105 - a bucket's name, not a password
SIGN_UP = "sign_up"
RESEND_CONFIRMATION = "resend_confirmation"
CHECK_IN = "check_in"
BUCKETS = (SIGN_IN, FORGOT_PASSWORD, SIGN_UP, RESEND_CONFIRMATION, CHECK_IN)

TOO_MANY = ("There have been too many attempts to sign in. Wait 15 minutes and try again, "
            "or reset your password")
TOO_MANY_REQUESTS = "There have been too many requests. Wait 15 minutes and try again"


class TooManyAttempts(DomainError):
    """This door is paused for this account or address for a while."""


def _limits(bucket: str) -> tuple[int, int]:
    cfg = current_app.config
    name = bucket.upper()
    return cfg[f"{name}_MAX_PER_ACCOUNT"], cfg[f"{name}_MAX_PER_ADDRESS"]


def _since() -> datetime:
    return utcnow() - timedelta(minutes=current_app.config["SIGN_IN_WINDOW_MINUTES"])


def _count(bucket: str, column, value: str) -> int:
    return db.session.scalar(select(func.count(SignInAttempt.id)).where(
        SignInAttempt.bucket == bucket, column == value, SignInAttempt.at >= _since())) or 0


def account_hits(bucket: str, account: str) -> int:
    """Hits on this bucket for this account (any spelling of it) within the window."""
    return _count(bucket, SignInAttempt.email, email_key(account))


def address_over_limit(bucket: str, address: str) -> bool:
    """Whether this client address has used up its hits on this bucket."""
    return _count(bucket, SignInAttempt.address, _address(address)) >= _limits(bucket)[1]


def account_over_limit(bucket: str, account: str) -> bool:
    """Whether this account has used up its hits on this bucket."""
    return account_hits(bucket, account) >= _limits(bucket)[0]


def is_limited(bucket: str, account: str, address: str) -> bool:
    """Whether either the account or the address has used up its hits."""
    return account_over_limit(bucket, account) or address_over_limit(bucket, address)


def record(bucket: str, account: str, address: str) -> None:
    """Count one hit. For failures the caller commits it even though the action failed."""
    if bucket not in BUCKETS:
        raise ValueError(f"unknown throttle bucket {bucket!r}")
    db.session.add(SignInAttempt(bucket=bucket, email=email_key(account),
                                 address=_address(address)))
    db.session.flush()


def refuse_if_limited(bucket: str, account: str, address: str, field: str = "email") -> None:
    """Raise ``TooManyAttempts`` when the account or the address has used up its hits."""
    if is_limited(bucket, account, address):
        raise TooManyAttempts(TOO_MANY_REQUESTS, field)


def check_and_record(bucket: str, account: str, address: str, field: str = "email") -> None:
    """For doors where every request counts (each sends an email): refuse when over the
    limit, the same way whether or not the account exists; otherwise count this one."""
    refuse_if_limited(bucket, account, address, field)
    record(bucket, account, address)


def refusal_counter(bucket: str, account: str,
                    address: str) -> Callable[[DomainError], None]:
    """For a view's ``submit(..., on_refusal=...)`` where each refusal (a wrong code) counts:
    the hit is written after the request's rollback, so it survives the failure it records.
    A refusal because of the pause itself is not counted again."""

    def count(error: DomainError) -> None:
        if not isinstance(error, TooManyAttempts):
            record(bucket, account, address)

    return count


def sign_in_refused(account: str, address: str) -> bool:
    """Whether to refuse a sign-in before looking at the password.

    An account with too many recent failures is paused, from everywhere. An address with
    too many failures (a script behind a trust's shared address) pauses only the accounts
    that have failed recently; someone else signing in correctly from that address is not
    refused, and a guess at any account there costs that account its pause."""
    hits = account_hits(SIGN_IN, account)
    if hits >= _limits(SIGN_IN)[0]:
        return True
    return hits > 0 and address_over_limit(SIGN_IN, address)


def _address(address: str | None) -> str:
    return (address or "unknown")[:64]


@dataclass(frozen=True)
class Throttle:
    """A bucket that is refusing an account or an address right now."""

    bucket: str
    kind: str  # "account" or "address"
    key: str
    hits: int
    limit: int
    until: datetime


def current_throttles() -> list[Throttle]:
    """Every account and address at or over its limit in some bucket, for admins."""
    found: list[Throttle] = []
    window = timedelta(minutes=current_app.config["SIGN_IN_WINDOW_MINUTES"])
    for kind, column, index in (("account", SignInAttempt.email, 0),
                                ("address", SignInAttempt.address, 1)):
        rows = db.session.execute(
            select(SignInAttempt.bucket, column, func.count(), func.max(SignInAttempt.at))
            .where(SignInAttempt.at >= _since())
            .group_by(SignInAttempt.bucket, column)
            .order_by(SignInAttempt.bucket, column)
        ).all()
        for bucket, key, hits, last in rows:
            limit = _limits(bucket)[index] if bucket in BUCKETS else 0
            if limit and hits >= limit:
                found.append(Throttle(bucket, kind, key, hits, limit, last + window))
    return found


def clear(key: str | None = None, bucket: str | None = None) -> int:
    """Forget the hits for an account (any spelling) or an address, optionally in one
    bucket; with no key, every hit. Returns how many were removed."""
    stmt = delete(SignInAttempt)
    if key:
        stmt = stmt.where((SignInAttempt.email == email_key(key))
                          | (SignInAttempt.address == key))
    if bucket:
        stmt = stmt.where(SignInAttempt.bucket == bucket)
    removed = db.session.execute(stmt.execution_options(synchronize_session=False)).rowcount
    db.session.flush()
    return removed or 0
