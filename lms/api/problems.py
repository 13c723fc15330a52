"""Errors as RFC 9457 problem details: ``application/problem+json`` with a ``type`` (a link to
the problem's entry on the API's documentation page), ``title``, ``status``, ``detail``
(written for the person reading it) and ``instance`` (the address that was called)."""

from __future__ import annotations

import json
from dataclasses import dataclass

from flask import Response, request, url_for

from lms.api.params import InvalidParameters
from lms.errors import DomainError, InvalidInput, NotAllowed, NotFound
from lms.offerings.policy import AlreadyBooked, BookingClosed, OfferingFull, QuotaExceeded
from lms.web import absolute_url

PROBLEM_JSON = "application/problem+json"


@dataclass(frozen=True)
class ProblemType:
    slug: str
    status: int
    title: str
    description: str


PROBLEM_TYPES: list[ProblemType] = [
    ProblemType("bad-request", 400, "Bad request",
                "A query parameter is not valid: a date not written as YYYY-MM-DD, a page "
                "number that is not a whole number, an unknown ICS code. ``errors`` lists "
                "each parameter that is wrong."),
    ProblemType("unauthorised", 401, "Sign-in needed",
                "The call needs a token (``Authorization: Bearer …``) or a signed-in "
                "session, or the token sent is not valid, has expired or was revoked."),
    ProblemType("forbidden", 403, "Not allowed",
                "You are signed in but your role does not allow this."),
    ProblemType("insufficient-scope", 403, "Token is read-only",
                "The token can only read. Create a read and write token to book or withdraw."),
    ProblemType("csrf-failed", 403, "CSRF token missing or not valid",
                "Calls that change something from a signed-in browser session must send the "
                "session's CSRF token in an ``X-CSRFToken`` header (from ``GET /api/v1/me``). "
                "Calls with a token need no CSRF token."),
    ProblemType("not-found", 404, "Not found",
                "There is no such thing, or it is not one you may see."),
    ProblemType("method-not-allowed", 405, "Method not allowed",
                "This address does not take this method. The ``Allow`` header lists those "
                "it takes."),
    ProblemType("already-booked", 409, "Already booked",
                "You already have a place, a request, a nomination or a place on the "
                "waiting list for this."),
    ProblemType("booking-closed", 409, "Booking closed",
                "This does not take bookings now: it is not open, has started, has finished "
                "or was cancelled."),
    ProblemType("offering-full", 409, "No places left", "Every place has been taken."),
    ProblemType("quota-exceeded", 409, "ICS quota used up",
                "Your ICS has used all the places reserved for it."),
    ProblemType("rule-not-met", 422, "Cannot do this",
                "A rule of the service says no; ``detail`` says which and why."),
    ProblemType("rate-limited", 429, "Too many calls",
                "You have made too many calls in a minute. Wait the number of seconds in the "
                "``Retry-After`` header, then carry on."),
    ProblemType("server-error", 500, "Something went wrong",
                "Something went wrong on our side. Try again later."),
    ProblemType("unavailable", 503, "Service unavailable",
                "The service cannot reach its database just now. Try again in a few minutes."),
]
BY_SLUG = {p.slug: p for p in PROBLEM_TYPES}


class Problem(Exception):
    """An error the API answers with problem details."""

    def __init__(self, slug: str, detail: str, *, status: int | None = None,
                 headers: dict[str, str] | None = None,
                 errors: list[dict[str, str]] | None = None):
        super().__init__(detail)
        kind = BY_SLUG[slug]
        self.slug = slug
        self.status = status or kind.status
        self.title = kind.title
        self.detail = detail
        self.headers = headers or {}
        self.errors = errors


def type_url(slug: str) -> str:
    """Where a problem type is explained: its entry on the documentation page."""
    return absolute_url(url_for("api.docs")) + f"#problem-{slug}"


def response_for(problem: Problem) -> Response:
    """The problem as an ``application/problem+json`` response."""
    body: dict = {
        "type": type_url(problem.slug),
        "title": problem.title,
        "status": problem.status,
        "detail": problem.detail,
        "instance": request.path,
    }
    if problem.errors:
        body["errors"] = problem.errors
    response = Response(json.dumps(body, ensure_ascii=False), status=problem.status,
                        mimetype=PROBLEM_JSON)
    response.headers["Cache-Control"] = "no-store"
    for name, value in problem.headers.items():
        response.headers[name] = value
    return response


# Domain errors whose meaning is "the state of things says no": 409 Conflict.
CONFLICTS: list[tuple[type[DomainError], str]] = [
    (AlreadyBooked, "already-booked"),
    (BookingClosed, "booking-closed"),
    (OfferingFull, "offering-full"),
    (QuotaExceeded, "quota-exceeded"),
]


def from_domain_error(error: DomainError) -> Problem:
    """The problem a service's error becomes, keeping the service's own message."""
    if isinstance(error, NotFound):
        return Problem("not-found", error.message)
    if isinstance(error, NotAllowed):
        return Problem("forbidden", error.message)
    for kind, slug in CONFLICTS:
        if isinstance(error, kind):
            return Problem(slug, error.message)
    if isinstance(error, InvalidParameters):
        return Problem("bad-request", _summary(error), errors=_errors(error))
    if isinstance(error, InvalidInput):
        return Problem("rule-not-met", _summary(error), errors=_errors(error))
    return Problem("rule-not-met", error.message)


def _errors(error: InvalidInput) -> list[dict[str, str]]:
    return [{"field": field or "", "message": message} for field, message in error.errors]


def _summary(error: InvalidInput) -> str:
    """Every message in one sentence or a few, so ``detail`` alone says all that is wrong."""
    return ". ".join(message.rstrip(".") for _, message in error.errors) + "."
