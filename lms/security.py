"""Security that every response and every signed-in request shares: headers with a
Content-Security-Policy (scripts only from this site or carrying the request's nonce, styles
only from this site's stylesheets), ``Cache-Control: no-store`` on signed-in pages, and
sessions that end after 30 idle minutes or 12 hours in all."""

from __future__ import annotations

import secrets
import time

from flask import Flask, flash, g, redirect, request, session, url_for
from flask_login import current_user, logout_user


def csp_nonce() -> str:
    """The nonce allowing this response's one inline script (the "JS is on" class)."""
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(16)
    return g.csp_nonce


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
