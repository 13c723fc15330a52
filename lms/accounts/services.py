"""The rules for accounts: sign-up, verification, sign-in, password reset, profiles, roles.

Services validate, raise ``DomainError`` and flush; views commit.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import joinedload
from werkzeug.security import check_password_hash, generate_password_hash

from lms.accounts import kept, sso_domains, throttle
from lms.accounts.emails import canonical_email
from lms.accounts.events import PasswordChanged
from lms.accounts.models import (
    AccountToken,
    Organisation,
    Role,
    TokenPurpose,
    User,
    UserRole,
)
from lms.accounts.throttle import TOO_MANY, TooManyAttempts
from lms.clock import utcnow
from lms.errors import DomainError, ErrorCollector, NotFound
from lms.extensions import db
from lms.listeners import notify
from lms.notifications.services import link, queue_email

MIN_PASSWORD_LENGTH = 12
BAD_SIGN_IN = "Enter a correct email address and password"
# A dummy hash to check against when the email is unknown, so both answers take as long.
_DUMMY_HASH_CACHE: dict[str, str] = {}


class EmailNotVerified(DomainError):
    """The password was right but the email address has not been confirmed yet."""


# ---------------------------------------------------------------------------- validation


def normalise_email(raw: str, field: str = "email") -> str:
    """The canonical spelling of a valid email address (``lms.accounts.emails``), or
    ``DomainError``."""
    raw = (raw or "").strip()
    if not raw:
        raise DomainError("Enter your email address", field)
    if len(raw) > 254:
        raise DomainError("Email address must be 254 characters or fewer", field)
    try:
        return canonical_email(raw)
    except ValueError:
        raise DomainError(
            "Enter an email address in the correct format, like name@example.nhs.uk", field
        ) from None


def _clean_text(raw: str | None, label: str, field: str, required: bool, limit: int = 120) -> str:
    value = " ".join((raw or "").split())
    if required and not value:
        raise DomainError(f"Enter your {label}", field)
    if len(value) > limit:
        raise DomainError(f"{label.capitalize()} must be {limit} characters or fewer", field)
    if any(ord(ch) < 32 for ch in value):
        raise DomainError(f"{label.capitalize()} must not contain control characters", field)
    return value


def check_new_password(password: str, confirm: str | None = None, field: str = "password",
                       email: str = "") -> None:
    """A new password must be long enough, not a common one, and typed the same twice."""
    if not password:
        raise DomainError("Enter a password", field)
    if len(password) < MIN_PASSWORD_LENGTH:
        raise DomainError(
            f"Password must be {MIN_PASSWORD_LENGTH} characters or more", field
        )
    if len(password) > 256:
        raise DomainError("Password must be 256 characters or fewer", field)
    if is_common_password(password, email):
        raise DomainError("This password is too easy to guess. Choose a few unrelated words",
                          field)
    if confirm is not None and password != confirm:
        raise DomainError("Passwords do not match", "confirm")


def is_common_password(password: str, email: str = "") -> bool:
    """True for passwords found in breach lists or built from the obvious: a common password
    with digits around it, one character repeated, a keyboard run, or the person's email."""
    from lms.accounts.common_passwords import COMMON

    lowered = password.lower()
    core = lowered.strip("0123456789!@#$%^&*.?_- ")
    if lowered in COMMON or core in COMMON or len(set(lowered)) <= 3:
        return True
    runs = ("1234567890", "qwertyuiop", "asdfghjkl", "zxcvbnm", "abcdefghijklmnopqrstuvwxyz")
    if any(lowered in run * 2 or (core and core in run) for run in runs):
        return True
    local = email.split("@", 1)[0].lower()
    return bool(local) and len(local) >= 4 and local in lowered and len(lowered) - len(local) < 6


def hash_password(password: str) -> str:
    """Werkzeug's scrypt hash, with the cost set by config (cheaper in tests)."""
    return generate_password_hash(password, method=current_app.config["PASSWORD_HASH_METHOD"])


def _organisation(organisation_id: int | None) -> Organisation:
    organisation = db.session.get(Organisation, organisation_id) if organisation_id else None
    if organisation is None:
        raise DomainError("Select your organisation", "organisation_id")
    return organisation


# ---------------------------------------------------------------------------- look-ups


def get_user_by_email(email: str) -> User | None:
    """The user with this email, however it is spelt (case, full-width letters, dots)."""
    try:
        email = canonical_email(email)
    except ValueError:
        return None
    return db.session.scalar(select(User).where(User.email == email))


# Built once, roles joined in (not a second query): it runs on every signed-in request, and
# building the statement and its options cost more than running it.
_signed_in_statement = (select(User).options(joinedload(User.role_rows))
                        .where(User.id == bindparam("user_id")))


def _load_signed_in(user_id: int) -> User | None:
    return db.session.execute(_signed_in_statement, {"user_id": user_id}
                              ).unique().scalar_one_or_none()


def load_user_from_session(session_id: str) -> User | None:
    """Flask-Login's loader: ``"<id>:<version>"`` must match the user's current version."""
    user_id, _, version = session_id.partition(":")
    if not (user_id.isdigit() and version.isdigit()):
        return None
    user = kept.signed_in_person(int(user_id), _load_signed_in)
    if user is None or user.session_version != int(version) or not user.is_active_account:
        return None
    return user


def organisations() -> list[Organisation]:
    """Every organisation, ICSs first, then by name."""
    return list(
        db.session.scalars(
            select(Organisation).order_by((Organisation.kind != "ics"), Organisation.name)
        )
    )


# ---------------------------------------------------------------------------- tokens


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _issue_token(user: User, purpose: TokenPurpose, lifetime: timedelta) -> str:
    token = secrets.token_urlsafe(32)
    db.session.add(
        AccountToken(
            user=user,
            purpose=purpose,
            token_hash=_token_hash(token),
            expires_at=utcnow() + lifetime,
        )
    )
    return token


def _redeem_token(token: str, purpose: TokenPurpose) -> AccountToken:
    """Mark a token used, or raise if it is unknown, used or expired.

    The conditional UPDATE makes a second use fail even if two requests race.
    """
    token_hash = _token_hash(token or "")
    now = utcnow()
    used = db.session.execute(
        update(AccountToken)
        .where(
            AccountToken.token_hash == token_hash,
            AccountToken.purpose == purpose,
            AccountToken.used_at.is_(None),
            AccountToken.expires_at > now,
        )
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if used != 1:
        raise DomainError("This link has expired or has already been used")
    return db.session.scalar(select(AccountToken).where(AccountToken.token_hash == token_hash))


def check_token(token: str, purpose: TokenPurpose) -> AccountToken | None:
    """The live token for a link, without using it up (to show the form it opens)."""
    row = db.session.scalar(
        select(AccountToken).where(
            AccountToken.token_hash == _token_hash(token or ""), AccountToken.purpose == purpose
        )
    )
    if row is None or row.used_at is not None or row.expires_at <= utcnow():
        return None
    return row


# ---------------------------------------------------------------------------- sign-up


@dataclass
class SignUp:
    email: str
    full_name: str
    job_title: str
    organisation_id: int | None
    password: str
    confirm: str


def sign_up(form: SignUp, address: str = "unknown") -> User | None:
    """Create an unverified learner and email them a link to confirm their address.

    If the email already has an account, nothing is created and its owner is told by email
    instead, so the page cannot be used to find out who has an account: both paths hash the
    password and queue one email, so neither the answer nor its time tells them apart.
    Returns the new user, or ``None`` in that case.
    """
    errors = ErrorCollector()
    full_name = errors.check(_clean_text, form.full_name, "full name", "full_name", required=True)
    email = errors.check(normalise_email, form.email)
    job_title = errors.check(_clean_text, form.job_title, "job title", "job_title",
                             required=False)
    organisation = errors.check(_organisation, form.organisation_id)
    errors.check(check_new_password, form.password, form.confirm, email=form.email or "")
    if email:
        errors.check(sso_domains.refuse_password_for, email)
    errors.raise_any()
    throttle.check_and_record(throttle.SIGN_UP, email, address)

    password_hash = hash_password(form.password)  # on both paths: the same work either way
    existing = get_user_by_email(email)
    if existing is not None:
        queue_email(
            existing.email,
            "You already have an MDSN Learning & Events account",
            "accounts/already_registered",
            user=existing,
            sign_in_url=link("accounts.sign_in"),
            reset_url=link("accounts.forgot_password"),
        )
        return None

    user = User(
        email=email,
        full_name=full_name,
        job_title=job_title,
        organisation=organisation,
        password_hash=password_hash,
    )
    user.role_rows.append(UserRole(role=Role.LEARNER))
    db.session.add(user)
    db.session.flush()
    send_verification(user)
    return user


def send_verification(user: User) -> None:
    """Email a fresh confirmation link (48 hours by default)."""
    hours = current_app.config["VERIFY_TOKEN_HOURS"]
    token = _issue_token(user, TokenPurpose.VERIFY_EMAIL, timedelta(hours=hours))
    queue_email(
        user.email,
        "Confirm your email address",
        "accounts/verify_email",
        user=user,
        link=link("accounts.verify_email", token=token),
        secrets=[token],
        hours=hours,
    )


def resend_verification(email: str, address: str = "unknown") -> None:
    """Send a new link if the address has an unconfirmed account; silently nothing otherwise."""
    email = normalise_email(email)
    throttle.check_and_record(throttle.RESEND_CONFIRMATION, email, address)
    user = get_user_by_email(email)
    if user is not None and user.email_verified_at is None:
        send_verification(user)


def verify_email(token: str) -> User:
    """Confirm the address a link was sent to."""
    row = _redeem_token(token, TokenPurpose.VERIFY_EMAIL)
    user = row.user
    if user.email_verified_at is None:
        user.email_verified_at = utcnow()
    db.session.flush()
    return user


# ---------------------------------------------------------------------------- sign-in


def _dummy_hash() -> str:
    method = current_app.config["PASSWORD_HASH_METHOD"]
    if method not in _DUMMY_HASH_CACHE:
        _DUMMY_HASH_CACHE[method] = generate_password_hash(secrets.token_hex(), method=method)
    return _DUMMY_HASH_CACHE[method]


def record_failed_sign_in(email: str, address: str) -> None:
    """Count a failure against the account (however spelt) and the address. The caller
    commits it even though the sign-in failed."""
    throttle.record(throttle.SIGN_IN, email or "", address)


def authenticate(email: str, password: str, address: str = "unknown") -> User:
    """The user these credentials belong to. Unknown email and wrong password raise the same
    error, after the same amount of work. An account with repeated failures is paused, with
    the same message whether or not it exists (``throttle.sign_in_refused``); from an address
    that has failed too often, a wrong password gets that message too, while a right one for
    an account nobody has been guessing at still signs in."""
    if throttle.sign_in_refused(email or "", address):
        raise TooManyAttempts(TOO_MANY, "email")
    address_paused = throttle.address_over_limit(throttle.SIGN_IN, address)
    refusal = TooManyAttempts(TOO_MANY, "email") if address_paused \
        else DomainError(BAD_SIGN_IN, "email")
    try:
        email = normalise_email(email)
    except DomainError:
        raise refusal from None
    sso_domains.refuse_password_for(email)
    user = get_user_by_email(email)
    stored = user.password_hash if user is not None and user.password_hash else _dummy_hash()
    password_ok = check_password_hash(stored, password or "")
    if user is None or not password_ok or not user.is_active_account:
        raise refusal
    if user.email_verified_at is None:
        raise EmailNotVerified(
            "Confirm your email address before you sign in. We can send you a new link.",
            "email",
        )
    return user


def end_sessions(user: User) -> None:
    """Sign the person out everywhere: every session carrying the old version is refused."""
    user.session_version += 1
    db.session.flush()


# ---------------------------------------------------------------------------- passwords


def request_password_reset(email: str, address: str = "unknown") -> None:
    """Email a reset link if the address has an account; the page says the same either way."""
    email = normalise_email(email)
    sso_domains.refuse_password_for(email)
    throttle.check_and_record(throttle.FORGOT_PASSWORD, email, address)
    user = get_user_by_email(email)
    if user is None or not user.is_active_account:
        return
    minutes = current_app.config["RESET_TOKEN_MINUTES"]
    token = _issue_token(user, TokenPurpose.RESET_PASSWORD, timedelta(minutes=minutes))
    queue_email(
        user.email,
        "Reset your password",
        "accounts/reset_password",
        user=user,
        link=link("accounts.reset_password", token=token),
        secrets=[token],
        minutes=minutes,
    )


def reset_password(token: str, password: str, confirm: str) -> User:
    """Set a new password from an emailed link; the link then stops working, and every
    session the person had is ended."""
    live = check_token(token, TokenPurpose.RESET_PASSWORD)
    check_new_password(password, confirm, email=live.user.email if live else "")
    row = _redeem_token(token, TokenPurpose.RESET_PASSWORD)
    user = row.user
    user.password_hash = hash_password(password)
    # Following the link proves the address, so an unconfirmed account is confirmed too.
    if user.email_verified_at is None:
        user.email_verified_at = utcnow()
    end_sessions(user)
    # Other reset links for this person stop working.
    db.session.execute(
        update(AccountToken)
        .where(
            AccountToken.user_id == user.id,
            AccountToken.purpose == TokenPurpose.RESET_PASSWORD,
            AccountToken.used_at.is_(None),
        )
        .values(used_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    queue_email(user.email, "Your password has been changed", "accounts/password_changed",
                user=user)
    return user


def change_password(user: User, current: str, password: str, confirm: str,
                    revoke_tokens: bool = True) -> None:
    """Change a password, knowing the current one; other sessions are ended, and with
    ``revoke_tokens`` the person's API tokens and calendar address stop working too."""
    if not user.password_hash:  # joined with their NHS account: there is nothing to change
        raise DomainError("You sign in with your NHS account, so you have no password here "
                          "to change", "current_password")
    if not check_password_hash(user.password_hash or _dummy_hash(), current or ""):
        raise DomainError("Your current password is not correct", "current_password")
    check_new_password(password, confirm, email=user.email)
    user.password_hash = hash_password(password)
    end_sessions(user)
    notify(PasswordChanged(user.id, bool(revoke_tokens)))
    queue_email(user.email, "Your password has been changed", "accounts/password_changed",
                user=user)


def may_set_password(user: User) -> bool:
    """Whether someone without a password may set one (by the emailed reset link): not if
    their email's domain signs in only with an NHS account."""
    try:
        sso_domains.refuse_password_for(user.email)
    except sso_domains.SsoRequired:
        return False
    return True


# ---------------------------------------------------------------------------- profiles


def update_profile(user: User, full_name: str, job_title: str, organisation_id: int | None) -> None:
    """Change one's own name and job title, and ask to move to another organisation (the new
    ICS's DSU lead or an admin decides: ``organisation_changes``). A DSU lead's organisation
    is fixed (their role is tied to it), so only an admin can move them."""
    from lms.accounts import organisation_changes

    errors = ErrorCollector()
    full_name = errors.check(_clean_text, full_name, "full name", "full_name", required=True)
    job_title = errors.check(_clean_text, job_title, "job title", "job_title", required=False)
    organisation = errors.check(_organisation, organisation_id)
    errors.raise_any()
    if organisation.id != user.organisation_id and user.is_dsu_lead:
        raise DomainError(
            "DSU leads cannot change their own organisation. Ask an admin.", "organisation_id"
        )
    user.full_name = full_name
    user.job_title = job_title
    organisation_changes.request_move(user, organisation)
    db.session.flush()


# ---------------------------------------------------------------------------- admin


def get_user(user_id: int) -> User:
    """A user by id, or ``NotFound``."""
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound("No such person")
    return user


def ensure_organisations() -> int:
    """Add any of the region's organisations that are missing; returns how many were added."""
    from lms.accounts.organisations import ORGANISATIONS

    have = set(db.session.scalars(select(Organisation.code)))
    added = 0
    for code, name, kind in ORGANISATIONS:
        if code not in have:
            db.session.add(Organisation(code=code, name=name, kind=kind))
            added += 1
    db.session.flush()
    return added

