"""Who is calling the API, and what they may do.

- ``Authorization: Bearer <token>``: a personal token. No CSRF token is needed (a browser
  never sends this header across sites by itself); a read-only token cannot change anything.
- Otherwise the signed-in browser session, if any. Calls that change something then need the
  session's CSRF token in an ``X-CSRFToken`` header, like any form of the service.
- Otherwise nobody: public reads only.

Every call is counted against a rate limit per token (or per signed-in person, or per address
for anonymous calls): reads and writes separately.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app, g, request
from flask_login import current_user
from flask_wtf.csrf import generate_csrf, validate_csrf
from wtforms import ValidationError

from lms.accounts.models import Role, User
from lms.api import services
from lms.api.models import ApiToken
from lms.api.problems import Problem

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
DEFAULT_LIMITS = {"read": 120, "write": 30}
REALM = 'Bearer realm="MDSN Learning & Events API"'


@dataclass(frozen=True)
class Caller:
    user: User | None
    token: ApiToken | None = None

    @property
    def by_session(self) -> bool:
        return self.user is not None and self.token is None


def caller() -> Caller:
    """The caller of this request (set by ``identify``)."""
    return g.get("api_caller") or Caller(None)


def _bearer() -> str | None:
    header = request.headers.get("Authorization")
    if header is None:
        return None
    scheme, _, credentials = header.partition(" ")
    if scheme.lower() != "bearer" or not credentials.strip():
        raise Problem("unauthorised", "Send your token in the Authorization header, as "
                      "“Authorization: Bearer <token>”",
                      headers={"WWW-Authenticate": REALM + ', error="invalid_request"'})
    return credentials.strip()


def identify() -> Caller:
    """Work out who is calling, or raise a 401 problem for a token that does not work."""
    raw = _bearer()
    if raw is not None:
        try:
            token = services.authenticate(raw)
        except services.TokenRejected as error:
            raise Problem("unauthorised", error.message, headers={
                "WWW-Authenticate": REALM + ', error="invalid_token"'}) from None
        who = Caller(token.user, token)
    elif current_user.is_authenticated:
        who = Caller(current_user._get_current_object())
    else:
        who = Caller(None)
    g.api_caller = who
    return who


def limit(kind: str) -> int:
    """Calls allowed per window, for ``read`` or ``write``."""
    return int(current_app.config.get(f"API_RATE_LIMIT_{kind.upper()}", DEFAULT_LIMITS[kind]))


def count_against_limit(who: Caller) -> dict[str, str]:
    """Count this call; raise a 429 problem past the limit. Returns the rate-limit headers."""
    kind = "read" if request.method in SAFE_METHODS else "write"
    if who.token is not None:
        bucket = f"token:{who.token.id}:{kind}"
    elif who.user is not None:
        bucket = f"user:{who.user.id}:{kind}"
    else:
        bucket = f"address:{(request.remote_addr or 'unknown')[:45]}:{kind}"
    seconds = int(current_app.config.get("API_RATE_WINDOW_SECONDS", 60))
    counted = services.count_call(bucket, limit(kind), seconds,
                                  token_id=who.token.id if who.token else None)
    headers = {"RateLimit-Limit": str(counted.limit),
               "RateLimit-Remaining": str(counted.remaining),
               "RateLimit-Reset": str(counted.resets_in)}
    if not counted.allowed:
        noun = "changes" if kind == "write" else "calls"
        raise Problem("rate-limited",
                      f"You have made more than {counted.limit} {noun} in a minute. Wait "
                      f"{counted.resets_in} seconds, then carry on.",
                      headers={**headers, "Retry-After": str(counted.resets_in)})
    return headers


def check_may_change(who: Caller) -> None:
    """Before a call that changes something: a read-only token cannot; a browser session must
    carry its CSRF token."""
    if request.method in SAFE_METHODS or who.user is None:
        return
    if who.token is not None:
        if not who.token.can_write:
            raise Problem("insufficient-scope",
                          "This token is read-only. Create a read and write token on your "
                          "profile to book or withdraw.",
                          headers={"WWW-Authenticate": REALM + ', error="insufficient_scope", '
                                   'scope="read_write"'})
        return
    if not current_app.config.get("WTF_CSRF_ENABLED", True):
        return
    sent = request.headers.get("X-CSRFToken") or request.headers.get("X-CSRF-Token")
    try:
        validate_csrf(sent)
    except ValidationError:
        raise Problem("csrf-failed", "Send the CSRF token of your session in the X-CSRFToken "
                      "header (GET /api/v1/me gives it), or call with a token instead.") \
            from None


def csrf_token_for(who: Caller) -> str | None:
    """The session's CSRF token, for browser sessions only."""
    return generate_csrf() if who.by_session else None


def signed_in() -> User:
    """The caller, who must be someone."""
    who = caller()
    if who.user is None:
        raise Problem("unauthorised", "Sign in, or send a personal API token as "
                      "“Authorization: Bearer <token>”. Create tokens on your profile.",
                      headers={"WWW-Authenticate": REALM})
    return who.user


def holding(roles: tuple[Role, ...], refusal: str) -> User:
    """The caller, who must hold one of ``roles``; anyone else is told ``refusal``."""
    user = signed_in()
    if not any(user.has_role(role) for role in roles):
        raise Problem("forbidden", refusal)
    return user


def viewer():
    """The caller for visibility rules: a user, or Flask-Login's anonymous user."""
    who = caller()
    return who.user if who.user is not None else current_user._get_current_object()
