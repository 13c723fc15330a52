"""Structured logs: every log line is one JSON object carrying the request id, and each
request ends with one line saying who asked for what, how it went and how long it took.

The request id is the caller's ``X-Request-ID`` when it looks like one (nginx's
``$request_id``, a load balancer's), else a new one; it is returned in the response's
``X-Request-ID`` header, so a person's report of a problem can be found in the logs.
"""

from __future__ import annotations

import json
import logging
import re
import time
import uuid

from flask import Flask, g, has_request_context, request

log = logging.getLogger("lms.requests")

REQUEST_ID_HEADER = "X-Request-ID"
# Letters, digits and a few separators, up to 128: a sane id, not a way into the logs.
_SANE_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")


def request_id_from(header: str | None) -> str:
    """The caller's request id if it is sane, else a new random one."""
    if header and _SANE_ID.fullmatch(header):
        return header
    return uuid.uuid4().hex


def current_request_id() -> str | None:
    """This request's id, or ``None`` outside a request (the scheduler, a command)."""
    return g.get("request_id") if has_request_context() else None


class RequestIdFilter(logging.Filter):
    """Gives every record a ``request_id`` (``-`` outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = current_request_id() or "-"
        return True


# What a LogRecord has anyway; anything else given through ``extra=`` goes into the line.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC, ISO 8601), level, logger, message, request id,
    the ``extra`` fields, and the traceback when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
                    + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None) or current_request_id() or "-",
        }
        line.update({key: value for key, value in vars(record).items()
                     if key not in _STANDARD and key not in line})
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str)


def configure_logging(app: Flask) -> None:
    """Send the root logger's lines to standard error as JSON (``LOG_FORMAT=json``, the
    production default) or as text with the request id (``text``). Once per process; tests
    keep pytest's own logging."""
    root = logging.getLogger()
    if app.testing or any(getattr(h, "lms_handler", False) for h in root.handlers):
        return
    handler = logging.StreamHandler()
    handler.lms_handler = True
    handler.addFilter(RequestIdFilter())
    if app.config.get("LOG_FORMAT") == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter(
            "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"))
    root.addHandler(handler)
    root.setLevel(logging.INFO)


def init_app(app: Flask) -> None:
    """The request id on the way in and out, and the line that ends each request."""
    configure_logging(app)

    def start_request_log():
        g.request_id = request_id_from(request.headers.get(REQUEST_ID_HEADER))
        g.request_started = time.perf_counter()

    # First of all the app's before-request hooks: one that answers early (a redirect to
    # sign in) still gets its id and its time.
    app.before_request_funcs.setdefault(None, []).insert(0, start_request_log)

    @app.after_request
    def end_request_log(response):
        request_id = g.get("request_id") or request_id_from(None)
        response.headers[REQUEST_ID_HEADER] = request_id
        started = g.get("request_started")
        duration_ms = round((time.perf_counter() - started) * 1000, 1) if started else None
        user = g.get("_login_user")  # only if the request loaded one: no query for the log
        log.info("%s %s %s", request.method, route_of(), response.status_code, extra={
            "request_id": request_id,
            "method": request.method,
            "route": route_of(),
            "endpoint": request.endpoint,
            "status": response.status_code,
            "duration_ms": duration_ms,
            "user_id": getattr(user, "id", None) if getattr(user, "is_authenticated", False)
            else None,
        })
        return response


def route_of() -> str:
    """The request's route as written (``/cohorts/<int:id>``), never the path itself, which
    may hold a token; ``unmatched`` for a path that is no route."""
    rule = request.url_rule
    return rule.rule if rule is not None else "unmatched"
