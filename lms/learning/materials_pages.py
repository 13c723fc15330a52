"""What the materials pages show: built here so the views stay thin."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from flask import url_for
from wtforms.fields.choices import SelectChoice

from lms.attendance.standing import is_held
from lms.clock import utcnow, when_text
from lms.errors import NotFound
from lms.events.models import SessionRecording
from lms.events.pages import recordings_for
from lms.extensions import db
from lms.learning.materials import offering_materials
from lms.learning.materials_models import VISIBILITY_LABELS, Material
from lms.learning.policy import has_place, may_see_material
from lms.offerings.models import Offering, Session
from lms.offerings.policy import can_manage, can_see
from lms.web import offering_url


@dataclass
class MaterialRow:
    material: Material
    # For faculty: when people with a place see it, if not yet.
    waits_until: datetime | None = None

    @property
    def download_url(self) -> str:
        return url_for("learning.download_material", material_id=self.material.id)


@dataclass
class MaterialGroup:
    heading: str
    session: Session | None
    rows: list[MaterialRow] = field(default_factory=list)
    recording: SessionRecording | None = None
    # For faculty: the session is over, so its recording can be published.
    may_publish_recording: bool = False


@dataclass
class MaterialsSection:
    """The "Materials" part of an offering's page, and the whole materials page."""

    offering: Offering
    groups: list[MaterialGroup]
    manages: bool
    back_url: str

    @property
    def is_empty(self) -> bool:
        return not any(g.rows or g.recording for g in self.groups)

    @property
    def count(self) -> int:
        return sum(len(g.rows) for g in self.groups)


def _heading(session: Session) -> str:
    return f"{session.title or 'Session'}, {when_text(session.starts_at)}"


def materials_section(user, offering: Offering, place: bool | None = None) -> MaterialsSection:
    """The materials of ``offering`` this person may see, grouped: the whole offering first,
    then each session in order, with its recording for people with a place. ``place``:
    whether they have a confirmed place, when the caller knows (or is building the section
    everyone with a place sees)."""
    now = utcnow()
    manages = can_manage(user, offering)
    place = has_place(user, offering) if place is None else place
    shown = [m for m in offering_materials(offering.id)
             if may_see_material(user, m, now, place)]
    with_place = manages or place
    groups = [MaterialGroup("For all sessions", None)]
    by_session: dict[int, MaterialGroup] = {}
    recordings = recordings_for([s.id for s in offering.sessions]) if with_place else {}
    for session in offering.sessions:
        group = MaterialGroup(_heading(session), session, recording=recordings.get(session.id),
                              may_publish_recording=manages and is_held(session, now))
        by_session[session.id] = group
        groups.append(group)
    for material in shown:
        visible_at = material.visible_at()
        row = MaterialRow(material, visible_at if visible_at and visible_at > now else None)
        (by_session[material.session_id] if material.session_id in by_session
         else groups[0]).rows.append(row)
    groups = [g for g in groups if g.rows or g.recording or (manages and (
        g.session is None or g.may_publish_recording))]
    return MaterialsSection(offering, groups, manages, offering_url(offering))


def section_for(user, offering: Offering, with_place: bool, place: bool | None = None
                ) -> MaterialsSection | None:
    """The "Materials" part of an offering's page: for faculty and people with a place, and
    for everyone when an open event has public materials; ``None`` when there is none."""
    if with_place:
        return materials_section(user, offering, place)
    if offering.kind == "cohort":
        return None
    section = materials_section(user, offering, place)
    return None if section.is_empty else section


def materials_page(user, offering_id: int) -> MaterialsSection:
    """The materials page of an offering: 404 for people who may not see the offering, or
    who have nothing there to see."""
    offering = db.session.get(Offering, offering_id)
    if offering is None or not can_see(user, offering):
        raise NotFound("No such page")
    section = materials_section(user, offering)
    if not section.manages and section.is_empty and not has_place(user, offering):
        raise NotFound("No such page")
    return section


def session_choices(offering: Offering) -> list[SelectChoice]:
    """The parts of an offering a material can be for."""
    return [SelectChoice("", "All sessions")] + [SelectChoice(str(s.id), _heading(s))
                                                 for s in offering.sessions]


def visibility_label(value: str) -> str:
    return VISIBILITY_LABELS.get(value, value)
