"""Who may see what learning between sessions offers: one rule for materials and
recordings, built on the offerings' own (``lms.offerings.policy``)."""

from __future__ import annotations

from datetime import datetime

from flask import Flask, current_app
from sqlalchemy import select

from lms.clock import utcnow
from lms.extensions import db
from lms.offerings.calendar import CONFIRMED, books_sessions
from lms.offerings.models import Booking, BookingState, Enrolment, Offering, Session
from lms.offerings.policy import can_manage, is_public


def has_place(user, offering: Offering, session: Session | None = None) -> bool:
    """A confirmed place on ``offering`` (and, where sessions are booked one by one, a booked
    place at ``session``)."""
    if not user.is_authenticated:
        return False
    confirmed = db.session.scalar(
        select(Enrolment.id).where(Enrolment.offering_id == offering.id,
                                   Enrolment.user_id == user.id,
                                   Enrolment.state.in_(CONFIRMED)))
    if confirmed is None:
        return False
    if session is None or not books_sessions(offering):
        return True
    return db.session.scalar(
        select(Booking.id).where(Booking.session_id == session.id, Booking.user_id == user.id,
                                 Booking.state == BookingState.BOOKED)) is not None


def may_see_materials(user, offering: Offering, session: Session | None = None) -> bool:
    """May this person see the materials (and recordings) of ``offering`` or of one of its
    sessions? Faculty and admins always; otherwise people with a confirmed place."""
    return can_manage(user, offering) or has_place(user, offering, session)


_PRESENTER_CHECKS = "lms.presenter_checks"


def add_presenter_check(app: Flask, check) -> None:
    """A feature that makes people presenters of a session (``lms.talks``) says so here:
    ``check(user, session) -> bool``, asked by ``may_add_materials``."""
    app.extensions.setdefault(_PRESENTER_CHECKS, []).append(check)


def may_add_materials(user, offering: Offering, session: Session | None = None) -> bool:
    """May this person add materials to ``offering`` (or to one of its sessions)? Faculty
    and admins always; a session's presenter only to their own session (their slides)."""
    if can_manage(user, offering):
        return True
    if session is None or session.offering_id != offering.id or not user.is_authenticated:
        return False
    return any(check(user, session)
               for check in current_app.extensions.get(_PRESENTER_CHECKS, []))


def may_see_material(user, material, now: datetime | None = None,
                     place: bool | None = None) -> bool:
    """One material: faculty always; a public one on a public offering, everyone; otherwise
    people with a place, once the material's moment has come. ``place`` is ``has_place`` for
    the material's offering when the caller already knows it (festival sessions, booked one
    by one, are always asked)."""
    if can_manage(user, material.offering):
        return True
    visible_at = material.visible_at()
    if visible_at is not None and visible_at > (now or utcnow()):
        return False
    if material.public and is_public(material.offering):
        return True
    if place is not None and (material.session is None
                              or not books_sessions(material.offering)):
        return place
    return has_place(user, material.offering, material.session)
