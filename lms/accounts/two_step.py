"""Two-step verification: required for admins, open to faculty and DSU leads. An
authenticator app's codes (TOTP), one-time recovery codes, and the second step of signing in.
(Whether a session has passed it, and the pages that need that, are ``lms.security``'s.)"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

from sqlalchemy import delete, func, or_, select, update
from werkzeug.security import check_password_hash

from lms.accounts import throttle
from lms.accounts.models import RecoveryCode, Role, User
from lms.accounts.services import (
    TOO_MANY,
    TooManyAttempts,
    _dummy_hash,
    end_sessions,
    load_user_from_session,
)
from lms.clock import utcnow
from lms.errors import DomainError, NotAllowed
from lms.extensions import db
from lms.notifications.services import queue_email

TOTP_ISSUER = "MDSN Learning & Events"


TOTP_STEP_SECONDS = 30

# Who may turn it on (admins must: ``lms.security`` sends them to set it up).
ROLES_WITH_TWO_STEP = (Role.ADMIN, Role.FACULTY, Role.DSU_LEAD)


RECOVERY_CODE_COUNT = 8


SECOND_FACTOR_MINUTES = 5


BAD_CODE = "Enter the 6-digit code your authenticator app shows now, or a recovery code"


def new_totp_secret() -> str:
    """A fresh random TOTP secret (base32, 160 bits)."""
    import pyotp

    return pyotp.random_base32(32)


def totp_uri(user: User, secret: str) -> str:
    """The ``otpauth://`` address an authenticator app reads from the QR code."""
    import pyotp

    return pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=TOTP_ISSUER)


def totp_qr_svg(uri: str) -> str:
    """The address as an inline SVG QR code (no script, no image request)."""
    import segno

    return segno.make(uri, error="m").svg_inline(scale=5, title="QR code for your "
                                                 "authenticator app", dark="#212b32")


def _digits(code: str | None) -> str:
    return re.sub(r"[\s-]", "", code or "")


def _matching_step(secret: str, code: str, after_step: int | None) -> int | None:
    """The time step (now, or one either side for clock drift) whose code is ``code`` and
    which is later than ``after_step``; ``None`` if there is none."""
    import pyotp

    if not re.fullmatch(r"[0-9]{6}", code):
        return None
    totp = pyotp.TOTP(secret)
    now = int(utcnow().timestamp()) // TOTP_STEP_SECONDS
    for step in (now - 1, now, now + 1):
        if after_step is not None and step <= after_step:
            continue
        if hmac.compare_digest(totp.at(step * TOTP_STEP_SECONDS), code):
            return step
    return None


def _recovery_hash(code: str) -> str:
    return hashlib.sha256(_digits(code).lower().encode()).hexdigest()


def _new_recovery_codes(user: User) -> list[str]:
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    alphabet = "abcdefghjkmnpqrstuvwxyz23456789"  # nothing to misread (no 0/o, 1/l/i)
    codes = []
    for _ in range(RECOVERY_CODE_COUNT):
        raw = "".join(secrets.choice(alphabet) for _ in range(10))
        codes.append(f"{raw[:5]}-{raw[5:]}")
        db.session.add(RecoveryCode(user_id=user.id, code_hash=_recovery_hash(raw)))
    db.session.flush()
    return codes


def recovery_codes_left(user: User) -> int:
    return db.session.scalar(select(func.count(RecoveryCode.id)).where(
        RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))) or 0


def turn_on_two_factor(user: User, secret: str, code: str) -> list[str]:
    """An admin (or faculty member, or DSU lead) confirms their authenticator app with a code
    from it; returns their one-time recovery codes (shown once, stored only as hashes). Other
    sessions are ended."""
    if not any(user.has_role(role) for role in ROLES_WITH_TWO_STEP):
        raise NotAllowed("Two-step verification is for admins, faculty and DSU leads")
    if user.has_two_factor:
        raise DomainError("Two-step verification is already on", "code")
    if not secret:
        raise DomainError("Your set-up has expired. Start again", "code")
    step = _matching_step(secret, _digits(code), None)
    if step is None:
        raise DomainError("Enter the 6-digit code your authenticator app shows now", "code")
    user.totp_secret = secret
    user.totp_enabled_at = utcnow()
    user.totp_last_step = step
    codes = _new_recovery_codes(user)
    end_sessions(user)
    queue_email(user.email, "Two-step verification is on", "accounts/two_factor_changed",
                user=user, turned_on=True)
    return codes


def turn_off_two_factor(user: User, password: str) -> None:
    """Turn two-step verification off, with the account's password; other sessions end."""
    if not user.has_two_factor:
        raise DomainError("Two-step verification is not on", "password")
    if not check_password_hash(user.password_hash or _dummy_hash(), password or ""):
        raise DomainError("Your password is not correct", "password")
    user.totp_secret = None
    user.totp_enabled_at = None
    user.totp_last_step = None
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    end_sessions(user)
    queue_email(user.email, "Two-step verification is off", "accounts/two_factor_changed",
                user=user, turned_on=False)


def pending_second_factor(session_id: str | None, since: int | None) -> User | None:
    """The person who gave the right password a few minutes ago and still owes a code."""
    if not session_id or not isinstance(since, int):
        return None
    if utcnow().timestamp() - since > SECOND_FACTOR_MINUTES * 60:
        return None
    user = load_user_from_session(session_id)
    return user if user is not None and user.has_two_factor else None


def check_second_factor(user: User, code: str, address: str = "unknown") -> None:
    """Accept a current TOTP code (each at most once, even with two requests racing) or an
    unused recovery code (used up). Failures count towards the sign-in limit."""
    if throttle.sign_in_refused(user.email, address):
        raise TooManyAttempts(TOO_MANY, "code")
    digits = _digits(code)
    step = _matching_step(user.totp_secret or "", digits, user.totp_last_step)
    if step is not None:
        claimed = db.session.execute(
            update(User).where(User.id == user.id, or_(User.totp_last_step.is_(None),
                                                       User.totp_last_step < step))
            .values(totp_last_step=step).execution_options(synchronize_session=False)
        ).rowcount
        if claimed == 1:
            return
    elif len(digits) == 10:
        used = db.session.execute(
            update(RecoveryCode).where(RecoveryCode.user_id == user.id,
                                       RecoveryCode.code_hash == _recovery_hash(digits),
                                       RecoveryCode.used_at.is_(None))
            .values(used_at=utcnow()).execution_options(synchronize_session=False)
        ).rowcount
        if used == 1:
            return
    raise DomainError(BAD_CODE, "code")
