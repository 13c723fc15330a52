"""The OpenAPI 3.1 document of the API, written by hand so that it is a promise the code is
held to: a test checks that every route of the ``api`` blueprint is described here and every
path described here is a route, and schemathesis checks every response against it.

This module holds the paths (the operations) and puts the document together; its schemas,
parameters and responses are in ``lms.api.openapi_components``. The documentation page
(``/api/v1/docs``) is rendered from this document too, by ``lms.api.docs_page``.
"""

from __future__ import annotations

from copy import deepcopy

from lms.api.openapi_components import (
    PARAMETERS,
    RATE_HEADERS,
    RESPONSES,
    SCHEMAS,
    param,
    ref,
    response,
)
from lms.api.problems import PROBLEM_TYPES

SERVER = "/api/v1"


def _ok(schema: str, description: str, status_headers: dict | None = None) -> dict:
    headers = {"ETag": {"description": "The version of this answer, for If-None-Match",
                        "required": True, "schema": {"type": "string"}}, **RATE_HEADERS,
               **(status_headers or {})}
    return {"description": description, "headers": headers,
            "content": {"application/json": {"schema": ref(schema)}}}


# ---------------------------------------------------------------------------- operations

PUBLIC = [{}, {"bearerAuth": []}, {"sessionCookie": []}]
SIGNED_IN = [{"bearerAuth": []}, {"sessionCookie": []}]
WRITE = [{"bearerAuth": ["read_write"]}, {"sessionCookie": []}]
LIST = [param("page"), param("per_page")]
LINK_HEADER = {"Link": {"description": "RFC 8288 links to the first, previous, next and "
                                       "last pages", "schema": {"type": "string"}}}


def _operation(operation_id: str, tag: str, summary: str, description: str, access: str,
               ok: dict, *, parameters: list | None = None, security: list | None = None,
               errors: tuple[str, ...] = (), conditional: bool = True,
               status: str = "200") -> dict:
    responses = {status: ok}
    if conditional:
        responses["304"] = response("NotModified")
    if parameters and any("$ref" in p and p["$ref"].split("/")[-1] in QUERY_NAMES
                          for p in parameters):
        responses["400"] = response("BadRequest")
    responses["401"] = response("Unauthorised")
    for code, name in (("403", "Forbidden"), ("404", "NotFound"), ("409", "Conflict"),
                       ("422", "Unprocessable")):
        if name in errors:
            responses[code] = response(name)
    responses["429"] = response("TooManyRequests")
    return {
        "operationId": operation_id,
        "tags": [tag],
        "summary": summary,
        "description": description,
        "x-access": access,
        "security": security if security is not None else PUBLIC,
        "parameters": parameters or [],
        "responses": dict(sorted(responses.items())),
    }


QUERY_NAMES = {name for name, p in PARAMETERS.items() if p["in"] == "query"}
ANYONE = "Anyone, signed in or not"
SIGNED_IN_ONLY = "Anyone signed in (a token, or a browser session)"
FACULTY = "Faculty and admins"

PATHS: dict[str, dict] = {
    "/": {"get": _operation(
        "index", "About", "Where things are",
        "Links to the lists and to this documentation.", ANYONE,
        _ok("Index", "Where things are"))},
    "/openapi.json": {"get": _operation(
        "openapi", "About", "This OpenAPI document",
        "The OpenAPI 3.1 document that describes the API, for tools that read it.", ANYONE,
        {"description": "The OpenAPI document", "headers": {"ETag": {
            "required": True, "schema": {"type": "string"}}},
         "content": {"application/json": {"schema": {"type": "object"}}}})},
    "/docs": {"get": _operation(
        "docs", "About", "The documentation page",
        "This document as a page to read.", ANYONE,
        {"description": "The documentation page",
         "content": {"text/html": {"schema": {"type": "string"}}}}, conditional=False)},
    "/me": {"get": _operation(
        "me", "You", "Who you are",
        "Your name, organisation and roles, and how this call was signed in. For a browser "
        "session it also gives the CSRF token to send with changes.", SIGNED_IN_ONLY,
        _ok("Me", "You"), security=SIGNED_IN)},
    "/me/bookings": {"get": _operation(
        "my_bookings", "You", "Your bookings",
        "Everything you have booked, asked for, been nominated to or are waiting for, "
        "finished ones too, oldest first.", SIGNED_IN_ONLY,
        _ok("BookingList", "A page of your bookings", LINK_HEADER), parameters=LIST,
        security=SIGNED_IN)},
    "/me/bookings/{booking_id}": {
        "parameters": [param("booking_id")],
        "get": _operation(
            "my_booking", "You", "One of your bookings",
            "One of your own bookings. Anyone else's answers 404.", SIGNED_IN_ONLY,
            _ok("Booking", "The booking"), security=SIGNED_IN, errors=("NotFound",)),
        "delete": _operation(
            "withdraw", "Booking", "Withdraw",
            "Give up your place, request or place on the waiting list, by the same rules as "
            "the Withdraw button. A freed place is offered to the first person waiting. "
            "Needs a read and write token (or a browser session with its CSRF token).",
            SIGNED_IN_ONLY,
            {"description": "Withdrawn: the booking as it is now",
             "content": {"application/json": {"schema": ref("Booking")}}},
            security=WRITE, errors=("Forbidden", "NotFound", "Conflict", "Unprocessable"),
            conditional=False),
    },
    "/me/calendar": {"get": _operation(
        "my_calendar", "You", "Your calendar",
        "Every session you have a place at, by start time, as in your calendar feed: "
        "courses, webinars, every meeting of your networks and the festival sessions you "
        "booked. The joining link is there once your place is confirmed.", SIGNED_IN_ONLY,
        _ok("CalendarEntryList", "A page of your sessions", LINK_HEADER),
        parameters=[*LIST, param("from"), param("to")], security=SIGNED_IN)},
    "/courses": {"get": _operation(
        "courses", "Catalogue", "Courses",
        "Courses and programmes in the catalogue, by title.", ANYONE,
        _ok("CourseList", "A page of courses", LINK_HEADER),
        parameters=[*LIST, param("course_kind"), param("strand")])},
    "/courses/{course_id}": {
        "parameters": [param("course_id")],
        "get": _operation(
            "course", "Catalogue", "A course", "One course or programme.", ANYONE,
            _ok("Course", "The course"), errors=("NotFound",))},
    "/offerings": {"get": _operation(
        "offerings", "Catalogue", "Cohorts and events, with places left",
        "Cohorts of courses and events (webinars, networks, the festival), by id, with "
        "their dates and the places left. With from and to: only those with a session "
        "starting in that range.", ANYONE,
        _ok("OfferingList", "A page of offerings", LINK_HEADER),
        parameters=[*LIST, param("from"), param("to"), param("offering_kind"),
                    param("offering_status"), param("course")])},
    "/offerings/{offering_id}": {
        "parameters": [param("offering_id")],
        "get": _operation(
            "offering", "Catalogue", "An offering and its sessions",
            "One cohort or event, its places left and all its sessions.", ANYONE,
            _ok("OfferingDetail", "The offering"), errors=("NotFound",))},
    "/offerings/{offering_id}/bookings": {
        "parameters": [param("offering_id")],
        "post": _operation(
            "book", "Booking", "Book",
            "Book a place for yourself, by the same rules as the Book button: a place if one "
            "is free, a request where faculty approve places, a place on the waiting list "
            "when full. Booking twice, or something closed or by nomination, is refused with "
            "the same message the page shows. Needs a read and write token (or a browser "
            "session with its CSRF token).", SIGNED_IN_ONLY,
            {"description": "Booked (or requested, or waiting): the new booking",
             "headers": {"Location": {"description": "The booking's address",
                                      "required": True, "schema": {"type": "string"}}},
             "content": {"application/json": {"schema": ref("Booking")}}},
            security=WRITE, errors=("Forbidden", "NotFound", "Conflict", "Unprocessable"),
            conditional=False, status="201")},
    "/offerings/{offering_id}/attendance": {
        "parameters": [param("offering_id")],
        "get": _operation(
            "attendance", "Faculty", "Attendance at an offering",
            "Every attendance recorded at the offering's sessions, by session start then "
            "record, with how it was recorded.", FACULTY,
            _ok("AttendanceList", "A page of attendance records", LINK_HEADER),
            parameters=[*LIST, param("from"), param("to"), param("ics")],
            security=SIGNED_IN, errors=("Forbidden", "NotFound"))},
    "/offerings/{offering_id}/completions": {
        "parameters": [param("offering_id")],
        "get": _operation(
            "completions", "Faculty", "Completions on an offering",
            "Each person holding a place: attendance against the completion rule, feedback, "
            "sign-off, and whether and when they completed.", FACULTY,
            _ok("CompletionList", "A page of people's progress", LINK_HEADER),
            parameters=[*LIST, param("ics")], security=SIGNED_IN,
            errors=("Forbidden", "NotFound"))},
    "/offerings/{offering_id}/materials": {
        "parameters": [param("offering_id")],
        "get": _operation(
            "materials", "Catalogue", "An offering's materials",
            "The files and links of one cohort or event that you may see now, in faculty's "
            "order: all of them for faculty and admins; for people with a confirmed place, "
            "those whose moment has come; for anyone else, an open event's public ones. "
            "Files are downloaded from their download_url.", ANYONE,
            _ok("MaterialList", "A page of materials", LINK_HEADER), parameters=LIST,
            errors=("NotFound",))},
    "/me/assignments": {"get": _operation(
        "my_assignments", "You", "Your assignments",
        "The assignments of every cohort you are on, by deadline: the brief, your deadline "
        "(with any extension), and your work (or your group's) with its outcome and "
        "feedback.", SIGNED_IN_ONLY, _ok("MyAssignmentList", "Your assignments"),
        security=SIGNED_IN)},
    "/offerings/{offering_id}/assignments": {
        "parameters": [param("offering_id")],
        "get": _operation(
            "offering_assignments", "Faculty", "Assignments on a cohort",
            "The cohort's assignments, by deadline, with how many pieces of work came in, "
            "were met and not yet met.", FACULTY,
            _ok("CohortAssignmentList", "The cohort's assignments"), security=SIGNED_IN,
            errors=("Forbidden", "NotFound"))},
    "/sessions": {"get": _operation(
        "sessions", "Catalogue", "Sessions",
        "Sessions of cohorts and events, by start time, with places left where a session "
        "has its own (festival sessions).", ANYONE,
        _ok("SessionList", "A page of sessions", LINK_HEADER),
        parameters=[*LIST, param("from"), param("to"), param("offering")])},
    "/ics/{code}/figures": {
        "parameters": [param("code")],
        "get": _operation(
            "ics_figures", "Figures", "An ICS's figures",
            "An ICS's people: places, attendance and completions by course and event, "
            "nominations against its quotas, each person's activity and competency coverage "
            "beside the region's. A DSU lead sees their own ICS only: any other answers 404. "
            "Faculty and admins see any ICS.",
            "DSU leads (their own ICS), faculty and admins",
            _ok("IcsFigures", "The ICS's figures"),
            parameters=[param("from"), param("to"), param("course")], security=SIGNED_IN,
            errors=("Forbidden", "NotFound"))},
    "/region/figures": {"get": _operation(
        "region_figures", "Figures", "The region's figures",
        "Participation by ICS and by month, course completions, feedback scores and the "
        "uptake of quota places. Without dates: the last twelve months.", FACULTY,
        _ok("RegionFigures", "The region's figures"),
        parameters=[param("from"), param("to"), param("course")], security=SIGNED_IN,
        errors=("Forbidden",))},
}

TAGS = [
    {"name": "About", "description": "This API and its documents."},
    {"name": "Catalogue", "description": "Courses, cohorts, events, sessions and places left: "
                                         "public, like the catalogue pages."},
    {"name": "You", "description": "Your own bookings and calendar."},
    {"name": "Booking", "description": "Booking and withdrawing, by the same rules as the "
                                       "pages."},
    {"name": "Faculty", "description": "Registers and completions, for faculty and admins."},
    {"name": "Figures", "description": "The dashboards' figures: an ICS's for its DSU leads, "
                                       "the region's for faculty and admins."},
]

DESCRIPTION = (
    "The MDSN Learning & Events API: the catalogue, your bookings and calendar, registers "
    "and completions, and the dashboards' figures, for analysts' tools (Power BI, R, Python) "
    "and other systems.\n\n"
    "Sign in with a personal token from your profile, sent as `Authorization: Bearer "
    "<token>`. Lists come a page at a time; reads carry an `ETag`; errors are RFC 9457 "
    "problem details."
)


def document() -> dict:
    """The OpenAPI 3.1 document (a fresh copy each time: callers may change it)."""
    return deepcopy({
        "openapi": "3.1.0",
        "info": {"title": "MDSN Learning & Events API", "version": "1.0.0",
                 "description": DESCRIPTION},
        "servers": [{"url": SERVER}],
        "tags": TAGS,
        "paths": PATHS,
        "components": {
            "schemas": SCHEMAS,
            "parameters": PARAMETERS,
            "responses": RESPONSES,
            "securitySchemes": {
                "bearerAuth": {"type": "http", "scheme": "bearer",
                               "description": "A personal API token from your profile. "
                                              "Read-only tokens cannot book or withdraw."},
                "sessionCookie": {"type": "apiKey", "in": "cookie", "name": "session",
                                  "description": "A signed-in browser session. Calls that "
                                                 "change something need the X-CSRFToken "
                                                 "header too."},
            },
        },
        "x-problem-types": [
            {"slug": p.slug, "status": p.status, "title": p.title,
             "description": p.description} for p in PROBLEM_TYPES],
    })
