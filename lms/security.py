"""Security that every response and every signed-in request shares: headers with a
Content-Security-Policy (scripts only from this site or carrying the request's nonce, styles
only from this site's stylesheets), ``Cache-Control: no-store`` on signed-in pages, and
sessions that end after 30 idle minutes or 12 hours in all."""

from __future__ import annotations

import secrets
import time
from functools import wraps

from flask import Flask, abort, flash, g, redirect, request, session, url_for
from flask_login import current_user, login_user, logout_user


def csp_nonce() -> str:
    """The nonce allowing this response's one inline script (the "JS is on" class)."""
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(16)
    return g.csp_nonce


SECOND_STEP_KEY = "_second_step"
# Set when the second step was the identity provider's (its ID token's ``amr`` said so:
# ``lms.sso.issuers.MULTI_FACTOR_AMR``), for people who need not have an authenticator app.
SECOND_STEP_BY_ISSUER = "_second_step_by_issuer"
# What signing out can offer next: the identity provider's own sign-out (set by ``lms.sso``).
ISSUER_SIGN_OUT = "_issuer_sign_out"

# What an admin without a passed second step may still reach: setting it up, signing out,
# and what every page needs (its files).
SET_UP_ENDPOINTS = frozenset({"accounts.two_factor_set_up", "accounts.sign_out", "static",
                              "home.healthz"})


def second_step_passed(user) -> bool:
    """The policy: this session's person has two-step verification on and gave a code from
    it (or set it up) in this session, or signed in through an identity provider that
    asserted multi-factor authentication."""
    if session.get(SECOND_STEP_KEY) != user.get_id():
        return False
    return bool(getattr(user, "has_two_factor", False)) or \
        session.get(SECOND_STEP_BY_ISSUER) == user.get_id()


def mark_second_step_passed(user, by_issuer: bool = False) -> None:
    """Call when the person has just given a code (signing in, or setting it up), or an
    identity provider vouched for its own second factor (``by_issuer``)."""
    session[SECOND_STEP_KEY] = user.get_id()
    if by_issuer:
        session[SECOND_STEP_BY_ISSUER] = user.get_id()


def begin_session(user, second_step: bool = False, by_issuer: bool = False) -> None:
    """Sign ``user`` in on a fresh session (nothing of the signed-out one is kept, so a
    session id planted before sign-in is worthless), its 12 hours counting from now."""
    session.clear()
    login_user(user)
    start_session()
    if second_step:
        mark_second_step_passed(user, by_issuer=by_issuer)


def second_step_required(view):
    """For an admin's most sensitive pages (erasing, roles, the audit log): refuse a session
    that has not passed two-step verification, whatever else lets it in."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        if not current_user.is_authenticated or not second_step_passed(current_user):
            abort(403)
        return view(*args, **kwargs)

    return wrapped


def start_session() -> None:
    """Call at sign-in: the 12-hour limit counts from here."""
    now = int(time.time())
    session["_started"] = now
    session["_seen"] = now


def register_security(app: Flask) -> None:
    app.jinja_env.globals["csp_nonce"] = csp_nonce

    @app.before_request
    def expire_idle_sessions():
        if not current_user.is_authenticated:
            return None
        now = int(time.time())
        started = session.setdefault("_started", now)
        seen = session.get("_seen", now)
        idle, absolute = app.config["SESSION_IDLE_SECONDS"], app.config["SESSION_MAX_SECONDS"]
        if now - seen > idle or now - started > absolute:
            logout_user()
            session.clear()
            flash("You were signed out because you had not used the service for a while. "
                  "Sign in again to carry on.", "info")
            return redirect(url_for("accounts.sign_in", next=request.full_path.rstrip("?")))
        # Write the cookie at most once a minute, not on every request.
        if now - seen >= 60 or "_seen" not in session:
            session["_seen"] = now
        return None

    @app.before_request
    def admins_pass_the_second_step():
        """Two-step verification is required for admins: one without it is sent to set it up
        and can do nothing else; one with it whose session has not given a code (signed in
        before it was required) signs in again."""
        if not current_user.is_authenticated or not current_user.is_admin:
            return None
        if second_step_passed(current_user) or request.endpoint in SET_UP_ENDPOINTS:
            return None
        if current_user.has_two_factor:
            logout_user()
            session.clear()
            flash("Sign in again, with a code from your authenticator app.", "info")
            return redirect(url_for("accounts.sign_in"))
        flash("Admins must turn on two-step verification before doing anything else.", "info")
        return redirect(url_for("accounts.two_factor_set_up"))

    @app.after_request
    def security_headers(response):
        nonce = g.get("csp_nonce")
        script_src = "'self'" + (f" 'nonce-{nonce}'" if nonce else "")
        response.headers.setdefault(
            "Content-Security-Policy",
            f"default-src 'self'; script-src {script_src}; style-src 'self'; "
            "img-src 'self' data:; font-src 'self'; connect-src 'self'; object-src 'none'; "
            "base-uri 'self'; form-action 'self'; frame-ancestors 'none'",
        )
        # The user this request loaded (every request does, in expire_idle_sessions).
        user = g.get("_login_user")
        if user is not None and user.is_authenticated and "Cache-Control" not in \
                response.headers:
            # A signed-in page is that person's: no browser or proxy may keep it (the back
            # button after signing out on a shared computer shows nothing).
            response.headers["Cache-Control"] = "no-store"
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Permissions-Policy", "camera=(), microphone=(), "
                                    "geolocation=()")
        if app.config.get("SESSION_COOKIE_SECURE"):
            response.headers.setdefault("Strict-Transport-Security",
                                        "max-age=31536000; includeSubDomains")
        return response
