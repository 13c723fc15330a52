"""The components of the API's OpenAPI document (``lms.api.openapi``): the schemas of what the
API answers, the parameters it reads and the responses it gives, with the small builders they
are written with. The enumerations the views check query parameters against live here too, so
that the document and the code read the same list.
"""

from __future__ import annotations

from lms.api.params import DEFAULT_PER_PAGE, FIRST_YEAR, LAST_YEAR, MAX_ID, MAX_PAGE, MAX_PER_PAGE
from lms.api.problems import PROBLEM_JSON
from lms.courses.models import CourseFormat, CourseKind, Strand
from lms.offerings.models import BookingMode, EnrolmentState, OfferingStatus

OFFERING_KINDS = ["cohort", "webinar", "network", "festival"]
ATTENDANCE_MARKS = ["present", "late", "absent", "excused"]
ATTENDANCE_SOURCES = ["register", "check_in", "import"]


def _values(kind) -> list[str]:
    return [member.value for member in kind]


def ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _string(description: str = "", **extra) -> dict:
    return {"type": "string", **({"description": description} if description else {}), **extra}


def _nullable(type_: str, description: str = "", **extra) -> dict:
    return {"type": [type_, "null"], **({"description": description} if description else {}),
            **extra}


def _integer(description: str = "", **extra) -> dict:
    return {"type": "integer", **({"description": description} if description else {}),
            **extra}


def _object(properties: dict, description: str = "", required: list[str] | None = None) -> dict:
    schema = {"type": "object", "properties": properties,
              "required": required if required is not None else list(properties)}
    if description:
        schema["description"] = description
    return schema


MOMENT = "A moment in UTC, RFC 3339 (like 2027-03-29T09:30:00+00:00)"
LINK = _string("An absolute address", format="uri")


# ---------------------------------------------------------------------------- schemas

SCHEMAS: dict[str, dict] = {
    "Problem": _object({
        "type": _string("A link to this kind of problem on the documentation page"),
        "title": _string("What kind of problem it is, in a few words"),
        "status": _integer("The HTTP status"),
        "detail": _string("What went wrong this time, and what to do about it"),
        "instance": _string("The address that was called"),
        "errors": {"type": "array", "description": "Each parameter or field that is wrong",
                   "items": _object({"field": _string("The parameter or field"),
                                     "message": _string("What is wrong with it")})},
    }, "An error, as RFC 9457 problem details",
        required=["type", "title", "status", "detail", "instance"]),
    "PageLinks": _object({
        "self": LINK, "first": LINK, "last": LINK,
        "prev": _nullable("string", "The previous page; null on the first", format="uri"),
        "next": _nullable("string", "The next page; null on the last", format="uri"),
    }, "Addresses of other pages of the same list, with the same filters"),
    "PageMeta": _object({
        "page": _integer("This page's number, from 1", minimum=1),
        "per_page": _integer("Items per page", minimum=1, maximum=MAX_PER_PAGE),
        "total": _integer("Items in the whole list", minimum=0),
        "pages": _integer("Pages in the whole list (at least 1)", minimum=1),
    }),
    "Index": _object({
        "name": _string(), "version": _string(),
        "links": {"type": "object", "additionalProperties": LINK,
                  "description": "Where to start"},
    }, "Where things are"),
    "Me": _object({
        "id": _integer(), "name": _string(), "email": _string(),
        "organisation": _object({"code": _string(), "name": _string(),
                                 "is_ics": {"type": "boolean"}}),
        "roles": {"type": "array", "items": _string(enum=["learner", "dsu_lead", "faculty",
                                                          "admin"])},
        "authenticated_by": _string("How this call was signed in",
                                    enum=["token", "session"]),
        "token": {"oneOf": [
            {"type": "null"},
            _object({"name": _string(), "prefix": _string("The token's public part"),
                     "scope": _string(enum=["read", "read_write"]),
                     "expires_at": _string(MOMENT, format="date-time")}),
        ], "description": "The token used, if any"},
        "csrf_token": _nullable("string", "For browser sessions: send it as X-CSRFToken on "
                                          "calls that change something"),
    }, "You, as the API sees you"),
    "Course": _object({
        "id": _integer(), "title": _string(), "summary": _string(), "description": _string(),
        "kind": _string(enum=_values(CourseKind)),
        "strand": _string("One of the network's four strands", enum=_values(Strand)),
        "strand_label": _string("The strand in words"),
        "format": _string(enum=_values(CourseFormat)),
        "target_audience": _string(),
        "cpd_hours": {"type": "number", "minimum": 0, "description": "CPD hours on completion"},
        "published": {"type": "boolean",
                      "description": "False only for faculty and admins' eyes"},
        "links": _object({"self": LINK, "offerings": LINK, "page": LINK}),
    }, "A course or programme in the catalogue"),
    "OfferingRef": _object({
        "id": _integer(), "kind": _string(enum=OFFERING_KINDS), "title": _string(),
        "status": _string(enum=_values(OfferingStatus)),
        "links": _object({"self": LINK}),
    }, "An offering in brief"),
    "Offering": _object({
        "id": _integer(),
        "kind": _string("A cohort of a course, or an event", enum=OFFERING_KINDS),
        "title": _string(),
        "status": _string(enum=_values(OfferingStatus)),
        "booking_mode": _string("open: book yourself; approval: ask and faculty approve; "
                                "nomination: DSU leads nominate", enum=_values(BookingMode)),
        "course_id": _nullable("integer", "The course of a cohort; null for events"),
        "capacity": _nullable("integer", "Places in all; null when unlimited", minimum=0),
        "places_left": _nullable("integer", "Places anyone may still book (not held back "
                                            "for ICS quotas); null when unlimited", minimum=0),
        "starts_at": _nullable("string", "When the first session (not cancelled) starts",
                               format="date-time"),
        "ends_at": _nullable("string", "When the last session (not cancelled) ends",
                             format="date-time"),
        "session_count": _integer("Sessions not cancelled", minimum=0),
        "links": _object({"self": LINK, "sessions": LINK, "book": LINK, "page": LINK}),
    }, "Something people get a place on: a cohort of a course, a webinar, a network's "
       "meetings or the festival"),
    "Session": _object({
        "id": _integer(), "offering": ref("OfferingRef"), "title": _string(),
        "starts_at": _string(MOMENT, format="date-time"),
        "ends_at": _string(MOMENT, format="date-time"),
        "location": _string("A place, or empty for online sessions"),
        "status": _string(enum=["scheduled", "cancelled"]),
        "capacity": _nullable("integer", "The session's own places (festival sessions); "
                                         "null otherwise", minimum=0),
        "places_left": _nullable("integer", "Of the session's own places", minimum=0),
    }, "One dated meeting of an offering. Joining links are in your calendar, not here"),
    "Booking": _object({
        "id": _integer(), "offering": ref("OfferingRef"),
        "state": _string("Where the booking stands", enum=_values(EnrolmentState)),
        "state_label": _string("The state in words"),
        "waitlist_position": _nullable("integer", "Your place in the queue, while waiting",
                                       minimum=1),
        "offer_expires_at": _nullable("string", "When an offered place lapses",
                                      format="date-time"),
        "created_at": _string(MOMENT, format="date-time"),
        "updated_at": _string(MOMENT, format="date-time"),
        "links": _object({"self": LINK}),
    }, "Your place, request, nomination or place on a waiting list"),
    "CalendarEntry": _object({
        "session_id": _integer(),
        "offering": ref("OfferingRef"),
        "title": _string(),
        "starts_at": _string(MOMENT, format="date-time"),
        "ends_at": _string(MOMENT, format="date-time"),
        "location": _string(),
        "join_url": _nullable("string", "The joining link, once your place is confirmed"),
        "status": _string(enum=["scheduled", "cancelled"]),
        "place": _string("The state of your place", enum=_values(EnrolmentState)),
        "confirmed": {"type": "boolean", "description": "Whether your place is confirmed"},
    }, "A session you have a place at"),
    "Person": _object({"id": _integer(), "name": _string(), "email": _string(),
                       "organisation": _string("The code of their organisation")}),
    "Attendance": _object({
        "id": _integer(),
        "session": _object({"id": _integer(), "title": _string(),
                            "starts_at": _string(MOMENT, format="date-time")}),
        "person": ref("Person"),
        "status": _string(enum=ATTENDANCE_MARKS),
        "source": _string("How it was recorded", enum=ATTENDANCE_SOURCES),
        "minutes": _nullable("integer", "Minutes online, from a meeting report", minimum=0),
        "recorded_at": _string(MOMENT, format="date-time"),
    }, "One person at one session"),
    "Completion": _object({
        "booking_id": _integer(), "person": ref("Person"),
        "state": _string(enum=_values(EnrolmentState)),
        "sessions_total": _integer("Sessions not cancelled", minimum=0),
        "sessions_held": _integer("Of those, how many have ended", minimum=0),
        "attended": _integer("Sessions attended (present or late)", minimum=0),
        "excused": _integer(minimum=0),
        "attendance_percent": _nullable("integer", "Attendance over the sessions held so far, "
                                                   "excused ones left out; null before any"),
        "attendance_needed_percent": _integer("What the completion rule needs"),
        "feedback_given": _nullable("boolean", "Whether they have given feedback; null when "
                                               "the offering has an anonymous survey"),
        "signed_off": {"type": "boolean"},
        "complete": {"type": "boolean", "description": "Whether they have completed"},
        "completed_at": _nullable("string", "When they completed", format="date-time"),
    }, "A person's progress against the completion rule"),
    "Table": _object({
        "key": _string("The table's name, as in the dashboard's downloads"),
        "title": _string(),
        "columns": {"type": "array", "items": _string()},
        "rows": {"type": "array", "description": "Each row an object keyed by the column "
                                                 "headings",
                 "items": {"type": "object", "additionalProperties": {
                     "type": ["string", "number", "boolean", "null"]}}},
        "row_keys": {"type": "array", "items": _string(),
                     "description": "Names of the rows (ICS codes, person ids), where they "
                                    "have them; empty otherwise"},
    }, "A table of a dashboard, cell for cell as its page shows it"),
    "IcsFigures": _object({
        "organisation": _object({"code": _string(), "name": _string()}),
        "from": _nullable("string", format="date"),
        "to": _nullable("string", format="date"),
        "people": _integer("People of the ICS with accounts"),
        "region_people": _integer("People of every ICS with accounts"),
        "places": _integer("Places held and completed by the ICS's people"),
        "attendances": _integer("Attendances of the ICS's people at sessions"),
        "completions": _integer(),
        "tables": {"type": "array", "items": ref("Table")},
    }, "An ICS's figures, as its dashboard shows them"),
    "RegionFigures": _object({
        "from": _string(format="date"), "to": _string(format="date"),
        "tables": {"type": "array", "items": ref("Table")},
    }, "The region's figures, as its dashboard shows them"),
    "Material": _object({
        "id": _integer(), "offering": ref("OfferingRef"),
        "session_id": _nullable("integer", "The session it is for; null for all of them"),
        "kind": _string("A file to download or a link to follow", enum=["file", "link"]),
        "title": _string(),
        "note": _string("A short note, in Markdown"),
        "url": _nullable("string", "Where a link goes; null for a file", format="uri"),
        "download_url": _nullable("string", "Where a file is downloaded (with the same "
                                            "sign-in); null for a link", format="uri"),
        "filename": _nullable("string", "A file's name; null for a link"),
        "content_type": _nullable("string", "A file's type; null for a link"),
        "size": _nullable("integer", "A file's size in bytes; null for a link", minimum=0),
        "visible_from": _string("When people with a place see it: now, at the session's "
                                "start, or after it", enum=["now", "start", "after"]),
        "public": {"type": "boolean", "description": "Shown to everyone (open events)"},
        "created_at": _string(MOMENT, format="date-time"),
        "updated_at": _string(MOMENT, format="date-time"),
    }, "A file or link faculty attached to an offering or one of its sessions"),
}


def _list(item: str) -> dict:
    return _object({"data": {"type": "array", "items": ref(item)},
                    "meta": ref("PageMeta"), "links": ref("PageLinks")},
                   f"A page of {item} items")


_ASSIGNMENT = {
    "id": _integer(), "offering": ref("OfferingRef"), "title": _string(),
    "brief": _string("What learners are asked to do, in Markdown"),
    "due_at": _string(MOMENT, format="date-time"),
    "for_groups": {"type": "boolean", "description": "One submission per project group"},
    "counts_to_completion": {"type": "boolean",
                             "description": "Must be met to complete the course"},
    "competencies": {"type": "array", "items": _object({
        "id": _integer(), "name": _string(),
        "level": _integer("The level a met outcome records", minimum=1, maximum=4)})},
}
SCHEMAS["MyAssignment"] = _object({
    **_ASSIGNMENT,
    "your_deadline": _string("Your deadline, with any extension or resubmission date",
                             format="date-time"),
    "submission": {"oneOf": [{"type": "null"}, _object({
        "id": _integer(), "submitted_at": _string(MOMENT, format="date-time"),
        "late": {"type": "boolean"},
        "outcome": _nullable("string", "Not marked yet when null",
                             enum=["met", "not_yet_met", None]),
        "feedback": _nullable("string", "The faculty's written feedback"),
        "resubmit_by": _nullable("string", "When not yet met: resubmit by",
                                 format="date-time"),
        "files": {"type": "array", "items": _string("A file's name")}})]},
}, "An assignment of yours and where your work stands")
SCHEMAS["CohortAssignment"] = _object({
    **_ASSIGNMENT,
    "submitted": _integer("Pieces of work handed in", minimum=0),
    "met": _integer(minimum=0), "not_yet_met": _integer(minimum=0),
}, "An assignment on a cohort, for faculty")
for _name in ("MyAssignment", "CohortAssignment"):
    SCHEMAS[f"{_name}List"] = _object({"data": {"type": "array", "items": ref(_name)}},
                                       f"Every {_name} item")

for _name in ("Course", "Offering", "Session", "Booking", "CalendarEntry", "Attendance",
              "Completion", "Material"):
    SCHEMAS[f"{_name}List"] = _list(_name)
SCHEMAS["OfferingDetail"] = {
    "allOf": [ref("Offering"), {"type": "object", "required": ["sessions"], "properties": {
        "sessions": {"type": "array", "items": ref("Session")}}}],
    "description": "An offering and all its sessions",
}


# ---------------------------------------------------------------------------- parameters


def _query(name: str, description: str, schema: dict, example=None) -> dict:
    parameter = {"name": name, "in": "query", "required": False, "description": description,
                 "schema": schema}
    if example is not None:
        parameter["example"] = example
    return parameter


def _path(name: str, description: str, schema: dict, example) -> dict:
    return {"name": name, "in": "path", "required": True, "description": description,
            "schema": schema, "example": example}


ID_SCHEMA = {"type": "integer", "minimum": 1, "maximum": MAX_ID}
DATE_SCHEMA = {"type": "string", "format": "date"}
PARAMETERS: dict[str, dict] = {
    "page": _query("page", f"Which page, from 1 (at most {MAX_PAGE})",
                   {"type": "integer", "minimum": 1, "maximum": MAX_PAGE, "default": 1}),
    "per_page": _query("per_page", f"Items per page, up to {MAX_PER_PAGE}",
                       {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE,
                        "default": DEFAULT_PER_PAGE}),
    "from": _query("from", f"From this date (London), YYYY-MM-DD, {FIRST_YEAR} to {LAST_YEAR}",
                   DATE_SCHEMA, "2027-01-01"),
    "to": _query("to", "To this date (London), included, YYYY-MM-DD", DATE_SCHEMA,
                 "2027-12-31"),
    "ics": _query("ics", "Only people of this ICS, by its code (like BSOL)",
                  {"type": "string", "maxLength": 20}, "BSOL"),
    "course": _query("course", "Only this course or programme, by id", ID_SCHEMA),
    "offering": _query("offering", "Only this offering's sessions, by id", ID_SCHEMA),
    "offering_kind": _query("kind", "Only this kind of offering",
                            {"type": "string", "enum": OFFERING_KINDS}),
    "offering_status": _query("status", "Only offerings in this status",
                              {"type": "string", "enum": _values(OfferingStatus)}),
    "course_kind": _query("kind", "Only programmes or only short courses",
                          {"type": "string", "enum": _values(CourseKind)}),
    "strand": _query("strand", "Only this strand",
                     {"type": "string", "enum": _values(Strand)}),
    "offering_id": _path("offering_id", "The offering's id", ID_SCHEMA, 1),
    "course_id": _path("course_id", "The course's id", ID_SCHEMA, 1),
    "booking_id": _path("booking_id", "The booking's id", ID_SCHEMA, 1),
    "code": _path("code", "The ICS's code (like BSOL)",
                  {"type": "string", "minLength": 1, "maxLength": 20,
                   "pattern": "^[A-Za-z0-9-]+$"}, "BSOL"),
}


def param(name: str) -> dict:
    return {"$ref": f"#/components/parameters/{name}"}


# ---------------------------------------------------------------------------- responses


def _problem(description: str, headers: dict | None = None) -> dict:
    response = {"description": description,
                "content": {PROBLEM_JSON: {"schema": ref("Problem")}}}
    if headers:
        response["headers"] = headers
    return response


RATE_HEADERS = {
    "RateLimit-Limit": {"description": "Calls allowed per minute (reads and writes apart)",
                        "schema": {"type": "integer"}},
    "RateLimit-Remaining": {"description": "Calls left this minute",
                            "schema": {"type": "integer"}},
    "RateLimit-Reset": {"description": "Seconds until the minute is over",
                        "schema": {"type": "integer"}},
}
RESPONSES: dict[str, dict] = {
    "NotModified": {"description": "Not modified: the ETag sent in If-None-Match is still "
                                   "current"},
    "BadRequest": _problem("A query parameter is not valid"),
    "Unauthorised": _problem("Sign-in needed, or the token is not valid, expired or revoked",
                             {"WWW-Authenticate": {"schema": {"type": "string"}}}),
    "Forbidden": _problem("Not allowed: your role does not allow it, the token is read-only, "
                          "or a browser session sent no CSRF token"),
    "NotFound": _problem("No such thing, or not one you may see"),
    "Conflict": _problem("A booking rule says no (already booked, booking closed, full, "
                         "quota used up); detail is the service's own message"),
    "Unprocessable": _problem("Another rule says no; detail says which"),
    "TooManyRequests": _problem("Too many calls this minute", {
        "Retry-After": {"description": "Seconds to wait", "required": True,
                        "schema": {"type": "integer"}}}),
}


def response(name: str) -> dict:
    return {"$ref": f"#/components/responses/{name}"}
