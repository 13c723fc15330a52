"""The JSON API, version 1, at ``/api/v1``: thin views over ``lms.api.queries``.

Before each call: who is calling (``lms.api.auth``), the rate limit, and, for changes, the
token's scope or the browser session's CSRF token. Every error under ``/api/v1`` (unknown
addresses and methods included) is answered with problem details.
"""

from __future__ import annotations

import logging

from flask import Blueprint, current_app, g, render_template, request, url_for
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException, MethodNotAllowed
from werkzeug.routing import RequestRedirect

from lms.accounts.models import Role
from lms.api import auth, docs_page, openapi, openapi_components, queries, serialisers
from lms.api.params import MAX_ID, Reader
from lms.api.problems import BY_SLUG, PROBLEM_TYPES, Problem, from_domain_error, response_for
from lms.api.responses import json_response, page_response
from lms.courses.models import CourseKind, Strand
from lms.errors import DomainError
from lms.extensions import db
from lms.feedback.services import answers_are_anonymous
from lms.offerings.models import OfferingStatus
from lms.web import absolute_url

log = logging.getLogger(__name__)

bp = Blueprint("api", __name__, url_prefix=openapi.SERVER)

ID = f"int(min=1, max={MAX_ID})"
FACULTY = (Role.FACULTY, Role.ADMIN)
NOT_FACULTY = "Only faculty and admins can see registers and completions."


# ---------------------------------------------------------------------------- every call


def unknown_api_address():
    """An address under /api/v1 that matches no route, or a method it does not take: a
    problem, not the site's HTML page. (Blueprint error handlers never see these: no
    blueprint matched.)"""
    error = request.routing_exception
    if error is None or isinstance(error, RequestRedirect):
        return None
    if request.path != openapi.SERVER and not request.path.startswith(openapi.SERVER + "/"):
        return None
    if isinstance(error, MethodNotAllowed) and _exists_for_another_method(error):
        allowed = ", ".join(sorted(error.valid_methods or []))
        return response_for(Problem("method-not-allowed",
                                    f"{request.method} is not allowed here. Use {allowed}.",
                                    headers={"Allow": allowed}))
    return response_for(Problem("not-found", "There is nothing at this address. The "
                                "documentation at /api/v1/docs lists every address."))


def _exists_for_another_method(error: MethodNotAllowed) -> bool:
    """Whether the address really is a route for some other method. Werkzeug says "method
    not allowed" when a rule for another method matched the path's shape but its converter
    refused the value (an id past the largest): that address is not found for any method."""
    adapter = current_app.create_url_adapter(request)
    for method in error.valid_methods or []:
        try:
            adapter.match(method=method)
        except HTTPException:
            continue
        return True
    return False


@bp.record_once
def _answer_unknown_addresses_first(state) -> None:
    # First of all the app's before-request functions: CSRFProtect's would otherwise answer
    # a POST to an unknown API address with the site's HTML page.
    state.app.before_request_funcs.setdefault(None, []).insert(0, unknown_api_address)


@bp.before_request
def before_call():
    """Who is calling, the rate limit, and the scope or CSRF check for changes."""
    who = auth.identify()
    g.api_rate_headers = auth.count_against_limit(who)
    auth.check_may_change(who)


@bp.after_request
def rate_headers(response):
    """Tell the caller how much of their rate limit is left."""
    for name, value in g.get("api_rate_headers", {}).items():
        response.headers.setdefault(name, value)
    return response


@bp.errorhandler(Problem)
def problem(error: Problem):
    """A refusal of the API's own: as problem details."""
    db.session.rollback()
    return response_for(error)


@bp.errorhandler(DomainError)
def domain_error(error: DomainError):
    """A service's rule said no: its own message, as problem details."""
    db.session.rollback()
    return response_for(from_domain_error(error))


@bp.errorhandler(HTTPException)
def http_error(error: HTTPException):
    """Any other HTTP error inside the API (a body too large, say): as problem details."""
    db.session.rollback()
    slug = {400: "bad-request", 401: "unauthorised", 403: "forbidden", 404: "not-found",
            405: "method-not-allowed", 429: "rate-limited"}.get(error.code or 500)
    if slug is None:
        slug = "server-error" if (error.code or 500) >= 500 else "bad-request"
    return response_for(Problem(slug, error.description or BY_SLUG[slug].title,
                                status=error.code))


@bp.errorhandler(Exception)
def unexpected(error: Exception):
    """Anything else: logged, and answered without a trace."""
    db.session.rollback()
    if isinstance(error, OperationalError):
        log.error("database unavailable: %s", error)
        return response_for(Problem("unavailable", BY_SLUG["unavailable"].description))
    log.exception("API error")
    return response_for(Problem("server-error", BY_SLUG["server-error"].description))


# ---------------------------------------------------------------------------- about


@bp.get("/")
def index():
    """Where things are."""
    names = ("courses", "offerings", "sessions", "me", "my_bookings", "my_calendar",
             "region_figures", "openapi", "docs")
    return json_response({
        "name": "MDSN Learning & Events API",
        "version": "1",
        "links": {name: absolute_url(url_for(f"api.{name}")) for name in names},
    })


@bp.get("/openapi.json", endpoint="openapi")
def openapi_document():
    """The OpenAPI 3.1 document, its server on the configured address of the service."""
    doc = openapi.document()
    doc["servers"] = [{"url": absolute_url(openapi.SERVER)}]
    return json_response(doc)


@bp.get("/docs")
def docs():
    """The documentation, as a page to read."""
    doc = openapi.document()
    return render_template("api/docs.html", doc=doc, page=docs_page.for_page(doc),
                           problems=PROBLEM_TYPES, read_limit=auth.limit("read"),
                           write_limit=auth.limit("write"))


# ---------------------------------------------------------------------------- the catalogue


@bp.get("/courses")
def courses():
    """Courses in the catalogue."""
    read = Reader(request.args)
    paging = read.paging()
    kind = read.choice("kind", [k.value for k in CourseKind])
    strand = read.choice("strand", [s.value for s in Strand])
    read.done()
    page = queries.courses_list(auth.viewer(), paging, kind, strand)
    return page_response(page, [serialisers.course(c) for c in page.items])


@bp.get(f"/courses/<{ID}:course_id>")
def course(course_id: int):
    """One course."""
    return json_response(serialisers.course(queries.get_course(course_id, auth.viewer())))


@bp.get("/offerings")
def offerings():
    """Cohorts and events, with places left."""
    read = Reader(request.args)
    paging, dates = read.paging(), read.dates()
    kind = read.choice("kind", openapi_components.OFFERING_KINDS)
    status = read.choice("status", [s.value for s in OfferingStatus])
    course_id = read.optional_id("course")
    read.done()
    page = queries.offerings_list(auth.viewer(), paging, dates, kind, status, course_id)
    return page_response(page, [serialisers.offering(line) for line in page.items])


@bp.get(f"/offerings/<{ID}:offering_id>")
def offering(offering_id: int):
    """One offering and its sessions."""
    found = queries.get_offering(offering_id, auth.viewer())
    body = serialisers.offering(queries.offering_line(found))
    body["sessions"] = [serialisers.session(line) for line in queries.sessions_of(found)]
    return json_response(body)


@bp.get(f"/offerings/<{ID}:offering_id>/materials")
def materials(offering_id: int):
    """An offering's materials the caller may see."""
    found = queries.get_offering(offering_id, auth.viewer())
    read = Reader(request.args)
    paging = read.paging()
    read.done()
    page = queries.materials_list(found, auth.viewer(), paging)
    return page_response(page, [serialisers.material(m) for m in page.items])


@bp.get("/sessions")
def sessions():
    """Sessions of cohorts and events."""
    read = Reader(request.args)
    paging, dates = read.paging(), read.dates()
    offering_id = read.optional_id("offering")
    read.done()
    page = queries.sessions_list(auth.viewer(), paging, dates, offering_id)
    return page_response(page, [serialisers.session(line) for line in page.items])


# ---------------------------------------------------------------------------- you


@bp.get("/me")
def me():
    """Who the caller is."""
    user = auth.signed_in()
    who = auth.caller()
    return json_response(serialisers.me(user, who.token, auth.csrf_token_for(who)))


@bp.get("/me/bookings")
def my_bookings():
    """The caller's bookings."""
    user = auth.signed_in()
    read = Reader(request.args)
    paging = read.paging()
    read.done()
    page = queries.my_bookings(user, paging)
    return page_response(page, [serialisers.booking(e) for e in page.items])


@bp.get(f"/me/bookings/<{ID}:booking_id>")
def my_booking(booking_id: int):
    """One of the caller's bookings."""
    user = auth.signed_in()
    return json_response(serialisers.booking(queries.my_booking(user, booking_id)))


@bp.delete(f"/me/bookings/<{ID}:booking_id>")
def withdraw(booking_id: int):
    """Withdraw from one of the caller's bookings."""
    user = auth.signed_in()
    enrolment = queries.withdraw(user, booking_id)
    db.session.commit()
    return json_response(serialisers.booking(enrolment), etag=False)


@bp.post(f"/offerings/<{ID}:offering_id>/bookings")
def book(offering_id: int):
    """Book a place for the caller."""
    user = auth.signed_in()
    enrolment = queries.book(user, offering_id)
    db.session.commit()
    location = absolute_url(url_for("api.my_booking", booking_id=enrolment.id))
    return json_response(serialisers.booking(enrolment), 201, {"Location": location},
                         etag=False)


@bp.get("/me/calendar")
def my_calendar():
    """Sessions the caller has a place at."""
    user = auth.signed_in()
    read = Reader(request.args)
    paging, dates = read.paging(), read.dates()
    read.done()
    page = queries.my_calendar(user, paging, dates)
    return page_response(page, [serialisers.calendar_entry(row) for row in page.items])


@bp.get("/me/assignments")
def my_assignments():
    """The caller's assignments, with their work and feedback (lms.learning)."""
    from lms.learning import assignments_api

    user = auth.signed_in()
    Reader(request.args).done()
    return json_response({"data": assignments_api.mine(user, serialisers.offering_ref)})


# ---------------------------------------------------------------------------- faculty


def _managed_offering(offering_id: int):
    auth.holding(FACULTY, NOT_FACULTY)
    return queries.get_offering(offering_id, auth.viewer())


@bp.get(f"/offerings/<{ID}:offering_id>/attendance")
def attendance(offering_id: int):
    """Attendance at an offering's sessions."""
    found = _managed_offering(offering_id)
    read = Reader(request.args)
    paging, dates, ics = read.paging(), read.dates(), read.ics()
    read.done()
    page = queries.attendance_list(found, paging, dates, ics)
    return page_response(page, [serialisers.attendance(row) for row in page.items])


@bp.get(f"/offerings/<{ID}:offering_id>/assignments")
def offering_assignments(offering_id: int):
    """A cohort's assignments, with how much work came in and was met (lms.learning)."""
    from lms.learning import assignments_api

    found = _managed_offering(offering_id)
    Reader(request.args).done()
    return json_response({"data": assignments_api.of_cohort(found, serialisers.offering_ref)})


@bp.get(f"/offerings/<{ID}:offering_id>/completions")
def completions(offering_id: int):
    """Progress and completions on an offering."""
    found = _managed_offering(offering_id)
    read = Reader(request.args)
    paging, ics = read.paging(), read.ics()
    read.done()
    page = queries.completions_list(found, paging, ics)
    private = answers_are_anonymous(found.id)
    return page_response(page, [serialisers.completion(p, feedback_private=private)
                                for p in page.items])


# ---------------------------------------------------------------------------- figures


@bp.get("/ics/<code>/figures")
def ics_figures(code: str):
    """An ICS's figures: a DSU lead's own ICS, or any for faculty and admins."""
    user = auth.holding((Role.DSU_LEAD, *FACULTY),
                        "Only DSU leads, faculty and admins can see an ICS's figures.")
    read = Reader(request.args)
    dates, course_id = read.dates(), read.optional_id("course")
    read.done()
    board = queries.ics_figures(user, code, dates, course_id)
    return json_response(serialisers.ics_figures(board, dates))


@bp.get("/region/figures")
def region_figures():
    """The region's figures."""
    auth.holding(FACULTY, "Only faculty and admins can see the region's figures.")
    read = Reader(request.args)
    dates, course_id = read.dates(), read.optional_id("course")
    read.done()
    return json_response(serialisers.region_figures(queries.region_figures(dates, course_id)))
