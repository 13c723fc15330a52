"""CPD for learning done elsewhere (a conference, reading): title, date, hours and an
evidence file in the storage, shown on the learning record and its PDF."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from sqlalchemy import delete, select
from werkzeug.datastructures import FileStorage

from lms import cache
from lms.accounts.models import User
from lms.clock import to_london, utcnow
from lms.errors import ErrorCollector, NotFound
from lms.extensions import db
from lms.learning.reflection_models import CPDActivity
from lms.learning.storage import (
    check_upload,
    discard_after_commit,
    max_upload_bytes,
    safe_filename,
    store_upload,
)

EVIDENCE_KINDS = frozenset({"pdf", "docx", "png", "jpeg", "text"})  # as storage names them


@dataclass
class ActivityDetails:
    title: str | None = ""
    done_on: date | None = None
    hours: str | Decimal | None = None
    description: str | None = ""


@dataclass(frozen=True)
class ActivityRow:
    """One activity as the person's CPD list shows it."""

    id: int
    title: str
    done_on: date
    hours: Decimal
    evidence_filename: str | None
    evidence_key: str | None


def activities_of(user_id: int) -> tuple[ActivityRow, ...]:
    """The person's CPD done elsewhere, newest first: kept under their version (read with
    the signed-in person's own), built from one query when an activity changed."""
    return cache.cached("cpd_activities", user_id, depends_on=cache.person(user_id),
                        build=lambda: (_read_activities(user_id), None), size=1024)


def _read_activities(user_id: int) -> tuple[ActivityRow, ...]:
    return tuple(ActivityRow(*row) for row in db.session.execute(
        select(CPDActivity.id, CPDActivity.title, CPDActivity.done_on, CPDActivity.hours,
               CPDActivity.evidence_filename, CPDActivity.evidence_key)
        .where(CPDActivity.user_id == user_id)
        .order_by(CPDActivity.done_on.desc(), CPDActivity.id.desc())))


def get_activity(user, activity_id: int) -> CPDActivity:
    """The person's own activity (404 for anyone else's)."""
    activity = db.session.get(CPDActivity, activity_id)
    if activity is None or not user.is_authenticated or activity.user_id != user.id:
        raise NotFound("No such CPD activity")
    return activity


def _hours(raw) -> Decimal:
    try:
        hours = Decimal(str(raw).strip())
    except (InvalidOperation, ValueError):
        raise ValueError from None
    if not hours.is_finite() or hours <= 0 or hours > 1000 or hours != round(hours, 1):
        raise ValueError
    return hours


def record_activity(user: User, details: ActivityDetails,
                    evidence: FileStorage | None = None) -> CPDActivity:
    """Record CPD done elsewhere. An evidence file is checked, then stored; a store failure
    saves nothing."""
    errors = ErrorCollector()
    title = " ".join((details.title or "").split())
    if not title:
        errors.errors.append(("title", "Enter what the learning was"))
    elif len(title) > 200:
        errors.errors.append(("title", "The title must be 200 characters or fewer"))
    if details.done_on is None:
        errors.errors.append(("done_on", "Enter the date, like 29/3/2027"))
    elif details.done_on > to_london(utcnow()).date():
        errors.errors.append(("done_on", "The date must be today or in the past"))
    hours = None
    if details.hours in (None, ""):
        errors.errors.append(("hours", "Enter the hours, like 3 or 1.5"))
    else:
        try:
            hours = _hours(details.hours)
        except ValueError:
            errors.errors.append(("hours", "Enter hours between 0.1 and 1000, like 3 or 1.5"))
    description = (details.description or "").strip()
    if len(description) > 5000:
        errors.errors.append(("description", "The description must be 5,000 characters or "
                                             "fewer"))
    content_type = None
    if evidence is not None and evidence.filename:
        checked = errors.check(check_upload, evidence.filename, evidence.stream,
                               EVIDENCE_KINDS, max_upload_bytes(), "evidence")
        content_type = checked[1] if checked else None
    errors.raise_any()
    activity = CPDActivity(user_id=user.id, title=title, done_on=details.done_on, hours=hours,
                           description=description)
    if content_type is not None:
        key, _ = store_upload(f"cpd/{user.id}", evidence.stream, content_type)
        activity.evidence_key, activity.evidence_content_type = key, content_type
        activity.evidence_filename = safe_filename(evidence.filename, "evidence")
    db.session.add(activity)
    db.session.flush()  # if the row never commits, the stored evidence is deleted again
    return activity


def remove_activity(user: User, activity: CPDActivity) -> None:
    if activity.user_id != user.id:
        raise NotFound("No such CPD activity")
    discard_after_commit(activity.evidence_key)
    db.session.delete(activity)
    db.session.flush()


def erase_activities(person_id: int) -> list[str]:
    """Delete the person's CPD rows; their evidence files go when that commits. Returns the
    storage keys of those files."""
    keys = [k for k in db.session.scalars(select(CPDActivity.evidence_key).where(
        CPDActivity.user_id == person_id)) if k]
    db.session.execute(delete(CPDActivity).where(CPDActivity.user_id == person_id))
    for key in keys:
        discard_after_commit(key)
    return keys
