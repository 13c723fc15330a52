"""Models to JSON, as the OpenAPI document describes them. Times are UTC in RFC 3339
(``2027-03-29T09:30:00+00:00``); dates are ``YYYY-MM-DD``; CPD hours are numbers."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from flask import url_for

from lms.api.models import ApiToken
from lms.api.queries import OfferingLine, SessionLine, is_confirmed
from lms.attendance.completion import Progress
from lms.courses.models import Course
from lms.offerings.models import Enrolment, Offering
from lms.web import absolute_url, offering_url


def when(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def api_url(endpoint: str, **values) -> str:
    return absolute_url(url_for(endpoint, **values))


def site_url(path: str) -> str:
    """A page of the service as an absolute address."""
    return absolute_url(path)


def course(c: Course) -> dict:
    return {
        "id": c.id,
        "title": c.title,
        "summary": c.summary,
        "description": c.description,
        "kind": c.kind,
        "strand": c.strand,
        "strand_label": c.strand_label,
        "format": c.format,
        "target_audience": c.target_audience,
        "cpd_hours": float(c.cpd_hours),
        "published": c.published,
        "links": {
            "self": api_url("api.course", course_id=c.id),
            "offerings": api_url("api.offerings", course=c.id),
            "page": site_url(url_for("courses.course", course_id=c.id)),
        },
    }


def offering_ref(o: Offering) -> dict:
    """An offering in brief, inside another resource."""
    return {"id": o.id, "kind": o.kind, "title": o.title, "status": o.status,
            "links": {"self": api_url("api.offering", offering_id=o.id)}}


def offering(line: OfferingLine) -> dict:
    o = line.offering
    return {
        "id": o.id,
        "kind": o.kind,
        "title": o.title,
        "status": o.status,
        "booking_mode": o.booking_mode,
        "course_id": line.course_id,
        "capacity": o.capacity,
        "places_left": line.places_left,
        "starts_at": when(line.starts_at),
        "ends_at": when(line.ends_at),
        "session_count": line.sessions,
        "links": {
            "self": api_url("api.offering", offering_id=o.id),
            "sessions": api_url("api.sessions", offering=o.id),
            "book": api_url("api.book", offering_id=o.id),
            "page": site_url(offering_url(o)),
        },
    }


def session(line: SessionLine) -> dict:
    s = line.session
    return {
        "id": s.id,
        "offering": offering_ref(line.offering),
        "title": s.title,
        "starts_at": when(s.starts_at),
        "ends_at": when(s.ends_at),
        "location": s.location,
        "status": s.status,
        "capacity": s.capacity,
        "places_left": line.places_left,
    }


def booking(e: Enrolment) -> dict:
    return {
        "id": e.id,
        "offering": offering_ref(e.offering),
        "state": e.state,
        "state_label": e.state_label,
        "waitlist_position": e.waitlist_position,
        "offer_expires_at": when(e.offer_expires_at),
        "created_at": when(e.created_at),
        "updated_at": when(e.updated_at),
        "links": {"self": api_url("api.my_booking", booking_id=e.id)},
    }


def calendar_entry(row) -> dict:
    confirmed = is_confirmed(row.state)
    return {
        "session_id": row.id,
        "offering": {"id": row.offering_id, "kind": row.kind, "title": row.offering_title,
                     "status": row.offering_status,
                     "links": {"self": api_url("api.offering", offering_id=row.offering_id)}},
        "title": row.title,
        "starts_at": when(row.starts_at),
        "ends_at": when(row.ends_at),
        "location": row.location,
        "join_url": row.join_url if confirmed and row.join_url else None,
        "status": row.status,
        "place": row.state,
        "confirmed": confirmed,
    }


def person(user) -> dict:
    return {"id": user.id, "name": user.full_name, "email": user.email,
            "organisation": user.organisation.code}


def attendance(row) -> dict:
    record, s = row
    return {
        "id": record.id,
        "session": {"id": s.id, "title": s.title, "starts_at": when(s.starts_at)},
        "person": person(record.user),
        "status": record.status,
        "source": record.source,
        "minutes": record.minutes,
        "recorded_at": when(record.recorded_at),
    }


def completion(p: Progress, *, feedback_private: bool = False) -> dict:
    """A person's progress. With an anonymous survey on the offering, ``feedback_given`` is
    null: who has answered is never shown, only how many (the completion page)."""
    e = p.enrolment
    return {
        "booking_id": e.id,
        "person": person(e.user),
        "state": e.state,
        "sessions_total": p.total,
        "sessions_held": p.held,
        "attended": p.attended,
        "excused": p.excused,
        "attendance_percent": p.percent,
        "attendance_needed_percent": p.rule.min_attendance_percent,
        "feedback_given": None if feedback_private else p.feedback_given,
        "signed_off": p.signed_off,
        "complete": p.completed is not None,
        "completed_at": when(p.completed.completed_at) if p.completed else None,
    }


def me(user, token: ApiToken | None, csrf_token: str | None) -> dict:
    body = {
        "id": user.id,
        "name": user.full_name,
        "email": user.email,
        "organisation": {"code": user.organisation.code, "name": user.organisation.name,
                         "is_ics": user.organisation.is_ics},
        "roles": sorted(str(role) for role in user.roles),
        "authenticated_by": "token" if token is not None else "session",
        "token": None,
        "csrf_token": csrf_token,
    }
    if token is not None:
        body["token"] = {"name": token.name, "prefix": token.prefix, "scope": token.scope,
                         "expires_at": when(token.expires_at)}
    return body


def _cell(value):
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, date | datetime):
        return value.isoformat()
    return value


def table(t) -> dict:
    """A dashboard's table: each row an object keyed by the column headings, as the page and
    its spreadsheet download show them."""
    return {
        "key": t.key,
        "title": t.title,
        "columns": list(t.header),
        "rows": [dict(zip(t.header, (_cell(v) for v in row), strict=True)) for row in t.rows],
        "row_keys": list(t.row_keys),
    }


def ics_figures(board, dates) -> dict:
    org = board.organisation
    return {
        "organisation": {"code": org.code, "name": org.name},
        "from": dates.starts.isoformat() if dates.starts else None,
        "to": dates.ends.isoformat() if dates.ends else None,
        "people": board.staff,
        "region_people": board.region_staff,
        "places": board.bookings,
        "attendances": board.attendances,
        "completions": board.completions,
        "tables": [table(t) for t in board.tables.values()],
    }


def region_figures(board) -> dict:
    return {
        "from": board.filters.starts.isoformat(),
        "to": board.filters.ends.isoformat(),
        "tables": [table(t) for t in board.tables.values()],
    }


def material(m) -> dict:
    is_file = m.kind == "file"
    return {
        "id": m.id,
        "offering": offering_ref(m.offering),
        "session_id": m.session_id,
        "kind": m.kind,
        "title": m.title,
        "note": m.note,
        "url": None if is_file else m.url,
        "download_url": site_url(url_for("learning.download_material", material_id=m.id))
        if is_file else None,
        "filename": m.filename if is_file else None,
        "content_type": m.content_type if is_file else None,
        "size": m.size if is_file else None,
        "visible_from": m.visible_from,
        "public": m.public,
        "created_at": when(m.created_at),
        "updated_at": when(m.updated_at),
    }
