"""Domain errors every feature raises, and the error pages in the NHS look."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from urllib.parse import urlsplit

from flask import Flask, flash, redirect, render_template, request
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DBAPIError, OperationalError

log = logging.getLogger(__name__)


class DomainError(Exception):
    """A rule said no. ``message`` is written for the person; ``field`` names the form field
    it belongs to, if any, so the error summary can link to it."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


class InvalidInput(DomainError):
    """Several fields are wrong at once; ``errors`` lists (field, message) pairs in form order."""

    def __init__(self, errors: list[tuple[str | None, str]]):
        super().__init__(errors[0][1], errors[0][0])
        self.errors = errors


class ErrorCollector:
    """Run each field's check, keep every message, and raise them together, so a person sees
    all that is wrong with a form at once rather than one error per attempt."""

    def __init__(self) -> None:
        self.errors: list[tuple[str | None, str]] = []

    def check(self, check, *args, **kwargs):
        try:
            return check(*args, **kwargs)
        except InvalidInput as error:
            self.errors.extend(error.errors)
        except DomainError as error:
            self.errors.append((error.field, error.message))
        return None

    def raise_any(self) -> None:
        if self.errors:
            raise InvalidInput(self.errors)


class NotAllowed(DomainError):
    """The person may not do this: the app answers the 403 page, saying why (a POST-only
    button's refusal is shown on its page instead, by ``lms.web.perform``)."""


class NotFound(DomainError):
    """No such thing, or not one this person may see: the app answers the 404 page."""


@dataclass(frozen=True)
class Decision:
    """A policy's answer to "may they?": and, when not, why (shown where the button would be)
    and the error the service raises (``NotAllowed`` when the refusal is about who is asking,
    a ``DomainError`` when it is about the thing or the moment)."""

    allowed: bool
    reason: str = ""
    error: type[DomainError] = DomainError

    def __bool__(self) -> bool:
        return self.allowed

    def enforce(self, field: str | None = None) -> None:
        """Raise the refusal (the service's side of the same decision)."""
        if not self.allowed:
            raise self.error(self.reason, field)


ALLOWED = Decision(True)


def register_error_handlers(app: Flask) -> None:
    """Answer errors with pages in the service's look, never a trace.

    Views do not catch ``NotFound`` or ``NotAllowed``, nor a ``DomainError`` they have no form
    to show it on (``lms.web.submit`` and ``attempt`` show theirs): it ends here, the
    transaction is rolled back, and the person gets the 404 page, the 403 page saying why, or
    the rule's own message on the page the form was on. (The JSON API's blueprint answers the
    same errors with problem details; a blueprint's handlers come first.)"""

    @app.errorhandler(NotFound)
    def no_such_thing(_error: NotFound):
        _rollback()
        return render_template("errors/404.html"), 404

    @app.errorhandler(NotAllowed)
    def not_allowed(error: NotAllowed):
        _rollback()
        return render_template("errors/403.html", reason=error.message), 403

    @app.errorhandler(DomainError)
    def rule_said_no(error: DomainError):
        _rollback()
        messages = [message for _field, message in
                    (error.errors if isinstance(error, InvalidInput) else
                     [(error.field, error.message)])]
        if request.method == "POST":
            # A button or form: back to the page it was on, with the rule's message and
            # nothing of the change saved.
            for message in messages:
                flash(message, "error")
            return redirect(_page_posted_from(), 303)
        return render_template("errors/refused.html", messages=messages), 400

    @app.errorhandler(403)
    def forbidden(_error):
        return render_template("errors/403.html"), 403

    @app.errorhandler(404)
    def not_found(_error):
        return render_template("errors/404.html"), 404

    @app.errorhandler(405)
    def method_not_allowed(_error):
        return render_template("errors/404.html"), 405

    @app.errorhandler(413)
    def too_large(_error):
        return render_template("errors/413.html"), 413

    @app.errorhandler(CSRFError)
    def csrf_expired(_error):
        return render_template("errors/csrf.html", retry_url=request.path), 400

    @app.errorhandler(OperationalError)
    def database_unavailable(error):
        log.error("database unavailable: %s", error)
        _discard_session()
        return render_template("errors/503.html"), 503

    @app.errorhandler(DBAPIError)
    def database_error(error):
        if getattr(error, "connection_invalidated", False):
            log.error("database connection lost: %s", error)
            _discard_session()
            return render_template("errors/503.html"), 503
        log.exception("database error")
        _discard_session()
        return render_template("errors/500.html"), 500

    @app.errorhandler(500)
    def server_error(_error):
        _discard_session()
        return render_template("errors/500.html"), 500

    from lms.extensions import hold_loaded

    hold_loaded(app)  # what a request's session loads lives until _close_session
    # Registered after Flask-SQLAlchemy's, so it runs first and that one finds nothing left.
    app.teardown_appcontext(_close_session)
    app.wsgi_app = NoBareErrors(app, app.wsgi_app)


def _close_session(_error: BaseException | None = None) -> None:
    """End the request's database session without letting a failure reach the server.

    Closing rolls back on the connection, and a database that stopped after the request's
    last query fails that rollback: raised here, after the page was made, it would reach
    gunicorn, which answers its own bare 500. Nothing uncommitted is lost by a failed
    rollback, so the page stands; the broken connection is dropped (the pool opens a new
    one, checked at checkout: ``configure_postgresql``) and the session forgotten."""
    from lms.extensions import db

    try:
        db.session.remove()
    except Exception as error:  # noqa: BLE001 - whatever the driver raised, the page stands
        log.warning("database session could not be closed cleanly: %s", error)
        try:
            db.session().invalidate()
        except Exception:  # noqa: BLE001 - nothing more to do for a dead connection
            log.debug("invalidating the session failed", exc_info=True)
        db.session.registry.clear()


class NoBareErrors:
    """The last safety net around the app: an error that escapes Flask's own handlers (one
    raised while a request is torn down, or by an error page itself) is answered with the
    NHS-styled page (503 for a database error, 500 otherwise), never the server's bare
    "Internal Server Error". Headers are held back until the app has answered, so the page
    can still be replaced."""

    def __init__(self, app: Flask, wsgi_app):
        self.app, self.wsgi_app = app, wsgi_app

    def __call__(self, environ, start_response):
        held: list = []

        def hold(status, headers, exc_info=None):
            held[:] = [status, headers, exc_info]
            return lambda _data: None  # the app's responses are iterables, never write()

        try:
            body = self.wsgi_app(environ, hold)
        except Exception as error:  # noqa: BLE001 - the point: nothing escapes bare
            if self.app.testing:
                raise  # a test sees the error itself
            from sqlalchemy.exc import SQLAlchemyError

            database = isinstance(error, SQLAlchemyError)
            log.error("error outside the app's handlers (%s): %s",
                      "database" if database else "other", error, exc_info=not database)
            return self._error_page(environ, start_response, 503 if database else 500)
        start_response(*held)
        return body

    def _error_page(self, environ, start_response, status: int):
        from werkzeug.wrappers import Response

        template = "errors/503.html" if status == 503 else "errors/500.html"
        try:
            with self.app.request_context(environ):
                from flask import g

                from lms.extensions import login_manager

                g._login_user = login_manager.anonymous_user()
                response = self.app.process_response(Response(
                    render_template(template), status, mimetype="text/html"))
        except Exception:  # noqa: BLE001 - the page of last resort, without the layout
            log.exception("the error page itself failed")
            response = Response(_PLAIN_ERROR_PAGE, status, mimetype="text/html")
        return response(environ, start_response)


_PLAIN_ERROR_PAGE = """<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<title>Sorry, the service is unavailable - MDSN Learning &amp; Events</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body><main><h1>Sorry, the service is unavailable</h1>
<p>Try again in a few minutes. Nothing you entered has been saved.</p></main></body></html>
"""


def _page_posted_from() -> str:
    """The page on this site the form was on (its Referer), or else this address."""
    referrer = urlsplit(request.referrer or "")
    if referrer.netloc == request.host and referrer.path.startswith("/") \
            and not referrer.path.startswith("//"):
        return referrer.path + (f"?{referrer.query}" if referrer.query else "")
    return request.script_root + request.path


def _rollback() -> None:
    """Undo whatever the request had written before the error."""
    from lms.extensions import db

    db.session.rollback()


def _discard_session() -> None:
    """Roll back, and show the error page as to a signed-out person: loading the user may be
    what failed."""
    from flask import g

    from lms.extensions import db, login_manager

    g._login_user = login_manager.anonymous_user()

    try:
        db.session.rollback()
    except Exception:  # noqa: BLE001 - the connection may already be gone
        log.debug("rollback after error failed", exc_info=True)
