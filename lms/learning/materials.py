"""Materials: faculty add, change, order and remove them; people with a place read them.

A file is checked (``storage.check_upload``), stored, and only then its row written; the
storage hooks delete the file again if that row never commits, so a refusal or a failure
leaves neither a row nor a file behind."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import BinaryIO
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import lazyload

from lms.clock import utcnow
from lms.errors import DomainError, ErrorCollector, InvalidInput, NotAllowed, NotFound
from lms.extensions import db
from lms.learning import storage
from lms.learning.materials_models import VISIBILITY_LABELS, VISIBLE_NOW, Material
from lms.learning.policy import has_place, may_add_materials, may_see_material
from lms.offerings.calendar import CONFIRMED
from lms.offerings.models import Enrolment, Offering, Session
from lms.offerings.policy import can_manage

TITLE_MAX = 200
NOTE_MAX = 2000
EVENT_KINDS = ("webinar", "network", "festival")


@dataclass
class Upload:
    """A file a person sent: its name as they called it, and its bytes."""

    filename: str
    stream: BinaryIO


@dataclass
class MaterialDetails:
    """A material's fields as the form gives them."""

    kind: str | None
    title: str | None
    note: str | None = ""
    url: str | None = ""
    session_id: int | None = None
    visible_from: str | None = VISIBLE_NOW
    public: bool = False
    position: int | None = None
    upload: Upload | None = None


def get_material(material_id: int) -> Material:
    material = db.session.get(Material, material_id)
    if material is None:
        raise NotFound("No such material")
    return material


def get_offering(offering_id: int) -> Offering:
    offering = db.session.get(Offering, offering_id)
    if offering is None:
        raise NotFound("No such offering")
    return offering


def check_title(value: str | None) -> str:
    title = (value or "").strip()
    if not title:
        raise DomainError("Enter a title", "title")
    if len(title) > TITLE_MAX:
        raise DomainError(f"The title must be {TITLE_MAX} characters or fewer", "title")
    return title


def _note(value: str | None) -> str:
    note = (value or "").strip()
    if len(note) > NOTE_MAX:
        raise DomainError(f"The note must be {NOTE_MAX} characters or fewer", "note")
    return note


def check_url(value: str | None) -> str:
    url = (value or "").strip()
    if not url:
        raise DomainError("Enter the link's web address, starting https://", "url")
    parts = urlsplit(url)
    if len(url) > 500 or any(ch.isspace() or not ch.isprintable() for ch in url) or \
            parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        raise DomainError("Enter the link as a full web address, like https://example.org/"
                          "reading (500 characters or fewer)", "url")
    return url


def _session(offering: Offering, session_id: int | None) -> Session | None:
    if session_id is None:
        return None
    session = next((s for s in offering.sessions if s.id == session_id), None)
    if session is None:
        raise DomainError("Select a session of this offering", "session_id")
    return session


def _visible_from(value: str | None) -> str:
    if value not in VISIBILITY_LABELS:
        raise DomainError("Select when people can see it", "visible_from")
    return value


def _public(offering: Offering, public: bool) -> bool:
    if public and offering.kind not in EVENT_KINDS:
        raise DomainError("Only an open event's materials can be public", "public")
    if public and offering.booking_mode != "open":
        raise DomainError("Only an open event's materials can be public", "public")
    return public


def _checked(offering: Offering, details: MaterialDetails, current: Material | None) -> dict:
    """Every field checked at once; the file checked but not yet stored."""
    errors = ErrorCollector()
    kind = details.kind if details.kind in ("file", "link") else None
    if current is not None:
        kind = current.kind
    if kind is None:
        errors.errors.append(("kind", "Select whether it is a file or a link"))
    values = {
        "title": errors.check(check_title, details.title),
        "note": errors.check(_note, details.note),
        "session": errors.check(_session, offering, details.session_id),
        "visible_from": errors.check(_visible_from, details.visible_from),
        "public": errors.check(_public, offering, bool(details.public)),
        "position": details.position,
    }
    if values["position"] is not None and not 0 <= values["position"] <= 999:
        errors.errors.append(("position", "The order must be a number from 0 to 999"))
    checked_file = None
    if kind == "link":
        values["url"] = errors.check(check_url, details.url)
    elif kind == "file":
        upload = details.upload
        if upload is None or not upload.filename:
            if current is None:
                errors.errors.append(("file", "Select a file"))
        else:
            checked_file = errors.check(storage.check_upload, upload.filename, upload.stream)
    if values["session"] is None and values["visible_from"] not in (None, VISIBLE_NOW) \
            and not offering.live_sessions:
        errors.errors.append(("visible_from", "This has no sessions yet: choose “Now”"))
    errors.raise_any()
    values["kind"] = kind
    values["file"] = checked_file
    return values


def _next_position(offering: Offering) -> int:
    last = db.session.scalar(select(db.func.max(Material.position))
                             .where(Material.offering_id == offering.id))
    return 0 if last is None else last + 1


def _apply(material: Material, values: dict, upload: Upload | None) -> None:
    material.title, material.note = values["title"], values["note"]
    material.session = values["session"]
    material.visible_from, material.public = values["visible_from"], values["public"]
    if values["position"] is not None:
        material.position = values["position"]
    if material.kind == "link":
        material.url = values["url"]
    elif values["file"] is not None and upload is not None:
        _kind, content_type = values["file"]
        old_key = material.file_key
        key, size = storage.store_upload("materials", upload.stream, content_type)
        material.file_key, material.size = key, size
        material.filename = storage.safe_filename(upload.filename)
        material.content_type = content_type
        storage.discard_after_commit(old_key)


def add_material(actor, offering: Offering, details: MaterialDetails) -> Material:
    """Attach a file or a link to ``offering`` (or one of its sessions)."""
    target = next((s for s in offering.sessions if s.id == details.session_id), None)
    if not may_add_materials(actor, offering, target):
        raise NotAllowed("Only faculty, and a session's presenters, can add materials")
    values = _checked(offering, details, None)
    material = Material(offering=offering, kind=values["kind"], added_by_id=actor.id,
                        position=_next_position(offering))
    _apply(material, values, details.upload)
    db.session.add(material)
    db.session.flush()
    return material


def update_material(actor, material: Material, details: MaterialDetails) -> Material:
    """Change a material; a new file replaces the old one (deleted once this commits)."""
    if not can_manage(actor, material.offering):
        raise NotAllowed("Only faculty can change materials")
    values = _checked(material.offering, details, material)
    _apply(material, values, details.upload)
    db.session.flush()
    return material


def remove_material(actor, material: Material) -> str:
    """Remove a material (and its file, once the removal commits). Returns its title."""
    if not can_manage(actor, material.offering):
        raise NotAllowed("Only faculty can remove materials")
    title = material.title
    storage.discard_after_commit(material.file_key)
    db.session.delete(material)
    db.session.flush()
    return title


def move_material(actor, material: Material, direction: str) -> None:
    """Swap a material with its neighbour above (``up``) or below (``down``)."""
    if not can_manage(actor, material.offering):
        raise NotAllowed("Only faculty can order materials")
    siblings = list(db.session.scalars(
        select(Material).where(Material.offering_id == material.offering_id)
        .order_by(Material.position, Material.id)))
    index = siblings.index(material)
    other = index - 1 if direction == "up" else index + 1
    if direction not in ("up", "down") or not 0 <= other < len(siblings):
        raise InvalidInput([(None, "It cannot move further that way")])
    siblings[index], siblings[other] = siblings[other], siblings[index]
    for position, each in enumerate(siblings):
        each.position = position
    db.session.flush()


# ---------------------------------------------------------------------------- reading


def offering_materials(offering_id: int) -> list[Material]:
    """Every material of an offering, in faculty's order. One query: the callers have the
    offering and its sessions loaded already, so the materials take theirs from the
    session's identity map (not joined and their collections loaded again)."""
    return list(db.session.scalars(
        select(Material).where(Material.offering_id == offering_id)
        .options(lazyload(Material.offering), lazyload(Material.session))
        .order_by(Material.position, Material.id)))


def visible_materials(user, offering: Offering) -> list[Material]:
    """The materials of ``offering`` this person may see now."""
    now = utcnow()
    place = has_place(user, offering)
    return [m for m in offering_materials(offering.id) if may_see_material(user, m, now, place)]


def material_for_download(user, material_id: int) -> Material:
    """A material's file, for someone allowed to see it (anyone else: no such file)."""
    material = get_material(material_id)
    if not material.is_file or not may_see_material(user, material):
        raise NotFound("No such material")
    return material


def materials_for(user, limit: int = 20) -> Sequence[Material]:
    """The materials visible to ``user`` across every offering they have a confirmed place
    on, newest first (for their home page)."""
    if not user.is_authenticated:
        return []
    now = utcnow()
    rows = db.session.scalars(
        select(Material).join(Enrolment, (Enrolment.offering_id == Material.offering_id)
                              & (Enrolment.user_id == user.id))
        .where(Enrolment.state.in_(CONFIRMED))
        .order_by(Material.created_at.desc(), Material.id.desc()).limit(limit * 3))
    return [m for m in rows if may_see_material(user, m, now, place=True)][:limit]
